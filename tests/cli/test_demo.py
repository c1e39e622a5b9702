"""`gridform demo` makes each thing once, and its report only reads what was saved.

The demo runs here at the smallest settings (a 24-unit network trained 10 steps, six
pattern maps); every computation that the issue of duplicates is about is counted."""

import sys

import numpy as np
import pytest

# every module whose names are counted is loaded first
import gridform.cli.demo
import gridform.experiments.pattern_run as pattern_run
import gridform.presentation.report
import gridform.training.config as training_config
import gridform.training.evaluate
import gridform.training.loop  # noqa: F401
from gridform.analysis.scores import score_ratemaps
from gridform.cli.demo import run_demo
from gridform.core.ratemaps import load_ratemaps
from gridform.presentation.report import write_report
from gridform.theory.spectrum import predict, spatial_covariance
from gridform.training.runs import CodeSpectrum, RunDir
from gridform.training.task import build_task

TINY = ["n_hidden=24", "n_place_cells=32", "batch_size=8", "sequence_length=6",
        "checkpoint_every=5", "learning_rate=0.003", "init_input_scale=32.0",
        "eval_batches=3"]


def _count(monkeypatch, func, record=lambda *a, **k: None) -> list:
    """Replace ``func`` under every gridform module that holds it; return the calls'
    records (one per call)."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(record(*args, **kwargs))
        return func(*args, **kwargs)

    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("gridform") and \
                getattr(mod, func.__name__, None) is func:
            monkeypatch.setattr(mod, func.__name__, counted)
    return calls


@pytest.fixture
def counters(monkeypatch):
    return {"predict": _count(monkeypatch, predict),
            "build_task": _count(monkeypatch, build_task),
            "spatial_covariance": _count(monkeypatch, spatial_covariance,
                                         lambda pc, *a, **k: pc.n_cells),
            "score_ratemaps": _count(monkeypatch, score_ratemaps,
                                     lambda maps, *a, **k: maps.rates.copy())}


@pytest.fixture
def small_demo(monkeypatch):
    """run_demo with the training preset and the pattern shrunk to test size."""
    real_config, real_pattern = training_config.load_config, pattern_run.PatternConfig
    monkeypatch.setattr(training_config, "load_config", lambda preset, steps=None:
                        real_config(preset, overrides=TINY, steps=10))
    monkeypatch.setattr(pattern_run, "PatternConfig", lambda **kw: real_pattern(
        **kw | {"n_cells": 6, "steps": 200, "bins": 24, "width": 2.2, "place_cells": 256}))


def _scorings_of(calls: list, maps) -> int:
    """How many of the recorded scorings were of ``maps`` (saved in float32)."""
    return sum(r.shape == maps.rates.shape and
               np.allclose(r, maps.rates, rtol=1e-6, atol=0, equal_nan=True) for r in calls)


@pytest.mark.slow
def test_the_demo_predicts_builds_and_scores_once_and_its_report_only_reads(
        tmp_path, small_demo, counters, capsys):
    out = tmp_path / "demo"
    summary = run_demo(out)
    said = capsys.readouterr().out
    assert "[3/3] training the demo preset (10 steps, 24 units)" in said
    pattern = load_ratemaps(out / "pattern" / "ratemaps.npz")
    rnn = load_ratemaps(RunDir(out / "train").ratemaps_path)
    assert (len(counters["predict"]), len(counters["build_task"])) == (1, 1)
    # one covariance per place code: the pattern's 256 cells and the network's 32
    assert sorted(counters["spatial_covariance"]) == [32, 256]
    scores = counters["score_ratemaps"]
    assert (_scorings_of(scores, pattern), _scorings_of(scores, rnn)) == (1, 1)
    assert len(scores) == 2
    # what was predicted once is what every record holds
    theory = predict("dos")
    run = RunDir(out / "train")
    assert summary["theory"]["k_star"] == pytest.approx(theory.k_star)
    assert run.read_summary().k_star == pytest.approx(theory.k_star)
    spec = CodeSpectrum.load(run.spectrum_path)
    assert spec.k_star == pytest.approx(theory.k_star) and not spec.recorded
    assert spec.k.shape == spec.power.shape and spec.k.size > 10
    # the report of the finished directory reads everything it shows
    for calls in counters.values():
        calls.clear()
    page = write_report(out).read_text()
    assert {k: len(v) for k, v in counters.items()} == {
        "predict": 0, "build_task": 0, "spatial_covariance": 0, "score_ratemaps": 0}
    assert f"{theory.k_star:.4g}" in page  # the code's ring, from summary.json
