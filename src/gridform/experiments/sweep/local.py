"""The local cluster: how many worker processes, how many cores each, and which cores.

On one machine a sweep competes with itself for the cores. XLA's CPU backend sizes its
thread pool to the cores a process may run on, so two unpinned workers on two cores run
four busy threads on two cores and gain nothing over one process (measured in
``docs/sweeps.md``). :func:`plan_local` therefore gives every worker its own cores, and
:class:`LocalWorkerSetup` pins each worker process to them before JAX starts in it.

XLA partitions some of its loops by the size of that pool, so the last bits of a trained
network depend on the number of cores its process had: a run trained by a one-core worker
equals ``train`` run in a process pinned to one core (``taskset -c 0``), bit for bit, and
differs in the last bits from the same run on two cores. ``--threads-per-worker`` picks
the split when that matters.

Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` to return memory to the
system early. Setting it turns off glibc's adaptive mmap threshold, so every buffer of a
training step larger than 128 KiB is mapped and unmapped anew, step after step: training
ran 3x slower in such a worker, most of it in the kernel. The local cluster starts its
workers without it, and :func:`restore_malloc` undoes it wherever it is set anyway: Dask
also leaves it in the environment of the process that started a cluster, so every worker
started from that process later inherits it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from distributed.diagnostics.plugin import WorkerPlugin

from gridform.core.parallel import available_cores
from gridform.training.config import TrainConfig

__all__ = ["LocalPlan", "LocalWorkerSetup", "available_cores", "available_memory_bytes",
           "plan_local", "restore_malloc", "run_memory_bytes", "start_local_cluster",
           "worker_environment"]

# A worker process with JAX, distributed and gridform imported, before any program runs
# (resident set measured on this project's CI machine, rounded up).
WORKER_BASE_BYTES = 700 * 2**20


def available_memory_bytes() -> float:
    """Memory available to new processes now (psutil, which distributed requires)."""
    import psutil

    return float(psutil.virtual_memory().available)


def run_memory_bytes(config: TrainConfig, members: int = 1) -> float:
    """A generous estimate of one training run's working set beyond the worker's base.

    The batch's place code, logits and their gradients (about 6 arrays of batch x time x
    place cells), the hidden states and their gradients (8 of batch x time x units), and
    the weights with Adam's two moments and their gradient (4 copies), all float32.
    """
    c = config
    samples = c.batch_size * c.sequence_length
    activations = 4.0 * samples * (6 * c.n_place_cells + 8 * c.n_hidden)
    weights = 4.0 * 4 * (c.n_hidden**2 + 2 * c.n_hidden * c.n_place_cells)
    return members * (activations + weights)


@dataclass(frozen=True)
class LocalPlan:
    """``workers`` processes of ``threads`` cores each; ``cores[i]`` are worker i's."""

    workers: int
    threads: int
    cores: tuple[tuple[int, ...], ...]
    reason: str

    def describe(self) -> str:
        return (f"a local cluster of {self.workers} worker process"
                f"{'es' if self.workers != 1 else ''}, {self.threads} core"
                f"{'s' if self.threads != 1 else ''} each ({self.reason})")


