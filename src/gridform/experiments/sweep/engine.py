"""Run a sweep's manifest on Dask: a local cluster, an existing scheduler, or SLURM.

Layout of a sweep directory::

    DIR/manifest.json            the runs (id, config, varied parameters)
    DIR/runs/RUN_ID/             one training run (config.json, model.safetensors, ...)
    DIR/runs/RUN_ID/DONE.json    written last, atomically: the run's summary
    DIR/runs/RUN_ID/FAILED.json  the error and traceback of a run that raised
    DIR/results.csv              one row per run

Each run is one Dask task. A run whose ``DONE.json`` exists is never trained again. A
task that raises is recorded as failed and the sweep goes on. On the default local
cluster every worker process gets cores of its own (:mod:`gridform.experiments.sweep.local`), and
runs are queued so that workers starting together compile different programs: with
JAX's persistent compilation cache (:mod:`gridform.core.compile_cache`) each program is then
compiled once per machine and read back by every later run and worker. When a worker process dies,
the scheduler re-runs its task on another worker (Dask's ``allowed-failures``); the run
resumes from its last checkpoint in the same directory, and resumed training is bitwise
identical to uninterrupted training, so every run completes exactly once.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridform.core.io import atomic_path, write_json
from gridform.experiments.sweep.local import (
    LocalPlan,
    plan_local,
    restore_malloc,
    start_local_cluster,
)
from gridform.experiments.sweep.population import without_seed
from gridform.experiments.sweep.spec import DEFAULT_METRICS, RunSpec, SweepSpec

__all__ = ["SchedulerError", "auto_population", "execute_run", "queue_order", "run_sweep",
           "write_results"]

# Runs that differ only in these share one compiled program: the place-cell centres,
# widths and data keys are arguments of the compiled step, not constants.
PROGRAM_ARGUMENTS = ("seed", "sigma", "surround_scale")
SLURM_JOBS = 2  # SLURM jobs when --workers is not given


class SchedulerError(ValueError):
    """The Dask scheduler could not be reached or started."""


def execute_run(run: dict[str, Any], sweep_dir: str) -> dict[str, Any]:
    """Train and evaluate one run (a :meth:`RunSpec.to_dict`); never raises.

    Returns ``{"run_id", "status": "done"|"failed", ...}``. Runs in a Dask worker.
    """
    from gridform.core import compile_cache
    from gridform.training.evaluate import evaluate_run
    from gridform.training.loop import train

    restore_malloc()  # a worker of a cluster we did not start (see sweep.local)
    spec = RunSpec.from_dict(run)
    rd = spec.run_dir(sweep_dir)
    run_dir, done, failed = rd.path, rd.done_path, rd.failed_path
    if done.exists():
        return json.loads(done.read_text()) | {"skipped": True}
    t0 = time.perf_counter()
    cache0 = compile_cache.stats().as_dict()
    try:
        # a directory left by a killed worker holds a partial run: resume it
        resume = rd.has_checkpoint()
        if failed.exists():
            failed.unlink()
        train(spec.config, run_dir, resume=resume, force=not resume and run_dir.exists())
        summary = evaluate_run(run_dir).summary.to_json()
        cache = compile_cache.stats().as_dict()
        record = {"run_id": spec.run_id, "status": "done", "varied": spec.varied,
                  "summary": summary, "seconds": time.perf_counter() - t0,
                  "resumed": resume, "pid": os.getpid(),
                  "compile_cache": {k: cache[k] - cache0[k] for k in ("requests", "hits")}}
        write_json(done, record)
        return record
    except Exception as err:
        record = {"run_id": spec.run_id, "status": "failed", "varied": spec.varied,
                  "error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc(), "seconds": time.perf_counter() - t0}
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(failed, record)
        return record


def _client(plan: LocalPlan | None, workers: int | None, scheduler: str | None,
            slurm: dict[str, Any] | None):
    from distributed import Client

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as err:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: "
                                 f"{err}") from None
    if slurm is not None:
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise SchedulerError("--slurm needs dask-jobqueue: pip install "
                                 "'gridform[slurm]'") from None
        cluster = SLURMCluster(**slurm)
        cluster.scale(jobs=workers)
        return Client(cluster), cluster
    assert plan is not None
    return start_local_cluster(plan)


def auto_population(scheduler: str | None, slurm: dict[str, Any] | None) -> int:
    """The default ``population``: 8 on an accelerator, 1 (off) on a CPU.

    Measured with ``benchmarks/bench_sweep.py``: on CPU cores a vmapped population is no
    faster than its members one after another (the step is already compute-bound), while
    on a GPU it fills a device that one small network leaves idle. For a remote scheduler
    or SLURM the workers' device is not known here, so populations stay off unless asked.
    """
    if scheduler or slurm is not None:
        return 1
    import jax

    return 1 if jax.default_backend() == "cpu" else 8


def queue_order(runs: list[RunSpec]) -> list[RunSpec]:
    """The runs, interleaved across compiled programs: round-robin over groups of runs
    that share one (equal configs up to :data:`PROGRAM_ARGUMENTS`), so that workers
    starting at the same time compile different programs, and later runs of a group find
    its program in the persistent cache. Order within a group is kept."""
    groups: dict[str, list[RunSpec]] = {}
    for r in runs:
        key = json.dumps({k: v for k, v in r.config.resolved().items()
                          if k not in PROGRAM_ARGUMENTS}, sort_keys=True)
        groups.setdefault(key, []).append(r)
    order: list[RunSpec] = []
    queues = list(groups.values())
    while any(queues):
        for q in queues:
            if q:
                order.append(q.pop(0))
    return order


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Raise :class:`SchedulerError` unless something listens at ``tcp://HOST:PORT``."""
    import socket
    from urllib.parse import urlparse

    u = urlparse(address)
    if u.scheme not in ("tcp", "tls") or not u.hostname or not u.port:
        raise SchedulerError(f"scheduler address must look like tcp://HOST:PORT, got "
                             f"{address!r}")
    try:
        with socket.create_connection((u.hostname, u.port), timeout=timeout):
            pass
    except OSError as err:
        raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def run_sweep(spec: SweepSpec, out: str | Path, workers: int | None = None,
              scheduler: str | None = None, slurm: dict[str, Any] | None = None,
              population: int | None = None, threads: int | None = None,
              progress: Callable[[dict[str, int]], None] | None = None,
              on_start: Callable[[str], None] | None = None) -> list[dict]:
    """Run every unfinished run of ``spec`` and write ``results.csv``; return the records.

    ``workers`` and ``threads`` (cores per worker) default to :func:`plan_local`'s split
    of this machine; with ``scheduler`` the running cluster's workers are used as they
    are, and with ``slurm`` ``workers`` is the number of jobs. ``population > 1`` groups
    shape-compatible runs (differing only in seed) into vmapped programs of that many
    members (:func:`gridform.experiments.sweep.population.train_population`); None chooses by device
    (:func:`auto_population`). ``on_start`` is told where the runs go, once, before any
    runs; not when nothing is left to run.
    """
    out = Path(out)
    runs = spec.manifest()
    if scheduler:
        check_scheduler(scheduler)
    if slurm is not None and workers is None:
        workers = SLURM_JOBS
    pending = queue_order([r for r in runs if not r.run_dir(out).is_done()])
    if population is None:
        population = auto_population(scheduler, slurm) if pending else 1
    if population > 1:
        tasks = _population_groups(pending, population)
    else:
        tasks = [("run", r.to_dict()) for r in pending]
    plan = None
    if pending and not scheduler and slurm is None:  # refuses an impossible split here,
        plan = plan_local(len(tasks), pending[0].config, workers, threads,  # before writing
                          members=max(1, population))
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "manifest.json", {"name": spec.name, "runs": [r.to_dict() for r in runs]})
    counts = {"total": len(runs), "done": len(runs) - len(pending), "failed": 0,
              "running": 0}
    if progress:
        progress(dict(counts))
    if pending:
        if on_start:
            on_start(plan.describe() if plan else scheduler or f"SLURM ({workers} jobs)")
        client, cluster = _client(plan, workers, scheduler, slurm)
        try:
            from distributed import as_completed

            futures = []
            for kind, payload in tasks:
                if kind == "run":
                    futures.append(client.submit(execute_run, payload, str(out),
                                                 key=f"run-{payload['run_id']}", pure=False))
                else:
                    from gridform.experiments.sweep.population import execute_population

                    futures.append(client.submit(execute_population, payload, str(out),
                                                 key=f"population-{payload[0]['run_id']}",
                                                 pure=False))
            counts["running"] = len(pending)
            if progress:
                progress(dict(counts))
            for fut in as_completed(futures):
                try:
                    records = fut.result()
                except Exception as err:
                    print(f"gridform sweep: a task was lost ({err}); its runs stay "
                          "unfinished and run again next time", file=sys.stderr)
                    continue
                records = records if isinstance(records, list) else [records]
                for rec in records:
                    counts["running"] -= 1
                    counts["done" if rec["status"] == "done" else "failed"] += 1
                if progress:
                    progress(dict(counts))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return write_results(spec, out, runs)


