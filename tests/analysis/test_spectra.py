"""The shared power spectrum of ratemaps: plane waves, Parseval, rings, spacing."""

import numpy as np
import pytest

from gridform.analysis.spectra import centred, power_spectrum, spectral_spacing
from gridform.core.environment import Box
from gridform.core.ratemaps import Ratemaps
from gridform.data.synthetic import lattice_ratemaps


def _maps(rates, width=2.0, height=2.0):
    ny, nx = rates.shape[1:]
    x = (np.arange(nx) + 0.5) * width / nx - width / 2
    y = (np.arange(ny) + 0.5) * height / ny - height / 2
    return Ratemaps(rates, np.ones((ny, nx)), x, y)


def test_a_plane_wave_puts_all_its_power_at_plus_and_minus_its_wave_vector():
    ny, nx, width, height = 16, 20, 2.0, 1.6
    y, x = np.meshgrid((np.arange(ny) + 0.5) * height / ny, (np.arange(nx) + 0.5) * width / nx,
                       indexing="ij")
    kx, ky = 2 * np.pi * 3 / width, 2 * np.pi * 2 / height  # 3 and 2 cycles across the box
    spec = power_spectrum(_maps(np.cos(kx * x + ky * y)[None], width, height))
    power = spec.power[0]
    peaks = np.argwhere(power > 1e-6 * power.max())
    found = sorted((spec.ky[i], spec.kx[j]) for i, j in peaks)
    np.testing.assert_allclose(found, [(-ky, -kx), (ky, kx)], rtol=1e-9)
    # Parseval: sum |F|^2 = N sum |f|^2
    assert power.sum() == pytest.approx(ny * nx * np.sum(np.cos(kx * x + ky * y) ** 2))
    assert np.hypot(kx, ky) == pytest.approx(spec.k[tuple(peaks[0])])


def test_unvisited_bins_take_the_maps_mean_and_k_zero_holds_no_power():
    rates = np.arange(2 * 6 * 6, dtype=float).reshape(2, 6, 6)
    rates[0, 0, :3] = np.nan
    c = centred(rates)
    assert np.isfinite(c).all()
    np.testing.assert_allclose(c.mean(axis=(1, 2)), 0, atol=1e-12)
    assert power_spectrum(_maps(rates)).power[:, 0, 0] == pytest.approx([0, 0], abs=1e-18)
    assert c[0, 0, 0] == pytest.approx(0, abs=1e-12)  # a filled bin sits at the mean


def test_the_isotropic_spectrum_spreads_a_wave_over_its_ring():
    n = 24
    x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")[1]
    spec = power_spectrum(_maps(np.cos(2 * np.pi * 4 * x / n)[None]))
    iso = spec.isotropic()
    ring = np.round(spec.k / spec.dk).astype(int)
    on = ring == 4
    np.testing.assert_allclose(iso[on], spec.mean().sum() / on.sum())
    np.testing.assert_allclose(iso[~on], 0, atol=1e-9 * iso.max())
    assert iso.sum() == pytest.approx(spec.mean().sum())


@pytest.mark.parametrize("spacing", [0.5, 0.739])
def test_spectral_spacing_recovers_an_ideal_lattices_spacing(spacing):
    """(At 1 m, 2.2 periods of a 2.2 m box, the unperiodic edge biases it by up to 7%.)"""
    rng = np.random.default_rng(0)
    maps = lattice_ratemaps(spacing, rng.uniform(0, 60, 8), rng.uniform(-1, 1, (8, 2)),
                            bins=44, box=Box(2.2, 2.2))
    np.testing.assert_allclose(spectral_spacing(maps), spacing, rtol=0.05)


def test_a_flat_map_has_no_spectral_spacing_and_a_short_pad_is_refused():
    maps = _maps(np.ones((2, 10, 10)))
    assert np.isnan(spectral_spacing(maps)).all()
    with pytest.raises(ValueError, match="pad must be at least the maps' 10 bins"):
        power_spectrum(maps, pad=8)


