"""Training throughput of one preset's step: one process on every core against one
process per core, all at once (what `gridform sweep`'s default local plan runs).

Each variant is a fresh process pinned to its cores before JAX starts, so XLA sizes its
thread pool to them (as `gridform.experiments.sweep.local` does for a worker). Each process
builds the preset's task, takes 20 warm-up steps (compilation included) and then times the real
training step (trajectories simulated inside the program) with the shared timer
(`_timing.best_time`). Reported: steps/s of one process on one core, of one process on
all cores, of each of the one-core processes running together, and the ratio of their
sum to the all-core process: above 1, a sweep of such runs finishes sooner with one
worker per core than one run after another on all cores.

    python benchmarks/bench_workers.py [--preset demo] [--set n_hidden=128] [--steps 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(preset: str, sets: list[str], steps: int) -> None:
    import jax
    from _timing import best_time

    from gridform.training import build_task, load_config

    task = build_task(load_config(preset, overrides=sets))
    params, opt = task.init()
    step = task.make_step()
    state = [params, opt]

    def call(i):
        out = step(state[0], state[1], i)
        state[0], state[1] = out[0], out[1]
        return out[2]

    for i in range(20):  # compile and warm up
        call(i)
    jax.block_until_ready(state[0])
    seconds = best_time(call, steps, repeats=3, warmup=0, sync=jax.block_until_ready)
    print(json.dumps({"steps_per_s": 1 / seconds, "cores": sorted(os.sched_getaffinity(0))}))


def launch(cores: list[int], args) -> subprocess.Popen:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--preset", args.preset,
           "--steps", str(args.steps)] + [x for s in args.set for x in ("--set", s)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=HERE,
                            preexec_fn=lambda: os.sched_setaffinity(0, cores))


def rate(proc: subprocess.Popen) -> float:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"a timing process failed (exit {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])["steps_per_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="demo")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--steps", type=int, default=100, help="steps per timed block")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.preset, args.set, args.steps)
        return
    cores = sorted(os.sched_getaffinity(0))
    one = rate(launch(cores[:1], args))
    every = rate(launch(cores, args))
    together = [rate(q) for q in [launch([c], args) for c in cores]]
    print(f"preset {args.preset} {' '.join(args.set)}, {len(cores)} cores")
    print(f"one process, one core:           {one:7.1f} steps/s")
    print(f"one process, {len(cores)} cores:            {every:7.1f} steps/s "
          f"({every / one:.2f}x one core)")
    print(f"{len(cores)} processes of one core, at once: "
          + ", ".join(f"{r:.1f}" for r in together)
          + f" steps/s, {sum(together):.1f} in all ({sum(together) / every:.2f}x one process "
          f"on {len(cores)} cores)")


if __name__ == "__main__":
    main()
