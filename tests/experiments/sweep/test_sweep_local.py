"""The local scheduler: the split of the cores, pinned workers, their malloc settings, the
queue order, the persistent compilation cache, and weights equal to a plain `train`."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gridform.cli.app import main
from gridform.core.compile_cache import cache_dir
from gridform.experiments.sweep import load_sweep, run_sweep
from gridform.experiments.sweep.engine import queue_order
from gridform.experiments.sweep.local import (
    available_cores,
    plan_local,
    restore_malloc,
    run_memory_bytes,
    start_local_cluster,
)
from gridform.training import load_config, train
from gridform.training.runs import load_params

TINY = {"n_hidden": 24, "n_place_cells": 32, "batch_size": 8, "sequence_length": 6,
        "learning_rate": 0.003, "init_input_scale": 32.0, "eval_batches": 2}
PLENTY = 64 * 2**30  # bytes of memory, where memory is not the question


def sweep_file(tmp_path, axes, seeds=(0,), steps=20):
    base = ", ".join(f"{k} = {json.dumps(v)}" for k, v in (TINY | {
        "steps": steps, "checkpoint_every": 10}).items())
    path = tmp_path / "sweep.toml"
    path.write_text(f"[base]\npreset = \"demo\"\nset = {{ {base} }}\n[axes]\n{axes}\n"
                    f"[sweep]\nseeds = {list(seeds)}\n")
    return path


@pytest.mark.parametrize(("tasks", "cores", "workers", "threads", "split"), [
    (12, [0, 1], 2, 1, ((0,), (1,))),          # more tasks than cores: one core each
    (1, [0, 1], 1, 2, ((0, 1),)),              # one task takes every core
    (3, list(range(8)), 3, 2, ((0, 1), (2, 3), (4, 5))),
    (5, [4, 5, 6, 7], 4, 1, ((4,), (5,), (6,), (7,))),  # the cores this process may use
])
def test_the_cores_are_split_without_sharing_one(tasks, cores, workers, threads, split):
    config = load_config("demo", **TINY)
    plan = plan_local(tasks, config, cores=cores, memory_bytes=PLENTY)
    assert (plan.workers, plan.threads, plan.cores) == (workers, threads, split)
    flat = [c for group in plan.cores for c in group]
    assert len(flat) == len(set(flat)) and set(flat) <= set(cores)


def test_memory_caps_the_workers_and_says_so():
    config = load_config("paper", n_hidden=4096)
    per = run_memory_bytes(config)
    plan = plan_local(16, config, cores=list(range(16)), memory_bytes=3 * (per + 2**30))
    assert plan.workers < 16 and "memory" in plan.reason
    assert plan.threads == 16 // plan.workers


def test_given_numbers_are_kept_and_impossible_splits_refused():
    config = load_config("demo", **TINY)
    plan = plan_local(12, config, workers=1, cores=[0, 1], memory_bytes=PLENTY)
    assert (plan.workers, plan.threads, plan.cores) == (1, 2, ((0, 1),))
    plan = plan_local(12, config, threads=2, cores=[0, 1], memory_bytes=PLENTY)
    assert (plan.workers, plan.cores) == (1, ((0, 1),))
    with pytest.raises(ValueError, match="need 4 cores"):
        plan_local(12, config, workers=2, threads=2, cores=[0, 1])
    with pytest.raises(ValueError, match="workers must be positive"):
        plan_local(12, config, workers=0, cores=[0, 1])
    shared = plan_local(12, config, workers=3, cores=[0, 1], memory_bytes=PLENTY)
    assert shared.workers == 3 and shared.cores == () and "not pinned" in shared.reason


def test_the_queue_interleaves_programs_and_keeps_each_programs_order(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, 'activation = ["relu", "tanh"]\n'
                                           'sigma = [0.1, 0.12, 0.14]'))
    order = queue_order(spec.manifest())
    acts = [r.config.activation for r in order]
    assert acts == ["relu", "tanh"] * 3  # sigma is an argument: one program per activation
    for act in ("relu", "tanh"):
        sigmas = [r.config.sigma for r in order if r.config.activation == act]
        assert sigmas == [0.1, 0.12, 0.14]


def test_restore_malloc_acts_only_where_dask_set_the_threshold(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert restore_malloc() is False
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert restore_malloc() is (sys.platform == "linux")


def _worker_state(dask_worker):
    return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), sorted(os.sched_getaffinity(0)),
            dask_worker.name, dask_worker.gridform_setup)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux affinity")
@pytest.mark.parametrize("parent_has_it", [False, True])
def test_local_workers_are_pinned_and_keep_glibcs_adaptive_malloc(monkeypatch,
                                                                  parent_has_it):
    # Dask leaves MALLOC_TRIM_THRESHOLD_ in the environment of a process that started a
    # cluster before; the workers then inherit it, and the setup plugin must undo it.
    if parent_has_it:
        monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    else:
        monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    cores = available_cores()
    plan = plan_local(len(cores), None, cores=cores)
    client, cluster = start_local_cluster(plan)
    try:
        states = client.run(_worker_state)
    finally:
        client.close()
        cluster.close()
    assert len(states) == plan.workers
    for trim, affinity, name, setup in states.values():
        assert tuple(affinity) == plan.cores[int(name)] == setup["cores"]
        if parent_has_it:
            assert trim == "65536" and setup["malloc_restored"] is (sys.platform == "linux")
        else:
            assert trim is None and setup["malloc_restored"] is False


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux affinity")
def test_a_worker_restarted_after_a_kill_is_set_up_again():
    import signal
    import time

    cores = available_cores()
    plan = plan_local(len(cores), None, cores=cores)
    client, cluster = start_local_cluster(plan)
    try:
        before = client.run(os.getpid)
        os.kill(next(iter(before.values())), signal.SIGKILL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                pids = client.run(os.getpid)
            except Exception:  # the scheduler has not noticed the death yet
                pids = {}
            if len(pids) == plan.workers and set(pids.values()) != set(before.values()):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the killed worker was not restarted within 60 s")
        states = client.run(_worker_state)
    finally:
        client.close()
        cluster.close()
    for _trim, affinity, name, setup in states.values():
        assert tuple(affinity) == plan.cores[int(name)] == setup["cores"]


def _trained_in_subprocess(config, run_dir, cores):
    """``train`` in a fresh process restricted to ``cores`` before JAX starts."""
    code = textwrap.dedent(f"""
        from gridform.experiments.sweep.local import pin_process
        pin_process({list(cores)!r})
        from gridform.training import TrainConfig, train
        train(TrainConfig(**{config.resolved()!r}), {str(run_dir)!r})
    """)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return load_params(run_dir)


@pytest.mark.slow
def test_sweep_weights_equal_train_with_the_same_cores(tmp_path):
    # At this size XLA's partitioning already shows in the bits after 5 steps: the same
    # run trained on one core and on two differs, so a worker given the wrong cores fails.
    size = {"n_hidden": 64, "n_place_cells": 512, "batch_size": 200, "sequence_length": 10,
            "steps": 5, "checkpoint_every": 5, "eval_batches": 2}
    path = tmp_path / "sweep.toml"
    path.write_text("[base]\npreset = \"demo\"\nset = { "
                    + ", ".join(f"{k} = {v}" for k, v in size.items())
                    + " }\n[sweep]\nseeds = [0, 1]\n")
    spec = load_sweep(path)
    out = tmp_path / "out"
    cores = available_cores()
    plan = plan_local(2, spec.manifest()[0].config, cores=cores)
    records = run_sweep(spec, out, population=1)
    assert [r["status"] for r in records] == ["done"] * 2
    for i, run in enumerate(spec.manifest()):
        # every worker has as many cores as the first: compare with train on that many
        alone = _trained_in_subprocess(run.config, tmp_path / f"alone{i}",
                                       plan.cores[0] if plan.cores else cores)
        swept = load_params(out / "runs" / run.run_id)
        for name in alone:
            assert np.array_equal(alone[name], swept[name]), (run.run_id, name)


@pytest.mark.slow
def test_one_worker_with_every_core_equals_train_in_this_process(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, 'activation = ["relu"]', seeds=(3,)))
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, population=1)
    run = spec.manifest()[0]
    train(run.config, tmp_path / "here")
    here, swept = load_params(tmp_path / "here"), load_params(out / "runs" / run.run_id)
    for name in here:
        assert np.array_equal(here[name], swept[name]), name


def _train_and_count(config, run_dir, cache):
    code = textwrap.dedent(f"""
        import json
        from gridform.core import compile_cache
        from gridform.training import TrainConfig, train
        train(TrainConfig(**{config.resolved()!r}), {str(run_dir)!r})
        print(json.dumps(compile_cache.stats().as_dict()))
    """)
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, env=os.environ | {"GRIDFORM_CACHE": str(cache)})
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_later_process_reads_the_compiled_step_for_another_seed_and_width(tmp_path):
    cache = tmp_path / "cache"
    first = _train_and_count(load_config("demo", **TINY, steps=3, seed=0, sigma=0.12),
                             tmp_path / "a", cache)
    assert first["hits"] == 0 and first["requests"] > 0
    assert any(cache.iterdir())
    second = _train_and_count(load_config("demo", **TINY, steps=3, seed=1, sigma=0.1),
                              tmp_path / "b", cache)
    # the training step and the decoding error come from disk: seed and width are
    # arguments of the compiled programs, not constants baked into them
    assert second["hits"] >= 2


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDFORM_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    for off in ("off", "0", "false", "none"):
        monkeypatch.setenv("GRIDFORM_CACHE", off)
        assert cache_dir() is None
    monkeypatch.delenv("GRIDFORM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "gridform" / "jax"


def test_no_compile_cache_reaches_the_processes_gridform_starts(tmp_path):
    code = textwrap.dedent("""
        import os
        from gridform.core import compile_cache
        compile_cache.disable()
        print(os.environ["GRIDFORM_CACHE"], compile_cache.enable())
    """)
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True)
    assert proc.stdout.split() == ["off", "None"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--threads-per-worker", "0"],
     "gridform sweep: error: argument --threads-per-worker: must be at least 1, got 0"),
    (["--workers", "2", "--threads-per-worker", "64"],
     "gridform: error: 2 workers x 64 threads per worker (--workers, --threads-per-worker) "
     "need 128 cores"),
    (["--threads-per-worker", "1", "--scheduler", "tcp://127.0.0.1:9"],
     "gridform: error: --threads-per-worker splits this machine's cores; it does not apply "
     "with --scheduler"),
])
def test_bad_splits_exit_2_naming_the_flag(tmp_path, capsys, extra, message):
    path = sweep_file(tmp_path, 'activation = ["relu"]')
    out = tmp_path / "out"
    try:
        code = main(["sweep", str(path), "--out", str(out), *extra])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not (out / "runs").exists() and not (out / "manifest.json").exists()
