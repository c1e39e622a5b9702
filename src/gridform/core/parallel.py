"""Independent pieces of numpy and scipy work spread over this machine's cores.

Least-squares fits, shuffle nulls and other loops of independent Python-level work use one
core; :func:`map_in_processes` runs the pieces in fresh processes, one per core this
process may use, and returns their results in order. The processes are spawned, never
forked: the calling process may hold JAX's threads, which a fork would copy mid-lock.
Each piece gives the same result wherever it runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["available_cores", "map_in_processes"]


def available_cores() -> list[int]:
    """The cores this process may run on (its affinity), in order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return list(range(os.cpu_count() or 1))


def map_in_processes(fn: Callable[..., Any], *iterables: Sequence[Any],
                     workers: int | None = None) -> list[Any]:
    """``[fn(*args) for args in zip(*iterables)]``, computed in ``workers`` spawned
    processes (default: one per core of :func:`available_cores`; 1, or a single piece,
    computes here).
    ``fn`` and its arguments must pickle (``fn`` a module-level function). A daemonic
    process computes here. As with any spawned pool, a script that calls this at import
    time needs the ``if __name__ == "__main__":`` guard."""
    import multiprocessing

    items = list(zip(*iterables, strict=True))
    workers = len(available_cores()) if workers is None else workers
    # a daemonic process (a Dask worker, a pool's child) may not start children
    if workers < 2 or len(items) < 2 or multiprocessing.current_process().daemon:
        return [fn(*args) for args in items]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(min(workers, len(items)),
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, *zip(*items, strict=True)))
