import numpy as np
import pytest

from gridform import Ratemaps


def lattice_map(n=20, width=2.2, spacing=0.7, theta_deg=0.0, phase=(0.0, 0.0),
                kind="hex"):
    """A synthetic (n, n) map over a square box: rectified hexagonal, square or stripes."""
    c = np.linspace(-width / 2 + width / n / 2, width / 2 - width / n / 2, n)
    X, Y = np.meshgrid(c, c)
    th = np.radians(theta_deg)
    Xp, Yp = X - phase[0], Y - phase[1]
    if kind == "hex":
        k = 4 * np.pi / (np.sqrt(3) * spacing)
        g = sum(np.cos(k * (np.cos(t) * Xp + np.sin(t) * Yp))
                for t in th + np.radians([90.0, 210.0, 330.0]))
        return np.maximum(g, 0), c
    if kind == "square":
        k = 2 * np.pi / spacing
        a = np.maximum(np.cos(k * (np.cos(th) * Xp + np.sin(th) * Yp)), 0)
        b = np.maximum(np.cos(k * (-np.sin(th) * Xp + np.cos(th) * Yp)), 0)
        return a * b, c
    if kind == "stripes":
        k = 2 * np.pi / spacing
        return np.cos(k * (np.cos(th) * Xp + np.sin(th) * Yp)), c
    raise ValueError(kind)


def as_ratemaps(maps, c):
    maps = np.asarray(maps)
    if maps.ndim == 2:
        maps = maps[None]
    return Ratemaps(maps, np.ones(maps.shape[1:]), c, c)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
