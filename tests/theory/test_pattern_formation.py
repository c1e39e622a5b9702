import itertools
import math

import jax
import numpy as np
import pytest

from gridform import Box, PlaceCells, score_ratemaps
from gridform.theory.dynamics import CovarianceOperator, simulate_pattern
from gridform.theory.energy import pattern_energies
from gridform.theory.spectrum import (
    grid_spacing,
    lattice_wavenumber,
    plane_wave_period,
    predict,
    ring_wavenumber,
    spatial_covariance,
    tuning_power_spectrum,
)


@pytest.mark.parametrize("sigma", [0.08, 0.12, 0.2])
@pytest.mark.parametrize("s", [1.5, 2.0, 4.0])
def test_ring_matches_closed_form(sigma, s):
    closed = math.sqrt(2 * math.log(s) / ((s - 1) * sigma**2))
    assert ring_wavenumber("dos", sigma, s) == pytest.approx(closed, rel=0.01)
    # the numeric peak search agrees: an unnormalised DoG with a = 1/s is the normalised one
    assert ring_wavenumber("dog_unnormalised", sigma, s, surround_amplitude=1 / s) == \
        pytest.approx(closed, rel=0.01)
    # and the derivative of the spectrum vanishes there
    h = 1e-4
    d = tuning_power_spectrum(closed + h, "dog", sigma, s) - \
        tuning_power_spectrum(closed - h, "dog", sigma, s)
    assert abs(d) < 1e-8


def test_reference_numbers():
    p = predict("dos", 0.12, 2.0)
    assert p.k_star == pytest.approx(9.81, abs=0.01)
    assert p.grid_spacing_m == pytest.approx(0.739, abs=0.001)
    assert p.plane_wave_period_m == pytest.approx(0.640, abs=0.001)
    # "No free lunch" s = 2 is sigma2/sigma1 = 2, our s = 4: spacing 0.906 m
    assert predict("dos", 0.12, 4.0).grid_spacing_m == pytest.approx(0.906, abs=0.001)
    assert grid_spacing(1.0) == pytest.approx(2 * plane_wave_period(1.0) / math.sqrt(3))
    # the ring of a lattice of the predicted spacing is the predicted ring
    assert lattice_wavenumber(p.grid_spacing_m) == pytest.approx(p.k_star, rel=1e-12)
    assert lattice_wavenumber(0.0) == math.inf
    # widths whose square leaves the float range keep the closed form's value
    c = math.sqrt(2 * math.log(2.0))  # k* sigma for s = 2
    assert ring_wavenumber("dos", 1e300, 2.0) == pytest.approx(c / 1e300, rel=1e-12)
    assert ring_wavenumber("dos", 5e-324, 2.0) == math.inf


def test_gaussian_and_unnormalised_dog_peak_at_zero():
    assert ring_wavenumber("gaussian", 0.12) == 0.0
    assert predict("gaussian").box_limited
    assert ring_wavenumber("dog_unnormalised", 0.12, 2.0, surround_amplitude=1.0) == 0.0


@pytest.mark.parametrize("boundary", ["walls", "periodic"])
def test_empirical_dos_spectrum_peaks_on_the_ring(boundary):
    pc = PlaceCells.random(jax.random.key(0), 512, Box(2.2, 2.2, boundary), kind="dos")
    k = spatial_covariance(pc, 44).ring()
    assert k == pytest.approx(ring_wavenumber("dos", 0.12, 2.0), rel=0.05)


def test_empirical_gaussian_spectrum_peaks_at_zero_and_centred_at_the_box_scale():
    def ring(width):
        pc = PlaceCells.random(jax.random.key(0), 512, Box(width, width, "periodic"),
                               kind="gaussian")
        return spatial_covariance(pc, 44, centre=False).ring(), spatial_covariance(pc, 44).ring()

    raw, centred_small = ring(2.2)
    assert raw == 0.0
    _, centred_big = ring(3.3)
    # without its constant mode the peak is the lowest box mode: it scales as 1/width
    assert centred_small / centred_big == pytest.approx(1.5, rel=0.15)


