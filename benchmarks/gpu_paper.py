"""What one short GPU lease should measure, in order of value, each phase under a deadline.

1. Paper scale: the 4096-unit `paper` preset with the levers that leave the plateau on a CPU
   (initial place code scaled by 512, Adam with a cosine decay, gradient clipping), trained
   for as many steps as fit in --train-seconds at the rate measured in a 50-step probe, then
   evaluated (ratemaps, grid scores, spacing vs theory) and written up as report.html.
2. Population throughput: K demo-size networks (256 units) trained as one vmapped program,
   K = 1, 8, 64: network-steps per second (what `gridform sweep --population K` buys on a GPU).
3. The `demo` preset, unchanged, if time is left.

Everything lands in --out (a few files: the device tool returns at most eight).
Run `bash benchmarks/gpu_check.sh` first for the plain steps/s of the paper preset.

    python benchmarks/gpu_paper.py --out DIR [--train-seconds 240] [--budget 420] [--small]

``--small`` shrinks every size, for a dry run on a CPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from pathlib import Path

import jax
import jax.numpy as jnp

from gridform.training import build_task, evaluate_run, load_config, train

T0 = time.perf_counter()


def left(budget: float) -> float:
    return budget - (time.perf_counter() - T0)


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f} s] {msg}", flush=True)


def time_steps(task, steps: int):
    """Steps/s of the jitted training step over ``steps`` steps after the compiling one.

    Returns ``(rate, params, loss)``.
    """
    params, opt = task.init()
    step = task.make_step()
    params, opt, loss = step(params, opt, jnp.asarray(0))
    loss.block_until_ready()
    t = time.perf_counter()
    for i in range(1, steps + 1):
        params, opt, loss = step(params, opt, jnp.asarray(i))
    loss.block_until_ready()
    return steps / (time.perf_counter() - t), params, loss


def check(out: Path, steps: int) -> None:
    """gpu_check.sh: the paper preset's step rate in fp32 and bf16, loss and error after."""
    lines = []
    for dtype in ("float32", "bfloat16"):
        task = build_task(load_config("paper", overrides=[f"matmul_dtype='{dtype}'"]))
        rate, params, loss = time_steps(task, steps)
        err = task.make_error()(params, jnp.asarray(steps + 1))
        lines.append(f"paper preset ({dtype} matmuls, {task.config.n_hidden} units, batch "
                     f"{task.config.batch_size}): {rate:.1f} steps/s, loss {float(loss):.4f}, "
                     f"decoding error {100 * float(err):.1f} cm after {steps} steps")
        print(lines[-1], flush=True)
    (out / "gpu_check.txt").write_text("\n".join(lines) + "\n")


