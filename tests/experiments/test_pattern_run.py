"""A pattern run writes its maps, their scores and a summary that agree with each other."""

import dataclasses
import json

import numpy as np
import pytest

from gridform.analysis.scores import GridScores, score_ratemaps
from gridform.core.io import clean_json
from gridform.core.ratemaps import load_ratemaps
from gridform.experiments.pattern_run import (
    PATTERN_FILES,
    PatternConfig,
    PatternSummary,
    run_pattern,
)
from gridform.theory.spectrum import predict

SMALL = PatternConfig(n_cells=4, steps=100, place_cells=128, width=2.2, bins=24)


@pytest.fixture(scope="module")
def pattern(tmp_path_factory):
    out = tmp_path_factory.mktemp("pattern") / "out"
    return out, run_pattern(SMALL, out)


def test_the_files_hold_the_configured_maps_and_their_scores(pattern):
    out, summary = pattern
    assert sorted(p.name for p in out.iterdir()) == sorted(PATTERN_FILES.values())
    maps = load_ratemaps(out / PATTERN_FILES["ratemaps"])
    assert maps.rates.shape == (4, 24, 24)
    assert maps.width == pytest.approx(2.2) and maps.height == pytest.approx(2.2)
    saved = GridScores.load(out / PATTERN_FILES["scores"])
    again = score_ratemaps(maps)
    for name, column in again.columns().items():
        # scores.csv keeps six significant digits
        np.testing.assert_allclose(saved.columns()[name], column, rtol=5e-6, atol=1e-12,
                                   err_msg=name)
    # the summary on disk is the one returned, and its numbers are the scores'
    assert json.loads((out / PATTERN_FILES["summary"]).read_text()) == \
        clean_json(summary.to_json())
    for key, value in again.summary().items():
        assert summary[key] == pytest.approx(value, nan_ok=True), key


def test_the_summary_records_the_config_and_the_theory_of_its_code(pattern):
    _, summary = pattern
    pred = predict(SMALL.kind, SMALL.sigma, SMALL.surround_scale)
    assert summary["predicted_spacing_m"] == pytest.approx(pred.grid_spacing_m)
    assert summary["k_star"] == pytest.approx(pred.k_star)
    assert summary["config"] == dataclasses.asdict(SMALL)
    assert (summary["n_cells"], summary["steps"], summary["nonlinearity"]) == (4, 100, "relu")


def test_a_given_prediction_is_used_as_given(tmp_path):
    pred = dataclasses.replace(predict(SMALL.kind, SMALL.sigma, SMALL.surround_scale),
                               grid_spacing_m=1.234, k_star=5.678)
    summary = run_pattern(dataclasses.replace(SMALL, steps=2), tmp_path / "out", pred)
    assert (summary["predicted_spacing_m"], summary["k_star"]) == (1.234, 5.678)


def test_a_prediction_for_another_code_is_refused_before_anything_is_written(tmp_path):
    other = predict(SMALL.kind, 2 * SMALL.sigma, SMALL.surround_scale)
    with pytest.raises(ValueError, match="prediction is for the code"):
        run_pattern(SMALL, tmp_path / "out", other)
    assert not (tmp_path / "out").exists()


def test_the_summary_is_typed_and_reads_back_as_written(pattern):
    out, summary = pattern
    assert isinstance(summary, PatternSummary)
    assert summary.frac_above_0_8 == summary["frac_above_0.8"]
    assert "frac_above_0.3_minmax" in summary and "frac_above_0_3" not in summary
    again = PatternSummary.load(out)
    for key in summary.keys():
        assert again[key] == pytest.approx(summary[key], nan_ok=True), key
    with pytest.raises(KeyError):
        summary["no such key"]


def test_an_older_summary_without_some_keys_still_loads(tmp_path):
    (tmp_path / PATTERN_FILES["summary"]).write_text(json.dumps(
        {"frac_above_0.3": 0.5, "frac_above_0.8": None, "nonlinearity": "relu",
         "a key from elsewhere": 1}))
    old = PatternSummary.load(tmp_path)
    assert old.frac_above_0_3 == 0.5 and np.isnan(old.frac_above_0_8)
    assert np.isnan(old.orthonormality_error) and old.steps is None and old.config == {}
    with pytest.raises(FileNotFoundError, match="no pattern summary"):
        PatternSummary.load(tmp_path / "empty")
