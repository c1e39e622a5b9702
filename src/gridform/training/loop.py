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

from gridform import compile_cache
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

__all__ = ["RunExistsError", "Task", "TrainingDiverged", "build_task", "learning_rate_schedule",
           "train"]

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
    has_run = RunDir(run_dir).has_run()
    if has_run:
        meta = RunDir(run_dir).read_metadata()
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


def train(config: TrainConfig, run_dir: str | os.PathLike, resume: bool = False,
          force: bool = False, progress: bool = False,
          on_step: Callable[[int, float, float], None] | None = None) -> dict[str, Any]:
    """Train and return the final metrics. See the module docstring for determinism."""
    run = RunDir(run_dir)
    run_dir = run.path
    prepare_run_dir(config, run_dir, resume, force)
    compile_cache.enable()
    task = build_task(config)  # before anything is written: bad data files fail here
    if force:
        run.clear()  # the old network's outputs go with it
    run_dir.mkdir(parents=True, exist_ok=True)
    params, opt_state = task.init()
    start = 0
    if resume and run.has_checkpoint():
        params, opt_state, meta = load_checkpoint(run_dir, run.CHECKPOINT, params, opt_state)
        start = int(meta["step"])
    run.write_config(config)
    metrics_path = run.metrics_path
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
                save_checkpoint(run_dir, run.CHECKPOINT, params, opt_state, meta)
                last = meta
            if eval_step:
                from gridform.training.evaluate import evaluate_params

                ev = evaluate_params(task, params, n_batches=config.eval_batches, bins=20)
                summary = ev.summary.to_json() | {"step": step}
                mf.write(json.dumps({"eval": summary}) + "\n")
                mf.flush()
    if bar is not None:
        bar.close()
    run.save_params(params)
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

