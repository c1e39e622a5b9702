"""Training loop: batches generated on the fly and determined by (seed, step).

The batch of step ``s`` is drawn with ``fold_in(data_key, s)`` inside the jitted step, so
trajectory simulation, place-cell encoding, the forward pass (once per loss), the
gradient and the optimiser update are one XLA program, and a resumed run sees exactly the
batches it would have seen.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gridform._io import write_json
from gridform.environment import Box
from gridform.models import forward, init_params, readout_loss, sequence_loss_time_major
from gridform.place_cells import PlaceCells, lattice_shape
from gridform.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    save_tensors,
)
from gridform.training.config import ConfigError, TrainConfig
from gridform.trajectories import MotionModel, Trajectories, simulate_trajectories

__all__ = ["RunExistsError", "Task", "TrainingDiverged", "build_task", "learning_rate_schedule",
           "train"]

log = logging.getLogger(__name__)

# Written to every config.json since `loss='mse'` compares the readout with the place code
# times the number of cells (Task.loss_targets); an mse run without it used the raw code.
MSE_TARGETS_KEY = "mse_targets"

RUN_FILES = ("config.json", "checkpoint.safetensors", "checkpoint.safetensors.new",
             "checkpoint.json", "metrics.jsonl",
             "model.safetensors", "ratemaps.npz", "scores.csv", "summary.json", "report.html")


class RunExistsError(ValueError):
    """The run directory already holds a run and neither resume nor force was asked."""


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass(frozen=True, eq=False)
class Task:
    """Everything derived from a config: arena, place cells, optimiser, jitted functions."""

    config: TrainConfig
    box: Box
    motion: MotionModel
    place_cells: PlaceCells
    optimizer: optax.GradientTransformation
    init_key: jax.Array
    data_key: jax.Array
    eval_key: jax.Array
    recorded: tuple[jax.Array, jax.Array] | None = None  # (positions, velocities) of a path

    @property
    def matmul_dtype(self):
        return jnp.bfloat16 if self.config.matmul_dtype == "bfloat16" else jnp.float32

    def init(self) -> tuple[dict, Any]:
        c = self.config
        params = init_params(self.init_key, c.n_place_cells, c.n_hidden, c.cell,
                             c.recurrent_init, c.recurrent_gain)
        return params, self.optimizer.init(params)

    def batch(self, key: jax.Array, batch_size: int | None = None):
        """(velocity input (B,T,2), p0 (B,Np), targets (B,T,Np), positions (B,T,2))."""
        traj, v, p0 = self._trajectories(key, batch_size)
        return v, p0, self.place_cells.encode(traj.positions), traj.positions

    def _trajectories(self, key, batch_size=None, centers=None):
        c = self.config
        if self.recorded is None:
            traj = simulate_trajectories(key, self.box, batch_size or c.batch_size,
                                         c.sequence_length, self.motion)
        else:
            traj = self._recorded_windows(key, batch_size or c.batch_size)
        v, p0 = self.network_inputs(traj.velocities, traj.start_positions, centers)
        return traj, v, p0

    def network_inputs(self, velocities, start_positions, centers=None):
        """(velocity input, initial place code) the network gets for trajectories with
        these velocities (m/s) and start positions: the units and scaling of the config."""
        c = self.config
        v = velocities * (c.dt if c.velocity_units == "m_per_step" else 1.0)
        return v, self.place_cells.encode(start_positions, centers) * c.init_input_scale

    def decoding_errors(self, logits, positions) -> jax.Array:
        """Distance (m) from each true position to the one decoded from the logits."""
        decoded = self.place_cells.decode(logits)
        return jnp.linalg.norm(self.box.displacement(decoded, positions), axis=-1)

    def _recorded_windows(self, key: jax.Array, batch_size: int) -> Trajectories:
        """Random windows of the recorded path: start indices drawn from ``key``."""
        from gridform.data.paths import path_windows

        pos, vel = self.recorded
        t = self.config.sequence_length
        starts = jax.random.randint(key, (batch_size,), 0, vel.shape[0] - t + 1)
        return path_windows(pos, vel, starts, t, self.config.dt)

    def training_batch(self, key: jax.Array, centers=None):
        """The batch of :meth:`batch` laid out time-major: (v (T,B,2), p0, targets (T,B,Np)).

        Targets are encoded from time-major positions, so no (B,T,Np) array is transposed.
        ``centers`` replaces the place-cell centres (a population member's own).
        """
        traj, v, p0 = self._trajectories(key, centers=centers)
        targets = self.place_cells.encode(jnp.swapaxes(traj.positions, 0, 1), centers)
        return jnp.swapaxes(v, 0, 1), p0, targets

    def step_function(self) -> Callable:
        """Un-jitted ``(params, opt_state, step, data_key, centers) -> (params, opt_state,
        loss)``: one training step with the data key and centres passed explicitly, the
        building block of :meth:`make_step` and of vmapped populations."""
        def step(params, opt_state, i, data_key, centers):
            batch = self.training_batch(jax.random.fold_in(data_key, i), centers)
            loss, grads = jax.value_and_grad(self.objective)(params, batch, i)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        return step

    @property
    def unroll(self) -> int:
        t = self.config.sequence_length
        return t if t <= 32 else 1

    def apply(self, params, v, p0):
        c = self.config
        return forward(params, v, p0, c.cell, c.activation, self.matmul_dtype,
                       unroll=self.unroll)

    def loss_targets(self, targets: jax.Array) -> jax.Array:
        """What the readout is compared with: the place code (summing to one over cells)
        for the cross-entropy; for the squared error the code times the number of cells
        (mean entry one). Against entries of ~1/n_place the squared error's gradients sit
        near Adam's epsilon and the network never leaves chance (docs/demo-recipe.md)."""
        if self.config.loss == "mse":
            return targets * targets.shape[-1]
        return targets

    def weight_decay_at(self, step=None):
        """The L2 coefficient on ``w_rec`` at update ``step`` (counting from 0): the
        ``weight_decay_start`` schedule, if any; ``None``: the value it ends at."""
        c = self.config
        if step is None or c.weight_decay_start == 0:
            return c.weight_decay
        f = jnp.clip((step - c.weight_decay_hold_steps) / c.weight_decay_ramp_steps, 0.0, 1.0)
        return c.weight_decay_start * (c.weight_decay / c.weight_decay_start) ** f

    def objective(self, params, batch_tm, step=None) -> jax.Array:
        """The training loss of a time-major batch at update ``step``: data term (with the
        activity cost, if any) plus L2 on ``w_rec`` (:meth:`weight_decay_at`)."""
        c = self.config
        v, p0, targets = batch_tm
        data = sequence_loss_time_major(params, v, p0, self.loss_targets(targets), c.cell,
                                        c.activation, c.loss, self.matmul_dtype, self.unroll,
                                        c.activity_l1)
        return data + self.weight_decay_at(step) * jnp.sum(params["w_rec"] ** 2)

    def loss(self, params, batch) -> tuple[jax.Array, jax.Array]:
        """(loss, decoding error in metres) of a batch-first batch (:meth:`batch`), with
        the weight decay the schedule ends at."""
        c = self.config
        v, p0, targets, positions = batch
        hs, logits = self.apply(params, v, p0)
        data = readout_loss(hs, self.loss_targets(targets), c.loss, c.activity_l1,
                            logits=logits) / (v.shape[0] * v.shape[1])
        loss = data + self.weight_decay_at() * jnp.sum(params["w_rec"] ** 2)
        return loss, jnp.mean(self.decoding_errors(logits, positions))

    def make_step(self) -> Callable:
        """Jitted ``(params, opt_state, step) -> (params, opt_state, loss)``.

        The step's batch is drawn from ``fold_in(data_key, step)`` inside the program. The
        decoding error is not computed here (it costs a top-k over every sample); see
        :meth:`make_error`.
        """
        inner = self.step_function()
        centers = jnp.asarray(self.place_cells.centers, jnp.float32)

        def step(params, opt_state, i):
            return inner(params, opt_state, i, self.data_key, centers)

        return jax.jit(step, donate_argnums=(0, 1))

    def make_error(self) -> Callable:
        """Jitted ``(params, step) -> decoding error (m)`` on the batch of that step."""
        def error(params, i):
            return self.loss(params, self.batch(jax.random.fold_in(self.data_key, i)))[1]

        return jax.jit(error)


def learning_rate_schedule(config: TrainConfig) -> Any:
    """The learning rate: a float, or an optax schedule of the update count."""
    c = config
    lr: Any = c.learning_rate
    if c.lr_schedule == "cosine":
        lr = optax.cosine_decay_schedule(c.learning_rate, c.steps, alpha=0.05)
    if c.lr_warmup_steps > 0:
        base, ramp = lr, float(c.lr_warmup_steps)

        def warmed(count):
            scale = jnp.minimum(1.0, (count + 1) / ramp)
            return scale * (base(count) if callable(base) else base)

        return warmed
    return lr


# a lattice of place-cell centres may differ from the box's aspect ratio by this factor
_LATTICE_ASPECT_TOLERANCE = 1.1


def _lattice_fits(n_cells: int, box: Box) -> bool:
    n_x, n_y = lattice_shape(n_cells, box)
    aspect = (n_x / n_y) / (box.width / box.height)
    return max(aspect, 1 / aspect) <= _LATTICE_ASPECT_TOLERANCE


def _check_lattice_fits(n_cells: int, box: Box) -> None:
    """A ConfigError naming the nearest counts that fit, if ``n_cells`` centres make a
    lattice of another shape than the box (512 in a square box: 32 x 16)."""
    if _lattice_fits(n_cells, box):
        return
    n_x, n_y = lattice_shape(n_cells, box)
    below = next((n for n in range(n_cells - 1, 0, -1) if _lattice_fits(n, box)), None)
    above = next((n for n in range(n_cells + 1, 2 * n_cells + 2) if _lattice_fits(n, box)),
                 None)
    near = " or ".join(f"{n} ({' x '.join(map(str, lattice_shape(n, box)))})"
                       for n in (below, above) if n is not None)
    raise ConfigError(f"place_cell_layout='lattice': {n_cells} place cells make a {n_x} x "
                      f"{n_y} lattice, not the shape of the {box.width} x {box.height} m "
                      "box; " + (f"choose n_place_cells = {near}" if near else
                                 "choose more place cells"))


def build_task(config: TrainConfig) -> Task:
    c = config
    box = Box(c.box_width, c.box_height, c.boundary)
    motion = MotionModel(dt=c.dt, speed_scale=c.speed_scale)
    root = jax.random.key(c.seed)
    k_init, k_pc, k_data, k_eval = jax.random.split(root, 4)
    recorded = None
    if c.place_cell_file is not None:
        from gridform.data.recorded import RecordedPlaceCells, load_place_cell_maps

        pc = RecordedPlaceCells(load_place_cell_maps(c.place_cell_file), box)
        if pc.n_cells != c.n_place_cells:
            raise ConfigError(f"n_place_cells: {c.n_place_cells}, but place_cell_file "
                              f"{c.place_cell_file} holds {pc.n_cells} cells")
    elif c.place_cell_layout == "lattice":
        _check_lattice_fits(c.n_place_cells, box)
        pc = PlaceCells.lattice(c.n_place_cells, box, kind=c.place_cell_kind, sigma=c.sigma,
                                surround_scale=c.surround_scale)
    else:
        pc = PlaceCells.random(k_pc, c.n_place_cells, box, kind=c.place_cell_kind,
                               sigma=c.sigma, surround_scale=c.surround_scale)
    if c.trajectory_file is not None:
        from gridform.data.paths import load_path

        path = load_path(c.trajectory_file)
        if path.box != box:
            raise ConfigError(f"trajectory_file: recorded in a {path.box.width} x "
                              f"{path.box.height} m {path.box.boundary} box, but the config's "
                              f"box is {box.width} x {box.height} m {box.boundary}")
        path = path.at_dt(c.dt)
        if path.n <= c.sequence_length:
            raise ConfigError(f"trajectory_file: {path.n} samples at dt = {c.dt} s, fewer "
                              f"than one sequence of {c.sequence_length} steps")
        recorded = (jnp.asarray(path.positions, jnp.float32),
                    jnp.asarray(path.velocities(), jnp.float32))
    lr = learning_rate_schedule(c)
    opt = optax.adam(lr) if c.optimizer == "adam" else optax.rmsprop(lr)
    if c.grad_clip > 0:
        opt = optax.chain(optax.clip_by_global_norm(c.grad_clip), opt)
    return Task(c, box, motion, pc, opt, k_init, k_data, k_eval, recorded)


# ---------------------------------------------------------------------------------
# run directories
# ---------------------------------------------------------------------------------
def run_metadata(config: TrainConfig) -> dict[str, Any]:
    """What a run directory's ``config.json`` holds."""
    return {"config": config.resolved(), "config_hash": config.config_hash(),
            "run_id": config.run_id(), MSE_TARGETS_KEY: "place code x n_place_cells"}


def _read_run_metadata(run_dir: Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a run directory (:func:`run_metadata`)."""
    path = run_dir / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} holds no run (missing config.json)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None


def read_run_config(run_dir: Path) -> TrainConfig:
    return TrainConfig(**_read_run_metadata(run_dir)["config"])


def prepare_run_dir(config: TrainConfig, run_dir: Path, resume: bool, force: bool
                    ) -> TrainConfig | None:
    """Check the run directory before anything is written; return the stored config."""
    if resume and force:
        raise ValueError("--resume and --force exclude each other")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir} exists and is not a directory")
    stored = meta = None
    has_run = (run_dir / "config.json").exists()
    if has_run:
        meta = _read_run_metadata(run_dir)
        stored = TrainConfig(**meta["config"])
    if resume:
        if not has_run:
            raise FileNotFoundError(f"cannot resume: {run_dir} holds no run")
        if not stored.same_run(config):
            diff = sorted(k for k, v in config.resolved().items()
                          if stored.resolved().get(k) != v)
            raise ValueError(f"cannot resume {run_dir}: its config differs in {diff}")
        if stored.loss == "mse" and MSE_TARGETS_KEY not in meta:
            raise ValueError(f"cannot resume {run_dir}: it was trained with loss='mse' "
                             "against the raw place code, before the squared error compared "
                             "the readout with the code times the number of cells; pass "
                             "--force to start it over")
    elif has_run and not force:
        raise RunExistsError(f"{run_dir} already holds a run; pass --resume to continue "
                             "it or --force to start over")
    return stored


def train(config: TrainConfig, run_dir: str | os.PathLike, resume: bool = False,
          force: bool = False, progress: bool = False,
          on_step: Callable[[int, float, float], None] | None = None) -> dict[str, Any]:
    """Train and return the final metrics. See the module docstring for determinism."""
    run_dir = Path(run_dir)
    prepare_run_dir(config, run_dir, resume, force)
    task = build_task(config)  # before anything is written: bad data files fail here
    if force:
        for name in RUN_FILES:
            p = run_dir / name
            if p.exists():
                p.unlink()
        if (run_dir / "evaluations").exists():
            shutil.rmtree(run_dir / "evaluations")
    run_dir.mkdir(parents=True, exist_ok=True)
    params, opt_state = task.init()
    start = 0
    if resume and (run_dir / "checkpoint.json").exists():
        params, opt_state, meta = load_checkpoint(run_dir, "checkpoint", params, opt_state)
        start = int(meta["step"])
    write_json(run_dir / "config.json", run_metadata(config))
    metrics_path = run_dir / "metrics.jsonl"
    _truncate_metrics(metrics_path, start)
    step_fn = task.make_step()
    error_fn = task.make_error()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, initial=start, unit="step", dynamic_ncols=True,
                   disable=not os.isatty(2))
    last = {"step": start}
    t0, t_last, s_last = time.perf_counter(), time.perf_counter(), start
    log_every = max(1, min(50, config.checkpoint_every))
    err_f = float("nan")
    pending: list[jax.Array] = []  # losses not yet read back to the host
    with open(metrics_path, "a") as mf:
        for i in range(start, config.steps):
            params, opt_state, loss = step_fn(params, opt_state, jnp.asarray(i))
            pending.append(loss)
            step = i + 1
            if bar is not None:
                bar.update(1)
            logging_step = step % log_every == 0 or step == config.steps
            ckpt_step = step % config.checkpoint_every == 0 or step == config.steps
            eval_step = bool(config.eval_every) and step % config.eval_every == 0 \
                and step < config.steps
            if not (logging_step or ckpt_step or eval_step or on_step is not None):
                continue  # let the device run ahead: no host sync on ordinary steps
            # Every loss since the last read is checked, so a NaN is reported at the step
            # it appeared, and no checkpoint is ever written from non-finite weights.
            losses = np.asarray(jnp.stack(pending))
            pending.clear()
            bad = ~np.isfinite(losses)
            if bad.any():
                j = int(np.argmax(bad))
                raise TrainingDiverged(
                    f"loss became {losses[j]} at step {step - losses.size + 1 + j}; stopped. "
                    f"The last good checkpoint (step {last['step']}) is kept in {run_dir}. "
                    "Lower learning_rate or init_input_scale.")
            loss_f = float(losses[-1])
            if logging_step:
                # decoding error on the next, not yet trained on, batch
                err_f = float(error_fn(params, jnp.asarray(step)))
                if bar is not None:
                    bar.set_postfix(loss=f"{loss_f:.4f}", error_cm=f"{100 * err_f:.1f}")
            if on_step is not None:
                on_step(step, loss_f, err_f)
            if logging_step:
                now = time.perf_counter()
                rate = (step - s_last) / max(now - t_last, 1e-9)
                t_last, s_last = now, step
                mf.write(json.dumps({"step": step, "loss": loss_f, "error_cm": 100 * err_f,
                                     "steps_per_s": rate}) + "\n")
                mf.flush()
            if ckpt_step:
                meta = {"step": step, "loss": loss_f, "error_cm": 100 * err_f,
                        "config_hash": config.config_hash()}
                save_checkpoint(run_dir, "checkpoint", params, opt_state, meta)
                last = meta
            if eval_step:
                from gridform.training.evaluate import evaluate_params

                ev = evaluate_params(task, params, n_batches=config.eval_batches, bins=20)
                summary = ev.summary | {"step": step}
                mf.write(json.dumps({"eval": summary}) + "\n")
                mf.flush()
    if bar is not None:
        bar.close()
    save_tensors(run_dir / "model.safetensors", {k: np.asarray(v) for k, v in params.items()})
    elapsed = time.perf_counter() - t0
    log.info("trained %s to step %d in %.1f s", run_dir, config.steps, elapsed)
    return {"step": config.steps, "loss": last.get("loss"), "error_cm": last.get("error_cm"),
            "seconds": elapsed}


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines written after ``step`` (a killed run may have logged past it)."""
    if not path.exists():
        return
    keep = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        s = rec.get("step", rec.get("eval", {}).get("step", 0))
        if s <= step:
            keep.append(line)
    path.write_text("".join(f"{line}\n" for line in keep))


def load_params(run_dir: Path) -> dict[str, jax.Array]:
    """The final parameters of a run (model.safetensors), else its last checkpoint."""
    from gridform.training.checkpoint import load_tensors, read_checkpoint

    model = run_dir / "model.safetensors"
    if model.exists():
        arrays = load_tensors(model)
        return {k: jnp.asarray(v) for k, v in arrays.items()}
    if (run_dir / "checkpoint.json").exists():
        _, arrays = read_checkpoint(run_dir, "checkpoint")
        return {k.removeprefix("params/"): jnp.asarray(v) for k, v in arrays.items()
                if k.startswith("params/")}
    raise CheckpointError(f"{run_dir} holds no trained parameters (no model.safetensors "
                          "and no checkpoint)")
