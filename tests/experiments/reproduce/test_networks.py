"""Which networks the trained-network claims use: the rnn network is the first seed of
the ReLU/DoS arm of conditions, and its controls are that recipe with one field changed."""

from pathlib import Path
from types import SimpleNamespace

import pytest

import gridform.experiments.reproduce._common as common
from gridform.experiments.reproduce._common import ARMS, QUICK_BASE, _Context
from gridform.training.config import load_config


@pytest.fixture
def trained(monkeypatch):
    """Record what would be trained instead of training it."""
    seen = {"configs": {}, "arms": None}

    def fake_train_config(ctx, name, config):
        seen["configs"][name] = config
        return ctx.out / "runs" / name, SimpleNamespace(config=config)

    def fake_train_arms(ctx, preset, seeds, arms, **base):
        seen["arms"] = (preset, list(seeds), dict(arms), base)
        return {name: [(Path(f"{name}-{s}"), None) for s in seeds] for name in arms}

    monkeypatch.setattr(common, "_train_config", fake_train_config)
    monkeypatch.setattr(common, "_train_arms", fake_train_arms)
    return seen


def test_quick_rnn_network_and_controls_are_the_conditions_recipe(tmp_path, trained):
    ctx = _Context(tmp_path, quick=True, run_dir=None, seed=4, targets=("rnn",))
    common._rnn_run(ctx)
    controls = common._control_runs(ctx)
    configs = trained["configs"]
    assert configs["rnn"] == load_config("demo", seed=4, **QUICK_BASE)
    assert configs["rnn-tanh"] == load_config("demo", seed=4, activation="tanh", **QUICK_BASE)
    assert configs["rnn-gaussian"] == load_config("demo", seed=4, place_cell_kind="gaussian",
                                                  **QUICK_BASE)
    assert set(controls) == {"tanh, DoS", "ReLU, Gaussian"}
    assert trained["arms"] is None  # conditions is not run: only the two controls train


def test_with_conditions_every_arm_trains_in_one_sweep(tmp_path, trained):
    ctx = _Context(tmp_path, quick=True, run_dir=None, seed=0, targets=("rnn", "conditions"))
    controls = common._control_runs(ctx)
    preset, seeds, arms, base = trained["arms"]
    assert (preset, seeds, arms, base) == ("demo", [0, 1, 2], ARMS, QUICK_BASE)
    # the controls are then looked up by their seed-0 config, never taken by position
    assert trained["configs"]["rnn-tanh"] == load_config("demo", seed=0, activation="tanh",
                                                         **QUICK_BASE)
    assert controls["tanh, DoS"][0] == tmp_path / "runs" / "rnn-tanh"


def test_a_given_runs_controls_change_one_field_of_its_config(tmp_path, trained, monkeypatch):
    given = load_config("demo", n_hidden=64, steps=10, seed=2)
    monkeypatch.setattr(common, "_rnn_run", lambda ctx: (tmp_path / "given", None))
    monkeypatch.setattr("gridform.training.runs.read_run_config", lambda run: given)
    ctx = _Context(tmp_path, quick=True, run_dir=tmp_path / "given",
                   targets=("rnn", "conditions"))
    common._control_runs(ctx)
    configs = trained["configs"]
    assert configs["rnn-tanh"] == given.model_copy(update={"activation": "tanh"})
    assert configs["rnn-gaussian"].place_cell_kind == "gaussian"
    assert configs["rnn-gaussian"].n_hidden == 64 and trained["arms"] is None


def test_null_fraction_counts_lattices_above_their_own_spectrum_and_noise_near_five_percent():
    import numpy as np

    from gridform.analysis.scores import score_ratemaps
    from gridform.core.ratemaps import Ratemaps
    from gridform.data.synthetic import lattice_ratemaps
    from gridform.experiments.reproduce._common import null_fraction

    rng = np.random.default_rng(0)
    lattices = lattice_ratemaps(0.7, rng.uniform(0, 60, 40), rng.uniform(0, 0.7, (40, 2)))
    frac, null = null_fraction(lattices, score_ratemaps(lattices), np.ones(40, bool), 0)
    assert frac >= 0.9 and null is not None
    noise = Ratemaps(rng.random((60, 20, 20)), lattices.occupancy, lattices.x_centers,
                     lattices.y_centers)
    frac_noise, _ = null_fraction(noise, score_ratemaps(noise), np.ones(60, bool), 0)
    assert frac_noise <= 0.15
    none, no_null = null_fraction(noise, None, np.zeros(60, bool), 0)
    assert np.isnan(none) and no_null is None


def test_path_integration_without_a_measured_control_does_not_pass(tmp_path, monkeypatch):
    import math

    import gridform.experiments.reproduce.rnn as rnn

    monkeypatch.setattr(rnn, "_rnn_trained", lambda ctx: SimpleNamespace(task=None,
                                                                         params=None))
    monkeypatch.setattr("gridform.training.evaluate.error_without_velocity",
                        lambda task, params, n_batches: math.nan)
    claim = rnn._path_integration_claim(_Context(tmp_path, quick=True, run_dir=None), 5.0)
    assert claim.verdict == "control not measured"


def test_a_network_without_two_active_units_has_no_grid_like_unit():
    import numpy as np

    from gridform.experiments.reproduce.conditions import _fraction

    assert _fraction(None, None, np.array([True, False, False]), 0) == 0.0
