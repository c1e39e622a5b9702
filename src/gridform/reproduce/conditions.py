"""Trained networks under different nonlinearities and targets, several seeds each."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridform.reproduce._common import (
    ALPHA,
    PAPER,
    PATH_INTEGRATES_CM,
    _Context,
    _find_run,
    _fmt,
)
from gridform.reproduce.claims import Claim


def _train_arm(ctx: _Context, name: str, preset: str, seeds, **fields) -> list[tuple]:
    """(run, summary) of each seed of one condition: finished runs with the same config
    are reused (in ``OUT/runs`` or a sweep of ``OUT/sweeps``); the others go through the
    sweep engine (Dask) as a sweep of their own, ``OUT/sweeps/NAME``: on a CPU as
    separate runs filling the cores, on a GPU as vmapped populations."""
    from gridform.sweep.engine import run_sweep
    from gridform.sweep.spec import parse_sweep
    from gridform.training.config import load_config

    configs = [load_config(preset, seed=s, **fields) for s in seeds]
    found = [_find_run(ctx, c) for c in configs]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        c = configs[missing[0]]
        print(f"      training {name}, seeds {[seeds[i] for i in missing]} through the sweep "
              f"engine: {c.n_hidden} units, {c.activation}, {c.place_cell_kind} targets, "
              f"{c.steps} steps", flush=True)
        spec = parse_sweep({"base": {"preset": preset, "set": dict(fields)},
                            "sweep": {"seeds": [seeds[i] for i in missing]}}, name=name)
        out = ctx.out / "sweeps" / name
        run_sweep(spec, out)
        by_seed = {r.config.seed: r.run_dir(out) for r in spec.manifest()}
        for i in missing:
            rd = by_seed[seeds[i]]
            found[i] = (rd.path, rd.read_summary()) if rd.is_done() else None
    return [f for f in found if f is not None]


def _untrained_fractions(configs) -> list[float]:
    from gridform.training.evaluate import evaluate_params
    from gridform.training.loop import build_task

    out = []
    for c in configs:
        task = build_task(c)
        out.append(evaluate_params(task, task.init()[0], n_batches=20
                                   ).summary.frac_above_0_3 or 0.0)
    return out


def _welch_greater(a, b) -> float:
    """One-sided p of mean(a) > mean(b) (Welch's t-test); NaN with fewer than 2 each."""
    from scipy.stats import ttest_ind

    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return float("nan") if a.size < 2 or b.size < 2 else float(a.mean() <= b.mean())
    return float(ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)


def _mean_sd(x, pct: bool = True) -> str:
    x = np.asarray(x, float)
    scale, unit = (100, "%") if pct else (1, " cm")
    return f"{scale * x.mean():.1f} +- {scale * x.std(ddof=1) if x.size > 1 else 0:.1f}{unit}"


def target_conditions(ctx: _Context) -> list[Claim]:
    """Trained networks under ReLU vs tanh and DoS vs Gaussian targets, several seeds per
    arm, compared by a one-sided Welch test; the control is the same comparison between
    the arms' untrained networks."""
    from gridform.training.config import load_config

    if ctx.quick:
        base: dict[str, Any] = {}
        preset = "demo"
    else:
        base = {"steps": 20_000}
        preset = "paper"
    seeds = [ctx.seed + i for i in range(3)]
    arms = {"ReLU, DoS": ("relu-dos", {}), "tanh, DoS": ("tanh-dos", {"activation": "tanh"}),
            "ReLU, Gaussian": ("relu-gaussian", {"place_cell_kind": "gaussian"})}
    runs = {k: _train_arm(ctx, name, preset, seeds, **base, **f)
            for k, (name, f) in arms.items()}
    frac = {k: [s.frac_above_0_3 or 0.0 for _, s in v] for k, v in runs.items()}
    frac8 = {k: [s.frac_above_0_8 or 0.0 for _, s in v] for k, v in runs.items()}
    err = {k: [s.error_cm for _, s in v] for k, v in runs.items()}
    untrained = {k: _untrained_fractions([load_config(preset, seed=s, **base, **f)
                                          for s in seeds]) for k, (_, f) in arms.items()}
    claims = []
    for a, b, text, src in (
            ("ReLU, DoS", "tanh, DoS", "ReLU networks are more grid-like than tanh networks",
             "nonlinearity"),
            ("ReLU, DoS", "ReLU, Gaussian", "DoS targets give more grid cells than Gaussian "
             "targets", "place-cell tuning")):
        p = _welch_greater(frac[a], frac[b])
        p_ctl = _welch_greater(untrained[a], untrained[b])
        worst = max(np.nanmean(err[a]), np.nanmean(err[b]))
        claims.append(Claim(
            "conditions", text, f"fraction of units > 0.3: {a} > {b}, one-sided Welch "
            f"p < {ALPHA}; both arms decode to < {PATH_INTEGRATES_CM:.0f} cm",
            f"{_mean_sd(frac[a])} vs {_mean_sd(frac[b])}, p = {_fmt(p)} (errors "
            f"{_mean_sd(err[a], False)}, {_mean_sd(err[b], False)})",
            bool(p < ALPHA), PAPER + ", " + src, min(len(frac[a]), len(frac[b])),
            f"{len(frac[a])} and {len(frac[b])} seeds", "the same arms at their initial "
            "weights", f"{_mean_sd(untrained[a])} vs {_mean_sd(untrained[b])}, p = "
            f"{_fmt(p_ctl)}", bool(p_ctl < ALPHA), bool(worst < PATH_INTEGRATES_CM)))
    ctx.figure_data["conditions"] = dict(runs=runs, frac=frac, frac8=frac8, seeds=seeds, err=err)
    ctx.details["conditions"] = {k: [s.to_json() for _, s in v] for k, v in runs.items()}
    return claims
