"""A population of seeds trained as one program equals the separate runs of those seeds."""

import json

import numpy as np
import pytest
from test_sweep import TINY, tiny_sweep

from gridform.cli.app import main
from gridform.experiments.sweep import train_population
from gridform.experiments.sweep.population import without_seed
from gridform.training import load_config, train
from gridform.training.runs import load_params, read_run_config


@pytest.mark.slow
def test_population_equals_separate_runs(tmp_path):
    configs = [load_config("demo", **TINY, steps=25, seed=s) for s in (0, 1)]
    dirs = [tmp_path / f"p{c.seed}" for c in configs]
    pop = train_population(configs, dirs)
    assert pop["diverged"] == [False, False] and pop["loss"].shape == (2,)
    for cfg, params, d in zip(configs, pop["params"], dirs, strict=True):
        run = tmp_path / f"single{cfg.seed}"
        train(cfg, run)
        single = load_params(run)
        assert set(params) == set(single)
        for name in single:
            np.testing.assert_allclose(params[name], single[name], rtol=1e-3, atol=2e-5,
                                       err_msg=name)
        # each member is an ordinary run directory: its config and the member's weights
        assert read_run_config(d) == cfg
        written = load_params(d)
        for name in single:
            np.testing.assert_array_equal(written[name], params[name], err_msg=name)
    # members differ from each other (different seeds)
    assert not np.allclose(pop["params"][0]["w_rec"], pop["params"][1]["w_rec"])


def test_only_distinct_seeds_of_one_config_make_a_population():
    a, b = (load_config("demo", **TINY, seed=s) for s in (0, 1))
    assert without_seed(a) == without_seed(b) and "seed" not in without_seed(a)
    with pytest.raises(ValueError, match=r"differ only in seed; these differ in \['n_hidden'\]"):
        train_population([a, load_config("demo", **TINY | {"n_hidden": 16})])
    with pytest.raises(ValueError, match=r"seeds must be distinct, got \[0, 0\]"):
        train_population([a, load_config("demo", **TINY, seed=0)])
    with pytest.raises(ValueError, match="at least one config"):
        train_population([])


@pytest.mark.slow
def test_population_mode_of_the_sweep_writes_ordinary_runs(tmp_path):
    path = tiny_sweep(tmp_path, 'activation = ["relu"]', steps=20,
                      extra="[sweep]\nseeds = [0, 1, 2]\n")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1",
                 "--population", "3"]) == 0
    dones = [json.loads(p.read_text()) for p in out.glob("runs/*/DONE.json")]
    assert len(dones) == 3 and all(d.get("population") == 3 for d in dones)
    assert len((out / "results.csv").read_text().strip().splitlines()) == 4