def test_hexagons_win_under_relu_and_not_under_tanh():
    assert pattern_energies("relu").winner == "hexagons"
    assert pattern_energies("nonneg").winner == "hexagons"
    assert pattern_energies("tanh").ranking[0] != "hexagons"
    lin = pattern_energies("linear").energies
    assert lin["stripes"] == pytest.approx(lin["hexagons"], abs=1e-9)


@pytest.fixture(scope="module")
def reference_operator():
    box = Box(3.3, 3.3, "periodic")
    pc = PlaceCells.random(jax.random.key(0), 512, box, kind="dos")
    return CovarianceOperator.from_place_cells(pc, 60)


def test_relu_dynamics_form_hexagons_at_the_predicted_spacing(reference_operator):
    r = simulate_pattern(reference_operator, jax.random.key(1), 24, 1000, "relu")
    s = score_ratemaps(r.ratemaps)
    assert np.mean(s.score_60 > 0.8) >= 0.8
    spacing = np.median(s.spacing_m[s.score_60 > 0.8])
    assert spacing == pytest.approx(predict().grid_spacing_m, rel=0.10)


def test_relu_maps_are_the_rectified_preactivation_whose_triad_sums_to_zero(
        reference_operator):
    from gridform.analysis.scores import triad_phase_sum

    r = simulate_pattern(reference_operator, jax.random.key(1), 8, 1000, "relu")
    pre = r.preactivation.rates
    assert pre.shape == r.ratemaps.rates.shape
    assert np.sqrt(np.mean(pre**2, axis=(1, 2))) == pytest.approx(1.0, rel=1e-4)
    # at the fixed point the maps are the rectified pre-activation, up to their scale
    relu = np.maximum(pre, 0)
    relu /= np.sqrt(np.mean(relu**2, axis=(1, 2), keepdims=True))
    assert np.max(np.abs(relu - r.ratemaps.rates)) < 1e-2  # 1000 steps: near, not at, it
    # and the pre-activation's triad, before the ReLU's cut, has phases summing to 0
    assert np.max(np.abs(triad_phase_sum(pre))) < 0.05
    multi = simulate_pattern(reference_operator, jax.random.key(1), 4, 10, "relu",
                             cells="multi")
    assert multi.preactivation is None


@pytest.mark.parametrize("nl", ["tanh", "linear"])
def test_odd_or_linear_dynamics_do_not_form_hexagons(reference_operator, nl):
    r = simulate_pattern(reference_operator, jax.random.key(1), 24, 1000, nl)
    assert np.median(score_ratemaps(r.ratemaps).score_60) < 0.4


def test_gaussian_patterns_follow_the_box():
    def spacing_k(width):
        box = Box(width, width, "periodic")
        pc = PlaceCells.random(jax.random.key(0), 512, box, kind="gaussian")
        op = CovarianceOperator.from_place_cells(pc, 40)
        return np.median(simulate_pattern(op, jax.random.key(1), 8, 500, "relu").dominant_k)

    # the dominant wavenumber is the box's lowest mode, 2 pi / width, whatever sigma
    assert spacing_k(2.2) == pytest.approx(2 * np.pi / 2.2, rel=0.02)
    assert spacing_k(3.3) == pytest.approx(2 * np.pi / 3.3, rel=0.02)


@pytest.mark.slow
def test_multicell_maps_stay_orthonormal():
    # (the maps' distinct scales on this 2.2 m torus are its own Fourier shells, so they
    # are not asserted here: the hierarchy is tested in test_claim_checks)
    box = Box(2.2, 2.2, "periodic")
    pc = PlaceCells.random(jax.random.key(0), 512, box, kind="dos")
    op = CovarianceOperator.from_place_cells(pc, 44)
    r = simulate_pattern(op, jax.random.key(1), 32, 1500, "relu", cells="multi")
    assert r.orthonormality_error < 1e-2


