"""Sweep throughput in runs per hour: `gridform sweep` against a plain loop, cold and warm.

All in one run, each variant in a fresh process of its own (so each pays its own start-up,
imports and compilation, as a user's command would), on the quick scale of
examples/no_free_lunch.toml (12 runs: 64 units, 600 steps, train + evaluate each):

1. a sequential loop in one process (`execute_run` for every run, one after another),
   with an empty compilation cache (cold), then again with the cache it filled (warm);
2. `gridform sweep examples/no_free_lunch.toml --quick` with its default options, cold,
   then warm, each with its own cache directory;
3. population on and off: K runs that differ only in seed, through `gridform sweep` with
   `--population 1` and `--population K` (warm cache for both).

It also reports the persistent cache's hit rate (compilations answered from disk), and how
the sweep's trained weights compare with the loop's for the same run: equal bit for bit
when the processes had the same number of cores, and otherwise equal up to the last bits
of XLA's summation order (see docs/sweeps.md).

    python benchmarks/bench_sweep.py [--population 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "examples" / "no_free_lunch.toml"


def _loop(sweep: str, out: str, runs: int) -> None:
    """The sequential baseline, run as this file's child: every run in this process."""
    from gridform.core import compile_cache
    from gridform.experiments.sweep import execute_run, load_sweep

    for r in load_sweep(sweep, quick=True).manifest()[:runs]:
        rec = execute_run(r.to_dict(), out)
        if rec["status"] != "done":
            raise SystemExit(f"run {r.run_id} failed: {rec.get('error')}")
    print(json.dumps({"compile_cache": compile_cache.stats().as_dict()}))


def _timed(cmd: list[str], cache: Path) -> tuple[float, str]:
    env = os.environ | {"GRIDFORM_CACHE": str(cache)}
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return wall, proc.stdout


def _toml_table(d: dict) -> str:
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in d.items()) + " }"


def _seed_sweep(tmp: Path, k: int) -> Path:
    """K runs of the quick sweep's first configuration that differ only in seed."""
    from gridform.experiments.sweep import load_sweep

    base = load_sweep(SWEEP, quick=True).manifest()[0].config
    fields = {n: v for n, v in base.model_dump().items() if n != "seed" and v is not None}
    path = tmp / "seeds.toml"
    path.write_text(f"[base]\npreset = \"paper\"\nset = {_toml_table(fields)}\n"
                    f"[sweep]\nseeds = {list(range(k))}\n")
    return path


def _sweep_cache_stats(out: Path) -> dict[str, float]:
    req = hits = 0
    for f in out.glob("runs/*/DONE.json"):
        c = json.loads(f.read_text()).get("compile_cache", {})
        req += c.get("requests", 0)
        hits += c.get("hits", 0)
    return {"requests": req, "hits": hits, "hit_rate": hits / req if req else float("nan")}


def _compare_weights(a: Path, b: Path) -> dict[str, float]:
    """Across runs present in both directories: how many are bit-identical, largest
    absolute weight difference, largest difference in the fraction of units above 0.3."""
    from gridform.training.runs import load_params

    same, n, worst, frac = 0, 0, 0.0, 0.0
    for run in sorted((a / "runs").iterdir()):
        other = b / "runs" / run.name
        if not (other / "DONE.json").exists():
            continue
        n += 1
        pa, pb = load_params(run), load_params(other)
        same += all(np.array_equal(pa[k], pb[k]) for k in pa)
        worst = max(worst, max(float(np.max(np.abs(pa[k] - pb[k]))) for k in pa))
        sa = json.loads((run / "DONE.json").read_text())["summary"]
        sb = json.loads((other / "DONE.json").read_text())["summary"]
        frac = max(frac, abs(sa["frac_above_0.3"] - sb["frac_above_0.3"]))
    return {"runs": n, "bit_identical": same, "max_abs_weight_diff": worst,
            "max_frac_above_0.3_diff": frac}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--population", type=int, default=4, metavar="K",
                   help="seeds for the population comparison; 0 skips it")
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    p.add_argument("--loop", nargs=3, metavar=("SWEEP", "OUT", "RUNS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.loop:
        _loop(args.loop[0], args.loop[1], int(args.loop[2]))
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    gridform = [sys.executable, "-m", "gridform.cli.app"]
    res: dict[str, dict] = {"machine": {"cores": len(os.sched_getaffinity(0)),
                                        "python": platform.python_version()}}
    try:
        sweep, n = SWEEP, 12
        for state in ("cold", "warm"):
            for kind in ("loop", "sweep"):
                cache = tmp / f"cache-{kind}"  # the cold pass fills it, the warm one reads
                out = tmp / f"{kind}-{state}"
                if kind == "loop":
                    cmd = [sys.executable, __file__, "--loop", str(sweep), str(out), str(n)]
                else:
                    cmd = [*gridform, "sweep", str(sweep), "--quick", "--out", str(out)]
                wall, stdout = _timed(cmd, cache)
                done = len(list(out.glob("runs/*/DONE.json")))
                stats = (json.loads(stdout.strip().splitlines()[-1])["compile_cache"]
                         if kind == "loop" else _sweep_cache_stats(out))
                res[f"{kind}_{state}"] = {"seconds": wall, "runs": done,
                                          "runs_per_hour": 3600 * done / wall,
                                          "compile_cache": stats}
                print(f"{kind:5s} {state}: {done} runs in {wall:6.1f} s = "
                      f"{3600 * done / wall:5.0f} runs/h; cache hits "
                      f"{stats['hits']}/{stats['requests']}", flush=True)
        for state in ("cold", "warm"):
            res[f"speedup_{state}"] = {
                "sweep_vs_loop_same_cache": res[f"sweep_{state}"]["runs_per_hour"]
                / res[f"loop_{state}"]["runs_per_hour"],
                "sweep_vs_cold_loop": res[f"sweep_{state}"]["runs_per_hour"]
                / res["loop_cold"]["runs_per_hour"]}
        res["weights_sweep_vs_loop"] = _compare_weights(tmp / "sweep-cold", tmp / "loop-cold")
        if args.population > 1:
            k = args.population
            seeds = _seed_sweep(tmp, k)
            for pop in (1, k):
                out = tmp / f"population-{pop}"
                wall, _ = _timed([*gridform, "sweep", str(seeds), "--out", str(out),
                                  "--population", str(pop)], tmp / "cache-loop")
                res[f"population_{pop}"] = {"seconds": wall, "runs": k,
                                            "runs_per_hour": 3600 * k / wall}
                print(f"{k} seeds, --population {pop}: {wall:6.1f} s = "
                      f"{3600 * k / wall:5.0f} runs/h", flush=True)
            res["population_speedup"] = (res[f"population_{k}"]["runs_per_hour"]
                                         / res["population_1"]["runs_per_hour"])
        print(json.dumps({k: v for k, v in res.items() if k.startswith(("speedup",
                                                                           "weights",
                                                                           "population_s"))},
                         indent=1))
        if args.json:
            args.json.write_text(json.dumps(res, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
