"""The training task: everything derived from a config (arena, place cells, optimiser,
jitted step and loss functions), and :func:`build_task`, which resolves a config into it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import optax

from gridform.core.environment import Box
from gridform.core.models import (
    conformal_isometry_loss,
    forward,
    init_params,
    readout_loss,
    sequence_loss_time_major,
)
from gridform.core.place_cells import PlaceCells, PlaceCode, lattice_shape
from gridform.core.trajectories import MotionModel, Trajectories, simulate_trajectories
from gridform.training.config import ConfigError, TrainConfig

__all__ = ["Task", "build_task", "learning_rate_schedule"]


@dataclass(frozen=True, eq=False)
class Task:
    """Everything derived from a config: arena, place cells, optimiser, jitted functions."""

    config: TrainConfig
    box: Box
    motion: MotionModel
    place_cells: PlaceCode
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
        w_rec = None
        if c.recurrent_init == "attractor":
            from gridform.training.inits import attractor_recurrent_weights

            w_rec = jnp.asarray(attractor_recurrent_weights(c.n_hidden, c.recurrent_gain))
        params = init_params(self.init_key, c.n_place_cells, c.n_hidden, c.cell,
                             c.recurrent_init, c.recurrent_gain, w_rec=w_rec)
        return params, self.optimizer.init(params)

    @cached_property
    def centers(self) -> jax.Array:
        """The place-cell centres (n_cells, 2) as a float32 device array: passed to the
        compiled programs as an argument, so runs that differ only in seed share them."""
        return jnp.asarray(self.place_cells.centers, jnp.float32)

    @cached_property
    def tuning(self) -> jax.Array:
        """The place-cell widths as an array (PlaceCells.tuning): passed to the compiled
        programs as an argument, so runs that differ only in widths share them."""
        return jnp.asarray(self.place_cells.tuning())

    def batch(self, key: jax.Array, batch_size: int | None = None, centers=None,
              tuning=None):
        """(velocity input (B,T,2), p0 (B,Np), targets (B,T,Np), positions (B,T,2)).

        ``centers`` and ``tuning`` as in :meth:`training_batch`: passed by the compiled
        programs as arguments, so that one program serves every seed and width.
        """
        traj, v, p0 = self._trajectories(key, batch_size, centers=centers, tuning=tuning)
        targets = self.place_cells.encode(traj.positions, centers, tuning)
        return v, p0, targets, traj.positions

    def _trajectories(self, key, batch_size=None, centers=None, tuning=None):
        c = self.config
        if self.recorded is None:
            traj = simulate_trajectories(key, self.box, batch_size or c.batch_size,
                                         c.sequence_length, self.motion)
        else:
            traj = self._recorded_windows(key, batch_size or c.batch_size)
        v, p0 = self.network_inputs(traj.velocities, traj.start_positions, centers, tuning)
        return traj, v, p0

    def network_inputs(self, velocities, start_positions, centers=None, tuning=None):
        """(velocity input, initial place code) the network gets for trajectories with
        these velocities (m/s) and start positions: the units and scaling of the config."""
        c = self.config
        v = velocities * (c.dt if c.velocity_units == "m_per_step" else 1.0)
        p0 = self.place_cells.encode(start_positions, centers, tuning)
        return v, p0 * c.init_input_scale

    def displacement(self, v) -> jax.Array:
        """The step each velocity input ``v`` (..., 2) stands for, in metres: ``v dt`` for
        inputs in m/s, ``v`` itself for inputs in m/step (exact: a path's positions are
        the cumulative sum of its steps, :class:`gridform.core.trajectories.Trajectories`)."""
        return v * self.config.dt if self.config.velocity_units == "m_per_s" else v

    def decoding_errors(self, logits, positions, centers=None) -> jax.Array:
        """Distance (m) from each true position to the one decoded from the logits."""
        decoded = self.place_cells.decode(logits, centers=centers)
        return jnp.linalg.norm(self.box.displacement(decoded, positions), axis=-1)

    def _recorded_windows(self, key: jax.Array, batch_size: int) -> Trajectories:
        """Random windows of the recorded path: start indices drawn from ``key``."""
        from gridform.data.paths import path_windows

        pos, vel = self.recorded
        t = self.config.sequence_length
        starts = jax.random.randint(key, (batch_size,), 0, vel.shape[0] - t + 1)
        return path_windows(pos, vel, starts, t, self.config.dt)

    def training_batch(self, key: jax.Array, centers=None, tuning=None):
        """The batch of :meth:`batch` laid out time-major: (v (T,B,2), p0, targets (T,B,Np)).

        Targets are encoded from time-major positions, so no (B,T,Np) array is transposed.
        ``centers`` replaces the place-cell centres (a population member's own);
        ``tuning`` the widths (:attr:`tuning`, traced inside a compiled step).
        """
        traj, v, p0 = self._trajectories(key, centers=centers, tuning=tuning)
        targets = self.place_cells.encode(jnp.swapaxes(traj.positions, 0, 1), centers,
                                          tuning)
        return jnp.swapaxes(v, 0, 1), p0, targets

    def step_function(self) -> Callable:
        """Un-jitted ``(params, opt_state, step, data_key, centers, tuning) -> (params,
        opt_state, loss)``: one training step with the data key, centres and widths passed
        explicitly, the building block of :meth:`make_step` and of vmapped populations."""
        def step(params, opt_state, i, data_key, centers, tuning):
            batch = self.training_batch(jax.random.fold_in(data_key, i), centers, tuning)
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
                       unroll=self.unroll, hidden_norm=c.hidden_norm)

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
        activity cost and the conformal-isometry term, if any) plus L2 on ``w_rec``
        (:meth:`weight_decay_at`)."""
        c = self.config
        v, p0, targets = batch_tm
        data = sequence_loss_time_major(
            params, v, p0, self.loss_targets(targets), c.cell, c.activation, c.loss,
            self.matmul_dtype, self.unroll, c.activity_l1, hidden_norm=c.hidden_norm,
            conformal_weight=c.conformal_weight, conformal_scale=c.conformal_scale,
            displacement_tm=self.displacement(v) if c.conformal_weight else None)
        return data + self.weight_decay_at(step) * jnp.sum(params["w_rec"] ** 2)

    def loss(self, params, batch, centers=None) -> tuple[jax.Array, jax.Array]:
        """(loss, decoding error in metres) of a batch-first batch (:meth:`batch`), with
        the weight decay the schedule ends at: the terms of :meth:`objective`."""
        c = self.config
        v, p0, targets, positions = batch
        hs, logits = self.apply(params, v, p0)
        data = readout_loss(hs, self.loss_targets(targets), c.loss, c.activity_l1,
                            logits=logits) / (v.shape[0] * v.shape[1])
        if c.conformal_weight:
            data = data + c.conformal_weight * conformal_isometry_loss(
                jnp.swapaxes(hs, 0, 1), jnp.swapaxes(self.displacement(v), 0, 1),
                c.conformal_scale)
        loss = data + self.weight_decay_at() * jnp.sum(params["w_rec"] ** 2)
        return loss, jnp.mean(self.decoding_errors(logits, positions, centers))

    def make_step(self) -> Callable:
        """Jitted ``(params, opt_state, step) -> (params, opt_state, loss)``.

        The step's batch is drawn from ``fold_in(data_key, step)`` inside the program. The
        decoding error is not computed here (it costs a top-k over every sample); see
        :meth:`make_error`.
        """
        inner = jax.jit(self.step_function(), donate_argnums=(0, 1))
        consts = (self.data_key, self.centers, self.tuning)

        def step(params, opt_state, i):
            return inner(params, opt_state, i, *consts)

        return step

    def make_error(self) -> Callable:
        """Jitted ``(params, step) -> decoding error (m)`` on the batch of that step."""
        @jax.jit
        def error(params, i, data_key, centers, tuning):
            batch = self.batch(jax.random.fold_in(data_key, i), centers=centers,
                               tuning=tuning)
            return self.loss(params, batch, centers)[1]

        consts = (self.data_key, self.centers, self.tuning)
        return lambda params, i: error(params, i, *consts)


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
        from gridform.data.trajectory_files import load_path

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
