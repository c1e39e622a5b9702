"""Trained networks under different nonlinearities and targets, several seeds each."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridform.experiments.reproduce._common import (
    ALPHA,
    ARMS,
    PAPER,
    PATH_INTEGRATES_CM,
    QUICK_STEPS,
    _Context,
    _fmt,
    _run_maps,
    _train_arms,
    arm_seeds,
    network_recipe,
    null_fraction,
)
from gridform.experiments.reproduce.claims import Claim, is_measured


def _fraction(maps, scores, active, seed: int) -> float:
    """:func:`null_fraction`, with 0 for a network with fewer than 2 active units (none of
    its units is grid-like); NaN only where the null itself could not be scored."""
    if int(np.sum(active)) < 2:
        return 0.0
    return null_fraction(maps, scores, active, seed)[0]


def _trained_fractions(runs: dict[str, list[tuple]], seed: int) -> dict[str, list[float]]:
    """Each arm's :func:`_fraction` per seed, from the maps and scores its evaluation
    saved."""
    return {arm: [_fraction(*_run_maps(run, summary)[2:], seed)
                  for run, summary in arm_runs] for arm, arm_runs in runs.items()}


def _untrained_fractions(configs, seed: int) -> list[float]:
    """:func:`_fraction` of each config's network at its initial weights."""
    from gridform.training.evaluate import evaluate_params
    from gridform.training.loop import build_task

    out = []
    for c in configs:
        task = build_task(c)
        ev = evaluate_params(task, task.init()[0], n_batches=20)
        out.append(_fraction(ev.ratemaps, ev.scores, ev.active, seed))
    return out


def _welch_greater(a, b) -> float:
    """One-sided p of mean(a) > mean(b) (Welch's t-test); NaN with fewer than 2 each."""
    from scipy.stats import ttest_ind

    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 2 or b.size < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return float("nan") if a.size < 2 or b.size < 2 else float(a.mean() <= b.mean())
    return float(ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error over the comparisons): the
    i-th smallest p times (m - i), made monotone, capped at 1; NaN stays NaN and does not
    count among the m comparisons."""
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out


def _mean_sd(x, pct: bool = True) -> str:
    x = np.asarray(x, float)
    scale, unit = (100, "%") if pct else (1, " cm")
    return f"{scale * x.mean():.1f} +- {scale * x.std(ddof=1) if x.size > 1 else 0:.1f}{unit}"


def target_conditions(ctx: _Context) -> list[Claim]:
    """Trained networks under ReLU vs tanh and DoS vs Gaussian targets, several seeds per
    arm, compared by a one-sided Welch test; the control is the same comparison between
    the arms' untrained networks. Full mode trains 5 seeds per arm, adds normalised
    against unnormalised DoG targets and corrects the three comparisons by Holm's method;
    quick mode trains 3 seeds of the first two comparisons and corrects nothing."""
    from gridform.training.config import load_config

    preset, base = network_recipe(ctx)
    seeds = arm_seeds(ctx)
    arms: dict[str, dict[str, Any]] = dict(ARMS)
    comparisons = [
        ("ReLU, DoS", "tanh, DoS", "ReLU networks are more grid-like than tanh networks",
         PAPER + ", nonlinearity"),
        ("ReLU, DoS", "ReLU, Gaussian", "DoS targets give more grid cells than Gaussian "
         "targets", PAPER + ", place-cell tuning")]
    if not ctx.quick:
        # the 2022 reply to "No free lunch": with a normalised DoG the code has its ring
        # and no power at k = 0. DoG targets take negative values, so both arms are
        # trained against the code by mean squared error, not cross-entropy.
        arms |= {"ReLU, DoG": {"place_cell_kind": "dog", "loss": "mse"},
                 "ReLU, unnormalised DoG": {"place_cell_kind": "dog_unnormalised",
                                            "loss": "mse"}}
        comparisons.append(("ReLU, DoG", "ReLU, unnormalised DoG", "normalised DoG targets "
                            "give more grid cells than unnormalised ones (mean squared "
                            "error)", "Sorscher et al. 2022, reply to Schaeffer et al."))
    runs = _train_arms(ctx, preset, seeds, arms, **base)
    frac = _trained_fractions(runs, ctx.seed)
    frac3 = {k: [s.frac_above_0_3 or 0.0 for _, s in v] for k, v in runs.items()}
    frac8 = {k: [s.frac_above_0_8 or 0.0 for _, s in v] for k, v in runs.items()}
    err = {k: [s.error_cm for _, s in v] for k, v in runs.items()}
    untrained = {k: _untrained_fractions([load_config(preset, seed=s, **base, **f)
                                          for s in seeds], ctx.seed) for k, f in arms.items()}
    # every comparison row says when it was made in quick mode
    quick = (f" (quick mode: {preset} preset for {QUICK_STEPS} steps without its early "
             f"weight decay, {len(seeds)} seeds per arm, no correction for the two "
             "comparisons)") if ctx.quick else ""
    raw = [_welch_greater(frac[a], frac[b]) for a, b, *_ in comparisons]
    raw_ctl = [_welch_greater(untrained[a], untrained[b]) for a, b, *_ in comparisons]
    if not ctx.quick:
        raw, raw_ctl = holm(raw), holm(raw_ctl)
    test = "one-sided Welch" + ("" if ctx.quick else
                                f", Holm-adjusted over {len(comparisons)} comparisons")
    claims = []
    for (a, b, text, src), p, p_ctl in zip(comparisons, raw, raw_ctl, strict=True):
        worst = max(np.nanmean(err[a]), np.nanmean(err[b]))
        claims.append(Claim(
            "conditions", text + quick, "fraction of active units above the 95th "
            "percentile of a null with their own spectrum (score_60): "
            f"{a} > {b}, {test} p < {ALPHA}; both arms decode to < "
            f"{PATH_INTEGRATES_CM:.0f} cm", f"{_mean_sd(frac[a])} vs {_mean_sd(frac[b])}, "
            f"p = {_fmt(p)} (above 0.3: {_mean_sd(frac3[a])} vs {_mean_sd(frac3[b])}; "
            f"errors {_mean_sd(err[a], False)}, {_mean_sd(err[b], False)})",
            bool(p < ALPHA), src, min(len(frac[a]), len(frac[b])),
            f"{len(frac[a])} and {len(frac[b])} seeds", "the same arms at their initial "
            "weights", f"{_mean_sd(untrained[a])} vs {_mean_sd(untrained[b])}, p = "
            f"{_fmt(p_ctl)}", bool(p_ctl < ALPHA), bool(worst < PATH_INTEGRATES_CM),
            measurable=is_measured(p), control_measurable=is_measured(p_ctl)))
    ctx.figure_data["conditions"] = dict(runs=runs, frac=frac, frac8=frac8, seeds=seeds, err=err,
                                         frac_label="above its null")
    ctx.details["conditions"] = {k: [s.to_json() for _, s in v] for k, v in runs.items()}
    return claims
