"""Sweep throughput: runs per hour, local Dask cluster vs one process; population speed-up.

1. The quick scale of examples/no_free_lunch.toml (or its first --runs runs), trained
   (a) one after another in this process and (b) by `run_sweep` on a LocalCluster of
   --workers worker processes. Each run is train + evaluate, the same work either way.
2. K small networks that differ only in seed (the quick sweep's base config), trained
   (a) one after another and (b) as one vmapped population (`train_population`).

    python benchmarks/bench_sweep.py [--runs 6] [--workers 2] [--population 8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from gridform.sweep import execute_run, load_sweep, run_sweep, train_population
from gridform.sweep.spec import SweepSpec
from gridform.training import train

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=6, help="runs of the quick sweep to time")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--population", type=int, default=8)
    p.add_argument("--steps", type=int, default=None, help="override the runs' steps")
    args = p.parse_args()

    spec = load_sweep(ROOT / "examples" / "no_free_lunch.toml", quick=True)
    if args.steps:
        spec = SweepSpec(**{**spec.__dict__, "base": spec.base | {"steps": args.steps}})
    runs = spec.manifest()[: args.runs]
    sub = SweepSpec(**{**spec.__dict__, "axes": {}, "seeds": [0]})
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        t = time.perf_counter()
        for r in runs:
            rec = execute_run(r.to_dict(), str(tmp / "sequential"))
            assert rec["status"] == "done", rec
        seq = time.perf_counter() - t

        # the same runs through the engine: a manifest of exactly these runs
        class Fixed(SweepSpec):
            def manifest(self):
                return runs

        fixed = Fixed(**sub.__dict__)
        t = time.perf_counter()
        records = run_sweep(fixed, tmp / "dask", workers=args.workers)
        dask = time.perf_counter() - t
        assert all(r["status"] == "done" for r in records), records
        print(f"quick no_free_lunch sweep, {len(runs)} runs "
              f"({runs[0].config.n_hidden} units, {runs[0].config.steps} steps, train + "
              f"evaluate each):")
        print(f"  one process, in sequence   {seq:7.1f} s  {3600 * len(runs) / seq:6.0f} runs/h")
        print(f"  LocalCluster, {args.workers} workers    {dask:7.1f} s  "
              f"{3600 * len(runs) / dask:6.0f} runs/h  ({seq / dask:.2f}x, includes "
              "cluster start-up)")

        k = args.population
        base = runs[0].config
        configs = [base.model_copy(update={"seed": s}) for s in range(k)]
        t = time.perf_counter()
        for c in configs:
            train(c, tmp / f"seq-{c.seed}")
        seq_k = time.perf_counter() - t
        t = time.perf_counter()
        train_population(configs)
        pop = time.perf_counter() - t
        print(f"{k} networks differing in seed ({base.n_hidden} units, {base.steps} steps, "
              "training only):")
        print(f"  one after another          {seq_k:7.1f} s")
        print(f"  one vmapped population     {pop:7.1f} s  ({seq_k / pop:.2f}x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
