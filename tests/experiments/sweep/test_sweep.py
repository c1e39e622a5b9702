"""Sweeps on a real Dask LocalCluster: kill a worker, fail a run, skip finished runs."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from gridform.cli.app import main
from gridform.experiments.sweep import SweepSpecError, load_sweep, parse_sweep, run_sweep
from gridform.training.runs import read_run_config

TINY = {"n_hidden": 24, "n_place_cells": 32, "batch_size": 8, "sequence_length": 6,
        "learning_rate": 0.003, "init_input_scale": 32.0, "eval_batches": 2}


def tiny_sweep(tmp_path, axes, steps=150, extra=""):
    base = ", ".join(f"{k} = {json.dumps(v)}" for k, v in (TINY | {
        "steps": steps, "checkpoint_every": 10}).items())
    text = f"[base]\npreset = \"demo\"\nset = {{ {base} }}\n[axes]\n{axes}\n{extra}"
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
def test_a_killed_worker_loses_no_run_and_a_rerun_trains_nothing(tmp_path):
    from distributed import Client, LocalCluster

    spec = load_sweep(tiny_sweep(tmp_path, 'activation = ["relu", "tanh"]',
                                 extra="[sweep]\nseeds = [0, 1]\n"))
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        killed = {}

        def kill_when_training_started():
            deadline = time.time() + 120
            while time.time() < deadline:
                if list(out.glob("runs/*/checkpoint.json")):
                    victim = sorted(pids.values())[0]
                    os.kill(victim, signal.SIGKILL)
                    killed["pid"] = victim
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_when_training_started, daemon=True)
        killer.start()
        records = run_sweep(spec, out, scheduler=cluster.scheduler_address)
        killer.join()
    assert "pid" in killed, "no worker was killed: the test did not test anything"
    assert [r["status"] for r in records] == ["done"] * 4
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 4
    for run in runs:
        done = json.loads((run / "DONE.json").read_text())
        assert done["summary"]["steps"] == 150
        assert not (run / "FAILED.json").exists()
        steps = [json.loads(line)["step"] for line in
                 (run / "metrics.jsonl").read_text().splitlines() if '"step"' in line]
        assert steps == sorted(set(steps)) and steps[-1] == 150  # one run, logged once
    rows = (out / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 5 and all(r.endswith("done,") for r in rows[1:])
    # a second sweep trains nothing: every run is already done
    stamps = {r: (r / "model.safetensors").stat().st_mtime_ns for r in runs}
    again = run_sweep(spec, out, workers=1)
    assert all(r.get("status") == "done" for r in again)
    assert stamps == {r: (r / "model.safetensors").stat().st_mtime_ns for r in runs}


@pytest.mark.slow
def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, capsys):
    # the demo preset holds weight_decay_start over these 20 steps: 1e38 overflows the loss
    path = tiny_sweep(tmp_path, "weight_decay_start = [1e-3, 1e38]", steps=20)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    records = {json.loads(p.read_text())["status"]: json.loads(p.read_text())
               for p in out.glob("runs/*/*.json") if p.name in ("DONE.json", "FAILED.json")}
    assert set(records) == {"done", "failed"}
    assert "TrainingDiverged" in records["failed"]["error"]
    assert "Traceback" in records["failed"]["traceback"]
    assert "failed" in capsys.readouterr().err
    assert main(["sweep-report", str(out)]) == 0
    page = (out / "sweep_report.html").read_text()
    assert "1 done, 1 failed" in page and "Failed runs" in page


@pytest.mark.parametrize(("axes", "message"), [
    ('bogus_field = [1, 2]', "unknown parameter"),
    ("activation = []", "non-empty list"),
    ('activation = ["swish"]', "activation"),
])
def test_bad_specs_exit_2_before_anything_runs(tmp_path, capsys, axes, message):
    path = tiny_sweep(tmp_path, axes)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_unreachable_scheduler_exits_2(tmp_path, capsys):
    path = tiny_sweep(tmp_path, 'activation = ["relu"]')
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--scheduler",
                 "tcp://127.0.0.1:9"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


def test_random_draws_are_seeded_and_validated():
    data = {"base": {"preset": "demo"}, "random": {"draws": 5, "sigma": {"low": 0.08,
                                                                         "high": 0.2}},
            "sweep": {"seeds": [0, 1]}}
    a, b = parse_sweep(data).manifest(), parse_sweep(data).manifest()
    assert [r.run_id for r in a] == [r.run_id for r in b] and len(a) == 10
    assert all(0.08 <= r.config.sigma <= 0.2 for r in a)
    with pytest.raises(SweepSpecError, match="low = a, high = b"):
        parse_sweep({"random": {"draws": 2, "sigma": {"low": 0.3, "high": 0.1}}})
    with pytest.raises(SweepSpecError, match="unknown section"):
        parse_sweep({"axis": {}})


@pytest.mark.slow
def test_reproduce_trains_the_missing_seeds_of_its_conditions_in_one_sweep(tmp_path):
    from gridform.experiments.reproduce._common import _Context
    from gridform.experiments.reproduce.conditions import _train_arms

    ctx = _Context(tmp_path, quick=False, run_dir=None)
    fields = TINY | {"steps": 12, "checkpoint_every": 6}
    arms = {"relu": {}, "tanh": {"activation": "tanh"}}
    runs = _train_arms(ctx, "demo", [0, 1], {"relu": {}}, **fields)["relu"]
    sweep = tmp_path / "sweeps" / "conditions"
    assert [p.parent for p, _ in runs] == [sweep / "runs"] * 2
    assert [s.steps for _, s in runs] == [12, 12]
    # a second call reuses both ReLU runs and trains only the tanh arm
    again = _train_arms(ctx, "demo", [0, 1], arms, **fields)
    assert [p for p, _ in again["relu"]] == [p for p, _ in runs]
    assert [read_run_config(p).activation for p, _ in again["tanh"]] == ["tanh", "tanh"]
    assert [read_run_config(p).seed for p, _ in again["tanh"]] == [0, 1]
    assert not (tmp_path / "runs").exists()


def test_a_point_adds_settings_and_may_pin_its_seed(tmp_path):
    from gridform.experiments.sweep.spec import SweepSpecError, parse_sweep

    spec = parse_sweep({"base": {"preset": "demo", "set": TINY},
                        "axes": {"sigma": [0.1, 0.12]},
                        "points": [{}, {"activation": "tanh", "seed": 5}],
                        "sweep": {"seeds": [0, 1]}})
    got = [(r.config.sigma, r.config.activation, r.config.seed) for r in spec.manifest()]
    assert got == [(0.1, "relu", 0), (0.1, "relu", 1), (0.1, "tanh", 5),
                   (0.12, "relu", 0), (0.12, "relu", 1), (0.12, "tanh", 5)]
    with pytest.raises(SweepSpecError, match="both an axis or random and set by a point"):
        parse_sweep({"axes": {"sigma": [0.1]}, "points": [{"sigma": 0.2}]})
    with pytest.raises(SweepSpecError, match="unknown"):
        parse_sweep({"points": [{"sigmaa": 0.2}]})
    with pytest.raises(SweepSpecError, match="list of tables"):
        parse_sweep({"points": {"sigma": 0.2}})


# every sweep file shipped in examples/, with the number of runs its comment promises
EXAMPLE_SWEEPS = {"modules.toml": 4, "module_candidates.toml": 14, "module_seq40.toml": 13,
                  "module_interventions.toml": 12, "module_norm_conformal.toml": 6,
                  "no_free_lunch.toml": 48,
                  "spacing_distance.toml": 18, "spacing_law.toml": 135}


def test_every_example_sweep_expands_into_the_runs_it_describes():
    folder = Path(__file__).parents[3] / "examples"
    assert {p.name for p in folder.glob("*.toml")} == set(EXAMPLE_SWEEPS)
    for name, n_runs in EXAMPLE_SWEEPS.items():
        runs = load_sweep(folder / name).manifest()
        assert len({r.run_id for r in runs}) == len(runs)
        assert len(runs) == n_runs, name
    # and the [quick] sections: 12 runs each
    for name in ("no_free_lunch.toml", "spacing_law.toml"):
        assert len(load_sweep(folder / name, quick=True).manifest()) == 12
    # the five-seed file: seeds 2-4 of the best setting, and every run on a torus with
    # 40-step paths
    runs = load_sweep(folder / "module_seq40.toml").manifest()
    assert all(r.config.boundary == "periodic" and r.config.sequence_length == 40
               for r in runs)
    plain = sorted(r.config.seed for r in runs if set(r.varied) == {"seed"})
    assert plain == [2, 3, 4]


def test_results_and_report_group_runs_by_their_varied_settings_only(tmp_path):
    """A varied setting that is also a metric (steps) is one column of results.csv, and
    the population's columns (orientation spread, modules, torus) are never conditions."""
    import csv

    from gridform.experiments.sweep.engine import write_results
    from gridform.presentation.sweep_report import condition_table, varied_columns

    spec = parse_sweep({"base": {"preset": "demo", "set": TINY},
                        "points": [{"steps": 10}, {"steps": 20}], "sweep": {"seeds": [0, 1]}})
    runs = spec.manifest()
    for i, r in enumerate(runs):
        d = r.run_dir(tmp_path)
        d.path.mkdir(parents=True)
        d.done_path.write_text(json.dumps({
            "run_id": r.run_id, "status": "done",
            "summary": {"steps": r.config.steps, "error_cm": 5.0, "frac_above_0.3": 0.5,
                        "orientation_spread_deg": 3.0 + i, "n_modules": i, "torus": False}}))
    (tmp_path / "manifest.json").write_text(json.dumps({"runs": [r.to_dict() for r in runs]}))
    write_results(spec, tmp_path)
    with open(tmp_path / "results.csv", newline="") as f:
        header = next(csv.reader(f))
        f.seek(0)
        rows = list(csv.DictReader(f))
    assert len(header) == len(set(header)) and header[1:3] == ["steps", "seed"]
    assert "orientation_spread_deg" in header
    varied = varied_columns(header, json.loads((tmp_path / "manifest.json").read_text()))
    assert varied == ["steps", "seed"]
    table = condition_table(rows, varied)
    assert [(t["condition"], t["runs"]) for t in table] == [({"steps": "10"}, 2),
                                                            ({"steps": "20"}, 2)]
    # without a manifest, every column that is not a metric is a setting
    assert varied_columns(["run_id", "sigma", "seed", "torus", "n_modules", "status"],
                          {}) == ["sigma", "seed"]
