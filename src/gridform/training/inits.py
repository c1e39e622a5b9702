"""Recurrent weights at step 0 that need more than the core's random matrices.

``recurrent_init="attractor"``: the hidden units of a vanilla RNN laid out on a periodic
``side x side`` sheet (``side = sqrt(n_hidden)``, row-major: unit ``i`` sits at row
``i // side``, column ``i % side``) with the hand-tuned weights of Burak & Fiete's
continuous-attractor network (2009, PLoS Comput Biol 5:e1000291, eqs. 2-3;
:mod:`gridform.attractor.sheet`): a centre-surround kernel ``W0`` shifted by ``l`` along
each unit's preferred direction. The RNN multiplies ``h W`` with ``W[i, j]`` the weight
from unit ``i`` onto unit ``j``, the transpose of the sheet's ``[a, b]`` = from ``b`` onto
``a``:

    W = c * weights_between(sheet, all units).T,    c = g / (sqrt(3) rho(W0))

``rho`` the spectral radius of the sheet's matrix and ``g`` the config's
``recurrent_gain``: at ``g = 1`` the spectral radius is ``1 / sqrt(3)``, the one the
uniform init ``U(-1/sqrt(n), 1/sqrt(n))`` has for large ``n`` (circular law: entries of
variance ``1 / (3 n)``). So the attractor init replaces the uniform init's random
structure by the sheet's at the same overall gain (docs/training.md).
"""

from __future__ import annotations

import math

import numpy as np

from gridform.attractor.sheet import SheetParams, weights_between
from gridform.core.reference import CAN_PERIOD_NEURONS

__all__ = ["UNIFORM_SPECTRAL_RADIUS", "attractor_recurrent_weights", "attractor_sheet",
           "sheet_spectrum"]

# spectral radius of the uniform init U(-1/sqrt(n), 1/sqrt(n)) as n grows: sqrt(n var)
UNIFORM_SPECTRAL_RADIUS = 1.0 / math.sqrt(3.0)


def attractor_sheet(n_hidden: int) -> SheetParams:
    """The sheet the ``n_hidden`` units are laid on: ``n = sqrt(n_hidden)`` neurons a side
    and ``period_neurons = min(lambda_net, n / 2)`` with ``lambda_net`` the attractor
    package's 12 neurons, so the sheet holds at least two periods of the pattern (a 16 x 16
    sheet of the demo's 256 units: a period of 8 neurons, two periods; 64 x 64 for 4,096
    units: 12, as :class:`SheetParams`). Every other parameter is the attractor package's
    (``gamma / beta = 1.1``, shift ``l = 2``, ``a = 1``).

    Raises ValueError unless ``n_hidden`` is the square of an even number >= 4.
    """
    side = math.isqrt(n_hidden) if isinstance(n_hidden, int) and n_hidden > 0 else 0
    if side * side != n_hidden or side % 2 or side < 4:
        raise ValueError(f"n_hidden must be the square of an even number >= 4 to lay the "
                         f"units on a sheet, got {n_hidden!r}")
    return SheetParams(n=side, period_neurons=min(CAN_PERIOD_NEURONS, side / 2))


def sheet_spectrum(sheet: SheetParams) -> np.ndarray:
    """Every eigenvalue (complex, ``n^2`` of them) of the sheet's weight matrix.

    The four directions tile 2 x 2 blocks, so the matrix is invariant under shifts by two
    neurons: block-circulant over the ``(n/2) x (n/2)`` torus of blocks, with 4 x 4 blocks
    ``w_cd(R)`` (direction ``c`` receiving from direction ``d`` at block offset ``R``).
    Its eigenvalues are those of the 4 x 4 matrices ``M(q) = sum_R w(R) exp(-i q.R)``, one
    per wave vector ``q`` of the block torus: ``n^2 / 4`` small problems instead of one
    of size ``n^2`` (a test compares them with a dense eigensolver).
    """
    n, m = sheet.n, sheet.n // 2
    rows, cols = np.divmod(np.arange(n * n), n)
    cls = 2 * (rows % 2) + (cols % 2)          # direction of each neuron
    rep = np.array([0, 1, n, n + 1])           # one neuron of each direction in block 0
    w = weights_between(sheet, np.concatenate([rep, np.arange(n * n)]))[:4, 4:]
    blocks = np.empty((4, 4, m, m))            # [c, d, P] = w_cd(-P)
    for d in range(4):
        sel = cls == d
        blocks[:, d][:, rows[sel] // 2, cols[sel] // 2] = w[:, sel]
    mq = np.fft.fft2(blocks, axes=(-2, -1))    # M(-q) over the block torus's q
    return np.linalg.eigvals(np.moveaxis(mq, (0, 1), (-2, -1)).reshape(-1, 4, 4)).ravel()


def attractor_recurrent_weights(n_hidden: int, gain: float = 1.0) -> np.ndarray:
    """(n_hidden, n_hidden) float32 ``W`` for ``h W`` (``W[i, j]`` from unit ``i`` onto
    ``j``): the sheet's weights (:func:`attractor_sheet`) transposed, scaled to the
    spectral radius ``gain / sqrt(3)`` (module docstring)."""
    if not (math.isfinite(gain) and gain > 0):
        raise ValueError(f"gain must be a positive number, got {gain!r}")
    sheet = attractor_sheet(n_hidden)
    rho = float(np.max(np.abs(sheet_spectrum(sheet))))
    w = weights_between(sheet, np.arange(n_hidden)).T
    return (w * (gain * UNIFORM_SPECTRAL_RADIUS / rho)).astype(np.float32)
