"""Populations: many shape-compatible networks trained as one vmapped JAX program.

Runs whose configs differ only in ``seed`` share every shape, so their training steps can
be stacked along a leading member axis and run by ``jax.vmap``: one program, one dispatch
per step, and on a GPU one device holding many small networks. Each member keeps its own
initial parameters, place-cell centres and data key (all derived from its seed exactly as
a single run derives them), so member ``m`` follows the same trajectory as a separate run
with that seed, up to floating-point reassociation in the batched matrix products.

Every member ends as an ordinary run directory (config.json, checkpoint, model.safetensors,
metrics.jsonl), indistinguishable from one written by :func:`gridform.training.train`.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core import compile_cache
from gridform.core.io import write_json
from gridform.training.config import TrainConfig

__all__ = ["execute_population", "train_population", "without_seed"]


def without_seed(config: TrainConfig) -> dict[str, Any]:
    """The resolved config minus its seed: equal for runs that can share a population."""
    return {k: v for k, v in config.resolved().items() if k != "seed"}


def _check_compatible(configs: list[TrainConfig]) -> None:
    if not configs:
        raise ValueError("a population needs at least one config")
    ref = without_seed(configs[0])
    for c in configs[1:]:
        other = without_seed(c)
        if other != ref:
            diff = sorted(k for k in ref if ref[k] != other.get(k))
            raise ValueError(f"population members may differ only in seed; these differ in "
                             f"{diff}")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"population seeds must be distinct, got {seeds}")


def train_population(configs: list[TrainConfig], run_dirs: list[str | Path] | None = None,
                     log_every: int = 50) -> dict[str, Any]:
    """Train ``len(configs)`` networks (same config, different seeds) in one program.

    Returns ``{"params": [per member], "loss": (member,) final losses, "diverged":
    [bool], "seconds": float}``. With ``run_dirs``, each member is written as a run.
    """
    from gridform.training.checkpoint import save_checkpoint
    from gridform.training.loop import build_task
    from gridform.training.runs import RunDir

    _check_compatible(configs)
    compile_cache.enable()
    tasks = [build_task(c) for c in configs]
    task = tasks[0]
    inits = [t.init() for t in tasks]
    params = jax.tree.map(lambda *a: jnp.stack(a), *[p for p, _ in inits])
    opt_state = jax.tree.map(lambda *a: jnp.stack(a), *[o for _, o in inits])
    keys = jnp.stack([t.data_key for t in tasks])
    centers = jnp.stack([t.centers for t in tasks])
    step = jax.jit(jax.vmap(task.step_function(), in_axes=(0, 0, None, 0, 0, None)),
                   donate_argnums=(0, 1))
    tuning = task.tuning
    c = configs[0]
    dirs = None if run_dirs is None else [RunDir(d) for d in run_dirs]
    logs: list[list[str]] = [[] for _ in configs]
    t0 = t_last = time.perf_counter()
    diverged = np.zeros(len(configs), bool)
    for i in range(c.steps):
        params, opt_state, loss = step(params, opt_state, jnp.asarray(i), keys, centers,
                                       tuning)
        s = i + 1
        if s % log_every == 0 or s == c.steps:
            loss_np = np.asarray(loss)
            diverged |= ~np.isfinite(loss_np)
            now = time.perf_counter()
            rate = log_every / max(now - t_last, 1e-9)
            t_last = now
            for m, v in enumerate(loss_np):
                logs[m].append(json.dumps({"step": s, "loss": float(v),
                                           "steps_per_s": rate, "population": len(configs)}))
    seconds = time.perf_counter() - t0
    members = [jax.tree.map(lambda a, m=m: a[m], params) for m in range(len(configs))]
    if dirs is not None:
        for m, (cfg, d) in enumerate(zip(configs, dirs, strict=True)):
            if diverged[m]:
                continue
            d.write_config(cfg)
            d.metrics_path.write_text("".join(f"{line}\n" for line in logs[m]))
            opt_m = jax.tree.map(lambda a, m=m: a[m], opt_state)
            meta = {"step": c.steps, "loss": float(np.asarray(loss)[m]), "error_cm": None,
                    "config_hash": cfg.config_hash(), "population": len(configs)}
            save_checkpoint(d.path, d.CHECKPOINT, members[m], opt_m, meta)
            d.save_params(members[m])
    return {"params": members, "loss": np.asarray(loss), "diverged": diverged.tolist(),
            "seconds": seconds}


def execute_population(runs: list[dict[str, Any]], sweep_dir: str) -> list[dict[str, Any]]:
    """Dask task: train a group of runs as one population, evaluate each; never raises."""
    from gridform.experiments.sweep.local import restore_malloc
    from gridform.experiments.sweep.spec import RunSpec
    from gridform.training.evaluate import evaluate_run
    from gridform.training.runs import RunDir

    restore_malloc()

    specs = [RunSpec.from_dict(r) for r in runs]
    dirs = [s.run_dir(sweep_dir) for s in specs]

    def failed(spec: RunSpec, run: RunDir, error: str, tb: str) -> dict[str, Any]:
        rec = {"run_id": spec.run_id, "status": "failed", "varied": spec.varied,
               "error": error, "traceback": tb}
        run.path.mkdir(parents=True, exist_ok=True)
        write_json(run.failed_path, rec)
        return rec

    t0 = time.perf_counter()
    try:
        result = train_population([s.config for s in specs], [d.path for d in dirs])
    except Exception as err:
        tb = traceback.format_exc()
        return [failed(s, d, f"{type(err).__name__}: {err}", tb)
                for s, d in zip(specs, dirs, strict=True)]
    per_run = (time.perf_counter() - t0) / len(specs)
    records = []
    for m, (s, d) in enumerate(zip(specs, dirs, strict=True)):
        if result["diverged"][m]:
            records.append(failed(s, d, "TrainingDiverged: the loss became NaN or infinite",
                                  ""))
            continue
        try:
            summary = evaluate_run(d.path).summary.to_json()
        except Exception as err:
            records.append(failed(s, d, f"{type(err).__name__}: {err}",
                                  traceback.format_exc()))
            continue
        rec = {"run_id": s.run_id, "status": "done", "varied": s.varied,
               "summary": summary, "seconds": per_run, "population": len(specs)}
        write_json(d.done_path, rec)
        records.append(rec)
    return records