def population(out: Path, small: bool, budget: float) -> None:
    from gridform.experiments.sweep import train_population

    steps = 40 if small else 800
    rows = []
    # pay the device's one-time start-up (CUDA context, cuBLAS handles) before timing
    train_population([load_config("demo", overrides=["n_hidden=32", "steps=2"])])
    for k in (1, 8) if small else (1, 8, 64):
        if left(budget) < 60:
            log(f"population K={k}: skipped, {left(budget):.0f} s left")
            break
        sets = ["n_hidden=32"] if small else []
        configs = [load_config("demo", overrides=[*sets, f"steps={steps}", f"seed={s}"])
                   for s in range(k)]
        # the first call compiles (into the persistent cache); the two timed calls then
        # start alike, so the difference of their two lengths is the steady rate
        shorter = [c.model_copy(update={"steps": steps // 4}) for c in configs]
        train_population(shorter)
        short = train_population(shorter)
        res = train_population(configs)
        dt = res["seconds"] - short["seconds"]
        if dt <= 0:  # the two lengths differ by less than the timer's noise (a dry run)
            log(f"population K={k}: {res['seconds']:.1f} s for {steps} steps, too short "
                "to separate a steady rate from start-up")
            continue
        rate = k * (steps - steps // 4) / dt
        rows.append({"K": k, "steps": steps, "seconds_incl_compile": res["seconds"],
                     "steady_network_steps_per_s": rate, "steady_steps_per_s": rate / k})
        log(f"population K={k}: {rate:.0f} network-steps/s steady ({rate / k:.0f} steps/s "
            f"per program; {res['seconds']:.1f} s for {steps} steps incl. compilation)")
    (out / "population.json").write_text(json.dumps(rows, indent=1))


LEVERS = ("init_input_scale=512;learning_rate=3e-4;lr_schedule='cosine';grad_clip=1.0;"
          "eval_batches=50")


def paper_scale(out: Path, small: bool, train_seconds: float, budget: float,
                levers: str = LEVERS) -> None:
    sets = [s for s in levers.split(";") if s]
    if small:
        sets += ["n_hidden=64", "batch_size=50"]
    rate, _, _ = time_steps(build_task(load_config("paper", overrides=sets)), 50)
    train_seconds = min(train_seconds, left(budget) - 90)
    steps = max(100, int(rate * train_seconds * 0.9) // 100 * 100)
    log(f"paper scale: {rate:.1f} steps/s in the probe -> {steps} steps "
        f"(~{steps / rate:.0f} s)")
    every = max(100, steps // 5)
    cfg = load_config("paper", overrides=[*sets, f"steps={steps}", f"checkpoint_every={every}"])
    run = Path("/tmp/gpu-paper-run")
    shutil.rmtree(run, ignore_errors=True)
    try:
        res = train(cfg, run)
        log(f"paper scale: trained {steps} steps in {res['seconds']:.0f} s, "
            f"error {res['error_cm']:.1f} cm")
    except Exception as e:  # a divergence keeps the last checkpoint: evaluate that
        log(f"paper scale: training stopped: {e}")
    shutil.copy(run / "metrics.jsonl", out / "paper_metrics.jsonl")
    ev = evaluate_run(run)
    log("paper scale summary: " + json.dumps(ev.summary.to_json()))
    (out / "paper_summary.json").write_text(json.dumps(ev.summary.to_json(), indent=1))
    shutil.copy(run / "ratemaps.npz", out / "paper_ratemaps.npz")
    fine = evaluate_run(run, bins=44, write=False).summary
    (out / "paper_summary_44.json").write_text(json.dumps(fine.to_json(), indent=1))
    for bins, summ in ((20, ev.summary), (44, fine)):
        for variant in ("mean", "minmax"):
            a, b = summ.frac_above(0.3, variant), summ.frac_above(0.8, variant)
            if a is None or b is None:
                continue
            verdict = "reaches" if a >= 0.5 and b >= 0.2 else "misses"
            log(f"paper scale, {bins} bins, {variant} variant: "
                f"{100 * a:.1f}% above 0.3, {100 * b:.1f}% above 0.8: {verdict} the Neuron "
                "2023 level (>= 50% and >= 20%)")
    try:
        from gridform.presentation.report import write_report

        write_report(run, run / "report.html")
        shutil.copy(run / "report.html", out / "paper_report.html")
    except Exception:
        traceback.print_exc()


def loop_overhead(out: Path, small: bool, budget: float) -> None:
    """Steps/s of the bare jitted step against `train()` (metrics, NaN checks, checkpoints)."""
    sets = ["n_hidden=64", "batch_size=50"] if small else []
    steps = 200 if small else 3000
    bare, _, _ = time_steps(build_task(load_config("paper", overrides=sets)), steps)
    cfg = load_config("paper", overrides=[*sets, f"steps={steps}", "checkpoint_every=1000"])
    run = Path("/tmp/gpu-loop-run")
    shutil.rmtree(run, ignore_errors=True)
    res = train(cfg, run)
    looped = steps / res["seconds"]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steady = sorted(r["steps_per_s"] for r in rows[2:])
    row = {"steps": steps, "bare_steps_per_s": bare, "train_steps_per_s_incl_compile": looped,
           "train_median_logged_steps_per_s": steady[len(steady) // 2] if steady else None}
    log("loop overhead: " + json.dumps(row))
    (out / "loop.json").write_text(json.dumps(row, indent=1))


def demo(out: Path, small: bool, budget: float) -> None:
    sets = ["n_hidden=32", "steps=200"] if small else []
    cfg = load_config("demo", overrides=sets)
    run = Path("/tmp/gpu-demo-run")
    shutil.rmtree(run, ignore_errors=True)
    res = train(cfg, run)
    ev = evaluate_run(run)
    summary = ev.summary.to_json() | {"train_seconds": res["seconds"]}
    log("demo preset on the GPU: " + json.dumps(summary))
    (out / "demo_summary.json").write_text(json.dumps(summary, indent=1))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--train-seconds", type=float, default=240.0)
    p.add_argument("--budget", type=float, default=420.0, help="seconds for all phases")
    p.add_argument("--small", action="store_true")
    p.add_argument("--phases", default="loop,paper,population,demo",
                   help="comma-separated, of: check, loop, paper, population, demo")
    p.add_argument("--check-steps", type=int, default=300)
    p.add_argument("--paper-set", default=LEVERS, help="';'-separated overrides of the paper "
                   "preset for the paper-scale run ('' for the reference recipe)")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    log(f"devices: {jax.devices()}")
    phases = [("check", lambda: check(a.out, a.check_steps)),
              ("loop", lambda: loop_overhead(a.out, a.small, a.budget)),
              ("paper scale", lambda: paper_scale(a.out, a.small, a.train_seconds, a.budget,
                                                 a.paper_set)),
              ("population", lambda: population(a.out, a.small, a.budget)),
              ("demo", lambda: demo(a.out, a.small, a.budget))]
    wanted = set(a.phases.split(","))
    for (name, fn), need in zip(phases, (0, 40, 150, 60, 120), strict=True):
        if name.split()[0] not in wanted:
            continue
        if left(a.budget) < need:
            log(f"{name}: skipped, {left(a.budget):.0f} s left")
            continue
        try:
            fn()
        except Exception:
            log(f"{name}: failed")
            traceback.print_exc()
    log("done")
    sys.exit(0)


if __name__ == "__main__":
    main()
