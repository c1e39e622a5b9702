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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core import compile_cache
from gridform.training.checkpoint import (
    load_checkpoint,
    save_checkpoint,
)
from gridform.training.config import TrainConfig
from gridform.training.runs import (  # noqa: F401  (re-exported: old import paths)
    MSE_TARGETS_KEY,
    RunDir,
    load_params,
    read_run_config,
    read_run_metadata,
    run_metadata,
)
from gridform.training.task import (
    Task,
    build_task,
    learning_rate_schedule,
)

__all__ = ["RunExistsError", "Task", "TrainingDiverged", "TrainingInterrupted", "build_task",
           "learning_rate_schedule", "train"]

log = logging.getLogger(__name__)


class RunExistsError(ValueError):
    """The run directory already holds a run and neither resume nor force was asked."""


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


# ---------------------------------------------------------------------------------
# run directories
# ---------------------------------------------------------------------------------
def prepare_run_dir(config: TrainConfig, run_dir: Path, resume: bool, force: bool
                    ) -> TrainConfig | None:
    """Check the run directory before anything is written; return the stored config."""
    if resume and force:
        raise ValueError("--resume and --force exclude each other")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir} exists and is not a directory")
    stored = meta = None
    run = RunDir(run_dir)
    has_run = run.has_run()
    if has_run:
        meta = run.read_metadata()
        stored = TrainConfig(**meta["config"])
    if resume:
        if not has_run:
            raise FileNotFoundError(f"cannot resume: {run_dir} holds no run")
        if not stored.same_run(config):
            old = stored.resolved()
            diff = ", ".join(f"{k}: {old.get(k)!r} in the run, {v!r} now"
                             for k, v in sorted(config.resolved().items()) if old.get(k) != v)
            raise ValueError(f"cannot resume {run_dir}: its config differs ({diff})")
        if stored.loss == "mse" and MSE_TARGETS_KEY not in meta:
            raise ValueError(f"cannot resume {run_dir}: it was trained with loss='mse' "
                             "against the raw place code, before the squared error compared "
                             "the readout with the code times the number of cells; pass "
                             "--force to start it over")
    elif has_run and not force:
        raise RunExistsError(f"{run_dir} already holds a run; pass --resume to continue "
                             "it or --force to start over")
    return stored


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: a checkpoint of the last finished step was written (when
    its weights were intact); the message says how to resume."""


class _HostSide:
    """The host side of the training loop: losses not yet read back, the metrics file, the
    progress bar, the rate, checkpoints and evaluations during training."""

    def __init__(self, config: TrainConfig, run: RunDir, task, start: int, metrics,
                 bar, on_step: Callable[[int, float, float], None] | None):
        self.config, self.run, self.task = config, run, task
        self.metrics, self.bar, self.on_step = metrics, bar, on_step
        self.error_fn = task.make_error()
        self.pending: list[jax.Array] = []  # losses not yet read back to the host
        self.last: dict[str, Any] = {"step": start}  # the last checkpoint's meta
        self.err = float("nan")
        self.t_last, self.s_last = time.perf_counter(), start
        self.log_every = max(1, min(50, config.checkpoint_every))

    def after(self, step: int, params, opt_state, loss) -> None:
        """Called after every step; syncs with the device only on reporting steps, so the
        device runs ahead on ordinary ones."""
        c = self.config
        self.pending.append(loss)
        if self.bar is not None:
            self.bar.update(1)
        logging_step = step % self.log_every == 0 or step == c.steps
        ckpt_step = step % c.checkpoint_every == 0 or step == c.steps
        eval_step = bool(c.eval_every) and step % c.eval_every == 0 and step < c.steps
        if not (logging_step or ckpt_step or eval_step or self.on_step is not None):
            return
        loss_f = self.check_losses(step)
        if logging_step:
            # decoding error on the next, not yet trained on, batch
            self.err = float(self.error_fn(params, jnp.asarray(step)))
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{loss_f:.4f}", error_cm=f"{100 * self.err:.1f}")
        if self.on_step is not None:
            self.on_step(step, loss_f, self.err)
        if logging_step:
            now = time.perf_counter()
            rate = (step - self.s_last) / max(now - self.t_last, 1e-9)
            self.t_last, self.s_last = now, step
            self.write({"step": step, "loss": loss_f, "error_cm": 100 * self.err,
                        "steps_per_s": rate})
        if ckpt_step:
            self.checkpoint(step, params, opt_state, loss_f)
        if eval_step:
            from gridform.training.evaluate import evaluate_params

            ev = evaluate_params(self.task, params, n_batches=c.eval_batches, bins=20)
            self.write({"eval": ev.summary.to_json() | {"step": step}})

    def check_losses(self, step: int) -> float:
        """Read back every loss since the last read; raise at the first non-finite one, so
        a NaN is reported at the step it appeared and no checkpoint holds such weights."""
        if not self.pending:
            return float(self.last.get("loss") or float("nan"))
        losses = np.asarray(jnp.stack(self.pending))
        self.pending.clear()
        bad = ~np.isfinite(losses)
        if bad.any():
            j = int(np.argmax(bad))
            raise TrainingDiverged(
                f"loss became {losses[j]} at step {step - losses.size + 1 + j}; stopped. "
                f"The last good checkpoint (step {self.last['step']}) is kept in "
                f"{self.run.path}. Lower learning_rate or init_input_scale.")
        return float(losses[-1])

    def checkpoint(self, step: int, params, opt_state, loss: float) -> None:
        meta = {"step": step, "loss": loss, "error_cm": 100 * self.err,
                "config_hash": self.config.config_hash()}
        save_checkpoint(self.run.path, self.run.CHECKPOINT, params, opt_state, meta)
        self.last = meta

    def write(self, record: dict[str, Any]) -> None:
        self.metrics.write(json.dumps(record) + "\n")
        self.metrics.flush()

    def interrupted(self, step: int, params, opt_state) -> TrainingInterrupted:
        """Checkpoint the last finished step (its weights are intact unless the interrupt
        came inside the step that consumed them) and say how to resume."""
        saved = self.last["step"]
        if step > saved:
            try:
                loss = self.check_losses(step)
                # weights handed to a step that never finished are gone (donated): that
                # raises here, and the last regular checkpoint stands
                finite = all(bool(np.isfinite(np.asarray(v)).all()) for v in params.values())
                if finite:
                    self.checkpoint(step, params, opt_state, loss)
                    saved = step
            except (RuntimeError, ValueError, TrainingDiverged) as err:
                log.info("no checkpoint at step %d (%s)", step, err)
        return TrainingInterrupted(
            f"interrupted at step {step} of {self.config.steps}; the checkpoint of step "
            f"{saved} is in {self.run.path}. Continue with: gridform train --resume --out "
            f"{self.run.path}")


def train(config: TrainConfig, run_dir: str | os.PathLike, resume: bool = False,
          force: bool = False, progress: bool = False,
          on_step: Callable[[int, float, float], None] | None = None,
          task: Task | None = None) -> dict[str, Any]:
    """Train and return the final metrics. See the module docstring for determinism.

    ``task``: the task built from ``config`` (:func:`build_task`), when the caller has
    built it already; one of another config raises ValueError.

    Ctrl-C (KeyboardInterrupt) writes a checkpoint of the last finished step and raises
    :class:`TrainingInterrupted`, whose message gives the command that resumes the run.
    """
    run = RunDir(run_dir)
    prepare_run_dir(config, run.path, resume, force)
    compile_cache.enable()
    if task is None:
        task = build_task(config)  # before anything is written: bad data files fail here
    elif task.config.resolved() != config.resolved():
        raise ValueError("task was built from another config than the one to train")
    if force:
        run.clear()  # the old network's outputs go with it
    run.path.mkdir(parents=True, exist_ok=True)
    params, opt_state = task.init()
    start = 0
    if resume and run.has_checkpoint():
        params, opt_state, meta = load_checkpoint(run.path, run.CHECKPOINT, params, opt_state)
        start = int(meta["step"])
    run.write_config(config)
    _truncate_metrics(run.metrics_path, start)
    step_fn = task.make_step()
    bar = None
    if progress and start < config.steps:
        from gridform.core.io import progress_bar

        bar = progress_bar(config.steps, initial=start, unit="step", desc="train")
    t0 = time.perf_counter()
    # (step, params, opt_state) in one tuple, replaced by a single assignment: an interrupt
    # can never leave a step count that disagrees with the weights beside it
    state = (start, params, opt_state)
    with open(run.metrics_path, "a") as mf:
        host = _HostSide(config, run, task, start, mf, bar, on_step)
        try:
            for i in range(start, config.steps):
                out = step_fn(state[1], state[2], jnp.asarray(i))
                state = (i + 1, out[0], out[1])
                host.after(i + 1, out[0], out[1], out[2])
        except KeyboardInterrupt:
            if bar is not None:
                bar.close()
            raise host.interrupted(*state) from None
    if bar is not None:
        bar.close()
    run.save_params(state[1])
    elapsed = time.perf_counter() - t0
    log.info("trained %s to step %d in %.1f s", run.path, config.steps, elapsed)
    return {"step": config.steps, "loss": host.last.get("loss"),
            "error_cm": host.last.get("error_cm"), "seconds": elapsed}


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

