"""The theory of the sheet: the kernel's Fourier ring sets the pattern's period.

The same derivation as the ring ``k*`` of the place-cell covariance
(:func:`gridform.theory.spectrum.predict`), on the neural sheet instead of in space.

Linearised about the uniform state (every neuron active, so relu has slope 1), a plane
wave ``exp(i k . x)`` grows at rate ``(G(k) - 1) / tau``. For the unshifted kernel the
gain is its 2-D Fourier transform,

    W^(k) = a (pi / gamma) exp(-k^2 / 4 gamma) - (pi / beta) exp(-k^2 / 4 beta),

whose maximum lies on a ring of radius

    k_ring^2 = 4 beta gamma ln(gamma^2 / (a beta^2)) / (gamma - beta).

The four directions shift the kernel by ``l e_d``. The direction masks couple a mode ``k``
only to modes ``k + pi q`` where the kernel's transform vanishes, so the plane wave is an
eigenmode with the mean of the shifted kernels as its gain,

    G(k) = W^(k) (1/4) sum_d cos(k . l e_d) = W^(k) (cos(k_x l) + cos(k_y l)) / 2,

(:func:`mode_gain`), whose average over the mode's direction is ``W^(k) J0(k l)``
(``J0``: Bessel function; the directional spread is below 0.5% near the ring). So the
isotropic effective gain is

    G(k) = W^(k) J0(k l),

a pattern forms when ``max_k G(k) > 1``, and its plane-wave period on the sheet is
``2 pi / k_eff`` at the maximum, its hexagonal lattice spacing ``4 pi / (sqrt 3 k_eff)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import j0

from gridform.attractor.sheet import SheetParams

__all__ = ["SheetTheory", "effective_gain", "kernel_ring", "kernel_spectrum", "mode_gain",
           "sheet_mode_gains", "sheet_theory"]


def kernel_spectrum(k, params: SheetParams) -> np.ndarray:
    """``W^(k)``: the 2-D Fourier transform of the unshifted kernel at ``|k|`` (rad/neuron)."""
    k = np.asarray(k, dtype=float)
    b, g, a = float(params.beta), float(params.gamma), float(params.amplitude)
    return a * (math.pi / g) * np.exp(-k**2 / (4 * g)) \
        - (math.pi / b) * np.exp(-k**2 / (4 * b))


def kernel_ring(params: SheetParams) -> float:
    """Radius (rad/neuron) of the maximum of :func:`kernel_spectrum`, in closed form; 0 if
    the transform peaks at ``k = 0`` (no ring)."""
    b, g, a = float(params.beta), float(params.gamma), float(params.amplitude)
    arg = g**2 / (a * b**2) if a > 0 else 0.0
    if arg <= 1:
        return 0.0
    return math.sqrt(4 * b * g * math.log(arg) / (g - b))


def effective_gain(k, params: SheetParams) -> np.ndarray:
    """``G(k) = W^(k) J0(k l)``: the growth factor of a mode ``|k|`` about the uniform state."""
    k = np.asarray(k, dtype=float)
    return kernel_spectrum(k, params) * j0(k * float(params.shift))


def mode_gain(kx, ky, params: SheetParams) -> np.ndarray:
    """Exact gain of the plane wave ``(k_x, k_y)`` (rad/neuron) about the uniform state:
    ``W^(k) (cos(k_x l) + cos(k_y l)) / 2``; it grows at ``(G - 1) / tau``."""
    kx, ky = np.asarray(kx, float), np.asarray(ky, float)
    lf = float(params.shift)
    return kernel_spectrum(np.hypot(kx, ky), params) * (np.cos(kx * lf) + np.cos(ky * lf)) / 2


def sheet_mode_gains(params: SheetParams) -> tuple[np.ndarray, np.ndarray]:
    """(n, n) wave vectors' moduli (rad/neuron) and exact gains of every mode the periodic
    sheet admits (``k = 2 pi m / n``), in FFT order."""
    n = params.n
    k = np.fft.fftfreq(n) * 2 * math.pi
    kx, ky = np.meshgrid(k, k)
    return np.hypot(kx, ky), mode_gain(kx, ky, params)


@dataclass(frozen=True)
class SheetTheory:
    """The predicted pattern of a sheet (lengths in neurons, wave numbers in rad/neuron).

    Attributes:
        k_ring: radius of the kernel's Fourier ring (no shifts).
        ring_gain: ``W^(k_ring)``.
        k_star: radius of the effective gain's maximum (with the shifts).
        gain: ``G(k_star)``; a pattern forms when it exceeds 1.
        period_neurons: plane-wave period ``2 pi / k_star``.
        lattice_spacing_neurons: hexagonal lattice spacing ``4 pi / (sqrt 3 k_star)``.
        forms_pattern: ``gain > 1``.
        growth_rate: ``(gain - 1) / tau``, 1/s (negative: the uniform state is stable).
    """

    k_ring: float
    ring_gain: float
    k_star: float
    gain: float
    period_neurons: float
    lattice_spacing_neurons: float
    forms_pattern: bool
    growth_rate: float

    def to_dict(self) -> dict:
        return asdict(self)


def sheet_theory(params: SheetParams) -> SheetTheory:
    """The ring and the effective gain of ``params`` (see the module docstring)."""
    k_ring = kernel_ring(params)
    ring_gain = float(kernel_spectrum(k_ring, params))
    # G peaks below the first zero of J0 (k l = 2.405) and near the ring
    upper = 2.405 / float(params.shift) if float(params.shift) > 0 else 4 * max(k_ring, 1.0)
    upper = min(upper, max(3 * k_ring, 1e-3)) if k_ring > 0 else upper
    res = minimize_scalar(lambda k: -float(effective_gain(k, params)),
                          bounds=(1e-6, upper), method="bounded",
                          options={"xatol": 1e-10})
    k_star = float(res.x)
    gain = float(effective_gain(k_star, params))
    if gain <= float(effective_gain(0.0, params)):  # no interior maximum
        k_star, gain = 0.0, float(effective_gain(0.0, params))
    period = 2 * math.pi / k_star if k_star > 0 else math.inf
    return SheetTheory(k_ring, ring_gain, k_star, gain, period,
                       4 * math.pi / (math.sqrt(3) * k_star) if k_star > 0 else math.inf,
                       gain > 1, (gain - 1) / float(params.tau))
