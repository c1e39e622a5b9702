"""Mechanism analyses on synthetic inputs with known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import as_ratemaps, lattice_map

from gridform.analysis.mechanism import (
    connectivity_profile,
    eigenmodes,
    lattice_phases,
    silence_units,
)
from gridform.core.models import forward, init_params

SPACING = 0.7


def k_vectors(spacing=SPACING, theta=0.0):
    k = 4 * np.pi / (np.sqrt(3) * spacing)
    a = np.radians(theta) + np.radians([90.0, 210.0])
    return k * np.stack([np.cos(a), np.sin(a)], -1)


def wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def test_translating_a_map_shifts_its_phase_by_minus_k_dot_dx():
    shift = np.array([0.11, -0.17])
    a, c = lattice_map(60, width=4.4, spacing=SPACING)
    b, _ = lattice_map(60, width=4.4, spacing=SPACING, phase=shift)
    ph = lattice_phases(as_ratemaps(np.stack([a, b]), c), SPACING, 0.0)
    got = wrap(ph[1] - ph[0])
    want = wrap(-k_vectors() @ shift)
    np.testing.assert_allclose(got, want, atol=0.1)


def sheet_weights(phases, sign=1.0):
    """W_ij: sum of cosines of the phase difference on the three lattice wave vectors
    (k_3 = -k_1 - k_2, so its phase is minus the sum of the other two)."""
    d = phases[None] - phases[:, None]
    return sign * (np.cos(d[..., 0]) + np.cos(d[..., 1]) + np.cos(d[..., 0] + d[..., 1]))


def test_a_centre_surround_sheet_is_recognised(rng):
    phases = rng.uniform(-np.pi, np.pi, (300, 2))
    prof = connectivity_profile(sheet_weights(phases), phases, SPACING, 0.0)
    assert prof.is_centre_surround
    assert prof.centre > 2.5  # the kernel is 3 at zero displacement
    assert prof.surround < -1.0  # and -1.5 half a period away
    # the 2-D mean peaks at the central bin
    mid = prof.mean_weight.shape[0] // 2
    assert prof.mean_weight[mid, mid] == pytest.approx(np.nanmax(prof.mean_weight))
    # an inverted sheet (inhibitory centre) is not centre-surround
    assert not connectivity_profile(sheet_weights(phases, -1.0), phases, SPACING,
                                    0.0).is_centre_surround
    # and weights unrelated to phase give a flat profile near zero
    flat = connectivity_profile(rng.normal(0, 1, (300, 300)), phases, SPACING, 0.0)
    assert abs(flat.centre) < 0.5


def test_connectivity_checks_its_inputs(rng):
    with pytest.raises(ValueError, match="w_rec must be"):
        connectivity_profile(np.zeros((4, 5)), np.zeros((4, 2)), SPACING, 0.0)
    with pytest.raises(ValueError, match="spacing_m"):
        lattice_phases(as_ratemaps(*lattice_map()), 0.0, 0.0)


def test_eigenmodes_of_a_diagonal_matrix_are_the_units_themselves(rng):
    maps = as_ratemaps(rng.normal(size=(5, 8, 8)), np.linspace(-1, 1, 8))
    w = np.diag([0.1, -3.0, 0.5, 2.0, 0.2])
    modes = eigenmodes(w, maps, top=2)
    np.testing.assert_allclose(modes.eigenvalues[:2], [-3.0, 2.0])
    for m, unit in zip(modes.maps.rates, (1, 3), strict=True):
        # an eigenvector is defined up to sign
        r = np.corrcoef(m.ravel(), maps.rates[unit].ravel())[0, 1]
        assert abs(r) == pytest.approx(1.0)


def test_silenced_units_have_no_influence():
    n_place, n_hidden = 12, 10
    params = init_params(jax.random.key(0), n_place, n_hidden)
    v = 0.05 * jax.random.normal(jax.random.key(1), (3, 6, 2))
    p0 = jax.random.uniform(jax.random.key(2), (3, n_place))
    quiet = silence_units(params, [2, 7])
    assert float(jnp.abs(quiet["w_rec"][jnp.array([2, 7])]).sum()) == 0
    _, logits = forward(quiet, v, p0)
    # whatever the silenced units do, the output does not change
    noisy = dict(quiet)
    noisy["encoder"] = quiet["encoder"].at[:, jnp.array([2, 7])].set(5.0)
    noisy["w_in"] = quiet["w_in"].at[:, jnp.array([2, 7])].set(-3.0)
    _, logits2 = forward(noisy, v, p0)
    np.testing.assert_allclose(logits, logits2, rtol=1e-6)
    # but silencing others does
    _, logits3 = forward(silence_units(params, [0]), v, p0)
    assert not np.allclose(logits3, forward(params, v, p0)[1])
    with pytest.raises(ValueError, match="unit indices"):
        silence_units(params, [10])
