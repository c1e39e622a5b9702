"""The 2-D power spectrum of ratemaps: the one Fourier transform the map analyses share.

``power_spectrum(maps)`` gives each map's ``|F(k)|^2`` with its wave numbers in rad/m;
the spectral null of the grid scores (its isotropic average), the report's spectrum
figure and the spectral spacing estimate all read it. Before the transform every map has
its unvisited (NaN) bins set to its mean and its mean removed, so an empty corner adds no
power and ``k = 0`` holds none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridform.core.ratemaps import Ratemaps

__all__ = ["LATTICES", "MapSpectrum", "centred", "lattice_class", "power_spectrum", "ring_modes",
           "spectral_spacing", "torus_wave_vectors"]


def centred(rates) -> np.ndarray:
    """Maps (cell, y, x) as floats with NaN bins at the map's mean, then the mean removed."""
    rates = np.asarray(rates, dtype=float)
    means = np.nanmean(rates, axis=(-2, -1), keepdims=True)
    filled = np.where(np.isfinite(rates), rates, np.nan_to_num(means))
    return filled - filled.mean(axis=(-2, -1), keepdims=True)


@dataclass(frozen=True, eq=False)
class MapSpectrum:
    """Power spectra of maps, in numpy's FFT order (``k = 0`` first).

    Attributes:
        power: (cell, ny, nx) ``|F|^2`` of each centred map.
        ky, kx: (ny,) and (nx,) wave numbers in rad/m.
    """

    power: np.ndarray
    ky: np.ndarray
    kx: np.ndarray

    @property
    def k(self) -> np.ndarray:
        """(ny, nx) ``|k|`` in rad/m."""
        return np.hypot(*np.meshgrid(self.kx, self.ky))

    @property
    def dk(self) -> float:
        """The finer of the two Fourier steps, rad/m: the width of a ring."""
        return float(min(abs(self.kx[1] - self.kx[0]) if self.kx.size > 1 else np.inf,
                         abs(self.ky[1] - self.ky[0]) if self.ky.size > 1 else np.inf))

    def mean(self) -> np.ndarray:
        """(ny, nx) the power averaged over maps."""
        return self.power.mean(axis=0)

    def shifted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean power, ky, kx) with ``k = 0`` in the middle, for drawing."""
        return (np.fft.fftshift(self.mean()), np.fft.fftshift(self.ky),
                np.fft.fftshift(self.kx))

    def isotropic(self) -> np.ndarray:
        """(ny, nx) the mean power averaged over each ring of ``|k|`` (one ring per
        :attr:`dk`): the population's scale with no preferred direction."""
        k = self.k
        ring = np.round(k / self.dk).astype(int).ravel()
        totals = np.bincount(ring, self.mean().ravel()) / np.bincount(ring)
        return totals[ring].reshape(k.shape)

    def radial(self, edges) -> np.ndarray:
        """(cell, len(edges) - 1) each map's mean power in the rings ``edges`` (rad/m)."""
        edges = np.asarray(edges, float)
        which = np.digitize(self.k, edges).ravel()
        m = len(edges) + 1
        counts = np.maximum(np.bincount(which, minlength=m), 1)
        flat = self.power.reshape(self.power.shape[0], -1)
        return np.stack([np.bincount(which, weights=p, minlength=m) / counts
                         for p in flat])[:, 1:len(edges)]


def power_spectrum(maps: Ratemaps, pad: int | None = None) -> MapSpectrum:
    """Each map's power spectrum, zero-padded to ``pad`` x ``pad`` bins when given (a finer
    grid of wave numbers, the same resolution)."""
    rates = centred(maps.rates)
    ny, nx = rates.shape[1:]
    if pad is not None:
        if pad < max(ny, nx):
            raise ValueError(f"pad must be at least the maps' {max(ny, nx)} bins, got {pad}")
        ny = nx = pad
    dx, dy = maps.bin_size
    power = np.abs(np.fft.fft2(rates, s=(ny, nx))) ** 2
    return MapSpectrum(power, 2 * np.pi * np.fft.fftfreq(ny, d=dy),
                       2 * np.pi * np.fft.fftfreq(nx, d=dx))


def spectral_spacing(maps: Ratemaps, k_range: tuple[float, float] = (3.0, 20.0),
                     rings: int = 170, pad: int = 512) -> np.ndarray:
    """(cell,) lattice spacing ``4 pi / (sqrt 3 k_peak)`` in m from the peak of each map's
    radial power in ``k_range`` (rad/m; the default spans 0.36-2.4 m lattices), found on
    a ``pad`` x ``pad`` zero-padded spectrum cut into ``rings`` rings. NaN for a flat map.

    An estimate independent of the autocorrelogram's peak finding: the two agree on ideal
    lattices and part where a map is not one."""
    spec = power_spectrum(maps, pad=pad)
    edges = np.linspace(*k_range, rings + 1)
    radial = spec.radial(edges)
    centres = (edges[:-1] + edges[1:]) / 2
    spacing = 4 * np.pi / (np.sqrt(3) * centres[np.argmax(radial, axis=1)])
    return np.where(radial.max(axis=1) > 0, spacing, np.nan)