def plan_local(n_tasks: int, config: TrainConfig | None, workers: int | None = None,
               threads: int | None = None, cores: list[int] | None = None,
               memory_bytes: float | None = None, members: int = 1) -> LocalPlan:
    """Split the cores among worker processes for ``n_tasks`` tasks of runs like ``config``.

    Defaults: as many workers as there are cores and tasks, one core each, so no core is
    shared and none idles while tasks wait; fewer workers when the memory available
    cannot hold that many runs of this size; spare cores go to the workers as threads.
    ``workers`` and ``threads`` fix either number (``workers * threads`` may not exceed
    the cores). ``members`` is the runs per task (a vmapped population).
    """
    cores = available_cores() if cores is None else list(cores)
    n_cores = max(1, len(cores))
    for name, value in (("workers", workers), ("threads per worker", threads)):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    if workers is not None and threads is not None and workers * threads > n_cores:
        raise ValueError(f"{workers} workers x {threads} threads per worker (--workers, "
                         f"--threads-per-worker) need {workers * threads} cores, but this "
                         f"process may use {n_cores}")
    reasons = []
    if workers is None:
        cap = n_cores // (threads or 1)
        workers = max(1, min(cap, max(1, n_tasks)))
        reasons.append(f"{n_cores} cores, {n_tasks} task{'s' if n_tasks != 1 else ''}")
        if config is not None:
            memory = available_memory_bytes() if memory_bytes is None else memory_bytes
            per = WORKER_BASE_BYTES + run_memory_bytes(config, members)
            fit = max(1, int(0.8 * memory // per))
            if fit < workers:
                workers = fit
                reasons.append(f"memory for {fit}: {per / 2**30:.1f} GiB per worker, "
                               f"{memory / 2**30:.1f} GiB available")
    else:
        reasons.append("workers given")
    if workers > n_cores:
        # more workers than cores: the user asked for it; no pinning can help
        return LocalPlan(workers, 1, (), f"{workers} workers asked on {n_cores} cores: "
                                          "not pinned, cores shared")
    if threads is None:
        threads = max(1, n_cores // workers)
    else:
        reasons.append("threads given")
    split = tuple(tuple(cores[i * threads:(i + 1) * threads]) for i in range(workers))
    return LocalPlan(workers, threads, split, "; ".join(reasons))


def start_local_cluster(plan: LocalPlan):
    """``(Client, LocalCluster)`` of ``plan.workers`` processes, each running one task at a
    time, started without ``MALLOC_TRIM_THRESHOLD_`` and pinned to ``plan.cores``."""
    import dask
    from distributed import Client, LocalCluster

    # one task at a time per worker process: its cores are XLA's, not Dask's threads
    with dask.config.set(worker_environment()):
        cluster = LocalCluster(n_workers=plan.workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
    client = Client(cluster)
    client.register_plugin(LocalWorkerSetup(plan.cores))
    return client, cluster


class LocalWorkerSetup(WorkerPlugin):
    """Dask worker plugin: restore glibc's malloc thresholds (:func:`restore_malloc`) and
    pin worker ``name`` (0, 1, ...) of a LocalCluster to its cores.

    Runs in the worker process when it starts, and again in a worker the nanny restarts
    after a crash (same name, same cores), before any task: JAX has not started its CPU
    backend yet, so XLA sizes its thread pool to these cores. Every thread of the process
    is pinned, and the threads it starts later inherit the set. ``worker.gridform_setup``
    records what was done.
    """

    name = "gridform-local-worker"

    def __init__(self, cores: tuple[tuple[int, ...], ...]):
        self.cores = cores

    def setup(self, worker) -> None:
        worker.gridform_setup = {"malloc_restored": restore_malloc(), "cores": None}
        try:
            index = int(worker.name)
        except (TypeError, ValueError):
            return  # not one of our LocalCluster's workers
        if not 0 <= index < len(self.cores) or not self.cores[index]:
            return
        pin_process(self.cores[index])
        worker.gridform_setup["cores"] = self.cores[index]


def pin_process(cores: tuple[int, ...] | list[int]) -> None:
    """Restrict every thread of this process to ``cores`` (Linux; elsewhere nothing)."""
    if not hasattr(os, "sched_setaffinity"):
        return
    target = set(cores)
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, target)
        except OSError:  # a thread that ended meanwhile
            pass


def worker_environment() -> dict[str, None]:
    """Dask config overrides for a local cluster's worker processes: start them without
    ``MALLOC_TRIM_THRESHOLD_`` (see the module docstring). Use with ``dask.config.set``
    around the cluster's creation."""
    return {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def restore_malloc() -> bool:
    """In a process started with ``MALLOC_TRIM_THRESHOLD_`` set, give glibc back the
    thresholds its adaptive default reaches: buffers up to 32 MiB from the heap, which is
    trimmed past 128 MiB free. Returns whether anything was changed (only on glibc, and
    only when the variable is set)."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * 2**20) == 1
    ok &= mallopt(_M_TRIM_THRESHOLD, 128 * 2**20) == 1
    return bool(ok)
