import json
import os
import pickle
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gridform import Box
from gridform.cli.app import main
from gridform.core.models import readout_loss
from gridform.training import ConfigError, RunExistsError, TrainingDiverged, load_config, train
from gridform.training.checkpoint import CheckpointError, load_checkpoint
from gridform.training.loop import Task, build_task

TINY = ["n_hidden=24", "n_place_cells=32", "batch_size=8", "sequence_length=6",
        "checkpoint_every=5", "learning_rate=0.003", "init_input_scale=32.0"]


def tiny(**kw):
    return load_config("demo", overrides=TINY, **kw)


def test_bad_configs_name_the_field():
    for override, field in [("n_hidden=0", "n_hidden"), ("learning_rate=-1", "learning_rate"),
                            ("learning_rate=0", "learning_rate"), ("bogus=1", "bogus"),
                            ("activation='swish'", "activation"), ("steps='many'", "steps"),
                            ("box_width=-2.2", "box_width"), ("speed_scale=0", "speed_scale"),
                            ("speed_scale=inf", "speed_scale"),
                            ("lr_warmup_steps=-1", "lr_warmup_steps"),
                            ("lr_warmup_steps=12000", "lr_warmup_steps"),
                            ("activity_l1=-0.1", "activity_l1"),
                            ("activity_l1=nan", "activity_l1"),
                            ("place_cell_layout='hexagonal'", "place_cell_layout"),
                            ("place_cell_file='cells.npz'", "place_cell_layout"),
                            ("weight_decay=inf", "weight_decay"),
                            ("weight_decay_start=-1e-3", "weight_decay_start"),
                            ("weight_decay_start=1e-3,weight_decay_ramp_steps=0",
                             "weight_decay_ramp_steps"),
                            ("weight_decay_start=1e-3,weight_decay_ramp_steps=10,"
                             "weight_decay=0", "weight_decay_start")]:
        if override.startswith("place_cell_file"):
            override = [override, "place_cell_layout='lattice'"]
        else:
            override = override.split(",")
        with pytest.raises(ConfigError, match=field):
            load_config("demo", overrides=override)


def test_bad_config_on_the_cli_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--set", "n_hidden=-5", "--out", str(out)]) == 2
    assert "n_hidden" in capsys.readouterr().err
    assert not out.exists()
    toml = tmp_path / "c.toml"
    toml.write_text("[train]\nunknown_key = 3\n")
    assert main(["train", "--config", str(toml), "--out", str(out)]) == 2
    assert "unknown_key" in capsys.readouterr().err
    assert not out.exists()


def test_lattice_layout_puts_the_centres_on_bin_centres_whatever_the_seed():
    lattice = [build_task(tiny(place_cell_layout="lattice", n_place_cells=36, seed=s))
               for s in (0, 1)]
    c = lattice[0].place_cells.centers
    x = -1.1 + 2.2 / 6 * (np.arange(6) + 0.5)  # 6 x 6 bins of the 2.2 m box
    np.testing.assert_allclose(np.unique(c[:, 0]), x, atol=1e-12)
    np.testing.assert_allclose(np.unique(c[:, 1]), x, atol=1e-12)
    assert len({tuple(r) for r in c}) == 36
    np.testing.assert_array_equal(c, lattice[1].place_cells.centers)
    random = [build_task(tiny(n_place_cells=36, seed=s)).place_cells.centers for s in (0, 1)]
    assert not np.allclose(random[0], random[1])


