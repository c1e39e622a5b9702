"""Pattern-forming learning dynamics of grid maps (Sorscher et al. 2019, sections 4-5).

Single cell (docs/theory.md section 2): gradient ascent of
``L(g) = g^T Sigma g - lambda (g^T g - 1)``
under a nonlinearity is a Turing-type system,

    g <- phi(g + eta (-g + Sigma * g)),        then g is rescaled to unit RMS,

whose fastest-growing modes lie on the ring ``|k| = k*`` of the covariance spectrum.
A linear or odd ``phi`` leaves every mix of ring modes equally good; a nonnegativity
constraint adds the three-wave interaction that selects hexagons.

``nonneg`` is the constrained form: projected gradient ascent with the Lagrange multiplier
``lambda = g.Sigma g / g.g`` (Oja's rule), ``g <- max(0, g + eta (Sigma * g - lambda g))``.

Many cells: ``L(G) = tr(G^T Sigma G) - tr[Lambda (G^T G - I)]``, ascended by Sanger's
generalised Hebbian rule with its lower-triangular deflation,

    G <- G + eta (Sigma G - G UT(G^T Sigma G)),   then phi, centring and Gram-Schmidt in
                                                   Sanger order,

so cell ``j`` only sees the part of the covariance that cells ``1..j-1`` left, the maps stay
orthonormal (``G^T G = I`` to rounding) and later cells move to other orientations and
then to other rings: a hierarchy of lattices at several scales. The constant mode is
removed from every map (the readout carries it, see :func:`spatial_covariance`).

``Sigma *`` is a convolution with the translation-averaged covariance kernel: circular by
FFT on a torus, zero-padded (linear) in a walled box. The kernel is scaled so that its
largest eigenvalue is 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.environment import Box
from gridform.core.place_cells import PlaceCells
from gridform.core.ratemaps import Ratemaps
from gridform.core.reference import NONLINEARITIES, SIGMA_M, SURROUND_SCALE, Nonlinearity
from gridform.theory.spectrum import spatial_covariance, tuning_power_spectrum

__all__ = ["NONLINEARITIES", "CovarianceOperator", "PatternResult", "preactivation",
           "simulate_pattern",
           "simulate_place_cell_pattern"]


def _fft_freqs(n_y: int, n_x: int, dy: float, dx: float) -> np.ndarray:
    ky = 2 * np.pi * np.fft.fftfreq(n_y, d=dy)
    kx = 2 * np.pi * np.fft.fftfreq(n_x, d=dx)
    return np.hypot(*np.meshgrid(kx, ky))


@dataclass(frozen=True, eq=False)
class CovarianceOperator:
    """``Sigma *`` on an (n_y, n_x) grid of a box, as multipliers of an FFT.

    Attributes:
        box: the arena (periodic: circular convolution; walls: zero-padded).
        n_x, n_y: grid size.
        multipliers: FFT-domain multipliers, (n_y, n_x) on a torus or (2 n_y, 2 n_x) in a
            walled box, scaled so that the largest is 1.
    """

    box: Box
    n_x: int
    n_y: int
    multipliers: np.ndarray

    @classmethod
    def from_place_cells(cls, place_cells: PlaceCells, bins: int | tuple[int, int] = 60
                         ) -> CovarianceOperator:
        """The (centred) empirical covariance of a place-cell code."""
        cov = spatial_covariance(place_cells, bins)
        if cov.periodic:
            mult = cov.spectrum.copy()
            mult[0, 0] = 0.0
        else:
            mult = _padded_multipliers(cov.kernel, cov.n_y, cov.n_x)
        return cls(place_cells.box, cov.n_x, cov.n_y, mult / np.abs(mult).max())

    @classmethod
    def analytic(cls, box: Box, bins: int | tuple[int, int] = 60, kind: str = "dos",
                 sigma: float = SIGMA_M, surround_scale: float = SURROUND_SCALE,
                 surround_amplitude: float = 1.0) -> CovarianceOperator:
        """The covariance whose spectrum is the analytic tuning spectrum, DC removed."""
        n_x, n_y = (bins, bins) if isinstance(bins, int) else bins
        dx, dy = box.width / n_x, box.height / n_y
        if box.periodic:
            k = _fft_freqs(n_y, n_x, dy, dx)
            mult = tuning_power_spectrum(k, kind, sigma, surround_scale, surround_amplitude)
            mult[0, 0] = 0.0
        else:
            # kernel in space from a fine periodic spectrum, then the zero-padded operator
            k = _fft_freqs(2 * n_y, 2 * n_x, dy, dx)
            spec = tuning_power_spectrum(k, kind, sigma, surround_scale, surround_amplitude)
            spec[0, 0] = 0.0
            circ = np.real(np.fft.ifft2(spec))
            rows = np.arange(-(n_y - 1), n_y) % (2 * n_y)
            cols = np.arange(-(n_x - 1), n_x) % (2 * n_x)
            mult = _padded_multipliers(circ[rows][:, cols], n_y, n_x)
        return cls(box, n_x, n_y, mult / np.abs(mult).max())

    @classmethod
    def ring(cls, box: Box, bins: int | tuple[int, int], k_ring: float,
             width: float) -> CovarianceOperator:
        """A spectrum with one sharp ring and nothing else, on a torus:
        ``Sigma~(k) = exp(-(|k| - k_ring)^2 / (2 width^2))`` (rad/m), DC removed.

        No mode off the ring has appreciable power, so the dynamics have no lower modes
        to move to: the negative control of a hierarchy of scales.
        """
        if not box.periodic:
            raise ValueError("a ring spectrum is defined on a periodic box only")
        if not (np.isfinite(k_ring) and k_ring > 0):
            raise ValueError(f"k_ring must be positive (rad/m), got {k_ring!r}")
        if not (np.isfinite(width) and width > 0):
            raise ValueError(f"width must be positive (rad/m), got {width!r}")
        n_x, n_y = (bins, bins) if isinstance(bins, int) else bins
        k = _fft_freqs(n_y, n_x, box.height / n_y, box.width / n_x)
        mult = np.exp(-((k - k_ring) ** 2) / (2 * width**2))
        mult[0, 0] = 0.0
        return cls(box, n_x, n_y, mult / mult.max())

    @property
    def padded(self) -> bool:
        return not self.box.periodic

    def apply(self, g: jax.Array) -> jax.Array:
        """``Sigma * g`` for maps g (..., n_y, n_x)."""
        # the kernel is real and even, so its multipliers are symmetric: real FFTs suffice
        if not self.padded:
            m = jnp.asarray(self.multipliers[:, : self.n_x // 2 + 1], dtype=jnp.float32)
            return jnp.fft.irfft2(jnp.fft.rfft2(g) * m, s=(self.n_y, self.n_x))
        s = (2 * self.n_y, 2 * self.n_x)
        m = jnp.asarray(self.multipliers[:, : self.n_x + 1], dtype=jnp.float32)
        out = jnp.fft.irfft2(jnp.fft.rfft2(g, s=s) * m, s=s)
        return out[..., : self.n_y, : self.n_x]


def _padded_multipliers(kernel: np.ndarray, n_y: int, n_x: int) -> np.ndarray:
    """FFT of a (2n_y-1, 2n_x-1) centred kernel on a (2n_y, 2n_x) grid, zero lag at [0,0]."""
    full = np.zeros((2 * n_y, 2 * n_x))
    rows = np.arange(-(n_y - 1), n_y) % (2 * n_y)
    cols = np.arange(-(n_x - 1), n_x) % (2 * n_x)
    full[np.ix_(rows, cols)] = kernel
    # the kernel is even, so its FFT is real; keep the real part
    return np.real(np.fft.fft2(full))


def _phi(name: str, u: jax.Array) -> jax.Array:
    if name == "linear":
        return u
    if name in ("relu", "nonneg"):
        return jnp.maximum(u, 0.0)
    if name == "tanh":
        return jnp.tanh(u)
    return jax.nn.sigmoid(u)


def _rms(g: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.mean(g * g, axis=(-2, -1), keepdims=True)) + 1e-12


def _cholesky_qr(a: jax.Array) -> jax.Array:
    """Orthonormal rows spanning the leading rows of ``a`` (cells, positions) in order.

    CholeskyQR: ``a a^T = L L^T``, ``q = L^-1 a``. Because ``L`` is lower triangular, row
    ``j`` of ``q`` mixes rows ``1..j`` of ``a`` only: the same result as Gram-Schmidt in
    Sanger order, with matrix products instead of a QR. One pass is accurate here because
    the rows it receives are already nearly orthonormal (the error of CholeskyQR grows with
    the square of their condition number, about 1 after the first step); a second pass
    changed the orthonormality error of the benchmark run by nothing (1.7e-7 both) and
    doubled the cost. ``L`` is inverted explicitly (a cells x cells triangle) so the
    product with all positions is one matrix product: a triangular solve against the
    positions was 80% of a step on a CPU.
    """
    eye = jnp.eye(a.shape[0], dtype=a.dtype)
    gram = a @ a.T
    chol = jnp.linalg.cholesky(gram + 1e-7 * jnp.trace(gram) / a.shape[0] * eye)
    return jax.scipy.linalg.solve_triangular(chol, eye, lower=True) @ a


@dataclass(frozen=True, eq=False)
class PatternResult:
    """Final maps of a pattern-formation run.

    Attributes:
        ratemaps: the maps as :class:`Ratemaps` (cell, y, x), unit RMS each.
        nonlinearity, cells ("single" or "multi"), steps, eta: the run's settings.
        orthonormality_error: ``max |G^T G - I|`` of the centred, unit-norm maps (the
            multi-cell constraint; single cells are unconstrained and need not be small).
        energy: (cell,) ``g.Sigma g / g.g`` of each final map (largest eigenvalue = 1).
        dominant_k: (cell,) wavenumber (rad/m) of the largest Fourier component of each
            centred map; on a torus these fall on discrete shells, so distinct values are
            distinct modules of the hierarchy.
        preactivation: single cells only (None for ``multi``): the maps before the
            nonlinearity, ``u / rms(u)`` of one more update from the final maps
            (:func:`preactivation`), unit RMS. A ReLU cuts the troughs of a map and with
            them shifts the phases of its Fourier modes; what the dynamics selected is
            read here, before the cut.
    """

    ratemaps: Ratemaps
    nonlinearity: str
    cells: str
    steps: int
    eta: float
    orthonormality_error: float
    energy: np.ndarray
    dominant_k: np.ndarray
    preactivation: Ratemaps | None = None

    def distinct_scales(self, rtol: float = 0.02) -> np.ndarray:
        """Sorted distinct dominant wavenumbers (rad/m), merging values within ``rtol``."""
        k = np.sort(self.dominant_k[np.isfinite(self.dominant_k)])
        out: list[float] = []
        for v in k:
            if not out or v > out[-1] * (1 + rtol):
                out.append(float(v))
        return np.asarray(out)


def _single_input(g, op: CovarianceOperator, nonlinearity: str, eta: float):
    """The single-cell update's input ``u`` before the nonlinearity (module docstring)."""
    h = op.apply(g)
    if nonlinearity == "nonneg":
        lam = jnp.sum(g * h, axis=(-2, -1), keepdims=True) / jnp.sum(g * g, axis=(-2, -1),
                                                                     keepdims=True)
        return g + eta * (h - lam * g)
    return g + eta * (-g + h)


