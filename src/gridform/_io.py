"""Small I/O helpers shared by the library and the CLI."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RATEMAPS_FILE", "SCORES_FILE", "SUMMARY_FILE", "atomic_path", "clean_json",
           "prepare_out_dir", "read_text", "write_json"]

# The files of a directory of scored ratemaps: a training run's evaluation, an evaluation
# along a recorded path, a pattern simulation (a public format; the summary is written last).
RATEMAPS_FILE, SCORES_FILE, SUMMARY_FILE = "ratemaps.npz", "scores.csv", "summary.json"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    A failure (or a kill) inside the block leaves ``path`` as it was: nothing half-written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                               suffix=f".tmp{path.suffix}")  # keeps the extension
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the mode open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_text(path: str | os.PathLike) -> str:
    """The UTF-8 text of a file; a file that is not UTF-8 is a
    :class:`~gridform.errors.DataError` that names it (and the first bad byte)."""
    from gridform.errors import DataError

    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text: byte 0x{raw[err.start]:02x} at position "
                        f"{err.start}; save it as UTF-8") from None


def write_json(path: Path, obj) -> Path:
    """Write JSON atomically (temporary file, then rename); NaN/inf become null."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(clean_json(obj), f, indent=2, sort_keys=True)
        f.write("\n")
    return path


def clean_json(obj):
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def prepare_out_dir(out: Path, marker: str, force: bool) -> None:
    """Refuse an ``out`` that is a file, or that holds ``marker`` already, unless ``force``."""
    from gridform.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if (out / marker).exists() and not force:
        raise UsageError(f"{out} already holds results ({marker}); pass --force to "
                         "overwrite them or choose another --out")
