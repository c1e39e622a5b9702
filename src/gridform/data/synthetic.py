"""Synthetic place-cell recordings with known answers, for testing the assumption tests.

- :func:`uniform_place_cells`: the theory's code. Identical tuning curves (``dog``,
  ``dos`` or ``gaussian``) at uniformly random centres, plus a little measurement noise:
  translation invariant, centre-surround for ``dog``/``dos``, a ring at the analytic
  ``k*``.
- :func:`heterogeneous_place_cells`: what recordings look like instead. One to three
  Gaussian fields per cell, no surround, random widths; with ``gradient`` (the default)
  the fields are narrower and denser towards one wall (place fields are known to vary in
  size and density across an arena), so the code is not translation invariant either.
"""

from __future__ import annotations

import jax
import numpy as np

from gridform.analysis.ratemaps import Ratemaps
from gridform.environment import Box
from gridform.place_cells import PlaceCells

__all__ = ["heterogeneous_place_cells", "uniform_place_cells"]


def uniform_place_cells(n: int = 200, bins: int = 32, box: Box | None = None,
                        kind: str = "dog", sigma: float = 0.12, surround_scale: float = 2.0,
                        noise: float = 0.02, seed: int = 0) -> Ratemaps:
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