@partial(jax.jit, static_argnames=("op", "nonlinearity"))
def preactivation(g, op: CovarianceOperator, nonlinearity: str, eta: float) -> jax.Array:
    """(cell, y, x) single-cell maps before the nonlinearity: ``u / rms(u)`` with
    ``u = g + eta (-g + Sigma * g)`` (``nonneg``: ``u = g + eta (Sigma * g - lambda g)``),
    the argument of ``phi`` in the next update of the maps ``g``. At a fixed point
    ``g = phi(preactivation(g))`` (up to the final rescaling)."""
    u = _single_input(g, op, nonlinearity, eta)
    return u / _rms(u)


@partial(jax.jit, static_argnames=("op", "nonlinearity", "steps", "multi"))
def _run(g0, op: CovarianceOperator, nonlinearity: str, steps: int, eta: float, multi: bool):
    n_cells = g0.shape[0]
    upper = jnp.triu(jnp.ones((n_cells, n_cells), g0.dtype))

    def single(g, _):
        u = _single_input(g, op, nonlinearity, eta)
        g = _phi(nonlinearity, u / _rms(u))
        g = g - jnp.mean(g, axis=(-2, -1), keepdims=True) if nonlinearity == "sigmoid" else g
        return g / _rms(g), None

    def multi_step(g, _):
        n_pos = g.shape[-1] * g.shape[-2]
        flat = g.reshape(n_cells, -1) / jnp.sqrt(n_pos)   # unit-norm rows
        h = op.apply(g).reshape(n_cells, -1) / jnp.sqrt(n_pos)
        c = flat @ h.T                       # C_ij = g_i . Sigma g_j
        delta = h - (c * upper).T @ flat     # Sanger: h_j - sum_{i<=j} C_ij g_i
        u = flat + eta * delta
        u = u / (jnp.sqrt(jnp.mean(u * u, axis=1, keepdims=True)) + 1e-12)
        a = _phi(nonlinearity, u)
        # orthonormalise the centred part in Sanger order (Gram-Schmidt), keeping each
        # map's own mean: the constant mode is the readout's, and it sets where phi cuts
        mean = jnp.mean(a, axis=1, keepdims=True)
        centred = a - mean
        norm = jnp.linalg.norm(centred, axis=1, keepdims=True)
        q = _cholesky_qr(centred)
        new = q * norm + mean
        new = new / (jnp.sqrt(jnp.mean(new * new, axis=1, keepdims=True)) + 1e-12)
        return new.reshape(g.shape), None

    g, _ = jax.lax.scan(multi_step if multi else single, g0, None, length=steps)
    return g


