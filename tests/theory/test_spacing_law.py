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
    with pytest.raises(ValueError, match="exponent"):
        SpacingCorrection(exponent=0.0)


def test_the_fit_recovers_the_exponent_of_a_known_law():
    rng = np.random.default_rng(2)
    sigma = rng.choice([0.10, 0.12, 0.15, 0.20], 16)
    step = step_length_m(0.8168, 0.02) * rng.choice([0.5, 1.0, 2.0], 16)
    truth = SpacingCorrection(weight=2.0, offset=0.03, exponent=1.5)
    measured = np.array([corrected_spacing("dos", a, 2.0, c, truth)
                         for a, c in zip(sigma, step, strict=True)])
    fit = fit_spacing_law(sigma, np.full(16, 2.0), step, measured,
                          free=("weight", "exponent", "offset"))
    assert fit.correction.exponent == pytest.approx(1.5, rel=0.02)
    assert fit.correction.offset == pytest.approx(0.03, abs=2e-3)
    assert np.abs(fit.relative_errors).max() < 1e-4


def test_the_example_sweep_is_the_targets_sweep():
    from pathlib import Path

    from gridform.experiments.reproduce.spacing_law import SWEEP
    from gridform.experiments.sweep.spec import load_sweep, parse_sweep

    path = Path(__file__).parents[2] / "examples" / "spacing_law.toml"
    for quick, n in ((False, 135), (True, 12)):
        runs = [r.config for r in load_sweep(path, quick=quick).manifest()]
        assert runs == [r.config for r in parse_sweep(SWEEP, quick=quick).manifest()]
        assert len(runs) == n
    quick = parse_sweep(SWEEP, quick=True).manifest()
    assert len({r.config.sigma for r in quick}) >= 3
    assert len({r.config.speed_scale for r in quick}) >= 2


def _row(sigma, speed, measured, held_out, n=20):
    from gridform.experiments.reproduce.spacing_law import SpacingRow

    return SpacingRow("r", sigma, 2.0, speed, 2.2, "walls", 0, 0.02,
                      predict("dos", sigma, 2.0).grid_spacing_m, measured, n, held_out)


def test_held_out_split_is_a_checkerboard_over_settings_and_keeps_seeds_together():
    from gridform.experiments.reproduce.spacing_law import held_out_split

    settings = [(s, 2.0, v) for s in (0.08, 0.10) for v in (0.4, 0.8, 1.6)]
    assert held_out_split(settings) == [False, True, False, True, False, True]
    # the seeds of one setting share their side, in any order
    assert held_out_split([(0.1, 2.0, 0.8), (0.08, 2.0, 0.4), (0.1, 2.0, 0.8)]) == \
        [True, False, True]


def test_the_target_recovers_a_known_law_on_held_out_rows_and_the_plain_prediction_misses():
    from gridform.experiments.reproduce.spacing_law import (
        fit_and_predict,
        line_fit,
        relative_errors,
    )

    truth = SpacingCorrection(weight=6.0, offset=0.15)
    rows = []
    for i, (sg, v) in enumerate((s, v) for s in (0.08, 0.10, 0.12, 0.15)
                                for v in (0.41, 0.82, 1.63)):
        meas = corrected_spacing("dos", sg, 2.0, step_length_m(v, 0.02), truth)
        rows.append(_row(sg, v, meas, i % 2 == 1))
    rows.append(_row(0.12, 0.82, float("nan"), True, n=3))  # too few grid units: blank
    fit, out = fit_and_predict(rows)
    assert fit.correction.weight == pytest.approx(6.0, rel=1e-2)
    held = relative_errors(out, "corrected_prediction_m")
    assert held.size == 6 and held.max() < 1e-3
    assert np.median(relative_errors(out, "predicted_spacing_m")) > 0.10
    # measured = 1.2 predicted + 0.01 m exactly: slope 1.2, intercept 0.01, R^2 1
    exact = [_row(sg, 0.82, 1.2 * predict("dos", sg, 2.0).grid_spacing_m + 0.01, False)
             for sg in (0.08, 0.10, 0.12, 0.15)]
    line = line_fit([*exact, _row(0.2, 0.82, float("nan"), False)])
    assert line["n"] == 4
    assert (line["slope"], line["intercept"], line["r2"]) == pytest.approx((1.2, 0.01, 1.0))


