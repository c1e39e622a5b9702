"""TrainedRun: a run directory read back as config, task, weights and saved results."""

import numpy as np
import pytest

from gridform.training.config import load_config
from gridform.training.trained import TrainedRun


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from gridform.training.loop import train

    run = tmp_path_factory.mktemp("trained") / "run"
    train(load_config("demo", overrides=["n_hidden=16", "n_place_cells=64", "batch_size=8",
                                         "eval_batches=2"], steps=3), run)
    return run


def test_it_carries_the_runs_config_task_and_final_weights(tiny_run):
    from safetensors.numpy import load_file

    run = TrainedRun.load(tiny_run)
    assert run.config.n_hidden == 16 and run.config.steps == 3
    assert run.task.config.resolved() == run.config.resolved()
    assert run.task is run.task  # built once
    saved = load_file(tiny_run / "model.safetensors")
    assert set(run.params) == set(saved)
    np.testing.assert_array_equal(np.asarray(run.params["w_rec"]), saved["w_rec"])


def test_saved_results_are_read_and_a_missing_evaluation_names_the_command(tiny_run):
    run = TrainedRun.load(tiny_run)
    with pytest.raises(FileNotFoundError, match="gridform evaluate"):
        run.scores()
    ev = run.evaluate(bins=8)
    assert ev.ratemaps.rates.shape == (16, 8, 8)
    ev.write(tiny_run)
    assert run.summary() == ev.summary
    assert run.ratemaps().rates.shape == (16, 8, 8)
    np.testing.assert_allclose(run.scores().score_60, ev.scores.score_60, rtol=1e-5,
                               equal_nan=True)


def test_a_directory_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="run directory not found"):
        TrainedRun.load(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="holds no run"):
        TrainedRun.load(tmp_path)