def simulate_pattern(
    op: CovarianceOperator,
    key: jax.Array,
    n_cells: int = 32,
    steps: int = 1000,
    nonlinearity: Nonlinearity = "relu",
    eta: float = 0.5,
    cells: Literal["single", "multi"] = "single",
) -> PatternResult:
    """Run the single- or multi-cell dynamics from small random maps.

    Args:
        op: ``Sigma *`` on the simulation grid.
        key: ``jax.random`` key for the initial maps (i.i.d. normal, unit RMS).
        n_cells: number of maps.
        steps: number of updates.
        nonlinearity: one of :data:`NONLINEARITIES`.
        eta: step size ``eta`` of the update.
        cells: ``"single"`` (independent cells) or ``"multi"`` (Sanger hierarchy).

    Returns:
        :class:`PatternResult` whose ``ratemaps`` are scored like any other ratemaps.
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; choose one of "
                         f"{NONLINEARITIES}")
    if cells not in ("single", "multi"):
        raise ValueError(f"cells must be 'single' or 'multi', got {cells!r}")
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(n_cells, int) or n_cells < 1:
        raise ValueError(f"n_cells must be a positive integer, got {n_cells!r}")
    if not np.isfinite(eta) or not 0 < eta <= 1:
        raise ValueError(f"eta must lie in (0, 1], got {eta!r}")
    if cells == "multi" and n_cells > op.n_x * op.n_y:
        raise ValueError(f"multi-cell dynamics need n_cells <= grid size {op.n_x * op.n_y}")
    g0 = jax.random.normal(key, (n_cells, op.n_y, op.n_x), jnp.float32)
    g = np.asarray(_run(g0, op, nonlinearity, steps, float(eta), cells == "multi"),
                   dtype=np.float64)
    if not np.all(np.isfinite(g)):
        raise FloatingPointError("pattern dynamics produced NaN or infinite values")
    flat = g.reshape(n_cells, -1)
    centred = flat - flat.mean(axis=1, keepdims=True)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    ortho = float(np.max(np.abs(unit @ unit.T - np.eye(n_cells))))
    h = np.asarray(op.apply(jnp.asarray(g, jnp.float32)), dtype=np.float64).reshape(n_cells, -1)
    energy = np.sum(flat * h, axis=1) / np.sum(flat * flat, axis=1)
    x, y = op.box.bin_centers(op.n_x, op.n_y)
    maps = Ratemaps(g, np.ones((op.n_y, op.n_x)), x, y)
    pre = None
    if cells == "single":
        u = np.asarray(preactivation(jnp.asarray(g, jnp.float32), op, nonlinearity,
                                     float(eta)), dtype=np.float64)
        pre = Ratemaps(u, np.ones((op.n_y, op.n_x)), x, y)
    return PatternResult(maps, nonlinearity, cells, steps, float(eta), ortho, energy,
                         dominant_wavenumber(maps), pre)


def simulate_place_cell_pattern(seed: int, width: float, boundary: str = "periodic",
                                bins: int = 60, n_place_cells: int = 512, kind: str = "dos",
                                sigma: float = SIGMA_M, surround_scale: float = SURROUND_SCALE,
                                n_cells: int = 32, steps: int = 1000,
                                nonlinearity: Nonlinearity = "relu", eta: float = 0.5,
                                cells: Literal["single", "multi"] = "single"
                                ) -> PatternResult:
    """:func:`simulate_pattern` with the covariance of random place cells in a square box.

    ``seed`` gives both the place-cell centres and the initial maps (split in that order).
    """
    box = Box(width, width, boundary)
    k_pc, k_run = jax.random.split(jax.random.key(seed))
    pc = PlaceCells.random(k_pc, n_place_cells, box, kind=kind, sigma=sigma,
                           surround_scale=surround_scale)
    op = CovarianceOperator.from_place_cells(pc, bins)
    return simulate_pattern(op, k_run, n_cells, steps, nonlinearity, eta, cells)


def dominant_wavenumber(maps: Ratemaps) -> np.ndarray:
    """Wavenumber (rad/m) of the largest Fourier component of each centred map (cell,)."""
    r = np.nan_to_num(maps.rates - np.nanmean(maps.rates, axis=(1, 2), keepdims=True))
    power = np.abs(np.fft.fft2(r)) ** 2
    power[:, 0, 0] = 0.0
    dx, dy = maps.bin_size
    k = _fft_freqs(maps.shape[0], maps.shape[1], dy, dx)
    idx = np.argmax(power.reshape(power.shape[0], -1), axis=1)
    return k.ravel()[idx]
