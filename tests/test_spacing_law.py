"""The corrected spacing law: its limits, its derivation's quartic scaling, and its fit."""

import numpy as np
import pytest

from gridform.theory.spacing_law import fit_spacing_law
from gridform.theory.spectrum import (
    SpacingCorrection,
    corrected_spacing,
    corrected_wavenumber,
    predict,
    step_length_m,
)


def test_step_length_is_the_fourth_moment_of_rayleigh_steps():
    rng = np.random.default_rng(0)
    b, dt = 0.8, 0.02
    v = rng.rayleigh(b, 2_000_000)
    assert step_length_m(b, dt) == pytest.approx(np.mean((v * dt) ** 4) ** 0.25, rel=3e-3)
    assert step_length_m(0.0, dt) == 0.0
    with pytest.raises(ValueError, match="speed_scale"):
        step_length_m(-1.0, dt)


@pytest.mark.parametrize("sigma,s", [(0.12, 2.0), (0.08, 1.5), (0.2, 3.0)])
def test_no_correction_at_zero_speed_or_zero_weight(sigma, s):
    plain = predict("dos", sigma, s)
    big = SpacingCorrection(weight=50.0)
    assert corrected_wavenumber("dos", sigma, s, 0.0, 50.0) == plain.k_star
    assert corrected_spacing("dos", sigma, s, 0.0, big) == pytest.approx(plain.grid_spacing_m)
    at_rest = predict("dos", sigma, s, correction=big, step_m=0.0)
    assert at_rest.corrected_spacing_m == pytest.approx(plain.grid_spacing_m)
    assert "corrected_spacing_m" not in plain.to_dict()
    assert "corrected_spacing_m" in at_rest.to_dict()
    # as the weight goes to zero the corrected spacing goes to the plain one
    gaps = [corrected_spacing("dos", sigma, s, 0.03, SpacingCorrection(w)) /
            plain.grid_spacing_m - 1 for w in (1.0, 0.1, 0.01, 0.0)]
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3] == 0.0
    assert gaps[2] < 1e-3


def test_a_small_step_cost_widens_the_lattice_as_the_fourth_power_of_the_step():
    # near k*, E = 1 - c (k - k*)^2 / 2 - w (k l)^4: dk / k* = -4 w (k* l)^4 / (c k*^2)
    # to first order, so halving the step divides the widening by 16
    w = 0.5
    gap = [corrected_spacing("dos", 0.12, 2.0, step, SpacingCorrection(w)) /
           predict().grid_spacing_m - 1 for step in (0.02, 0.01)]
    assert gap[0] / gap[1] == pytest.approx(16, rel=0.02)
    # the offset multiplies the spacing
    both = corrected_spacing("dos", 0.12, 2.0, 0.02, SpacingCorrection(w, 0.1))
    assert both / (1 + gap[0]) / predict().grid_spacing_m == pytest.approx(1.1)


def test_the_fit_recovers_a_known_law_from_synthetic_spacings():
    rng = np.random.default_rng(1)
    sigma = rng.choice([0.08, 0.10, 0.12, 0.15, 0.20], 24)
    s = rng.choice([1.5, 2.0, 3.0], 24)
    step = step_length_m(0.8168, 0.02) * rng.choice([0.5, 1.0, 2.0], 24)
    truth = SpacingCorrection(weight=6.0, offset=0.15)
    measured = np.array([corrected_spacing("dos", a, b, c, truth)
                         for a, b, c in zip(sigma, s, step, strict=True)])
    fit = fit_spacing_law(sigma, s, step, measured)
    assert fit.correction.weight == pytest.approx(6.0, rel=1e-3)
    assert fit.correction.offset == pytest.approx(0.15, abs=1e-5)
    assert np.abs(fit.relative_errors).max() < 1e-6
    # with 2% noise the fit is close, and the offset alone cannot explain the speed term
    noisy = measured * (1 + 0.02 * rng.standard_normal(24))
    fit2 = fit_spacing_law(sigma, s, step, noisy)
    assert fit2.correction.weight == pytest.approx(6.0, rel=0.3)
    assert fit2.correction.offset == pytest.approx(0.15, abs=0.02)
    only_offset = fit_spacing_law(sigma, s, step, measured, free=("offset",))
    assert only_offset.correction.weight == 0.0
    assert np.abs(only_offset.relative_errors).max() > 0.05


def test_fit_and_correction_name_their_bad_inputs():
    with pytest.raises(ValueError, match="cannot fit 2 free terms"):
        fit_spacing_law([0.12, 0.1], [2, 2], [0.02, 0.02], [0.8, np.nan])
    with pytest.raises(ValueError, match="one length"):
        fit_spacing_law([0.12], [2, 2], [0.02], [0.8])
    with pytest.raises(ValueError, match="unknown free term"):
        fit_spacing_law([0.12] * 3, [2] * 3, [0.02] * 3, [0.8] * 3, free=("slope",))
    with pytest.raises(ValueError, match="weight"):
        SpacingCorrection(weight=-1.0)
    with pytest.raises(ValueError, match="offset"):
        SpacingCorrection(offset=-1.0)
