"""RunDir and Summary: the run directory's format, including directories written before
the format had a type (tests/data/run_before_rundir, trained and evaluated by that code)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gridform.cli.app import main
from gridform.training.runs import CodeSpectrum, RunDir, Summary

OLD_RUN = Path(__file__).resolve().parents[1] / "data" / "run_before_rundir"


@pytest.fixture
def old_run(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run)
    return run


def test_a_run_written_before_the_type_loads(old_run):
    run = RunDir(old_run)
    config = run.read_config()
    assert (config.n_hidden, config.n_place_cells, config.seed, config.steps) == (12, 24, 7, 6)
    params = run.load_params()
    assert params["w_rec"].shape == (12, 12)
    s = run.read_summary()
    assert (s.n_units, s.n_active, s.steps, s.scorer_version) == (12, 12, 6, 2)
    assert s.frac_above_0_3 == 0.0 and np.isnan(s.median_spacing_m)  # null in the file
    assert s.decoder_floor_cm is not None
    assert s.predicted_spacing_m == pytest.approx(0.7394, abs=1e-4)
    assert s.k_star is None  # not kept then
    assert run.checkpoint_step() == 6


def test_the_summary_file_round_trips_key_for_key(old_run, tmp_path):
    raw = json.loads(RunDir(old_run).summary_path.read_text())
    again = RunDir(tmp_path)
    again.write_summary(Summary.from_json(raw))
    assert json.loads(again.summary_path.read_text()) == raw


def test_unknown_keys_survive_and_missing_ones_are_named():
    data = {"error_cm": 5.0, "n_units": 4, "n_active": 3, "predicted_spacing_m": 0.74,
            "mean_pairwise_corr": 0.1, "frac_above_0.3": 0.5, "lab_note": "rat 7"}
    s = Summary.from_json(data)
    assert s.frac_above_0_3 == 0.5 and s.frac_above(0.3) == 0.5
    assert s.frac_above(0.8, "minmax") is None and s.extra == {"lab_note": "rat 7"}
    assert s.to_json() == data
    with pytest.raises(ValueError, match="no error_cm, n_active"):
        Summary.from_json({"n_units": 4, "predicted_spacing_m": 1.0,
                           "mean_pairwise_corr": 0.0})
    with pytest.raises(ValueError, match=r"0\.3 and 0\.8, not 0\.5"):
        s.frac_above(0.5)


def test_spacing_ratio_is_measured_over_predicted_and_nan_without_a_measurement():
    s = Summary(error_cm=5, n_units=4, n_active=4, predicted_spacing_m=0.8,
                mean_pairwise_corr=0.0, median_spacing_m=0.96)
    assert s.spacing_ratio == pytest.approx(1.2)
    assert np.isnan(s.replace(median_spacing_m=float("nan")).spacing_ratio)
    assert np.isnan(s.replace(median_spacing_m=None).spacing_ratio)
    assert np.isnan(s.corrected_ratio)  # no corrected law given
    assert s.replace(corrected_spacing_m=0.96).corrected_ratio == pytest.approx(1.0)


def test_evaluate_and_report_work_on_the_old_run_and_keep_its_keys(old_run, capsys):
    before = set(json.loads(RunDir(old_run).summary_path.read_text()))
    assert main(["evaluate", str(old_run), "--batches", "2", "--bins", "12"]) == 0
    after = json.loads(RunDir(old_run).summary_path.read_text())
    assert before <= set(after)
    assert "12/12 active units" in capsys.readouterr().out
    assert main(["report", str(old_run)]) == 0
    page = RunDir(old_run).report_path.read_text()
    assert "within 10% of 0.739 m" in page  # the theory's point prediction, not 20%


def test_the_report_of_a_run_evaluated_before_k_star_was_kept(old_run):
    from gridform.theory.spectrum import predict

    assert not RunDir(old_run).spectrum_path.exists()
    assert main(["report", str(old_run)]) == 0  # the spectrum made from its config
    page = RunDir(old_run).report_path.read_text()
    assert "within 10% of 0.739 m" in page and 'alt="place-cell covariance spectrum' in page
    assert not RunDir(old_run).spectrum_path.exists()  # the report writes no result
    # evaluated again, the run keeps its code's ring and spectrum
    assert main(["evaluate", str(old_run), "--batches", "2", "--bins", "12"]) == 0
    k_star = predict("dos").k_star
    assert RunDir(old_run).read_summary().k_star == pytest.approx(k_star)
    spec = CodeSpectrum.load(RunDir(old_run).spectrum_path)
    assert spec.k_star == pytest.approx(k_star) and not spec.recorded
    assert spec.k[0] == 0 and np.all(np.diff(spec.k) > 0) and np.all(spec.power >= 0)


def test_a_code_spectrum_round_trips_and_checks_its_shapes(tmp_path):
    spec = CodeSpectrum(np.linspace(0, 30, 50), np.exp(-np.linspace(0, 3, 50)), 9.8, False)
    spec.save(tmp_path / "s.npz")
    back = CodeSpectrum.load(tmp_path / "s.npz")
    assert np.array_equal(back.k, spec.k) and np.array_equal(back.power, spec.power)
    assert (back.k_star, back.recorded) == (9.8, False)
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(2,\)"):
        CodeSpectrum(np.zeros(3), np.zeros(2), 1.0, False)
    (tmp_path / "x.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="is not a code spectrum"):
        CodeSpectrum.load(tmp_path / "x.npz")


def test_force_clears_what_the_old_network_left_and_nothing_else(old_run):
    run = RunDir(old_run)
    along = run.along_path("walk.npz")
    along.mkdir()
    (along / RunDir.SUMMARY).write_text("{}")
    (old_run / "notes.txt").write_text("mine")
    run.clear()
    assert not along.exists() and not run.has_run() and not run.model_path.exists()
    assert not run.summary_path.exists() and not run.has_checkpoint()
    assert (old_run / "notes.txt").read_text() == "mine"


def test_no_module_but_runs_spells_a_run_files_name():
    src = Path(__file__).resolve().parents[2] / "src" / "gridform"
    names = [getattr(RunDir, a) for a in ("CONFIG", "METRICS", "MODEL", "RATEMAPS",
                                          "SCORES", "SPECTRUM", "SUMMARY", "REPORT", "DONE",
                                          "FAILED", "TOPOLOGY")] + [f"{RunDir.CHECKPOINT}.json"]
    # and the three files of every directory of scored ratemaps (runs, evaluations along
    # paths, pattern runs, the demo's summary), on the ground floor
    owners = {"training/runs.py", "core/io.py"}
    hits = [f"{p.relative_to(src)}: {n}" for p in src.rglob("*.py")
            if str(p.relative_to(src)) not in owners
            for n in names if f'"{n}"' in p.read_text(encoding="utf-8")]
    assert not hits
