"""The arena: a rectangular box with walls or periodic (torus) boundaries.

Coordinates are in metres with the origin at the centre of the box, so a box of width
``w`` and height ``h`` spans ``[-w/2, w/2] x [-h/2, h/2]`` (the convention of the
reference code of Sorscher et al. 2019). ``x`` runs along columns and ``y`` along rows of
every ratemap, with ``y`` increasing with the row index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from gridform.core.reference import Boundary

__all__ = ["Boundary", "Box"]


@dataclass(frozen=True)
class Box:
    """A rectangular arena.

    Args:
        width: extent along x, metres (reference: 2.2 m).
        height: extent along y, metres (reference: 2.2 m).
        boundary: ``"walls"`` (the agent is reflected by walls) or ``"periodic"`` (a torus:
            positions wrap and distances are the shortest ones around the torus).
    """

    width: float = 2.2
    height: float = 2.2
    boundary: Boundary = "walls"

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"Box {name} must be a number of metres, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"Box {name} must be a positive finite number of metres, "
                                 f"got {value!r}")
        if self.boundary not in ("walls", "periodic"):
            raise ValueError(f"Box boundary must be 'walls' or 'periodic', got {self.boundary!r}")

    @property
    def periodic(self) -> bool:
        return self.boundary == "periodic"

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) in metres, as matplotlib's ``imshow(extent=...)``."""
        return (-self.width / 2, self.width / 2, -self.height / 2, self.height / 2)

    @property
    def size(self) -> np.ndarray:
        """(width, height) in metres."""
        return np.array([self.width, self.height])

    def wrap(self, positions):
        """Map positions (..., 2) into the box on a torus; identity for walled boxes.

        NumPy input stays NumPy (in its own precision); anything else goes through JAX.
        """
        if not self.periodic:
            return positions
        if isinstance(positions, np.ndarray):
            return np.mod(positions + self.size / 2, self.size) - self.size / 2
        size = jnp.asarray(self.size, dtype=jnp.result_type(positions, jnp.float32))
        return jnp.mod(positions + size / 2, size) - size / 2

    def displacement(self, a, b):
        """Displacement ``a - b`` (..., 2) in metres, the shortest one on a torus.

        NumPy input stays NumPy (in its own precision); anything else goes through JAX.
        """
        d = a - b
        if not self.periodic:
            return d
        if isinstance(d, np.ndarray):
            return d - self.size * np.round(d / self.size)
        size = jnp.asarray(self.size, dtype=jnp.result_type(d, jnp.float32))
        return d - size * jnp.round(d / size)

    def contains(self, positions, atol: float = 1e-6) -> np.ndarray:
        """Boolean (...) array: whether each position (..., 2) lies inside the box."""
        p = np.asarray(positions)
        return (np.abs(p[..., 0]) <= self.width / 2 + atol) & (
            np.abs(p[..., 1]) <= self.height / 2 + atol
        )

    def bin_centers(self, n_x: int, n_y: int) -> tuple[np.ndarray, np.ndarray]:
        """Centres (metres) of ``n_x`` x ``n_y`` equal bins covering the box."""
        if n_x < 1 or n_y < 1:
            raise ValueError(f"bins must be positive, got n_x={n_x}, n_y={n_y}")
        dx, dy = self.width / n_x, self.height / n_y
        x = -self.width / 2 + dx * (np.arange(n_x) + 0.5)
        y = -self.height / 2 + dy * (np.arange(n_y) + 0.5)
        return x, y

    def grid(self, n_x: int, n_y: int) -> np.ndarray:
        """Positions (n_y * n_x, 2) of the bin centres, row-major with y along rows."""
        x, y = self.bin_centers(n_x, n_y)
        xx, yy = np.meshgrid(x, y)
        return np.stack([xx.ravel(), yy.ravel()], axis=-1)