def test_spacing_law_csv_has_the_contract_columns_and_blanks(tmp_path):
    import csv

    from gridform.experiments.reproduce.spacing_law import COLUMNS, write_rows

    write_rows(tmp_path / "spacing_law.csv", [_row(0.12, 0.82, 0.87, False),
                                              _row(0.12, 0.41, float("nan"), True, n=2)])
    with open(tmp_path / "spacing_law.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS == (
        "run_dir", "sigma", "surround_scale", "speed_scale", "box_width", "boundary", "seed",
        "predicted_spacing_m", "measured_spacing_m", "n_grid_units",
        "corrected_prediction_m", "held_out")
    assert rows[0]["measured_spacing_m"] == "0.87" and rows[1]["measured_spacing_m"] == ""
    assert [r["held_out"] for r in rows] == ["false", "true"]


def test_theory_command_prints_the_corrected_spacing_and_refuses_a_bad_offset(capsys):
    import json

    from gridform.cli.app import main

    assert main(["theory", "--step-cost", "1.08", "--offset", "0.18", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = corrected_spacing("dos", 0.12, 2.0, step_length_m(0.13 * 2 * np.pi, 0.02),
                                 SpacingCorrection(1.08, 0.18))
    assert out["corrected_spacing_m"] == pytest.approx(expected)
    assert out["grid_spacing_m"] == pytest.approx(predict().grid_spacing_m)
    assert main(["theory", "--json"]) == 0
    assert "corrected_spacing_m" not in json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit) as exc:
        main(["theory", "--offset", "-2"])
    assert exc.value.code == 2
    assert "--offset: must be finite and > -1" in capsys.readouterr().err


def test_scaling_exponent_is_one_for_any_prefactor_and_its_control_breaks_the_pairing():
    from gridform.experiments.reproduce.spacing_law import scaling_exponent

    sigmas = (0.10, 0.12, 0.15, 0.20)
    # measured = 1.2 x predicted, two speeds each: exponent 1, prefactor 1.2
    rows = [_row(sg, v, 1.2 * predict("dos", sg, 2.0).grid_spacing_m, False)
            for sg in sigmas for v in (0.41, 1.63)]
    rows.append(_row(0.12, 0.82, float("nan"), False, n=2))  # unmeasured rows do not count
    fit = scaling_exponent(rows)
    assert (fit["exponent"], fit["prefactor"]) == pytest.approx((1.0, 1.2))
    assert (fit["n"], fit["n_codes"]) == (8, 4)
    # measured = predicted^0.5: exponent 0.5
    half = [_row(sg, 0.82, predict("dos", sg, 2.0).grid_spacing_m ** 0.5, False)
            for sg in sigmas]
    assert scaling_exponent(half)["exponent"] == pytest.approx(0.5)
    # the control pairs sigma 0.20's runs with sigma 0.10's prediction and so on: far from 1
    control = scaling_exponent(rows, shift=1)["exponent"]
    assert abs(control - 1) > 0.5
    # a shift by the number of codes pairs every run with its own code again
    assert scaling_exponent(rows, shift=4)["exponent"] == pytest.approx(1.0)


def test_spacing_law_claims_pass_on_a_known_law_and_the_scaling_control_fails(tmp_path):
    from gridform.experiments.reproduce._common import _Context
    from gridform.experiments.reproduce.spacing_law import spacing_law_claims

    # measured = 1.2 x the plain prediction on a checkerboard of 4 sigmas x 3 speeds
    rows = [_row(sg, v, 1.2 * predict("dos", sg, 2.0).grid_spacing_m, i % 2 == 1)
            for i, (sg, v) in enumerate((s, v) for s in (0.10, 0.12, 0.15, 0.20)
                                        for v in (0.41, 0.82, 1.63))]
    ctx = _Context(tmp_path, quick=True, run_dir=None)
    scaling, law = spacing_law_claims(ctx, rows)
    assert scaling.passed and scaling.control_passes is False and scaling.verdict == "pass"
    assert "exponent 1.00 over 12 runs of 4 codes" in scaling.measured
    # a constant factor is exactly right here, so the law passes and so does its control
    assert law.passed and law.verdict == "does not discriminate"
    assert (tmp_path / "spacing_law.csv").is_file()
    assert ctx.details["spacing_law"]["scaling"]["exponent"] == pytest.approx(1.0)
    # a spacing that does not follow the code (the same 0.9 m everywhere) fails the claim
    flat = [_row(r.sigma, r.speed_scale, 0.9, r.held_out) for r in rows]
    assert not spacing_law_claims(ctx, flat)[0].passed
