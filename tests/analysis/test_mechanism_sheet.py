"""The connectivity analyses that compare a network with a continuous attractor: the
radial centre-surround fit and each unit's outgoing shift, on synthetic networks whose
answer is known."""

import numpy as np
import pytest

from gridform.analysis.mechanism import (
    _wave_vectors,
    alignment,
    connectivity_profile,
    fit_difference_of_gaussians,
    outgoing_offsets,
    radial_fit,
)

SPACING, ORIENT = 0.5, 10.0


def dog(r, centre=1.0, a=0.05, surround=0.6, b=0.12, offset=-0.1):
    return offset + centre * np.exp(-r**2 / (2 * a**2)) - surround * np.exp(-r**2 / (2 * b**2))


def lattice_network(n, shifts, seed=0):
    """Units at random positions of one lattice cell; W[i, j] (from i onto j) a DoG of the
    shortest torus distance from x_i + shift_i to x_j; phases -k . x as lattice_phases
    reads them from maps peaked at x."""
    rng = np.random.default_rng(seed)
    k = _wave_vectors(SPACING, ORIENT)
    basis = 2 * np.pi * np.linalg.inv(k)  # columns: the lattice vectors
    x = (basis @ rng.uniform(0, 1, (2, n))).T
    d = x[None, :, :] - x[:, None, :] - shifts[:, None, :]  # (i, j, 2)
    frac = np.einsum("ab,ijb->ija", np.linalg.inv(basis), d)
    frac -= np.round(frac)
    best = np.full(d.shape[:2], np.inf)
    for u in (-1, 0, 1):
        for v in (-1, 0, 1):
            cand = np.einsum("ab,ijb->ija", basis, frac + np.array([u, v]))
            best = np.minimum(best, np.hypot(cand[..., 0], cand[..., 1]))
    w = dog(best)
    phases = np.angle(np.exp(-1j * x @ k.T))
    return w, phases


def test_a_difference_of_gaussians_is_recovered():
    r = np.linspace(0, 0.3, 15)
    fit = fit_difference_of_gaussians(r, dog(r))
    assert fit.correlation > 0.999 and fit.is_centre_surround
    assert fit.centre_width == pytest.approx(0.05, rel=0.05)
    flat = fit_difference_of_gaussians(r, np.zeros_like(r))
    assert np.isnan(flat.correlation)


def test_the_radial_fit_sees_a_centre_surround_network_and_not_its_shuffle():
    n = 150
    w, ph = lattice_network(n, np.zeros((n, 2)))
    fit = radial_fit(connectivity_profile(w, ph, SPACING, ORIENT), ORIENT)
    assert fit.correlation > 0.9
    rng = np.random.default_rng(1)
    shuffled = [radial_fit(connectivity_profile(w, ph[rng.permutation(n)], SPACING, ORIENT),
                           ORIENT).correlation for _ in range(10)]
    assert max(shuffled) < 0.5


def test_outgoing_shifts_point_along_the_known_direction():
    n = 200
    rng = np.random.default_rng(2)
    angles = rng.uniform(-np.pi, np.pi, n)
    shifts = 0.03 * np.stack([np.cos(angles), np.sin(angles)], 1)  # 3 cm ahead
    w, ph = lattice_network(n, shifts, seed=3)
    off = outgoing_offsets(w, ph, SPACING, ORIENT)
    found = np.arctan2(off[:, 1], off[:, 0])
    assert alignment(found, angles) > 0.8
    assert abs(alignment(found, rng.permutation(angles))) < 0.2
    assert 0.015 < np.nanmedian(np.hypot(*off.T)) < 0.06  # 3 cm, to first order
    # no shift: what remains is the estimator's floor (binning), a third of that or less
    w0, ph0 = lattice_network(n, np.zeros((n, 2)), seed=3)
    assert np.nanmedian(np.hypot(*outgoing_offsets(w0, ph0, SPACING, ORIENT).T)) < 0.01


def test_alignment_closed_forms():
    a = np.linspace(-3, 3, 7)
    assert alignment(a, a) == pytest.approx(1.0)
    assert alignment(a, a + np.pi) == pytest.approx(-1.0)
    assert alignment(a, a + np.pi / 2) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(alignment([np.nan], [0.0]))