def _population_groups(runs: list[RunSpec], size: int) -> list[tuple[str, Any]]:
    """Group runs whose configs differ only in the seed; groups of at most ``size``."""
    groups: dict[str, list[RunSpec]] = {}
    for r in runs:
        key = json.dumps(without_seed(r.config), sort_keys=True)
        groups.setdefault(key, []).append(r)
    tasks: list[tuple[str, Any]] = []
    for members in groups.values():
        for i in range(0, len(members), size):
            chunk = members[i:i + size]
            if len(chunk) == 1:
                tasks.append(("run", chunk[0].to_dict()))
            else:
                tasks.append(("population", [m.to_dict() for m in chunk]))
    return tasks


def write_results(spec: SweepSpec, out: Path, runs: list[RunSpec] | None = None) -> list[dict]:
    """``results.csv``: one row per run of the manifest, finished or not."""
    runs = spec.manifest() if runs is None else runs
    varied_names: list[str] = []
    for r in runs:
        for k in r.varied:
            if k not in varied_names:
                varied_names.append(k)
    # a varied setting that is also a metric (steps) is one column: the setting
    metrics = [m for m in DEFAULT_METRICS if m in spec.metrics and m not in varied_names]
    records = []
    for r in runs:
        d = r.run_dir(out)
        if d.done_path.exists():
            rec = json.loads(d.done_path.read_text())
        elif d.failed_path.exists():
            rec = json.loads(d.failed_path.read_text())
        else:
            rec = {"run_id": r.run_id, "status": "pending", "varied": r.varied}
        records.append(rec)
    with atomic_path(out / "results.csv") as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run_id", *varied_names, *metrics, "status", "error"])
        for r, rec in zip(runs, records, strict=True):
            s = rec.get("summary", {})
            w.writerow([r.run_id, *(r.varied.get(k, "") for k in varied_names),
                        *(_cell(s.get(m)) for m in metrics), rec["status"],
                        rec.get("error", "")])
    return records


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
