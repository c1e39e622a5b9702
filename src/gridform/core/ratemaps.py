"""Ratemaps: mean activity of every cell in every spatial bin.

The container travels as ``.npz`` with the keys ``rates`` (cell, y, x; NaN in unvisited
bins), ``occupancy`` (y, x; number of samples per bin), ``x_centers`` and ``y_centers``
(bin centres, metres). Rows index y (increasing), columns index x.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from gridform.core.environment import Box

__all__ = ["RatemapAccumulator", "Ratemaps", "compute_ratemaps", "load_ratemaps"]

NPZ_KEYS = ("rates", "occupancy", "x_centers", "y_centers")


def _check_centers(name: str, c: np.ndarray) -> None:
    if c.ndim != 1 or c.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if c.size > 1:
        step = np.diff(c)
        if np.any(step <= 0):
            raise ValueError(f"{name} must be strictly increasing")
        if not np.allclose(step, step[0], rtol=1e-4, atol=1e-9):
            raise ValueError(f"{name} must be equally spaced")


@dataclass(frozen=True, eq=False)
class Ratemaps:
    """Ratemaps of many cells on one spatial grid.

    Attributes:
        rates: (cell, y, x) mean activity per bin; NaN where the bin was never visited.
        occupancy: (y, x) number of samples that fell in each bin.
        x_centers: (x,) bin centres along x, metres, increasing and equally spaced.
        y_centers: (y,) bin centres along y, metres, increasing and equally spaced.
    """

    rates: np.ndarray
    occupancy: np.ndarray
    x_centers: np.ndarray
    y_centers: np.ndarray

    def __post_init__(self) -> None:
        rates = np.asarray(self.rates, dtype=np.float64)
        occ = np.asarray(self.occupancy, dtype=np.float64)
        x = np.asarray(self.x_centers, dtype=np.float64)
        y = np.asarray(self.y_centers, dtype=np.float64)
        if rates.ndim != 3:
            raise ValueError(f"rates must have shape (cell, y, x), got {rates.ndim}-D "
                             f"array of shape {rates.shape}")
        if rates.shape[0] < 1:
            raise ValueError("rates holds no cells")
        if np.any(np.isinf(rates)):
            raise ValueError("rates contain infinite values")
        _check_centers("x_centers", x)
        _check_centers("y_centers", y)
        if rates.shape[1:] != (y.size, x.size):
            raise ValueError(f"rates spatial shape {rates.shape[1:]} does not match "
                             f"(len(y_centers), len(x_centers)) = {(y.size, x.size)}")
        if occ.shape != rates.shape[1:]:
            raise ValueError(f"occupancy shape {occ.shape} does not match rates spatial "
                             f"shape {rates.shape[1:]}")
        if not np.all(np.isfinite(occ)) or np.any(occ < 0):
            raise ValueError("occupancy must be finite and nonnegative")
        for name, value in (("rates", rates), ("occupancy", occ), ("x_centers", x),
                            ("y_centers", y)):
            object.__setattr__(self, name, value)

    # -- geometry -------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return int(self.rates.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """(n_y, n_x) bins."""
        return (int(self.rates.shape[1]), int(self.rates.shape[2]))

    @property
    def bin_size(self) -> tuple[float, float]:
        """(dx, dy) in metres. A single bin along an axis is taken to be square."""
        dx = float(self.x_centers[1] - self.x_centers[0]) if self.x_centers.size > 1 else None
        dy = float(self.y_centers[1] - self.y_centers[0]) if self.y_centers.size > 1 else None
        dx = dx if dx is not None else (dy if dy is not None else 1.0)
        dy = dy if dy is not None else dx
        return dx, dy

    @property
    def width(self) -> float:
        return self.bin_size[0] * self.shape[1]

    @property
    def height(self) -> float:
        return self.bin_size[1] * self.shape[0]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the bin edges, metres."""
        dx, dy = self.bin_size
        return (self.x_centers[0] - dx / 2, self.x_centers[-1] + dx / 2,
                self.y_centers[0] - dy / 2, self.y_centers[-1] + dy / 2)

    def select(self, cells) -> Ratemaps:
        """The ratemaps of a subset of cells (indices or boolean mask)."""
        return Ratemaps(self.rates[np.asarray(cells)], self.occupancy, self.x_centers,
                        self.y_centers)

    # -- I/O --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``.npz`` atomically (temporary file, then rename)."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"ratemaps are saved as .npz, got {path.name!r}")
        from gridform.core.io import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, rates=self.rates.astype(np.float32), occupancy=self.occupancy,
                     x_centers=self.x_centers, y_centers=self.y_centers)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Ratemaps:
        return load_ratemaps(path)


