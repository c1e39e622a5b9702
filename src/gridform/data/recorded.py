"""A place-cell code built from recorded ratemaps, usable wherever simulated cells are.

:class:`RecordedPlaceCells` interpolates each cell's ratemap bilinearly over the box
(clamped at the walls, wrapped on a torus), so ``encode(positions)`` gives the code of
the recording at any position, inside a jitted training step too. Unvisited (NaN) bins
are filled from their nearest visited neighbour. As a training target the code is
normalised to sum to one over cells at every position (``normalise=True``): the softmax
cross-entropy of the paper compares distributions over place cells. Each cell's "centre"
(used only to decode a position from the network's output) is the peak of its map.

Sources: a ratemap ``.npz`` (the foundation format) or an NWB file with units and
positions (:func:`gridform.data.nwb.read_place_cell_maps`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from gridform.core.environment import Box
from gridform.core.place_cells import PlaceCells
from gridform.core.ratemaps import Ratemaps, load_ratemaps
from gridform.data.extras import DataError

__all__ = ["RecordedPlaceCells", "box_of", "fill_unvisited", "load_place_cell_maps"]


def box_of(maps: Ratemaps, boundary: str = "walls") -> Box:
    """The box a ratemap grid covers (bin centres plus half a bin at each side)."""
    return Box(maps.width, maps.height, boundary)


def fill_unvisited(rates: np.ndarray) -> np.ndarray:
    """(cell, y, x) rates with NaN bins replaced by their nearest visited bin's value."""
    rates = np.asarray(rates, dtype=np.float64)
    nan = np.isnan(rates[0])
    if not nan.any():
        return rates
    if nan.all():
        raise DataError("every bin of the ratemaps is NaN (never visited)")
    _, (iy, ix) = ndimage.distance_transform_edt(nan, return_indices=True)
    return rates[:, iy, ix]


# The last few files read, keyed by (resolved path, mtime, size, bins): one `gridform
# train --targets` reads its file for the cell count and again to build the task, and an
# NWB file's ratemaps are binned from every spike.
_READ: dict[tuple, Ratemaps] = {}
_READ_KEEP = 4


def load_place_cell_maps(path: str | os.PathLike, bins: int = 32) -> Ratemaps:
    """Ratemaps of recorded place cells from ``.npz`` or ``.nwb`` (units + positions).

    A file read before in this process, unchanged since (same modification time and
    size), is not read again; the arrays returned are read-only.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"place-cell file not found: {path}")
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, bins)
    if key in _READ:
        return _READ[key]
    if path.suffix.lower() == ".nwb":
        from gridform.data.nwb import read_place_cell_maps

        maps = read_place_cell_maps(path, bins=bins)
    elif path.suffix.lower() == ".npz":
        maps = load_ratemaps(path)
    else:
        raise DataError(f"{path}: place cells are read from .npz ratemaps or .nwb files")
    for array in (maps.rates, maps.occupancy, maps.x_centers, maps.y_centers):
        array.flags.writeable = False
    while len(_READ) >= _READ_KEEP:
        del _READ[next(iter(_READ))]
    _READ[key] = maps
    return maps


@dataclass(frozen=True, eq=False)
class RecordedPlaceCells:
    """Place cells given by their ratemaps (cell, y, x) over ``box``.

    The ratemap grid must cover the box: its bin centres sit half a bin inside each wall.
    """

    maps: Ratemaps
    box: Box
    normalise: bool = True
    kind: str = "recorded"

    def __post_init__(self) -> None:
        m = self.maps
        tol = 0.51 * max(m.bin_size)
        if abs(m.width - self.box.width) > tol or abs(m.height - self.box.height) > tol:
            raise DataError(f"the ratemaps cover {m.width:.4g} x {m.height:.4g} m; the "
                            f"box is {self.box.width} x {self.box.height} m")
        rates = fill_unvisited(self.maps.rates)
        if not np.all(np.isfinite(rates)):
            raise DataError("the ratemaps contain infinite values")
        if self.normalise and np.any(rates < 0):
            raise DataError("normalised place-cell targets need nonnegative rates; the maps "
                            f"go down to {rates.min():.3g}")
        if self.normalise and np.any(rates.sum(axis=0) <= 0):
            raise DataError("some bins have no activity in any cell; a normalised code is "
                            "undefined there")
        object.__setattr__(self, "_rates", rates)
        nx = rates.shape[2]
        flat = rates.reshape(rates.shape[0], -1)
        peak = np.argmax(flat, axis=1)
        centers = np.stack([self.maps.x_centers[peak % nx], self.maps.y_centers[peak // nx]],
                           axis=1)
        object.__setattr__(self, "centers", centers)
        object.__setattr__(self, "_flat", jnp.asarray(flat.T, jnp.float32))  # (bins, cells)

    @property
    def n_cells(self) -> int:
        return int(self._rates.shape[0])

    def tuning(self) -> np.ndarray:
        """Recorded cells have no widths: zeros, never read (see PlaceCells.tuning)."""
        return np.zeros(2, np.float32)

    def encode(self, positions, centers=None, tuning=None) -> jnp.ndarray:
        """Code (..., n_cells) at positions (..., 2), bilinear in the ratemaps.

        ``centers`` and ``tuning`` are accepted for interface compatibility; recorded cells
        cannot be moved or widened, so ``centers`` must be None or the cells' own.
        """
        positions = jnp.asarray(positions, jnp.float32)
        if positions.ndim < 1 or positions.shape[-1] != 2:
            raise ValueError(f"positions must have shape (..., 2), got {positions.shape}")
        x0, y0 = float(self.maps.x_centers[0]), float(self.maps.y_centers[0])
        ny, nx = self._rates.shape[1:]
        dx = self.box.width / nx
        dy = self.box.height / ny
        fx = (positions[..., 0] - x0) / dx
        fy = (positions[..., 1] - y0) / dy
        if self.box.periodic:
            ix0 = jnp.floor(fx)
            iy0 = jnp.floor(fy)
            wx, wy = fx - ix0, fy - iy0
            ix0, iy0 = ix0.astype(jnp.int32) % nx, iy0.astype(jnp.int32) % ny
            ix1, iy1 = (ix0 + 1) % nx, (iy0 + 1) % ny
        else:
            fx = jnp.clip(fx, 0, nx - 1)
            fy = jnp.clip(fy, 0, ny - 1)
            ix0 = jnp.clip(jnp.floor(fx).astype(jnp.int32), 0, max(nx - 2, 0))
            iy0 = jnp.clip(jnp.floor(fy).astype(jnp.int32), 0, max(ny - 2, 0))
            wx, wy = fx - ix0, fy - iy0
            ix1, iy1 = jnp.minimum(ix0 + 1, nx - 1), jnp.minimum(iy0 + 1, ny - 1)
        f = self._flat
        code = ((1 - wy)[..., None] * ((1 - wx)[..., None] * f[iy0 * nx + ix0]
                                       + wx[..., None] * f[iy0 * nx + ix1])
                + wy[..., None] * ((1 - wx)[..., None] * f[iy1 * nx + ix0]
                                   + wx[..., None] * f[iy1 * nx + ix1]))
        if self.normalise:
            code = code / jnp.sum(code, axis=-1, keepdims=True)
        return code

    decode = PlaceCells.decode
