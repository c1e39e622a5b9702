"""One-layer models of the place-cell code: NMF and PCA (docs/theory.md section 2).

``P`` is the place-cell code sampled on a grid, (positions x cells), centred so that each
cell has zero spatial mean (the DC mode carries no spatial structure). Both models look for
``k`` spatial maps ``G`` (positions x k) that reconstruct it, ``P ~ G H``:

- PCA/SVD: ``G`` are the top ``k`` left singular vectors of the centred code, i.e. the top
  eigenvectors of the covariance ``Sigma = P P^T``. Unconstrained, every mix of ring modes
  is as good, and the maps come out square, striped or amorphous.
- NMF: ``G >= 0`` with a free readout ``H``, as in the network (ReLU hidden units, linear
  readout): semi-NMF (Ding, Li & Jordan 2010), fitted greedily one component at a time.
  Each component solves the rank-one problem ``max g^T Sigma g / g^T g`` over ``g >= 0``
  (nonnegative PCA, Dordek et al. 2016) by projected power iteration, then its best
  reconstruction ``g h^T`` (``h = R^T g``) is removed from the residual ``R`` before the
  next. Nonnegativity breaks the ``g -> -g`` symmetry and the maps come out hexagonal.

Two choices matter, both measured (16 maps, 2.2 m walled box, 32 x 32 bins, DoS cells,
sigma 0.12 m, s = 2; median score_60 of NMF vs PCA):

- Fitting all ``k`` nonnegative maps jointly (multiplicative semi-NMF updates) gives
  localised parts, not lattices: 0.20 vs -0.09. The greedy rank-one fits give 1.12 vs -0.09.
- The code must cover the box evenly, as the theory's translation-invariant ``Sigma``
  assumes. Random centres leave clumps where ``Sigma(x, x)`` is larger, and nonnegative
  maps settle on them: 0.08 vs 0.14 with 512 random cells, 0.58 vs 0.13 with 4096, 1.12 vs
  -0.09 with 576 cells on a lattice (:meth:`gridform.core.place_cells.PlaceCells.lattice`).

A third model, :func:`sklearn_nmf_maps`, is the textbook NMF of scikit-learn: ``P ~ W H``
with *both* factors nonnegative, fitted to the code as it is, not centred. It needs a
nonnegative ``P``; the DoS code the training code builds is one (each position's code is
shifted so that its minimum over cells is 0, which removes the negative surround), so it
is factorised unchanged; a normalised DoG code, which is negative in its surround, is
refused. Without centring, the code's mean over positions is one more nonnegative part,
which NMF represents with its own component. With the training code's random centres (512
cells, 2.2 m walled box, 16 maps, 32 bins) it gives a median score_60 of 0.40 and 0.72 on
two sets of centres, where PCA gives 0.14 and 0.15.
"""

from __future__ import annotations

import warnings
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.place_cells import PlaceCells
from gridform.core.ratemaps import Ratemaps

__all__ = ["nmf_maps", "pca_maps", "place_code_matrix", "sklearn_nmf_maps"]


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
def _greedy_semi_nmf(R, G0, steps: int, eta: float):
    """Rank-one nonnegative fits of the residual ``R`` (positions x cells), one per column
    of ``G0`` (the starts), each removed from ``R`` before the next. ``R`` is scaled so
    that the top eigenvalue of ``R R^T`` is 1: the iteration
    ``g <- relu(g + eta (R R^T g - g))``, renormalised, is then a projected power
    iteration of ``(1 - eta) I + eta R R^T``."""

    def component(R, g0):
        def iterate(g, _):
            g = jax.nn.relu(g + eta * (R @ (R.T @ g) - g))
            return g / (jnp.linalg.norm(g) + 1e-30), None

        g, _ = jax.lax.scan(iterate, g0 / jnp.linalg.norm(g0), None, length=steps)
        return R - jnp.outer(g, R.T @ g), g

    _, G = jax.lax.scan(component, R, G0.T)
    return G.T


def nmf_maps(place_cells: PlaceCells, key: jax.Array, k: int = 16, bins: int = 44,
             steps: int = 1000, eta: float = 0.5) -> Ratemaps:
    """``k`` nonnegative spatial maps from the greedy semi-NMF ``P_c ~ G H``, ``G >= 0``.

    ``P_c`` is the place-cell code with each cell's spatial mean removed; each map is the
    best nonnegative rank-one fit of what the maps before it left unexplained (see the
    module docstring), found by ``steps`` projected power iterations of step ``eta`` in
    (0, 1] from a uniform random start drawn from ``key``. Maps have unit norm.
    """
    P = place_code_matrix(place_cells, bins)
    if not 1 <= k <= min(P.shape):
        raise ValueError(f"k must lie in [1, {min(P.shape)}], got {k}")
    if steps < 1:
        raise ValueError(f"steps must be positive, got {steps}")
    if not 0 < eta <= 1:
        raise ValueError(f"eta must lie in (0, 1], got {eta}")
    Pc = P - P.mean(axis=0, keepdims=True)
    top = np.linalg.norm(Pc, 2)
    if not top > 0:
        raise ValueError("the place-cell code does not vary over the box")
    G0 = jax.random.uniform(key, (P.shape[0], k), minval=0.0, maxval=1.0)
    G = _greedy_semi_nmf(jnp.asarray(Pc / top, jnp.float32), G0, steps, eta)
    G = np.asarray(G, dtype=np.float64)
    return _as_ratemaps(G, place_cells, bins)


def sklearn_nmf_maps(place_cells: PlaceCells, k: int = 16, bins: int = 44, seed: int = 0,
                     max_iter: int = 1000) -> Ratemaps:
    """``k`` nonnegative spatial maps from scikit-learn's NMF of the place-cell code.

    ``P ~ W H`` with ``W >= 0`` (positions x k, the maps) and ``H >= 0`` (k x cells),
    minimising the Frobenius error (coordinate descent, NNDSVDa start, ``random_state =
    seed``, at most ``max_iter`` iterations). ``P`` (positions x cells) is the code at the
    bin centres, not centred: NMF needs it nonnegative (see the module docstring). Maps
    have unit norm; a map NMF left at zero stays zero. Needs the ``topology`` extra
    (scikit-learn).
    """
    from gridform.core.errors import require

    decomposition = require("sklearn.decomposition", "topology")
    P = place_code_matrix(place_cells, bins)
    if not 1 <= k <= min(P.shape):
        raise ValueError(f"k must lie in [1, {min(P.shape)}], got {k}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be positive, got {max_iter}")
    if P.min() < 0:
        raise ValueError(f"NMF needs a nonnegative code; the {place_cells.kind!r} code "
                         f"reaches {P.min():.3g}")
    model = decomposition.NMF(n_components=k, init="nndsvda", max_iter=max_iter,
                              random_state=seed)
    with warnings.catch_warnings():  # a fit that stops at max_iter is still a fit
        warnings.simplefilter("ignore", category=UserWarning)
        W = model.fit_transform(P)
    norm = np.linalg.norm(W, axis=0, keepdims=True)
    return _as_ratemaps(W / np.where(norm > 0, norm, 1.0), place_cells, bins)
