"""Place-cell population codes: the targets of the path-integration task.

Kinds of tuning (``d = |x - c_i|`` is the distance to the centre ``c_i`` of cell ``i``,
shortest around the torus in a periodic box; ``sigma = sigma1``, ``s = sigma2^2 / sigma1^2``
is the *surround scale*, docs/theory.md section 5):

``gaussian``
    ``p_i(x) = softmax_i(-d^2 / 2 sigma^2)``. Sums to 1 over cells. Its spectrum peaks at
    ``k = 0``: no preferred spatial frequency.
``dos`` (difference of softmaxes, the public code of Sorscher et al. 2019)
    ``p_i = softmax_i(-d^2 / 2 sigma^2) - softmax_i(-d^2 / 2 s sigma^2)``, then shifted so the
    minimum over cells is 0 and divided by the sum over cells: nonnegative, sums to 1.
``dog`` (normalised difference of Gaussians)
    ``p_i = (exp(-d^2 / 2 sigma^2) - exp(-d^2 / 2 s sigma^2) / s) / (1 - 1/s)``: peak 1 and
    zero integral over the plane, so ``p~(k) ~ exp(-sigma1^2 k^2/2) - exp(-sigma2^2 k^2/2)``.
``dog_unnormalised``
    ``p_i = exp(-d^2 / 2 sigma^2) - a exp(-d^2 / 2 s sigma^2)`` with surround amplitude ``a``
    (default 1): both Gaussians have peak 1, the integral is not zero and the spectrum keeps
    power at ``k = 0``. This is the normalisation at stake in the 2022 dispute between
    Schaeffer et al. ("No free lunch") and Sorscher et al.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.environment import Box
from gridform.core.reference import PLACE_CELL_KINDS, SIGMA_M, PlaceCellKind

__all__ = ["PLACE_CELL_KINDS", "PlaceCellKind", "PlaceCells", "PlaceCode", "lattice_centers",
           "lattice_shape", "surround_scale_from_ratio"]


@runtime_checkable
class PlaceCode(Protocol):
    """What the path-integration task asks of a place-cell code.

    :class:`PlaceCells` (simulated tuning curves) and
    :class:`gridform.data.recorded.RecordedPlaceCells` (ratemaps of recorded cells) both
    implement it; a task never asks which one it holds.

    Attributes:
        box: the arena the code covers.
        kind: the tuning (one of ``PLACE_CELL_KINDS``), or ``"recorded"``.
        centers: (n_cells, 2) each cell's centre (a recorded cell's peak), m.
    """

    box: Box
    kind: str
    centers: np.ndarray

    @property
    def n_cells(self) -> int: ...

    def tuning(self) -> np.ndarray:
        """The widths an ``encode`` program takes as an argument (float32)."""
        ...

    def encode(self, positions, centers=None, tuning=None) -> jax.Array:
        """Code (..., n_cells) at positions (..., 2), m."""
        ...

    def decode(self, codes, k: int = 3, centers=None) -> jax.Array:
        """Positions (..., 2) read from codes (..., n_cells)."""
        ...


def surround_scale_from_ratio(sigma_ratio: float) -> float:
    """Convert the "No free lunch" convention ``sigma2 / sigma1`` to ours, ``(sigma2/sigma1)^2``."""
    if not math.isfinite(sigma_ratio) or sigma_ratio <= 1:
        raise ValueError(f"sigma_ratio (sigma2/sigma1) must be > 1, got {sigma_ratio!r}")
    try:
        return float(sigma_ratio) ** 2
    except OverflowError:
        raise ValueError(f"sigma_ratio (sigma2/sigma1) = {sigma_ratio!r}: its square is "
                         "beyond the range of a float") from None


def _check_kind(kind: str) -> None:
    if kind not in PLACE_CELL_KINDS:
        raise ValueError(f"unknown place-cell kind {kind!r}; choose one of {PLACE_CELL_KINDS}")


def lattice_shape(n_cells: int, box: Box) -> tuple[int, int]:
    """``(n_x, n_y)`` with ``n_x * n_y == n_cells`` and ``n_x / n_y`` as close as the
    divisors of ``n_cells`` allow to ``width / height`` (a prime gives a single row)."""
    if n_cells < 1:
        raise ValueError(f"n_cells must be positive, got {n_cells}")
    target = math.log(box.width / box.height)
    n_y = min((d for d in range(1, n_cells + 1) if n_cells % d == 0),
              key=lambda d: abs(math.log(n_cells // d / d) - target))
    return n_cells // n_y, n_y


def lattice_centers(n_cells: int, box: Box) -> np.ndarray:
    """``n_cells`` centres on the rectangular lattice of bin centres
    :func:`lattice_shape` picks, covering the box."""
    return box.grid(*lattice_shape(n_cells, box))


@dataclass(frozen=True, eq=False)
class PlaceCells:
    """A population of place cells in a box.

    Attributes:
        centers: (n_cells, 2) centres in metres.
        box: the arena (its boundary decides whether distances wrap).
        kind: the tuning, see the module docstring.
        sigma: width sigma1 of the centre Gaussian, m (reference: 0.12 m).
        surround_scale: ``s = sigma2^2 / sigma1^2`` (reference: 2). Unused for ``gaussian``.
        surround_amplitude: amplitude ``a`` of the surround of ``dog_unnormalised``.
    """

    centers: np.ndarray
    box: Box = Box()  # noqa: RUF009 (frozen, immutable)
    kind: PlaceCellKind = "dos"
    sigma: float = SIGMA_M
    surround_scale: float = 2.0
    surround_amplitude: float = 1.0

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        c = np.asarray(self.centers, dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 1:
            raise ValueError(f"centers must have shape (n_cells, 2), got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("centers contain NaN or infinite values")
        object.__setattr__(self, "centers", c)
        if not math.isfinite(self.sigma) or self.sigma <= 0:
            raise ValueError(f"sigma must be a positive number of metres, got {self.sigma!r}")
        if self.kind != "gaussian" and (
            not math.isfinite(self.surround_scale) or self.surround_scale <= 1
        ):
            raise ValueError(
                f"surround_scale (sigma2^2/sigma1^2) must be > 1, got {self.surround_scale!r}"
            )

    @classmethod
    def random(
        cls, key: jax.Array, n_cells: int, box: Box = Box(), **kwargs  # noqa: B008
    ) -> PlaceCells:
        """Centres drawn uniformly over the whole box (both axes), as in the reference."""
        if n_cells < 1:
            raise ValueError(f"n_cells must be positive, got {n_cells}")
        half = jnp.asarray([box.width / 2, box.height / 2])
        c = jax.random.uniform(key, (n_cells, 2), minval=-half, maxval=half)
        return cls(centers=np.asarray(c, dtype=np.float64), box=box, **kwargs)

    @classmethod
    def lattice(cls, n_cells: int, box: Box = Box(), **kwargs) -> PlaceCells:  # noqa: B008
        """Centres on a regular rectangular lattice covering the box."""
        if n_cells < 1:
            raise ValueError(f"n_cells must be positive, got {n_cells}")
        return cls(centers=lattice_centers(n_cells, box), box=box, **kwargs)

    @property
    def n_cells(self) -> int:
        return int(self.centers.shape[0])

    def sq_distances(self, positions, centers=None) -> jax.Array:
        """Squared distances (..., n_cells) from positions (..., 2) to every centre.

        ``centers`` (n_cells, 2) replaces this code's centres (may be a traced array: a
        vmapped population of networks carries one set of centres per member).
        """
        c = jnp.asarray(self.centers if centers is None else centers, dtype=jnp.float32)
        positions = jnp.asarray(positions, jnp.float32)
        # one axis at a time: a reduction over a trailing axis of length 2 is slow in XLA
        d2 = 0.0
        for axis, size in enumerate((self.box.width, self.box.height)):
            d = positions[..., axis, None] - c[:, axis]
            if self.box.periodic:
                d = d - size * jnp.round(d * (1 / size))
            d2 = d2 + d * d
        return d2

    def tuning(self) -> np.ndarray:
        """The widths as the code uses them: ``(-1 / (2 sigma1^2), -1 / (2 sigma2^2))``, float32.

        Passed to :meth:`encode` as an argument of a compiled program, this lets one
        program serve every ``sigma`` and ``surround_scale`` (a sweep over widths compiles
        once). The values are rounded from float64 exactly as constants would be, so the
        code is bit-for-bit the same either way.
        """
        s1 = 2 * self.sigma**2
        return np.asarray([-1 / s1, -1 / (s1 * self.surround_scale)], np.float32)

    def encode(self, positions, centers=None, tuning=None) -> jax.Array:
        """Population code (..., n_cells) at positions (..., 2) (metres).

        ``centers``: as in :meth:`sq_distances`. ``tuning``: :meth:`tuning`, possibly
        traced (used by the ``gaussian`` and ``dos`` kinds).
        """
        positions = jnp.asarray(positions, jnp.float32)
        if positions.ndim < 1 or positions.shape[-1] != 2:
            raise ValueError(f"positions must have shape (..., 2), got {positions.shape}")
        d2 = self.sq_distances(positions, centers)
        s1 = 2 * self.sigma**2
        s2 = s1 * self.surround_scale
        if self.kind in ("gaussian", "dos"):
            w1, w2 = (self.tuning() if tuning is None else tuning)[:2]
            # Both softmaxes share one stabiliser, the nearest centre's squared distance.
            r = d2 - jnp.min(d2, axis=-1, keepdims=True)
            e1 = jnp.exp(r * w1)
            p = e1 * (1 / jnp.sum(e1, axis=-1, keepdims=True))
            if self.kind == "gaussian":
                return p
            e2 = jnp.exp(r * w2)
            p = p - e2 * (1 / jnp.sum(e2, axis=-1, keepdims=True))
            m = jnp.min(p, axis=-1, keepdims=True)
            # p sums to zero (a difference of two softmaxes), so p - m sums to -m n: the
            # normalisation needs no second pass over the code (4x faster on a CPU).
            return (p - m) / (-m * p.shape[-1])
        if self.kind == "dog":
            s = self.surround_scale
            return (jnp.exp(-d2 / s1) - jnp.exp(-d2 / s2) / s) / (1 - 1 / s)
        return jnp.exp(-d2 / s1) - self.surround_amplitude * jnp.exp(-d2 / s2)

    def decode(self, codes, k: int = 3, centers=None) -> jax.Array:
        """Position (..., 2) read out from codes (..., n_cells): mean centre of the top k.

        On a torus the mean is taken of displacements from the most active centre, then
        wrapped, so cells on opposite edges average correctly. ``centers``: as in
        :meth:`sq_distances`.
        """
        codes = jnp.asarray(codes)
        if codes.shape[-1] != self.n_cells:
            raise ValueError(f"codes have {codes.shape[-1]} cells, place cells have "
                             f"{self.n_cells}")
        if not 1 <= k <= self.n_cells:
            raise ValueError(f"k must lie in [1, {self.n_cells}], got {k}")
        c = jnp.asarray(self.centers if centers is None else centers, dtype=jnp.float32)
        _, idx = jax.lax.top_k(codes, k)
        top = c[idx]  # (..., k, 2)
        ref = top[..., :1, :]
        mean = ref[..., 0, :] + jnp.mean(self.box.displacement(top, ref), axis=-2)
        return self.box.wrap(mean)
