"""Small I/O helpers shared by the library and the CLI."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RATEMAPS_FILE", "SCORES_FILE", "SUMMARY_FILE", "SUMMARY_JSON_KEYS", "PlainProgress",
           "atomic_path", "clean_json", "prepare_out_dir", "progress_bar", "read_text",
           "write_json"]

# The files of a directory of scored ratemaps: a training run's evaluation, an evaluation
# along a recorded path, a pattern simulation (a public format; the summary is written last).
RATEMAPS_FILE, SCORES_FILE, SUMMARY_FILE = "ratemaps.npz", "scores.csv", "summary.json"

# Attributes of a summary whose key in summary.json differs (a threshold has a dot in it):
# a training run's Summary and a pattern run's PatternSummary.
SUMMARY_JSON_KEYS = {"frac_above_0_3": "frac_above_0.3", "frac_above_0_8": "frac_above_0.8",
                     "frac_above_0_3_minmax": "frac_above_0.3_minmax",
                     "frac_above_0_8_minmax": "frac_above_0.8_minmax"}


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
    :class:`~gridform.core.errors.DataError` that names it (and the first bad byte)."""
    from gridform.core.errors import DataError

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
    from gridform.core.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if (out / marker).exists() and not force:
        raise UsageError(f"{out} already holds results ({marker}); pass --force to "
                         "overwrite them or choose another --out")


def progress_bar(total: int, initial: int = 0, unit: str = "step", desc: str = "",
                 tty: bool | None = None):
    """The progress display of a long job: a tqdm bar on stderr when stderr is a terminal
    (``tty``; by default asked of the OS), else a :class:`PlainProgress` that prints a line
    on stdout about every 10%, so a job writing into a log file or a pipe still says how
    far it is. Both have ``update(n)``, ``set_postfix(**values)`` and ``close()``."""
    if tty is None:
        tty = os.isatty(2)
    if tty:
        from tqdm import tqdm

        return tqdm(total=total, initial=initial, unit=unit, desc=desc or None,
                    dynamic_ncols=True)
    return PlainProgress(total, initial, unit, desc)


class PlainProgress:
    """Progress as plain lines, for output that is not a terminal: one line each time the
    count passes another tenth of ``total`` (and at the end), with the rate since the
    start, the values of the last :meth:`set_postfix` and the time left at that rate::

        train: 1200/6000 steps (20%), 33.1 steps/s, loss 0.0412, error_cm 12.3, ~2.4 min left

    ``out``: the stream (stdout, looked up at each line, when None)."""

    def __init__(self, total: int, initial: int = 0, unit: str = "step", desc: str = "",
                 out=None, fraction: float = 0.1):
        if total < 1:
            raise ValueError(f"total must be a count of at least 1, got {total!r}")
        self.total, self.n, self.unit, self.desc, self.out = total, initial, unit, desc, out
        self.postfix: dict[str, str] = {}
        self.stride = max(1, math.ceil(fraction * total))
        self.t0, self.n0 = time.perf_counter(), initial
        self.next = self._next_mark()

    def _next_mark(self) -> float:
        if self.n >= self.total:
            return math.inf
        return min(self.stride * (self.n // self.stride + 1), self.total)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.n >= self.next:
            print(self.line(), file=self.out or sys.stdout, flush=True)
            self.next = self._next_mark()

    def set_postfix(self, **values) -> None:
        self.postfix = {k: str(v) for k, v in values.items()}

    def line(self) -> str:
        elapsed = time.perf_counter() - self.t0
        rate = (self.n - self.n0) / elapsed if elapsed > 0 else float("nan")
        parts = [f"{self.n}/{self.total} {self.unit}s ({100 * self.n / self.total:.0f}%)"]
        if math.isfinite(rate) and rate > 0:
            parts.append(f"{rate:.3g} {self.unit}s/s")
        parts += [f"{k} {v}" for k, v in self.postfix.items()]
        if math.isfinite(rate) and rate > 0 and self.n < self.total:
            left = (self.total - self.n) / rate
            parts.append(f"~{left:.0f} s left" if left < 120 else f"~{left / 60:.1f} min left")
        return (f"{self.desc}: " if self.desc else "") + ", ".join(parts)

    def close(self) -> None:
        """Nothing to release; the last line was printed when the count reached it."""
