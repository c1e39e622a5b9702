"""Neurodata Without Borders (NWB) in and out (the ``gridform[nwb]`` extra: pynwb).

Layout written by :func:`write_nwb`, chosen so that generic tools read it as what it is:

- ``processing/behavior/Position/position``: a ``SpatialSeries`` of (x, y) in metres,
  origin at the centre of the box, at a regular rate when the samples are regular. Its
  ``comments`` hold ``{"gridform_box": [width, height, boundary]}``, so gridform reads the
  box back; other files are read with the box and origin you give.
- ``units``: one row per recorded cell with ``spike_times``, a ``ratemap`` column
  ``(cell, y, x)`` and any per-cell score columns (``score_60``, ``spacing_m``...). Units
  of a model, which do not spike, go in ``processing/behavior/unit_ratemaps`` instead
  (NWB's units table is for spiking cells), with the same columns.
- ``processing/behavior/ratemap_grid``: one row with ``x_centers``, ``y_centers`` (m) and
  ``occupancy`` (samples per bin) of those ratemaps.

pynapple's ``load_file`` sees the units (a ``TsGroup``) and the position (a
``TsdFrame``); nwbinspector reports no errors (only suggestions such as naming an
experimenter). Files are written to a temporary name and renamed: an existing file is
never replaced unless ``overwrite=True``, and a failed write leaves nothing behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from gridform.core.environment import Box
from gridform.core.ratemaps import Ratemaps
from gridform.data.extras import DataError, require
from gridform.data.paths import RecordedPath

__all__ = ["read_nwb", "read_path", "read_place_cell_maps", "write_nwb"]

_METRES = {"meters": 1.0, "meter": 1.0, "m": 1.0, "metres": 1.0, "centimeters": 0.01,
           "centimeter": 0.01, "cm": 0.01, "millimeters": 0.001, "mm": 0.001}


def write_nwb(path: str | os.PathLike, *, trajectory: RecordedPath | None = None,
              ratemaps: Ratemaps | None = None, scores: dict[str, np.ndarray] | None = None,
              spike_times: list[np.ndarray] | None = None,
              description: str = "gridform export", subject: dict[str, str] | None = None,
              start_time: _dt.datetime | None = None, overwrite: bool = False) -> Path:
    """Write positions, units (spike times, ratemaps, scores) and the ratemap grid to NWB.

    ``scores`` maps a column name to one value per cell. ``subject`` overrides the
    default subject (a simulated agent). At least one of the data arguments is needed.
    """
    pynwb = require("pynwb", "nwb")
    from pynwb.behavior import Position
    from pynwb.file import Subject

    from gridform.core.io import atomic_path

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--force) to replace it")
    n_cells = _n_cells(trajectory, ratemaps, scores, spike_times)
    # simulated data has no subject: no animal was recorded, so none is invented (pass
    # ``subject`` to describe a real one)
    f = pynwb.NWBFile(session_description=description, identifier=str(uuid.uuid4()),
                      session_start_time=start_time or _dt.datetime.now(_dt.UTC),
                      subject=Subject(**subject) if subject else None,
                      data_collection="simulated with gridform; no animal was recorded"
                      if not subject else None)
    beh = f.create_processing_module("behavior", "positions and spatial maps")
    if trajectory is not None:
        beh.add(Position(spatial_series=_spatial_series(trajectory), name="Position"))
    if n_cells is not None:
        table = _unit_table(n_cells, ratemaps, scores, spike_times)
        if spike_times is not None:
            f.units = table
        else:
            beh.add(table)
    if ratemaps is not None:
        beh.add(_ratemap_grid(ratemaps))
    with atomic_path(path) as tmp:
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(f)
    return path


def _n_cells(trajectory, ratemaps, scores, spike_times) -> int | None:
    """The number of cells the inputs agree on (None: a trajectory alone)."""
    if trajectory is None and ratemaps is None and spike_times is None:
        raise DataError("nothing to write: give a trajectory, ratemaps or spike times")
    n_cells = None
    for name, n in (("ratemaps", None if ratemaps is None else ratemaps.n_cells),
                    ("spike_times", None if spike_times is None else len(spike_times))):
        if n is not None:
            if n_cells is not None and n != n_cells:
                raise DataError(f"{name} has {n} cells, but another input has {n_cells}")
            n_cells = n
    for key, col in (scores or {}).items():
        if n_cells is None or np.asarray(col).shape != (n_cells,):
            raise DataError(f"score column {key!r} needs one value per cell "
                            f"({n_cells}), got shape {np.asarray(col).shape}")
    return n_cells


def _spatial_series(tr: RecordedPath):
    """The path as a SpatialSeries, with the box in its comments; a rate instead of
    timestamps when the rate reproduces the times exactly as read_path computes them."""
    from pynwb.behavior import SpatialSeries

    box_note = json.dumps({"gridform_box": [tr.box.width, tr.box.height, tr.box.boundary]})
    timing: dict[str, Any] = {"timestamps": tr.times}
    for rate in (round(1.0 / tr.dt, 6), 1.0 / tr.dt):
        if np.array_equal(tr.times, tr.times[0] + np.arange(tr.n) / rate):
            timing = {"starting_time": float(tr.times[0]), "rate": rate}
            break
    return SpatialSeries(name="position", data=tr.positions, unit="meters",
                         reference_frame="origin at the centre of the box; x along its "
                         "width, y along its height", comments=box_note,
                         description="(x, y) position", **timing)


def _unit_table(n_cells: int, ratemaps, scores, spike_times):
    """Recorded cells (with spikes) in NWB's units table; model units, which do not spike,
    in a table of their own (the units table is for spiking cells)."""
    from hdmf.common import DynamicTable
    from pynwb.misc import Units

    if spike_times is not None:
        table = Units(name="units", description="recorded cells", resolution=1e-4)
    else:
        table = DynamicTable(name="unit_ratemaps", description="model units of a trained "
                             "network: ratemaps and scores")
    if ratemaps is not None:
        table.add_column(name="ratemap", description="mean rate per spatial bin (y, x); NaN "
                         "where the bin was never visited")
    for key in scores or {}:
        table.add_column(name=key, description=f"gridform {key}")
    for i in range(n_cells):
        row: dict[str, Any] = {}
        if spike_times is not None:
            row["spike_times"] = np.sort(np.asarray(spike_times[i], dtype=np.float64))
        if ratemaps is not None:
            row["ratemap"] = ratemaps.rates[i]
        for key, col in (scores or {}).items():
            row[key] = float(np.asarray(col)[i])
        if spike_times is not None:
            table.add_unit(**row)
        else:
            table.add_row(**row)
    return table


def _ratemap_grid(ratemaps: Ratemaps):
    from hdmf.common import DynamicTable, VectorData

    return DynamicTable(name="ratemap_grid", description="the spatial bins of the units' "
                        "ratemaps", columns=[
                            VectorData(name="x_centers", description="bin centres, m",
                                       data=[ratemaps.x_centers]),
                            VectorData(name="y_centers", description="bin centres, m",
                                       data=[ratemaps.y_centers]),
                            VectorData(name="occupancy", description="samples per bin",
                                       data=[ratemaps.occupancy])])


def _open(path: Path):
    pynwb = require("pynwb", "nwb")
    if not path.is_file():
        raise FileNotFoundError(f"NWB file not found: {path}")
    try:
        io = pynwb.NWBHDF5IO(str(path), "r")
        return io, io.read()
    except Exception as err:  # h5py/hdmf raise many kinds for a broken file
        raise DataError(f"{path} is not a readable NWB file ({type(err).__name__}: "
                        f"{err})") from None


def _position_series(nwb, path: Path, series: str | None):
    found = {}
    for mod in nwb.processing.values():
        for obj in mod.data_interfaces.values():
            if type(obj).__name__ == "Position":
                for name, s in obj.spatial_series.items():
                    found[name] = s
    if not found:
        raise DataError(f"{path} has no Position/SpatialSeries in its processing modules")
    if series is None:
        if len(found) > 1:
            raise DataError(f"{path} has several position series {sorted(found)}: choose "
                            "one with series=")
        return next(iter(found.values()))
    if series not in found:
        raise DataError(f"{path} has no position series {series!r} (it has {sorted(found)})")
    return found[series]


def _series_box(s) -> Box | None:
    try:
        note = json.loads(s.comments or "")
        w, h, b = note["gridform_box"]
        return Box(float(w), float(h), str(b))
    except (ValueError, KeyError, TypeError):
        return None


def _series_arrays(s, path: Path) -> tuple[np.ndarray, np.ndarray]:
    unit = str(s.unit).strip().lower()
    if unit not in _METRES:
        raise DataError(f"{path}: position unit {s.unit!r} is not a length (expected "
                        "meters, as NWB asks)")
    data = np.asarray(s.data[:], dtype=np.float64)
    if data.ndim != 2 or data.shape[1] < 2:
        raise DataError(f"{path}: position data must be (time, 2), got {data.shape}")
    data = data[:, :2] * float(s.conversion) * _METRES[unit] + float(getattr(s, "offset", 0))
    if s.timestamps is not None:
        t = np.asarray(s.timestamps[:], dtype=np.float64)
    else:
        t = float(s.starting_time or 0.0) + np.arange(data.shape[0]) / float(s.rate)
    return t, data


def _series_path(s, path: Path, box: Box | None, origin: str,
                 max_speed: float = 5.0) -> RecordedPath | None:
    """The series as a path: in the box it records, else in ``box`` (None without one).

    A file that records its box is refused when ``box`` names a different one.
    """
    stored = _series_box(s)
    if stored is not None and box is not None and box != stored:
        raise DataError(f"{path} was recorded in a {stored.width} x {stored.height} m "
                        f"{stored.boundary} box, not {box.width} x {box.height} m "
                        f"{box.boundary}")
    t, xy = _series_arrays(s, path)
    if stored is not None:
        return RecordedPath(t, xy, stored, str(path), max_speed)
    if box is None:
        return None
    return RecordedPath.from_arrays(t, xy, box, origin=origin, source=str(path),
                                    max_speed=max_speed)


def read_path(path: str | os.PathLike, box: Box | None = None, *, origin: str = "centre",
              series: str | None = None, max_speed: float = 5.0) -> RecordedPath:
    """The trajectory of an NWB file's ``Position`` series.

    A file written by gridform carries its box (and the centre origin); for others give
    ``box`` and ``origin`` (``"corner"`` for trackers that count from a corner).
    """
    path = Path(path)
    io, nwb = _open(path)
    try:
        result = _series_path(_position_series(nwb, path, series), path, box, origin,
                              max_speed)
    finally:
        io.close()
    if result is None:
        raise DataError(f"{path} does not record its box: give its width and height")
    return result


def read_nwb(path: str | os.PathLike, box: Box | None = None, origin: str = "centre"
             ) -> dict[str, Any]:
    """Everything gridform can use in an NWB file.

    Returns ``{"trajectory": RecordedPath | None, "ratemaps": Ratemaps | None,
    "spike_times": list | None, "scores": {column: array}}``.
    """
    path = Path(path)
    io, nwb = _open(path)
    try:
        out: dict[str, Any] = {"trajectory": None, "ratemaps": None, "spike_times": None,
                               "scores": {}}
        try:
            s = _position_series(nwb, path, None)
        except DataError:
            s = None
        if s is not None:
            out["trajectory"] = _series_path(s, path, box, origin)
        units = nwb.units
        for mod in nwb.processing.values():
            if "unit_ratemaps" in mod.data_interfaces and (units is None or len(units) == 0):
                units = mod.data_interfaces["unit_ratemaps"]
        if units is not None and len(units) > 0:
            cols = set(units.colnames)
            if "spike_times" in cols:
                out["spike_times"] = [np.asarray(units["spike_times"][i], dtype=np.float64)
                                      for i in range(len(units))]
            if "ratemap" in cols:
                grid = None
                for mod in nwb.processing.values():
                    if "ratemap_grid" in mod.data_interfaces:
                        grid = mod.data_interfaces["ratemap_grid"]
                if grid is None:
                    raise DataError(f"{path}: units have ratemaps but the file has no "
                                    "ratemap_grid table giving their bins")
                rates = np.asarray(units["ratemap"].data[:], dtype=np.float64)
                out["ratemaps"] = Ratemaps(rates, np.asarray(grid["occupancy"][0]),
                                           np.asarray(grid["x_centers"][0]),
                                           np.asarray(grid["y_centers"][0]))
            for c in cols - {"spike_times", "ratemap", "obs_intervals", "electrodes",
                             "waveform_mean", "waveform_sd", "waveforms"}:
                try:
                    out["scores"][c] = np.asarray(units[c].data[:], dtype=np.float64)
                except (TypeError, ValueError):
                    continue
    finally:
        io.close()
    return out


def read_place_cell_maps(path: str | os.PathLike, bins: int = 32, box: Box | None = None,
                         origin: str = "centre", min_occupancy_s: float = 0.1) -> Ratemaps:
    """Place-cell ratemaps from an NWB file: its stored ratemaps, else spikes / occupancy.

    From spikes, each spike takes the position interpolated at its time; rate = spikes
    per bin / seconds spent in the bin (bins visited for less than ``min_occupancy_s``
    are NaN). A file that does not record its box is binned over ``box`` if given.
    """
    from gridform.core.ratemaps import RatemapAccumulator

    data = read_nwb(path, box, origin)
    if data["ratemaps"] is not None:
        return data["ratemaps"]
    if data["spike_times"] is None:
        raise DataError(f"{path} has neither unit ratemaps nor spike times")
    tr = data["trajectory"]
    if tr is None:
        raise DataError(f"{path} has spike times but no usable positions (a Position series "
                        "and, if the file does not record it, the box)")
    dt = np.diff(tr.times)
    weight = np.append(dt, np.median(dt))  # seconds each sample stands for
    acc = RatemapAccumulator(tr.box, 1, bins)
    idx = acc.bin_index(tr.positions)
    occ = np.bincount(idx, weights=weight, minlength=acc.n_x * acc.n_y)
    u = tr.unwrapped()
    rates = []
    for spikes in data["spike_times"]:
        spikes = spikes[(spikes >= tr.times[0]) & (spikes <= tr.times[-1])]
        sp = np.stack([np.interp(spikes, tr.times, u[:, 0]),
                       np.interp(spikes, tr.times, u[:, 1])], axis=1)
        sp = tr.box.wrap(sp)
        counts = np.bincount(acc.bin_index(sp), minlength=acc.n_x * acc.n_y)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(occ >= min_occupancy_s, counts / occ, np.nan)
        rates.append(r.reshape(acc.n_y, acc.n_x))
    x, y = tr.box.bin_centers(acc.n_x, acc.n_y)
    return Ratemaps(np.stack(rates), occ.reshape(acc.n_y, acc.n_x), x, y)