def _waves(angles_deg, n_cycles: int = 5, bins: int = 60, phase: float = 0.3):
    """ReLU of plane waves of ``n_cycles`` periods across a periodic 3.3 m box, each wave
    vector rounded to the box's Fourier lattice (as the pattern dynamics' are)."""
    x = (np.arange(bins) + 0.5) * 3.3 / bins
    xx, yy = np.meshgrid(x, x)
    g = np.zeros_like(xx)
    for a in np.radians(angles_deg):
        mx, my = np.round(n_cycles * np.cos(a)), np.round(n_cycles * np.sin(a))
        g += np.cos(2 * np.pi * (mx * xx + my * yy) / 3.3 + phase)
    return np.maximum(g, 0), x


@pytest.mark.parametrize(("angles", "expected"), [
    ([30.0], "stripes"), ([0.0, 90.0], "squares"), ([10.0, 70.0, 130.0], "hexagons"),
    ([0.0, 60.0, 120.0, 90.0], "other"), ([0.0, 45.0], "other")])
def test_lattice_class_names_the_lattice_its_waves_make(angles, expected):
    from gridform.analysis.spectra import lattice_class, ring_modes

    g, x = _waves(angles)
    maps = Ratemaps(g[None], np.ones_like(g), x, x)
    assert lattice_class(maps)[0] == expected
    if expected != "other":
        assert ring_modes(maps)[0].size == len(angles)


def test_noise_and_flat_maps_are_not_lattices():
    from gridform.analysis.spectra import lattice_class

    x = np.linspace(0, 1, 40)
    noise = np.random.default_rng(0).random((3, 40, 40))
    maps = Ratemaps(np.concatenate([noise, np.ones((1, 40, 40))]), np.ones((40, 40)), x, x)
    assert list(lattice_class(maps)) == ["other"] * 4


def test_torus_wave_vectors_are_the_integer_modes_a_map_is_made_of():
    from gridform.analysis.spectra import torus_wave_vectors

    width, height, ny, nx = 2.2, 1.1, 24, 40
    x = (np.arange(nx) + 0.5) * width / nx
    y = (np.arange(ny) + 0.5) * height / ny
    xx, yy = np.meshgrid(x, y)

    def wave(n, m, amp):
        return amp * np.cos(2 * np.pi * (n * xx / width + m * yy / height) + 0.7)

    three = wave(5, 0, 3.0) + wave(-2, 3, 2.0) + wave(3, 3, 1.0)  # (-2, 3) is (2, -3)
    flat = np.ones((ny, nx))
    maps = Ratemaps(np.stack([three, three + 0.5 * wave(1, 1, 1.0), flat]), np.ones((ny, nx)),
                    x, y)
    modes, fraction = torus_wave_vectors(maps)
    assert modes[0].tolist() == [[5, 0], [2, -3], [3, 3]]
    assert fraction[0] == pytest.approx(1.0)
    assert modes[1].tolist() == [[5, 0], [2, -3], [3, 3]] and 0.9 < fraction[1] < 1.0
    assert np.isnan(fraction[2])
    with pytest.raises(ValueError, match="count"):
        torus_wave_vectors(maps, count=0)


def test_the_mean_spectrums_modes_do_not_depend_on_the_maps_phases():
    from gridform.analysis.spectra import torus_wave_vectors

    x = (np.arange(32) + 0.5) * 2.0 / 32
    xx, yy = np.meshgrid(x, x)
    maps = Ratemaps(np.stack([np.cos(2 * np.pi * (3 * xx + yy) / 2.0 + ph) for ph in
                              np.linspace(0, 2 * np.pi, 8, endpoint=False)]),
                    np.ones((32, 32)), x, x)  # their mean map is 0
    modes, fraction = torus_wave_vectors(maps, 1, mean=True)
    assert modes.tolist() == [[[3, 1]]] and fraction[0] == pytest.approx(1.0)
