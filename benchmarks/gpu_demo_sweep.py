"""Search the `demo` recipe on a lent GPU: many candidate settings, several seeds each, at once.

The demo network (256 units, batch 100) is launch-bound on a GPU: one process keeps the
device mostly idle. So each setting runs in its own process (memory not preallocated),
several processes share the GPU, and each trains its seeds as one vmapped population
(`gridform.experiments.sweep.population`), then evaluates every member exactly as
`gridform evaluate` does. The CPU confirms the winner afterwards
(`benchmarks/demo_recipe.py`): the GPU only says which rows are worth the CPU's
minutes, and how much the seed moves them.

    python benchmarks/gpu_demo_sweep.py "" "loss='mse'" "n_hidden=512" --seeds 3 \\
        --parallel 8 --out DIR [--small]

Each setting is comma-separated ``key=value`` overrides of the demo preset ("" is the
preset). Writes ``DIR/sweep.json`` (one record per setting and seed) and prints a
markdown table (mean over seeds, and the worst seed) as settings finish. The run
directories are deleted once evaluated unless ``--keep-runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

KEYS = ("error_cm", "frac_above_0.3", "frac_above_0.8", "mean_pairwise_corr",
        "median_spacing_m", "predicted_spacing_m")


def one(setting: str, seeds: int, out: Path, small: bool, keep: bool) -> None:
    """Train ``seeds`` members of one setting as a population and evaluate each."""
    from gridform.experiments.sweep.population import train_population
    from gridform.training import load_config
    from gridform.training.evaluate import evaluate_run

    overrides = [s for s in setting.split(",") if s.strip()]
    if small:
        overrides += ["n_hidden=32", "steps=100", "eval_batches=4"]
    configs = [load_config("demo", overrides=[*overrides, f"seed={s}"]) for s in range(seeds)]
    dirs = [out / f"seed{s}" for s in range(seeds)]
    res = train_population(configs, dirs)
    records = []
    for s, d in enumerate(dirs):
        rec = {"setting": setting, "seed": s, "train_seconds": res["seconds"],
               "diverged": res["diverged"][s]}
        if not res["diverged"][s]:
            t = time.perf_counter()
            rec |= {k: evaluate_run(d).summary.to_json().get(k) for k in KEYS}
            rec["eval_seconds"] = time.perf_counter() - t
        records.append(rec)
    (out / "records.json").write_text(json.dumps(records, indent=1))
    if not keep:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def row(setting: str, recs: list[dict]) -> str:
    ok = [r for r in recs if not r.get("diverged") and r.get("error_cm") is not None]
    if not ok:
        return f"| {setting or 'demo preset'} | all {len(recs)} seeds failed |"

    def mean(k):
        v = [r[k] for r in ok if r.get(k) is not None]
        return sum(v) / len(v) if v else float("nan")

    worst = min(ok, key=lambda r: r["frac_above_0.8"])
    sp, pred = mean("median_spacing_m"), mean("predicted_spacing_m")
    return (f"| {setting or 'demo preset'} | {len(ok)}/{len(recs)} | {mean('error_cm'):.1f} | "
            f"{mean('frac_above_0.3'):.0%} | {mean('frac_above_0.8'):.0%} | "
            f"{worst['frac_above_0.3']:.0%} / {worst['frac_above_0.8']:.0%} | "
            f"{mean('mean_pairwise_corr'):.3f} | {sp:.3f} ({sp / pred - 1:+.0%}) | "
            f"{ok[0]['train_seconds']:.0f} |")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("settings", nargs="+")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--parallel", type=int, default=8)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--small", action="store_true", help="tiny sizes, for a CPU dry run")
    p.add_argument("--keep-runs", action="store_true", help="keep the run directories")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        one(a.settings[0], a.seeds, a.out, a.small, a.keep_runs)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    pending = list(enumerate(a.settings))
    running: list[tuple[int, str, subprocess.Popen]] = []
    results: dict[int, list[dict]] = {}
    t0 = time.perf_counter()
    print("| setting | seeds ok | error (cm) | > 0.3 | > 0.8 | worst seed > 0.3 / > 0.8 "
          "| corr | spacing (m) vs predicted | train s |", flush=True)
    while pending or running:
        while pending and len(running) < a.parallel:
            i, s = pending.pop(0)
            d = a.out / f"setting{i}"
            d.mkdir(exist_ok=True)
            cmd = [sys.executable, __file__, s, "--one", "--seeds", str(a.seeds),
                   "--out", str(d)] + (["--small"] if a.small else []) \
                + (["--keep-runs"] if a.keep_runs else [])
            log = (d / "log.txt").open("w")
            running.append((i, s, subprocess.Popen(cmd, env=env, stdout=log, stderr=log)))
        time.sleep(2)
        for item in list(running):
            i, s, proc = item
            if proc.poll() is None:
                continue
            running.remove(item)
            f = a.out / f"setting{i}" / "records.json"
            results[i] = json.loads(f.read_text()) if f.exists() else \
                [{"setting": s, "diverged": True, "exit": proc.returncode}]
            print(row(s, results[i]) + f" (done at {time.perf_counter() - t0:.0f} s)",
                  flush=True)
    flat = [r for i in sorted(results) for r in results[i]]
    (a.out / "sweep.json").write_text(json.dumps(flat, indent=1))


if __name__ == "__main__":
    main()