LATTICES = ("stripes", "squares", "hexagons", "other")


def ring_modes(maps: Ratemaps, band: float = 0.15, floor: float = 0.25) -> list[np.ndarray]:
    """Each map's plane waves, as orientations in degrees in [0, 180): the local maxima of
    its power spectrum (periodic 3 x 3 neighbourhoods) whose ``|k|`` is within ``band`` of
    the strongest peak's and whose power is at least ``floor`` of it. ``k`` and ``-k`` are
    one wave. A flat map has none."""
    from scipy.ndimage import maximum_filter

    spec = power_spectrum(maps)
    k = spec.k
    kx, ky = np.meshgrid(spec.kx, spec.ky)
    out = []
    for p in spec.power:
        top = float(p.max())
        if not top > 0:
            out.append(np.empty(0))
            continue
        k0 = k.flat[int(np.argmax(p))]
        peak = ((p == maximum_filter(p, size=3, mode="wrap")) & (p >= floor * top)
                & (np.abs(k - k0) <= band * k0))
        angles = np.degrees(np.arctan2(ky[peak], kx[peak])) % 180.0
        out.append(np.unique(np.round(angles, 6) % 180.0))
    return out


def lattice_class(maps: Ratemaps, tolerance_deg: float = 10.0, **modes) -> np.ndarray:
    """(cell,) each map's lattice from its :func:`ring_modes` (``modes``: their options):
    ``stripes`` (one wave), ``squares`` (two, 90 degrees apart), ``hexagons`` (three,
    60 degrees apart) or ``other``, angles within ``tolerance_deg`` (a pattern on a
    periodic box takes the box's Fourier modes, which are not exactly 60 degrees apart)."""
    def one(a: np.ndarray) -> str:
        if a.size <= 1:
            return "stripes" if a.size else "other"
        a = np.sort(a)
        gaps = np.diff(np.append(a, a[0] + 180.0))
        if a.size == 2 and np.all(np.abs(gaps - 90.0) <= tolerance_deg):
            return "squares"
        if a.size == 3 and np.all(np.abs(gaps - 60.0) <= tolerance_deg):
            return "hexagons"
        return "other"

    return np.array([one(a) for a in ring_modes(maps, **modes)], dtype=object)


def torus_wave_vectors(maps: Ratemaps, count: int = 3, mean: bool = False
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The Fourier modes each map of a periodic box holds.

    On a periodic box of ``W x H`` a map can only hold the wave vectors ``2 pi (n / W,
    m / H)`` with integer ``n, m``: the box quantises the theory's ring, and a module on it
    needs one triad of such modes shared by its units. The maps must cover one period of
    the box exactly (as ``gridform evaluate`` writes a periodic run's).

    Returns ``(modes, fraction)``: ``modes`` (cell, count, 2) the integer ``(n, m)`` of each
    map's ``count`` strongest modes, strongest first, one of each pair ``+-k`` (``n > 0``,
    or ``n = 0`` and ``m > 0``); ``fraction`` (cell,) the share of the map's power in those
    pairs (1 for a map made of ``count`` plane waves; NaN for a flat map). Their norms in
    rad/m are ``2 pi hypot(n / W, m / H)``. With ``mean`` the maps' power spectra are
    averaged first (whatever their phases) and one row describes the population."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    spec = power_spectrum(maps)
    power = spec.power.mean(axis=0, keepdims=True) if mean else spec.power
    ny, nx = power.shape[1:]
    n_of = np.rint(np.fft.fftfreq(nx, 1 / nx)).astype(int)
    m_of = np.rint(np.fft.fftfreq(ny, 1 / ny)).astype(int)
    m_grid, n_grid = np.meshgrid(m_of, n_of, indexing="ij")
    # one bin of each pair +-k: n > 0, or n = 0 and m > 0 (fftfreq puts an even grid's
    # Nyquist column at n < 0: left out, as no lattice the maps resolve lies there)
    half = (n_grid > 0) | ((n_grid == 0) & (m_grid > 0))
    flip = (-np.arange(ny)) % ny, (-np.arange(nx)) % nx
    modes = np.zeros((len(power), count, 2), int)
    fraction = np.full(len(power), np.nan)
    for i, p in enumerate(power):
        total = p.sum()
        pairs = np.where(half, p + p[flip[0]][:, flip[1]], 0.0)
        top = np.argsort(pairs.ravel(), kind="stable")[::-1][:count]
        modes[i] = np.stack([n_grid.ravel()[top], m_grid.ravel()[top]], -1)
        if total > 0:
            fraction[i] = pairs.ravel()[top].sum() / total
    return modes, fraction
