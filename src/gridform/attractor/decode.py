"""Reading the sheet: its pattern's wave vectors, its translation, and the position it
path-integrates.

A pattern that translates by ``u`` on the sheet, ``s(x, t) = s0(x - u(t))``, keeps the
moduli of its Fourier coefficients and turns their phases by ``-k . u``. The phases of the
pattern's three wave vectors therefore give ``u`` by least squares, and the drift of
``u`` per metre travelled (a 2 x 2 matrix ``M``, neurons per metre, calibrated on
straight paths) turns it back into a position: ``x(t) = x(0) + M^-1 u(t)``, the sheet's
own estimate of where the animal is (Burak & Fiete 2009, their Fig. 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridform.attractor.sheet import SheetParams, run_sheet

__all__ = ["DriftCalibration", "SheetPattern", "calibrate_drift", "decode_translation",
           "lattice_spacing", "sheet_pattern"]


@dataclass(frozen=True)
class SheetPattern:
    """The strongest Fourier modes of a sheet state (rad/neuron; lengths in neurons).

    Attributes:
        wavevectors: (3, 2) ``(k_x, k_y)`` of the three strongest modes, one of each
            ``+-k`` pair, strongest first.
        power_fraction: fraction of the state's variance in those modes (and their
            mirrors): near 1 for a clean lattice, near 0 for noise or a uniform state.
        period_neurons: ``2 pi / mean |k|``, the plane-wave period.
        lattice_spacing_neurons: nearest-neighbour distance of the lattice the first two
            wave vectors define.
        contrast: standard deviation over mean of the state.
    """

    wavevectors: np.ndarray
    power_fraction: float
    period_neurons: float
    lattice_spacing_neurons: float
    contrast: float


def lattice_spacing(k1, k2) -> float:
    """Shortest nonzero vector (neurons) of the lattice ``{a : k1 . a, k2 . a in 2 pi Z}``."""
    kk = np.array([k1, k2], float)
    if abs(np.linalg.det(kk)) < 1e-12:
        return math.inf
    basis = 2 * math.pi * np.linalg.inv(kk)  # columns a1, a2 with k_i . a_j = 2 pi delta
    best = math.inf
    for i in range(-3, 4):
        for j in range(-3, 4):
            if i or j:
                best = min(best, float(np.hypot(*(basis @ [i, j]))))
    return best


def sheet_pattern(state) -> SheetPattern:
    """The three strongest wave vectors of an (n, n) sheet state and the lattice they make."""
    s = np.asarray(state, dtype=np.float64)
    n = s.shape[-1]
    if s.ndim != 2 or s.shape[0] != n:
        raise ValueError(f"a sheet state is a square (n, n) array, got shape {s.shape}")
    f = np.fft.fft2(s - s.mean())
    power = np.abs(f) ** 2
    total = power.sum()
    freq = np.fft.fftfreq(n) * 2 * math.pi
    kx, ky = np.meshgrid(freq, freq)
    # only the smooth part of the pattern: the 2 x 2 direction blocks add power near pi
    p = np.where(np.hypot(kx, ky) < math.pi / 2, power, 0.0)
    picks, kept = [], 0.0
    for _ in range(3):
        i = np.unravel_index(int(np.argmax(p)), p.shape)
        picks.append((kx[i], ky[i]))
        kept += p[i] + p[(-i[0]) % n, (-i[1]) % n]
        p[i] = p[(-i[0]) % n, (-i[1]) % n] = 0.0
    k = np.array(picks)
    mean_k = float(np.mean(np.hypot(k[:, 0], k[:, 1])))
    return SheetPattern(k, float(kept / total) if total > 0 else 0.0,
                        2 * math.pi / mean_k if mean_k > 0 else math.inf,
                        lattice_spacing(k[0], k[1]),
                        float(s.std() / s.mean()) if s.mean() > 0 else 0.0)


def mode_coefficients(state, wavevectors) -> np.ndarray:
    """(m,) Fourier coefficients ``sum_x s(x) exp(-i k . x)`` of an (n, n) state."""
    s = np.asarray(state, dtype=np.float64)
    n = s.shape[-1]
    x, y = np.meshgrid(np.arange(n), np.arange(n))
    k = np.asarray(wavevectors, float)
    ph = np.exp(-1j * (k[:, 0, None, None] * x + k[:, 1, None, None] * y))
    return np.sum(ph * s, axis=(1, 2))


def decode_translation(modes, wavevectors, reference) -> np.ndarray:
    """(samples, 2) translation ``u`` (neurons) of the pattern since ``reference``.

    ``modes`` (samples, m) are the coefficients at ``wavevectors`` (m, 2) along a run,
    ``reference`` (m,) those before it. Phases are unwrapped along the samples, so the
    pattern must move less than half a period between samples.
    """
    modes = np.asarray(modes)
    ref = np.asarray(reference)
    phase = np.angle(np.concatenate([ref[None], modes]) * np.conj(ref)[None])
    turned = np.unwrap(phase, axis=0)[1:]  # = -k . u
    k = np.asarray(wavevectors, float)
    u, *_ = np.linalg.lstsq(k, -turned.T, rcond=None)
    return u.T


@dataclass(frozen=True)
class DriftCalibration:
    """How fast the pattern moves per metre travelled.

    Attributes:
        matrix: (2, 2) ``M``, neurons per metre: a displacement ``dx`` (m) moves the
            pattern by ``M dx`` neurons.
        neurons_per_metre: ``sqrt |det M|``, the isotropic drift.
        anisotropy: ratio of ``M``'s singular values (1: the same in every direction).
        speed: speed of the calibration paths, m/s.
    """

    matrix: np.ndarray
    neurons_per_metre: float
    anisotropy: float
    speed: float

    def to_position(self, translation) -> np.ndarray:
        """(samples, 2) displacement (m) that a translation (samples, 2) in neurons codes;
        NaN when the pattern does not move with the animal (a velocity gain of 0)."""
        u = np.asarray(translation, float)
        if not self.neurons_per_metre > 1e-6:
            return np.full(u.shape, np.nan)
        return np.linalg.solve(self.matrix, u.T).T


def calibrate_drift(params: SheetParams, state, wavevectors, speed: float = 0.25,
                    seconds: float = 1.0, transient: float = 0.25) -> DriftCalibration:
    """Calibrate :class:`DriftCalibration` with two straight paths at ``speed`` (m/s),
    along +x and +y, from ``state``: after a ``transient`` (s) the translation over
    ``seconds`` divided by the distance travelled gives a column of ``M``."""
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be positive, got {speed!r}")
    sample = 0.005
    substeps = max(1, round(sample / float(params.dt)))
    n_tr = max(1, round(transient / (substeps * float(params.dt))))
    n_run = max(2, round(seconds / (substeps * float(params.dt))))
    cols = []
    for direction in ([1.0, 0.0], [0.0, 1.0]):
        v = np.tile(np.asarray(direction) * speed, (n_tr + n_run, 1))
        rec = run_sheet(params, state, v, substeps, wavevectors=wavevectors)
        modes = np.asarray(rec.modes)
        u = decode_translation(modes[n_tr:], wavevectors, modes[n_tr - 1])
        travelled = speed * n_run * substeps * float(params.dt)
        cols.append(u[-1] / travelled)
    m = np.array(cols).T
    sv = np.linalg.svd(m, compute_uv=False)
    return DriftCalibration(m, float(math.sqrt(abs(np.linalg.det(m)))),
                            float(sv[0] / sv[1]) if sv[1] > 0 else math.inf, float(speed))
