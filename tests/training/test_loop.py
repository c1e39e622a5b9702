"""Ctrl-C during training: a checkpoint of the step reached, the resume command, and a
resumed run bitwise equal to one never interrupted."""

import numpy as np
import pytest

from gridform.cli.app import main
from gridform.training import TrainingInterrupted, load_config, train
from gridform.training.loop import _HostSide
from gridform.training.runs import RunDir

TINY = {"n_hidden": 24, "n_place_cells": 32, "batch_size": 8, "sequence_length": 6,
        "checkpoint_every": 5, "learning_rate": 0.003, "init_input_scale": 32.0}


@pytest.mark.slow
def test_ctrl_c_checkpoints_the_step_reached_and_resume_is_bitwise(tmp_path):
    config = load_config("demo", **TINY, steps=12)

    def ctrl_c_at_7(step, loss, error):
        if step == 7:  # between the regular checkpoints of steps 5 and 10
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match=r"interrupted at step 7 of 12; the "
                       r"checkpoint of step 7 .* gridform train --resume --out"):
        train(config, tmp_path / "cut", on_step=ctrl_c_at_7)
    assert RunDir(tmp_path / "cut").checkpoint_step() == 7
    train(config, tmp_path / "cut", resume=True)
    train(config, tmp_path / "whole")
    cut, whole = RunDir(tmp_path / "cut").load_params(), RunDir(tmp_path / "whole").load_params()
    for name in whole:
        assert np.array_equal(cut[name], whole[name]), name


@pytest.mark.slow
def test_the_command_line_prints_the_resume_command_and_exits_130(tmp_path, monkeypatch,
                                                                 capsys):
    original = _HostSide.after

    def after(self, step, params, opt_state, loss):
        original(self, step, params, opt_state, loss)
        if step == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(_HostSide, "after", after)
    out = tmp_path / "run"
    args = ["train", "--preset", "demo", "--steps", "8", "--out", str(out)]
    args += [f"--set={k}={v}" for k, v in TINY.items()]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "gridform: interrupted: interrupted at step 3 of 8" in err
    assert f"gridform train --resume --out {out}" in err and "Traceback" not in err
    assert RunDir(out).checkpoint_step() == 3