def load_ratemaps(path: str | os.PathLike) -> Ratemaps:
    """Read a ``.npz`` written by :meth:`Ratemaps.save` (or any file with the same keys).

    ``occupancy`` may be missing, in which case every bin with a finite rate in any
    cell counts as visited once. Never unpickles.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ratemaps file not found: {path}")
    if path.is_file() and not zipfile.is_zipfile(path):  # numpy would offer to unpickle it
        raise ValueError(f"{path} is not an .npz archive (not a zip file); ratemaps are "
                         "saved with Ratemaps.save or numpy.savez")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path} is not a readable .npz file of ratemaps ({err})") from None
    missing = [k for k in ("rates", "x_centers", "y_centers") if k not in arrays]
    if missing:
        raise ValueError(f"{path} lacks the key(s) {missing}; a ratemaps file holds "
                         f"{list(NPZ_KEYS)}")
    rates = arrays["rates"]
    if not np.issubdtype(rates.dtype, np.number):
        raise ValueError(f"{path}: 'rates' must be numeric, got dtype {rates.dtype}")
    if "occupancy" in arrays:
        occ = arrays["occupancy"]
    elif rates.ndim == 3:
        occ = np.any(np.isfinite(rates), axis=0).astype(float)
    else:
        occ = np.zeros(rates.shape[-2:] if rates.ndim >= 2 else (0,))
    try:
        return Ratemaps(rates, occ, arrays["x_centers"], arrays["y_centers"])
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


class RatemapAccumulator:
    """Streaming ratemaps: add (positions, activity) chunks, then read the result.

    Memory is ``O(bins * cells)`` plus one chunk, so ratemaps of thousands of units over
    hundreds of thousands of samples never need the whole activity in memory.

    Args:
        box: the arena; positions are clipped into it.
        n_cells: number of cells (columns of every activity chunk).
        bins: bins per axis (``int``) or ``(n_x, n_y)``.
    """

    def __init__(self, box: Box, n_cells: int, bins: int | tuple[int, int] = 20) -> None:
        n_x, n_y = (bins, bins) if isinstance(bins, int) else bins
        if n_x < 1 or n_y < 1:
            raise ValueError(f"bins must be positive, got {bins!r}")
        from gridform.core.errors import check_memory

        # float64 sums and squared sums per cell and bin, and the result
        check_memory(3 * 8.0 * n_cells * n_x * n_y, f"ratemaps of {n_cells} cells on "
                     f"{n_x} x {n_y} bins")
        if n_cells < 1:
            raise ValueError(f"n_cells must be positive, got {n_cells}")
        self.box = box
        self.n_cells = n_cells
        self.n_x, self.n_y = int(n_x), int(n_y)
        self._sums = np.zeros((self.n_y * self.n_x, n_cells), dtype=np.float64)
        self._counts = np.zeros(self.n_y * self.n_x, dtype=np.int64)

    def bin_index(self, positions: np.ndarray) -> np.ndarray:
        """Flat bin index (row-major, y along rows) of positions (n, 2)."""
        w, h = self.box.width, self.box.height
        ix = np.floor((positions[:, 0] + w / 2) / w * self.n_x).astype(np.int64)
        iy = np.floor((positions[:, 1] + h / 2) / h * self.n_y).astype(np.int64)
        np.clip(ix, 0, self.n_x - 1, out=ix)
        np.clip(iy, 0, self.n_y - 1, out=iy)
        return iy * self.n_x + ix

    def add(self, positions, activity) -> None:
        """Add samples: positions (..., 2) in metres and activity (..., n_cells)."""
        pos = np.asarray(positions)
        act = np.asarray(activity)
        if pos.ndim < 2 or pos.shape[-1] != 2:
            raise ValueError(f"positions must have shape (..., 2), got {pos.shape}")
        if act.ndim < 2:
            raise ValueError(f"activity must have shape (..., n_cells), got {act.shape}")
        if act.shape[:-1] != pos.shape[:-1]:
            raise ValueError(f"positions {pos.shape} and activity {act.shape} disagree on "
                             "the sample dimensions")
        if act.shape[-1] != self.n_cells:
            raise ValueError(f"activity has {act.shape[-1]} cells, expected {self.n_cells}")
        pos = pos.reshape(-1, 2)
        act = act.reshape(-1, self.n_cells)
        if not np.all(np.isfinite(pos)):
            raise ValueError("positions contain NaN or infinite values")
        if not np.all(np.isfinite(act)):
            raise ValueError("activity contains NaN or infinite values")
        idx = self.bin_index(pos)
        n = idx.size
        onehot = sp.csr_matrix(
            (np.ones(n, dtype=act.dtype), (idx, np.arange(n))), shape=(self._counts.size, n)
        )
        self._sums += onehot @ act
        self._counts += np.bincount(idx, minlength=self._counts.size)

    def result(self) -> Ratemaps:
        """The ratemaps of everything added so far."""
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = self._sums / self._counts[:, None]
        rates[self._counts == 0] = np.nan
        rates = rates.T.reshape(self.n_cells, self.n_y, self.n_x)
        x, y = self.box.bin_centers(self.n_x, self.n_y)
        return Ratemaps(rates, self._counts.reshape(self.n_y, self.n_x).astype(float), x, y)


def compute_ratemaps(
    positions, activity, box: Box, bins: int | tuple[int, int] = 20, chunk: int = 65536
) -> Ratemaps:
    """Ratemaps from positions (..., 2) and activity (..., n_cells) with equal leading dims.

    Vectorised: samples are binned with one sparse matrix product per chunk of ``chunk``
    samples. Positions outside the box are clipped into its edge bins.
    """
    pos = np.asarray(positions)
    act = np.asarray(activity)
    if act.ndim < 2:
        raise ValueError(f"activity must have shape (..., n_cells), got {act.shape}")
    if pos.shape[:-1] != act.shape[:-1]:
        raise ValueError(f"positions {pos.shape} and activity {act.shape} disagree on the "
                         "sample dimensions")
    acc = RatemapAccumulator(box, act.shape[-1], bins)
    pos = pos.reshape(-1, 2) if pos.shape[-1] == 2 else pos
    act = act.reshape(-1, act.shape[-1])
    for start in range(0, act.shape[0], chunk):
        acc.add(pos[start:start + chunk], act[start:start + chunk])
    return acc.result()
