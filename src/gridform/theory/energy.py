"""Why hexagons: the energy of candidate patterns made of plane waves on the ring.

The single-cell objective is ``E(g) = g.Sigma g / g.g`` (docs/theory.md section 2). A candidate
is a sum of plane waves ``sum_j cos(k_j . x + phi_j)`` with ``|k_j| = k*``, passed through
the nonlinearity ``phi`` at unit RMS, the way the dynamics do:

- stripes: one wave; squares: two at 90 degrees; hexagons: three at 120 degrees;
- random: ``n_waves`` waves in random directions with random phases.

Before the nonlinearity every candidate puts all its power on the ring, so under a linear
``phi`` all tie at ``E = 1``. A nonlinearity spreads power to harmonics off the ring and
lowers ``E``; the even part of a rectifying ``phi`` maps pairs of waves ``k1 + k2`` back
onto the ring exactly when ``k1 + k2 = -k3``, which only three waves at 120 degrees
satisfy, so under ReLU the hexagon loses least. An odd ``phi`` (tanh) has no such term.

Each candidate is evaluated on a periodic domain commensurate with it, so its Fourier
coefficients are exact, and ``E`` uses the analytic spectrum, scaled so ``Sigma~(k*) = 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gridform.core.reference import SIGMA_M
from gridform.theory.dynamics import NONLINEARITIES
from gridform.theory.spectrum import ring_wavenumber, tuning_power_spectrum

__all__ = ["PatternEnergy", "pattern_energies"]

CANDIDATES = ("stripes", "squares", "hexagons", "random")


@dataclass(frozen=True)
class PatternEnergy:
    """Energy of each candidate pattern under one nonlinearity (higher is better)."""

    nonlinearity: str
    energies: dict[str, float]

    @property
    def ranking(self) -> list[str]:
        """Candidates from highest to lowest energy."""
        return sorted(self.energies, key=lambda c: -self.energies[c])

    @property
    def winner(self) -> str:
        return self.ranking[0]


def _phi(name: str, u: np.ndarray) -> np.ndarray:
    if name == "linear":
        return u
    if name in ("relu", "nonneg"):
        return np.maximum(u, 0)
    if name == "tanh":
        return np.tanh(u)
    return 1 / (1 + np.exp(-u))


def _energy(values: np.ndarray, lx: float, ly: float, spectrum) -> float:
    ny, nx = values.shape
    f = np.fft.fft2(values)
    power = np.abs(f) ** 2
    ky = 2 * np.pi * np.fft.fftfreq(ny, d=ly / ny)
    kx = 2 * np.pi * np.fft.fftfreq(nx, d=lx / nx)
    k = np.hypot(*np.meshgrid(kx, ky))
    s = spectrum(k)
    s[0, 0] = 0.0  # the constant mode belongs to the readout
    return float(np.sum(s * power) / np.sum(power))


def _domain(lx: float, ly: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(n) + 0.5) * lx / n
    y = (np.arange(n) + 0.5) * ly / n
    return np.meshgrid(x, y)


def pattern_energies(nonlinearity: str = "relu", kind: str = "dos", sigma: float = SIGMA_M,
                     surround_scale: float = 2.0, n_random: int = 8, n_waves: int = 6,
                     seed: int = 0, resolution: int = 96) -> PatternEnergy:
    """Energies of stripes, squares, hexagons and random ring superpositions.

    ``random`` is the mean over ``n_random`` draws of ``n_waves`` waves, on a domain of
    twelve plane-wave periods with the wave vectors rounded to its Fourier lattice.
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; choose one of "
                         f"{NONLINEARITIES}")
    k_star = ring_wavenumber(kind, sigma, surround_scale)
    if k_star <= 0:
        raise ValueError(f"the {kind!r} spectrum has no ring (k* = 0): no pattern scale")
    peak = float(tuning_power_spectrum(k_star, kind, sigma, surround_scale))

    def spectrum(k):
        return tuning_power_spectrum(k, kind, sigma, surround_scale) / peak

    def energy_of(pattern, lx, ly):
        u = pattern / np.sqrt(np.mean(pattern**2))
        return _energy(_phi(nonlinearity, u), lx, ly, spectrum)

    period = 2 * np.pi / k_star
    out: dict[str, float] = {}
    X, Y = _domain(period, period, resolution)
    out["stripes"] = energy_of(np.cos(k_star * X), period, period)
    out["squares"] = energy_of(np.cos(k_star * X) + np.cos(k_star * Y), period, period)
    a = 4 * np.pi / (math.sqrt(3) * k_star)
    X, Y = _domain(a, a * math.sqrt(3), resolution)
    hexagon = sum(np.cos(k_star * (np.cos(t) * X + np.sin(t) * Y))
                  for t in np.radians([90.0, 210.0, 330.0]))
    out["hexagons"] = energy_of(hexagon, a, a * math.sqrt(3))
    rng = np.random.default_rng(seed)
    big = 12 * period
    X, Y = _domain(big, big, 8 * resolution // 3)
    draws = []
    for _ in range(n_random):
        g = np.zeros_like(X)
        for _ in range(n_waves):
            t = rng.uniform(0, 2 * np.pi)
            mx = np.round(12 * np.cos(t))  # nearest Fourier mode of the domain on the ring
            my = np.round(12 * np.sin(t))
            g += np.cos(2 * np.pi * (mx * X + my * Y) / big + rng.uniform(0, 2 * np.pi))
        draws.append(energy_of(g, big, big))
    out["random"] = float(np.mean(draws))
    return PatternEnergy(nonlinearity, out)