def test_walled_operator_runs_and_is_scaled():
    box = Box(2.2, 2.2, "walls")
    op = CovarianceOperator.analytic(box, 30)
    assert np.abs(op.multipliers).max() == pytest.approx(1.0)
    r = simulate_pattern(op, jax.random.key(0), 4, 50, "relu")
    assert np.isfinite(r.ratemaps.rates).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"nonlinearity": "softplus"}, "nonlinearity"),
    ({"steps": 0}, "steps"),
    ({"n_cells": 0}, "n_cells"),
    ({"eta": float("nan")}, "eta"),
    ({"cells": "many"}, "cells"),
])
def test_dynamics_reject_bad_input(kwargs, match):
    op = CovarianceOperator.analytic(Box(boundary="periodic"), 16)
    with pytest.raises(ValueError, match=match):
        simulate_pattern(op, jax.random.key(0), **kwargs)


@pytest.mark.parametrize("args, match", [
    (("dos", -0.1, 2.0), "sigma"),
    (("dos", 0.12, 1.0), "surround_scale"),
    (("dos", float("nan"), 2.0), "sigma"),
    (("mexican", 0.12, 2.0), "kind"),
])
def test_theory_rejects_bad_parameters(args, match):
    with pytest.raises(ValueError, match=match):
        predict(*args)


def test_one_layer_models_return_the_promised_maps():
    from gridform.theory.one_layer import nmf_maps, pca_maps, place_code_matrix

    pc = PlaceCells.random(jax.random.key(0), 128, Box(2.2, 2.2, "periodic"), kind="dos")
    nmf = nmf_maps(pc, jax.random.key(1), k=6, bins=20, steps=200)
    pca = pca_maps(pc, k=6, bins=20)
    assert nmf.rates.shape == pca.rates.shape == (6, 20, 20)
    assert (nmf.rates >= 0).all()
    flat = pca.rates.reshape(6, -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(6), atol=1e-8)
    # the first principal map captures the most variance of the centred code
    P = place_code_matrix(pc, 20)
    Pc = P - P.mean(0)
    var = [np.sum((flat[i] @ Pc) ** 2) for i in range(6)]
    assert var == sorted(var, reverse=True)
    with pytest.raises(ValueError, match="k must lie"):
        pca_maps(pc, k=0, bins=20)
    with pytest.raises(ValueError, match="eta must lie"):
        nmf_maps(pc, jax.random.key(1), k=2, bins=20, eta=1.5)


@pytest.mark.slow
def test_nmf_of_an_even_place_code_is_hexagonal_and_pca_is_not():
    """THEORY.md section 2's one-layer check, on a code that covers the box evenly."""
    from gridform.theory.one_layer import nmf_maps, pca_maps, place_code_matrix

    pc = PlaceCells.lattice(576, Box(2.2, 2.2, "walls"), kind="dos", sigma=0.12,
                            surround_scale=2.0)
    nmf = nmf_maps(pc, jax.random.key(1), k=4, bins=32, steps=600)
    pca = pca_maps(pc, k=4, bins=32)
    s_nmf, s_pca = score_ratemaps(nmf), score_ratemaps(pca)
    assert np.median(s_nmf.score_60) > 1.0
    assert np.median(s_pca.score_60) < 0.3
    # the nonnegative maps sit on the theory's ring: spacing 4 pi / (sqrt(3) k*) = 0.739 m
    np.testing.assert_allclose(np.median(s_nmf.spacing_m), predict("dos", 0.12, 2.0)
                               .grid_spacing_m, rtol=0.1)
    # greedy deflation: each map explains what the previous ones left, so the
    # reconstruction residual of the centred code falls with every component
    P = place_code_matrix(pc, 32)
    R = P - P.mean(0)
    norms = [np.sum(R**2)]
    for g in nmf.rates.reshape(4, -1):
        R = R - np.outer(g, g @ R)
        norms.append(np.sum(R**2))
    assert all(b < a for a, b in itertools.pairwise(norms))
