"""One-layer models of the place-cell code: NMF and PCA (THEORY.md section 2).

``P`` is the place-cell code sampled on a grid, (positions x cells). Both models look for
``k`` spatial maps ``G`` (positions x k) that reconstruct it, ``P ~ G H``:

- PCA/SVD: ``G`` are the top ``k`` left singular vectors of the centred code, i.e. the top
  eigenvectors of the covariance ``Sigma``. Unconstrained, every mix of ring modes is as
  good, and the maps come out square, striped or amorphous.
- NMF: ``G >= 0`` with a free readout ``H``, as in the network (ReLU hidden units, linear
  readout): semi-NMF (Ding, Li & Jordan 2010) of the centred code. Nonnegativity of the
  maps breaks the ``g -> -g`` symmetry, as in nonnegative PCA (Dordek et al. 2016), and
  the maps come out hexagonal. (Constraining ``H >= 0`` too, classical NMF, gives
  localised parts instead of lattices.)
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from gridform.analysis.ratemaps import Ratemaps
from gridform.place_cells import PlaceCells

__all__ = ["nmf_maps", "pca_maps", "place_code_matrix"]


def place_code_matrix(place_cells: PlaceCells, bins: int = 44) -> np.ndarray:
    """The code ``P`` (n_y * n_x positions, n_cells) at the bin centres of the box."""
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    return np.asarray(place_cells.encode(place_cells.box.grid(bins, bins)), dtype=np.float64)


def _as_ratemaps(G: np.ndarray, place_cells: PlaceCells, bins: int) -> Ratemaps:
    x, y = place_cells.box.bin_centers(bins, bins)
    return Ratemaps(G.T.reshape(-1, bins, bins), np.ones((bins, bins)), x, y)


def pca_maps(place_cells: PlaceCells, k: int = 16, bins: int = 44) -> Ratemaps:
    """The top ``k`` principal spatial maps of the (centred) place-cell code."""
    P = place_code_matrix(place_cells, bins)
    if not 1 <= k <= min(P.shape):
        raise ValueError(f"k must lie in [1, {min(P.shape)}], got {k}")
    Pc = P - P.mean(axis=0, keepdims=True)
    U, _, _ = np.linalg.svd(Pc, full_matrices=False)
    return _as_ratemaps(U[:, :k], place_cells, bins)


@partial(jax.jit, static_argnames=("steps",))
def _semi_nmf(X, G, steps: int):
    """Semi-NMF ``X ~ F G^T`` with ``G >= 0``, ``F`` free (Ding, Li & Jordan 2010, eq. 10)."""
    eps = 1e-12

    def pos(a):
        return (jnp.abs(a) + a) / 2

    def neg(a):
        return (jnp.abs(a) - a) / 2

    def step(G, _):
        F = X @ G @ jnp.linalg.pinv(G.T @ G)
        XtF = X.T @ F
        FtF = F.T @ F
        G = G * jnp.sqrt((pos(XtF) + G @ neg(FtF) + eps) / (neg(XtF) + G @ pos(FtF) + eps))
        return G, None

    G, _ = jax.lax.scan(step, G, None, length=steps)
    return G


def nmf_maps(place_cells: PlaceCells, key: jax.Array, k: int = 16, bins: int = 44,
             steps: int = 1000) -> Ratemaps:
    """``k`` nonnegative spatial maps ``G`` from the semi-NMF ``P_c ~ G H``, ``G >= 0``.

    ``P_c`` is the place-cell code with each cell's spatial mean removed. Seeded by ``key``.
    """
    P = place_code_matrix(place_cells, bins)
    if not 1 <= k <= min(P.shape):
        raise ValueError(f"k must lie in [1, {min(P.shape)}], got {k}")
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    Pc = P - P.mean(axis=0, keepdims=True)
    Pc = Pc / np.abs(Pc).max()
    G0 = jax.random.uniform(key, (P.shape[0], k), minval=0.1, maxval=1.0)
    G = _semi_nmf(jnp.asarray(Pc.T, jnp.float32), G0, steps)
    G = np.asarray(G, dtype=np.float64)
    G = G / (np.linalg.norm(G, axis=0, keepdims=True) + 1e-30)
    return _as_ratemaps(G, place_cells, bins)
