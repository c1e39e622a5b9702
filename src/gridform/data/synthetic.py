"""Synthetic recordings with known answers: place cells for the assumption tests, and
ideal grid, square and stripe maps for calibrating scores.

- :func:`uniform_place_cells`: the theory's code. Identical tuning curves (``dog``,
  ``dos`` or ``gaussian``) at uniformly random centres, plus a little measurement noise:
  translation invariant, centre-surround for ``dog``/``dos``, a ring at the analytic
  ``k*``.
- :func:`heterogeneous_place_cells`: what recordings look like instead. One to three
  Gaussian fields per cell, no surround, random widths; with ``gradient`` (the default)
  the fields are narrower and denser towards one wall (place fields are known to vary in
  size and density across an arena), so the code is not translation invariant either.
- :func:`lattice_ratemaps`: ideal periodic maps of a known spacing, orientation and
  phase (rectified hexagons, rectified squares or plane-wave stripes), the inputs with
  known answers for gridness, spacing, orientation and phase estimators.
"""

from __future__ import annotations

import jax
import numpy as np

from gridform.core.environment import Box
from gridform.core.place_cells import PlaceCells
from gridform.core.ratemaps import Ratemaps
from gridform.core.reference import SIGMA_M, SURROUND_SCALE

__all__ = ["heterogeneous_place_cells", "lattice_ratemaps", "uniform_place_cells"]

_LATTICE_KINDS = ("hex", "square", "stripes")


def uniform_place_cells(n: int = 200, bins: int = 32, box: Box | None = None,
                        kind: str = "dog", sigma: float = SIGMA_M,
                        surround_scale: float = SURROUND_SCALE, noise: float = 0.02,
                        seed: int = 0) -> Ratemaps:
    """Ratemaps (n, bins, bins) of identical cells at uniform random centres (+ noise)."""
    box = box or Box(2.2, 2.2)
    pc = PlaceCells.random(jax.random.key(seed), n, box, kind=kind, sigma=sigma,
                           surround_scale=surround_scale)
    maps = np.asarray(pc.encode(box.grid(bins, bins)), np.float64).T.reshape(n, bins, bins)
    rng = np.random.default_rng(seed)
    maps = maps + noise * np.abs(maps).max() * rng.standard_normal(maps.shape)
    x, y = box.bin_centers(bins, bins)
    return Ratemaps(maps, np.ones((bins, bins)), x, y)


def heterogeneous_place_cells(n: int = 200, bins: int = 32, box: Box | None = None,
                              width_range: tuple[float, float] = (0.06, 0.3),
                              gradient: bool = True, noise: float = 0.02, seed: int = 0
                              ) -> Ratemaps:
    """Ratemaps of multi-field cells with random widths (module docstring).

    With ``gradient``, a field's position ``u`` across the box (0 at the left wall) is
    drawn from Beta(1, 2.5) and its width grows linearly with ``u`` across
    ``width_range`` (times a lognormal factor); without, positions are uniform and widths
    uniform in ``width_range``, so only the finite sample breaks stationarity.
    """
    box = box or Box(2.2, 2.2)
    rng = np.random.default_rng(seed)
    x, y = box.bin_centers(bins, bins)
    xx, yy = np.meshgrid(x, y)
    lo, hi = width_range
    maps = np.zeros((n, bins, bins))
    for i in range(n):
        for _ in range(int(rng.integers(1, 4))):
            if gradient:
                u = rng.beta(1.0, 2.5)
                w = (lo + (hi - lo) * u) * rng.lognormal(0.0, 0.25)
            else:
                u = rng.uniform()
                w = rng.uniform(lo, hi)
            cx = -box.width / 2 + box.width * u
            cy = rng.uniform(-box.height / 2, box.height / 2)
            amp = rng.uniform(0.5, 1.5)
            maps[i] += amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * w * w))
    maps += noise * rng.standard_normal(maps.shape)
    return Ratemaps(maps, np.ones((bins, bins)), x, y)


def lattice_ratemaps(spacing: float, orientation_deg=0.0, phase=(0.0, 0.0), *,
                     kind: str = "hex", bins: int = 20, box: Box | None = None) -> Ratemaps:
    """Ideal periodic ratemaps ``(cell, bins, bins)`` of a known lattice.

    ``kind``:

    - ``"hex"``: ``max(0, sum_j cos(k u_j . (r - phase)))`` over three unit vectors
      ``u_j`` 120 degrees apart, ``k = 4 pi / (sqrt(3) spacing)``: a rectified triangular
      lattice with nearest-neighbour distance ``spacing``, one lattice axis along
      ``orientation_deg`` (counter-clockwise from +x) and a peak (value 3) at ``phase``.
      It scores about 1.6 on the mean gridness.
    - ``"square"``: the product of two rectified plane waves of period ``spacing`` along
      ``orientation_deg`` and 90 degrees from it.
    - ``"stripes"``: one plane wave ``cos(2 pi u . (r - phase) / spacing)`` along
      ``orientation_deg``, not rectified.

    ``orientation_deg`` is a scalar or ``(n,)`` and ``phase`` (metres) is ``(2,)`` or
    ``(n, 2)``; they broadcast to ``n`` cells. Occupancy is 1 everywhere; ``box``
    defaults to the 2.2 m reference box.
    """
    if kind not in _LATTICE_KINDS:
        raise ValueError(f"kind must be one of {_LATTICE_KINDS}, got {kind!r}")
    if not (np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"spacing must be a positive number of metres, got {spacing!r}")
    if int(bins) != bins or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    theta = np.radians(np.atleast_1d(np.asarray(orientation_deg, np.float64)))
    ph = np.asarray(phase, np.float64)
    if theta.ndim != 1 or ph.shape[-1:] != (2,) or ph.ndim > 2:
        raise ValueError("orientation_deg must be a scalar or (n,) and phase (2,) or (n, 2); "
                         f"got shapes {np.shape(orientation_deg)} and {ph.shape}")
    ph = np.atleast_2d(ph)
    try:
        theta, px, py = np.broadcast_arrays(theta, ph[:, 0], ph[:, 1])
    except ValueError:
        raise ValueError(f"orientation_deg ({theta.size} values) and phase ({len(ph)} rows) "
                         "give different numbers of cells") from None
    box = box or Box(2.2, 2.2)
    x, y = box.bin_centers(int(bins), int(bins))
    xx, yy = np.meshgrid(x, y)
    dx = xx[None] - px[:, None, None]
    dy = yy[None] - py[:, None, None]
    t = theta[:, None, None]

    def wave(k: float, angle):
        return np.cos(k * (np.cos(angle) * dx + np.sin(angle) * dy))

    if kind == "hex":
        k = 4 * np.pi / (np.sqrt(3) * spacing)
        # wave vectors perpendicular to the lattice axes at theta, theta + 60, theta + 120
        rates = np.maximum(sum(wave(k, t + np.radians(a)) for a in (90.0, 210.0, 330.0)), 0)
    elif kind == "square":
        k = 2 * np.pi / spacing
        rates = np.maximum(wave(k, t), 0) * np.maximum(wave(k, t + np.pi / 2), 0)
    else:
        rates = wave(2 * np.pi / spacing, t)
    return Ratemaps(rates, np.ones((int(bins), int(bins))), x, y)
