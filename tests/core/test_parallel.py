"""Pieces of work spread over spawned processes come back in order, as computed here."""

import math
import os

import pytest

from gridform.core.parallel import available_cores, map_in_processes


def test_results_come_back_in_order_and_equal_the_loop_here():
    xs, ys = [3.0, 5.0, 8.0, 7.0, 20.0], [4.0, 12.0, 15.0, 24.0, 21.0]
    here = [math.hypot(x, y) for x, y in zip(xs, ys, strict=True)]
    assert map_in_processes(math.hypot, xs, ys, workers=2) == here == [5, 13, 17, 25, 29]
    assert map_in_processes(math.hypot, xs, ys, workers=1) == here


def _pid(_) -> int:
    return os.getpid()


def test_one_piece_or_one_worker_runs_here_and_more_run_elsewhere():
    pid = os.getpid()
    assert map_in_processes(_pid, [0], workers=4) == [pid]
    assert map_in_processes(_pid, [0, 1, 2], workers=1) == [pid] * 3
    assert pid not in map_in_processes(_pid, [0, 1, 2], workers=2)


def test_iterables_of_different_lengths_are_refused():
    with pytest.raises(ValueError):
        map_in_processes(math.hypot, [1.0, 2.0], [1.0], workers=1)


def test_available_cores_are_this_process_affinity():
    cores = available_cores()
    assert cores == sorted(cores) and len(cores) >= 1
    if hasattr(os, "sched_getaffinity"):
        assert set(cores) == os.sched_getaffinity(0)
