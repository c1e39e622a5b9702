"""Reading a trajectory from any supported file: gridform's ``.npz``, CSV or NWB."""

from __future__ import annotations

import os
from pathlib import Path

from gridform.core.environment import Box
from gridform.core.errors import DataError
from gridform.data.nwb import read_path
from gridform.data.paths import Origin, RecordedPath, _load_npz

__all__ = ["load_path"]


def load_path(path: str | os.PathLike, box: Box | None = None, *, origin: Origin = "centre",
              units: str = "m", columns: tuple[str, str, str] = ("t", "x", "y"),
              series: str | None = None, max_speed: float = 5.0) -> RecordedPath:
    """Read a trajectory from ``.npz`` (gridform's own, or arrays t/x/y), ``.csv`` or ``.nwb``.

    gridform's own ``.npz`` carries its box; every other source needs ``box``. For NWB the
    units come from the file (``SpatialSeries.conversion``), ``origin`` still applies.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"trajectory file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _load_npz(path, box, origin, units, max_speed)
    if box is None:
        raise DataError(f"reading {path.name} needs the box it was recorded in (width, "
                        "height, boundary)")
    if suffix == ".csv":
        return RecordedPath.from_csv(path, box, columns=columns, origin=origin, units=units,
                                     max_speed=max_speed)
    if suffix == ".nwb":
        return read_path(path, box, origin=origin, series=series, max_speed=max_speed)
    raise DataError(f"{path}: unknown trajectory format {suffix!r} (use .npz, .csv or .nwb)")