def test_a_lattice_of_the_wrong_shape_is_refused_on_the_cli(tmp_path, capsys):
    from gridform.core.place_cells import lattice_shape

    box = Box(2.2, 2.2)
    assert lattice_shape(512, box) == (32, 16)
    assert lattice_shape(529, box) == (23, 23)
    assert lattice_shape(12, Box(4.0, 1.0)) == (6, 2)
    assert lattice_shape(7, box) == (7, 1)
    out = tmp_path / "run"
    assert main(["train", "--set", "place_cell_layout='lattice'", "--steps", "2",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "place_cell_layout='lattice': 512 place cells make a 32 x 16 lattice" in err
    assert "506 (23 x 22) or 528 (24 x 22)" in err
    assert not out.exists()


def test_network_inputs_in_either_velocity_unit():
    v = np.array([[[0.5, -0.25], [1.0, 0.0]]])  # (batch, time, 2), m/s
    start = np.array([[0.1, -0.2]])
    per_s = build_task(tiny())
    per_step = build_task(load_config("demo", overrides=[*TINY, "velocity_units='m_per_step'"]))
    assert per_s.config.velocity_units == "m_per_s"  # the demo preset's unit
    vs, p0 = per_s.network_inputs(v, start)
    vt, p0t = per_step.network_inputs(v, start)
    np.testing.assert_array_equal(vs, v)
    np.testing.assert_allclose(vt, v * 0.02, rtol=1e-7)  # metres per step of dt = 20 ms
    code = per_s.place_cells.encode(start)
    np.testing.assert_allclose(p0, 32.0 * code, rtol=1e-6)  # init_input_scale
    np.testing.assert_allclose(p0t, p0, rtol=1e-6)


def test_speed_scale_sets_the_rayleigh_speed_of_the_training_paths():
    # periodic box: no wall slow-down, so the mean speed is the Rayleigh mean b sqrt(pi/2)
    for b in (0.4, 1.6):
        task = build_task(tiny(speed_scale=b, boundary="periodic", sequence_length=20))
        assert task.motion.speed_scale == b
        v = np.asarray(task.batch(task.data_key, 1000)[0])  # m/s input: 20,000 speeds
        speed = np.linalg.norm(v, axis=-1)
        # Rayleigh: std/mean = sqrt(4/pi - 1) = 0.52, so the mean of 20,000 is within 1%
        assert abs(speed.mean() / (b * np.sqrt(np.pi / 2)) - 1) < 0.015
        assert abs(np.median(speed) / (b * np.sqrt(2 * np.log(2))) - 1) < 0.02


def test_run_ids_survive_the_addition_of_fields():
    import hashlib

    # the demo preset's own weight-decay schedule set to the fields' defaults (off)
    off = {"weight_decay_start": 0.0, "weight_decay_hold_steps": 0, "weight_decay_ramp_steps": 0}
    config = tiny(**off)
    added = ("speed_scale", "lr_warmup_steps", "activity_l1", "place_cell_layout",
             "weight_decay_start", "weight_decay_hold_steps", "weight_decay_ramp_steps",
             "hidden_norm", "conformal_weight", "conformal_scale")
    before = {k: v for k, v in config.resolved().items() if k not in added}
    # the hash a config had before these fields existed: its resolved fields, sorted
    old = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:12]
    assert config.config_hash() == old
    assert config.resolved()["speed_scale"] == pytest.approx(0.8168, abs=1e-4)
    assert config.resolved()["lr_warmup_steps"] == 0
    assert config.resolved()["activity_l1"] == 0
    assert config.resolved()["place_cell_layout"] == "random"
    for changed in (tiny(**off, speed_scale=1.0), tiny(**off, lr_warmup_steps=10),
                    tiny(**off, activity_l1=0.1),
                    tiny(**off, place_cell_layout="lattice", n_place_cells=36),
                    tiny(**off | {"weight_decay_start": 1e-3, "weight_decay_ramp_steps": 5})):
        assert changed.config_hash() != old and changed.run_id() != config.run_id()


@pytest.mark.slow
def test_learning_rate_warmup_ramps_then_follows_the_schedule():
    from gridform.training.loop import learning_rate_schedule

    assert learning_rate_schedule(tiny()) == 0.003  # no ramp: the plain constant
    ramp = learning_rate_schedule(tiny(lr_warmup_steps=4, steps=100))
    np.testing.assert_allclose([ramp(i) for i in range(6)],
                               0.003 * np.array([0.25, 0.5, 0.75, 1, 1, 1]), rtol=1e-6)
    # on a cosine decay the ramp multiplies the decayed rate while it lasts
    cos = learning_rate_schedule(tiny(lr_warmup_steps=50, steps=100, lr_schedule="cosine"))
    plain = learning_rate_schedule(tiny(steps=100, lr_schedule="cosine"))
    for i in (0, 10, 49):
        assert float(cos(i)) == pytest.approx((i + 1) / 50 * float(plain(i)), rel=1e-6)
    for i in (50, 75, 99):
        assert float(cos(i)) == pytest.approx(float(plain(i)), rel=1e-6)
    assert float(plain(100)) == pytest.approx(0.05 * 0.003, rel=1e-6)
    # and the optimiser takes it: Adam's first update moves each weight by about the rate
    # (g / sqrt(g^2) = sign g), so a four-step ramp makes it a quarter as large
    moves = []
    for warmup in (0, 4):
        task = build_task(tiny(lr_warmup_steps=warmup))
        params, opt_state = task.init()
        before = np.array(params["w_rec"])  # a copy: make_step donates params
        after, _, _ = task.make_step()(params, opt_state, 0)
        moves.append(np.median(np.abs(np.asarray(after["w_rec"]) - before)))
    assert moves[0] == pytest.approx(0.003, rel=0.05)
    assert moves[1] == pytest.approx(0.003 / 4, rel=0.05)


@pytest.mark.slow
def test_weight_decay_schedule_holds_then_moves_geometrically_to_weight_decay():
    plain = build_task(tiny(weight_decay_start=0))
    assert plain.weight_decay_at(0) == plain.weight_decay_at(None) == 1e-4
    off = build_task(tiny(weight_decay_start=0, weight_decay_hold_steps=7,
                          weight_decay_ramp_steps=3))  # a start of 0 alone turns it off
    assert off.weight_decay_at(jnp.asarray(0)) == off.weight_decay_at(jnp.asarray(9)) == 1e-4
    task = build_task(tiny(weight_decay_start=1e-2, weight_decay_hold_steps=10,
                           weight_decay_ramp_steps=20))
    got = [float(task.weight_decay_at(jnp.asarray(i))) for i in (0, 10, 15, 20, 30, 31, 500)]
    want = [1e-2, 1e-2, 1e-2 * 0.01 ** 0.25, 1e-3, 1e-4, 1e-4, 1e-4]  # 1e-2 -> 1e-4 in 20
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert task.weight_decay_at(None) == 1e-4  # evaluation: the value the schedule ends at
    # the training objective carries the scheduled term, and only that term moves
    params, _ = task.init()
    batch = task.training_batch(task.data_key)
    w2 = float(jnp.sum(params["w_rec"] ** 2))
    at0, late = float(task.objective(params, batch, 0)), float(task.objective(params, batch))
    assert at0 - late == pytest.approx((1e-2 - 1e-4) * w2, rel=1e-4)
    assert float(task.objective(params, batch, 40)) == late
    # a step change: start through update 10, weight_decay from update 11
    step = build_task(tiny(weight_decay_start=1e-2, weight_decay_hold_steps=10,
                           weight_decay_ramp_steps=1))
    np.testing.assert_allclose([float(step.weight_decay_at(jnp.asarray(i)))
                                for i in (10, 11)], [1e-2, 1e-4], rtol=1e-6)
    # and the optimiser sees it: a strong start shrinks w_rec more in the first update
    shrink = []
    for t in (plain, build_task(tiny(weight_decay_start=10.0, weight_decay_ramp_steps=5))):
        params, opt_state = t.init()
        before = float(jnp.sum(params["w_rec"] ** 2))
        after, _, _ = t.make_step()(params, opt_state, 0)
        shrink.append(float(jnp.sum(after["w_rec"] ** 2)) / before)
    assert shrink[1] < shrink[0] - 0.01


def test_squared_error_compares_the_readout_with_the_code_at_mean_one():
    task = build_task(tiny(loss="mse"))
    params, _ = task.init()
    key = task.data_key
    v, p0, targets, _ = task.batch(key)
    _, logits = task.apply(params, v, p0)
    n_place = targets.shape[-1]
    assert n_place == 32
    decay = 1e-4 * float(jnp.sum(params["w_rec"] ** 2))
    want = float(jnp.mean(jnp.sum((n_place * targets - logits) ** 2, axis=-1))) + decay
    assert float(task.loss(params, task.batch(key))[0]) == pytest.approx(want, rel=1e-5)
    # the training objective (time-major, fused) is the same number for the same batch
    assert float(task.objective(params, task.training_batch(key))) == pytest.approx(
        want, rel=1e-5)
    # the cross-entropy keeps the code as it is (a distribution over cells)
    ce = build_task(tiny())
    ce_want = float(-jnp.mean(jnp.sum(targets * jax.nn.log_softmax(logits, -1), -1))) + decay
    assert float(ce.objective(params, ce.training_batch(key))) == pytest.approx(ce_want,
                                                                                rel=1e-5)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_evaluation_loss_is_the_training_objective(loss):
    """Task.loss (batch first, from the logits it also decodes) and Task.objective (time
    major, fused readout) are one objective: same batch, same number, activity cost
    included."""
    task = build_task(tiny(loss=loss, activity_l1=0.05))
    params, _ = task.init()
    key = jax.random.fold_in(task.data_key, 3)
    got = float(task.loss(params, task.batch(key))[0])
    assert got == pytest.approx(float(task.objective(params, task.training_batch(key))),
                                rel=1e-5)
    plain = build_task(tiny(loss=loss))
    assert got > float(plain.loss(params, plain.batch(key))[0])  # the cost is counted


def test_readout_loss_names_bad_arguments():
    hs, y = jnp.ones((4, 3)), jnp.full((4, 5), 0.2)
    with pytest.raises(ValueError, match="exactly one of logits or decoder"):
        readout_loss(hs, y, logits=jnp.ones((4, 5)), decoder=jnp.ones((3, 5)))
    with pytest.raises(ValueError, match="exactly one of logits or decoder"):
        readout_loss(hs, y)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        readout_loss(hs, y, "hinge", logits=jnp.ones((4, 5)))


def test_forward_pass_runs_once_per_loss():
    task = build_task(tiny(steps=1))
    params, _ = task.init()
    calls = []
    original = task.apply

    def counting(*a, **k):
        calls.append(1)
        return original(*a, **k)

    object.__setattr__(task, "apply", counting)
    batch = task.batch(task.data_key)
    task.loss(params, batch)
    assert len(calls) == 1


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_trains_and_the_loss_falls(tmp_path, cell):
    config = tiny(steps=40)
    config = config.model_copy(update={"cell": cell})
    task = build_task(config)
    params, opt = task.init()
    step = task.make_step()
    losses = []
    for i in range(40):
        params, opt, loss = step(params, opt, jnp.asarray(i))
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


@pytest.mark.slow
def test_existing_run_is_never_overwritten(tmp_path):
    run = tmp_path / "run"
    train(tiny(steps=5), run)
    before = (run / "model.safetensors").read_bytes()
    with pytest.raises(RunExistsError, match="--resume"):
        train(tiny(steps=5), run)
    assert (run / "model.safetensors").read_bytes() == before
    with pytest.raises(ValueError, match="differs"):
        train(tiny(steps=10, seed=3), run, resume=True)
    train(tiny(steps=5, seed=4), run, force=True)
    assert (run / "model.safetensors").read_bytes() != before


@pytest.mark.slow
def test_an_mse_run_from_before_the_target_scale_is_not_resumed(tmp_path):
    run = tmp_path / "run"
    train(tiny(steps=5, loss="mse"), run)
    train(tiny(steps=10, loss="mse"), run, resume=True)  # a run of this version resumes
    # the config.json an mse run had before the targets were scaled: no marker
    meta = json.loads((run / "config.json").read_text())
    del meta["mse_targets"]
    (run / "config.json").write_text(json.dumps(meta))
    before = (run / "model.safetensors").read_bytes()
    with pytest.raises(ValueError, match=r"raw place code.*--force"):
        train(tiny(steps=15, loss="mse"), run, resume=True)
    assert (run / "model.safetensors").read_bytes() == before
    assert json.loads((run / "config.json").read_text()) == meta  # nothing rewritten
    # a cross-entropy run never depended on it
    ce = tmp_path / "ce"
    train(tiny(steps=5), ce)
    meta = json.loads((ce / "config.json").read_text())
    del meta["mse_targets"]
    (ce / "config.json").write_text(json.dumps(meta))
    train(tiny(steps=10), ce, resume=True)


@pytest.mark.slow
def test_sigkill_then_resume_is_bitwise_identical(tmp_path):
    rng = np.random.default_rng()
    kill_after = int(rng.integers(1, 6)) * 5  # a random checkpointed step in 5..25
    argv = ["train", "--preset", "demo", "--steps", "60"]
    argv += [x for s in TINY for x in ("--set", s)]
    ref = tmp_path / "ref"
    assert main([*argv, "--out", str(ref)]) == 0
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "gridform.cli.app", *argv, "--out", str(run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = run / "checkpoint.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if json.loads(ckpt.read_text())["step"] >= kill_after:
                break
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "model.safetensors").exists() or \
        json.loads(ckpt.read_text())["step"] == 60
    assert main([*argv, "--out", str(run), "--resume"]) == 0
    assert (run / "model.safetensors").read_bytes() == (ref / "model.safetensors").read_bytes()


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.slow
def test_pickle_in_place_of_a_checkpoint_is_refused_and_never_runs(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    config = tiny(steps=5)
    train(config, run)
    payload = pickle.dumps(_Boom())
    (run / "checkpoint.safetensors").write_bytes(payload)
    meta = json.loads((run / "checkpoint.json").read_text())
    meta["sha256"] = hashlib.sha256(payload).hexdigest()
    (run / "checkpoint.json").write_text(json.dumps(meta))
    params, opt = build_task(config).init()
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(run, "checkpoint", params, opt)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.slow
def test_corrupt_and_truncated_checkpoints_are_reported(tmp_path):
    run = tmp_path / "run"
    config = tiny(steps=5)
    train(config, run)
    params, opt = build_task(config).init()
    data = (run / "checkpoint.safetensors").read_bytes()
    (run / "checkpoint.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(run, "checkpoint", params, opt)
    (run / "checkpoint.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(run, "checkpoint", params, opt)


@pytest.mark.slow
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    original = Task.make_step

    def poisoned(self):
        step = original(self)

        def wrapped(params, opt, i):
            params, opt, loss = step(params, opt, i)
            return params, opt, jnp.where(i >= 12, jnp.nan, loss)

        return wrapped

    monkeypatch.setattr(Task, "make_step", poisoned)
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match="step 13"):
        train(tiny(steps=30), run)
    assert json.loads((run / "checkpoint.json").read_text())["step"] == 10
    assert not (run / "model.safetensors").exists()


@pytest.mark.slow
def test_evaluate_writes_the_promised_summary(tmp_path, capsys):
    run = tmp_path / "run"
    train(tiny(steps=10, eval_batches=3), run)
    assert main(["evaluate", str(run)]) == 0
    s = json.loads((run / "summary.json").read_text())
    for key in ("steps", "error_cm", "frac_above_0.3", "frac_above_0.8",
                "frac_above_0.3_minmax", "frac_above_0.8_minmax", "mean_pairwise_corr",
                "median_spacing_m", "predicted_spacing_m", "orientation_spread_deg",
                "n_modules", "torus"):
        assert key in s
    assert s["steps"] == 10
    out = capsys.readouterr().out
    assert f"decoding the true place code: {s['decoder_floor_cm']:.1f} cm" in out
    # ten steps make no grid unit: no module, no torus, and the line says so
    assert s["n_modules"] == 0 and s["torus"] is False
    assert "0 modules; one module on a torus: no" in out
    assert (run / "ratemaps.npz").exists() and (run / "scores.csv").exists()
    # the floor: the same top-3 decoder on the true code of the same evaluation positions
    task = build_task(tiny(steps=10, eval_batches=3))
    floor = []
    for b in range(3):
        _, _, targets, positions = task.batch(jax.random.fold_in(task.eval_key, b))
        decoded = task.place_cells.decode(targets)
        floor.append(float(jnp.mean(jnp.linalg.norm(decoded - positions, axis=-1))))
    assert s["decoder_floor_cm"] == pytest.approx(100 * np.mean(floor), rel=1e-5)
    # 32 DoS cells are too sparse for a top-3 decoder: beside the nearest cell it picks
    # far cells (code ~0) over near ones in the negative surround, so even the true code
    # decodes no better than chance here (test_place_cells has the dense case)
    assert s["decoder_floor_cm"] > 50
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_a_kill_between_checkpoint_files_leaves_a_loadable_checkpoint(tmp_path, monkeypatch):
    import gridform.training.checkpoint as ck
    from gridform.training.checkpoint import save_checkpoint

    old = {"w": jnp.zeros((3,))}
    new = {"w": jnp.ones((3,))}
    save_checkpoint(tmp_path, "checkpoint", old, {}, {"step": 1})
    real_replace = ck.os.replace

    def killed_before_final_rename(src, dst):
        if str(src).endswith(".safetensors.new"):
            raise KeyboardInterrupt("killed")
        return real_replace(src, dst)

    monkeypatch.setattr(ck.os, "replace", killed_before_final_rename)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, "checkpoint", new, {}, {"step": 2})
    monkeypatch.undo()
    params, _, meta = load_checkpoint(tmp_path, "checkpoint", old, {})
    assert meta["step"] == 2
    np.testing.assert_array_equal(params["w"], new["w"])


@pytest.mark.slow
def test_evaluate_without_the_topology_extra_leaves_the_modules_out(tmp_path, capsys,
                                                                     monkeypatch):
    import gridform.analysis.topology as topology
    from gridform.core.errors import MissingExtraError

    def missing(module, extra):
        raise MissingExtraError(f"{module} is not installed: pip install 'gridform[{extra}]'")

    monkeypatch.setattr(topology, "require", missing)
    run = tmp_path / "run"
    train(tiny(steps=10, eval_batches=3), run)
    assert main(["evaluate", str(run)]) == 0
    s = json.loads((run / "summary.json").read_text())
    assert "n_modules" not in s and "torus" not in s
    assert "orientation_spread_deg" in s  # needs only the scores
    assert "modules not computed (pip install 'gridform[topology]')" in \
        capsys.readouterr().out


@pytest.mark.slow
def test_evaluate_with_the_spacing_law_records_the_corrected_spacing(tmp_path, capsys):
    from gridform.theory.spectrum import SpacingCorrection, predict, step_length_m
    from gridform.training.evaluate import corrected_spacing_fields

    config = tiny(steps=10, eval_batches=2)
    run = tmp_path / "run"
    train(config, run)
    assert main(["evaluate", str(run), "--step-cost", "1.08", "--offset", "0.18"]) == 0
    s = json.loads((run / "summary.json").read_text())
    step = step_length_m(config.speed_scale, config.dt)
    law = SpacingCorrection(1.08, 0.18)
    expected = predict(config.place_cell_kind, config.sigma, config.surround_scale,
                       correction=law, step_m=step).corrected_spacing_m
    assert s["corrected_spacing_m"] == pytest.approx(expected)
    assert s["spacing_correction"] == pytest.approx(
        {"step_cost": 1.08, "offset": 0.18, "exponent": 4.0, "step_m": step})
    assert s["corrected_spacing_m"] > s["predicted_spacing_m"]
    assert f"corrected_spacing_m      {expected:.3f}" in capsys.readouterr().out
    # the law's zero terms give back the plain prediction
    zero = corrected_spacing_fields(config, SpacingCorrection(0.0, 0.0))
    assert zero["corrected_spacing_m"] == pytest.approx(s["predicted_spacing_m"])
    # without the law's terms the key is absent, not stale: a re-evaluation rewrites it
    assert main(["evaluate", str(run)]) == 0
    assert "corrected_spacing_m" not in json.loads((run / "summary.json").read_text())
    # recorded targets have no simulated code for the law
    recorded = config.model_copy(update={"place_cell_file": "cells.npz"})
    with pytest.raises(ValueError, match="simulated place-cell codes"):
        corrected_spacing_fields(recorded, law)


def test_error_without_velocity_is_the_error_of_a_network_blind_to_velocity():
    """With its velocity weights zeroed the network cannot see the path, so zeroing the
    velocity input changes nothing: both errors are the same; with its own weights the
    errors differ."""
    from gridform.training.evaluate import error_without_velocity, evaluate_params

    task = build_task(load_config("demo", overrides=TINY))
    params, _ = task.init()
    blind = dict(params) | {"w_in": jnp.zeros_like(params["w_in"])}
    seen = evaluate_params(task, blind, n_batches=3).summary.error_cm
    assert 100 * error_without_velocity(task, blind, n_batches=3) == pytest.approx(seen, rel=1e-5)
    assert 100 * error_without_velocity(task, params, n_batches=3) != pytest.approx(
        evaluate_params(task, params, n_batches=3).summary.error_cm, rel=1e-3)
