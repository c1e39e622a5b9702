"""The distance law of the spacing gap: its fit, its claims and their controls on
settings whose answers are known."""

import math

import pytest

import gridform.experiments.reproduce.spacing_distance as sd
from gridform.experiments.reproduce._common import _Context


def test_the_law_fixed_in_advance_is_the_one_docs_state():
    a, b = sd.fit_law(sd.theory_spacing())
    assert (round(100 * a, 1), round(100 * b, 2)) == (20.3, 7.15)
    assert sd.distance_m(20, 1.0) == pytest.approx(sd.D0) and sd.D0 == pytest.approx(0.41,
                                                                                      abs=0.01)


def test_law_gap_is_a_at_d0_and_grows_by_b_per_doubling():
    assert sd.law_gap(sd.D0, 0.2, 0.07) == pytest.approx(0.2)
    assert sd.law_gap([sd.D0 / 2, 2 * sd.D0, 4 * sd.D0], 0.2, 0.07) == pytest.approx(
        [0.13, 0.27, 0.34])


def _settings(gap_of, seeds=2):
    """Every setting of the sweep with the spacing ``gap_of(setting)`` gives, per seed."""
    pred = sd.theory_spacing()
    out = []
    for n in sd.LENGTHS:
        for f in sd.SPEED_FACTORS:
            s = sd.Setting(n, f, (), ())
            spacing = pred * (1 + gap_of(s))
            out.append(sd.Setting(n, f, (spacing,) * seeds, (20,) * seeds))
    return out


def test_spacings_on_the_law_pass_both_claims_and_their_controls_fail(tmp_path):
    a, b = sd.fit_law(sd.theory_spacing())
    law, collapse = sd.spacing_distance_claims(
        _Context(tmp_path, quick=True, run_dir=None),
        _settings(lambda s: a + b * math.log2(s.distance / sd.D0)))
    assert law.verdict == "pass" and "median 0.0%, worst 0.0%" in law.measured
    assert collapse.verdict == "pass" and collapse.measured == "0.0 points"
    assert not law.control_passes and not collapse.control_passes


def test_a_constant_gap_fails_the_law_and_the_collapse_control_catches_it(tmp_path):
    law, collapse = sd.spacing_distance_claims(
        _Context(tmp_path, quick=True, run_dir=None), _settings(lambda s: sd.CONSTANT_GAP))
    assert law.verdict == "fail"  # the law's 10-step, half-speed +6% is 10% off
    # a constant gap collapses on every axis: the check cannot tell D from the others
    assert collapse.verdict == "does not discriminate"


def test_a_setting_without_grid_units_is_not_measured(tmp_path):
    settings = _settings(lambda s: 0.2)
    settings[0] = sd.Setting(10, 0.5, (math.nan, math.nan), (0, 0))
    law, _ = sd.spacing_distance_claims(_Context(tmp_path, quick=True, run_dir=None), settings)
    assert law.verdict == "not measured"


def test_the_sweep_is_read_by_path_length_and_speed(tmp_path, monkeypatch):
    from gridform.experiments.sweep.spec import parse_sweep

    spec = parse_sweep(sd.SWEEP, name="spacing-distance", quick=True)
    runs = spec.manifest()
    assert len(runs) == 9 and {r.config.seed for r in runs} == {0}
    for r in runs[:4]:  # four finished runs, one unfinished
        run = r.run_dir(tmp_path)
        run.path.mkdir(parents=True)
        run.write_config(r.config)
        run.done_path.write_text("{}")
    runs[4].run_dir(tmp_path).path.mkdir(parents=True)
    monkeypatch.setattr(sd, "measure_run", lambda run: (0.8, 12))
    settings = sd.settings_of_sweep(tmp_path)
    assert len(settings) == 4 and all(s.spacings == (0.8,) for s in settings)
    assert settings == sorted(settings, key=lambda s: (s.length, s.speed_factor))
    assert {(s.length, s.speed_factor) for s in settings} == {
        (r.config.sequence_length, f) for r, f in zip(
            runs[:4], [round(r.config.speed_scale / sd.SPEED_SCALE_M_S, 3) for r in runs[:4]],
            strict=True)}


def test_only_the_named_runs_are_read(tmp_path, monkeypatch):
    from gridform.experiments.sweep.spec import parse_sweep

    full = parse_sweep(sd.SWEEP, name="spacing-distance", quick=False).manifest()
    quick = parse_sweep(sd.SWEEP, name="spacing-distance", quick=True).manifest()
    for r in full:  # a full sweep's runs, seed 1 among them, in the same directory
        run = r.run_dir(tmp_path)
        run.write_config(r.config)
        run.done_path.write_text("{}")
    monkeypatch.setattr(sd, "measure_run", lambda run: (0.8, 12))
    assert {len(s.spacings) for s in sd.settings_of_sweep(tmp_path)} == {2}
    named = sd.settings_of_sweep(tmp_path, {r.run_id for r in quick})
    assert len(named) == 9 and {len(s.spacings) for s in named} == {1}
