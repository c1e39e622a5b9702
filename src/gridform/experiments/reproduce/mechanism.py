"""The trained network's mechanism: connectivity on the neural sheet, ablation."""

from __future__ import annotations

import numpy as np

from gridform.experiments.reproduce._common import _Context, _median, _rnn_maps, _rnn_trained
from gridform.experiments.reproduce.claims import Claim, is_measured

SHUFFLE_ALPHA = 0.05  # the connectivity's rank p-value against its phase shuffles


def shuffle_p(observed: float, null) -> float:
    """One-sided rank p-value of ``observed`` against the draws ``null``:
    ``(1 + #{null >= observed}) / (1 + n)`` over the ``n`` finite draws (so never 0; with
    100 draws at least 1/101). NaN when ``observed`` is NaN or no draw is finite."""
    null = np.asarray(null, float)
    null = null[np.isfinite(null)]
    if not np.isfinite(observed) or null.size == 0:
        return float("nan")
    return float((1 + np.sum(null >= observed)) / (1 + null.size))


# Rate-matched draws of the ablation: with n draws, one more draw (the control) lands above
# their 97.5th percentile by chance about 1 / (n + 1) of the time at worst; 10 draws let
# the control pass about one run in ten, 40 about one in forty.
ABLATION_DRAWS_QUICK = 40


def target_mechanism(ctx: _Context) -> list[Claim]:
    """Centre-surround connectivity on the neural sheet, the spectrum, ablation."""
    from gridform.analysis.mechanism import connectivity_profile, eigenmodes, lattice_phases
    from gridform.training.evaluate import matched_ablation

    _, _summary, maps, scores, active = _rnn_maps(ctx)
    trained = _rnn_trained(ctx)
    params = trained.params
    w = np.asarray(params["w_rec"])
    s60 = np.nan_to_num(scores.score_60, nan=-9)
    grid = np.flatnonzero(active & (s60 > 0.3) & np.isfinite(scores.spacing_m)
                          & np.isfinite(scores.orientation_deg))
    claims = []
    prof = None
    if grid.size >= 3:
        spacing = _median(scores.spacing_m[grid])
        orient = _median(scores.orientation_deg[grid])
        phases = lattice_phases(maps.select(grid), spacing, orient)
        w_grid = w[np.ix_(grid, grid)]
        prof = connectivity_profile(w_grid, phases, spacing, orient)
        rng = np.random.default_rng(ctx.seed)
        n_null = 100
        shuffled = [connectivity_profile(w_grid, phases[rng.permutation(grid.size)], spacing,
                                         orient) for _ in range(n_null + 1)]
        null = np.array([s.centre for s in shuffled[:n_null]])
        mu, sd = float(np.nanmean(null)), float(np.nanstd(null))

        def z(pr) -> float:
            return (pr.centre - mu) / sd if sd > 0 else float("nan")

        ctl = shuffled[-1]
        p, p_ctl = shuffle_p(prof.centre, null), shuffle_p(ctl.centre, null)
        claims.append(Claim(
            "mechanism", "grid units sorted by phase have centre-surround connectivity",
            f"centre weight z > 3 and rank p < {SHUFFLE_ALPHA} against {n_null} phase "
            "shuffles, and a negative surround",
            f"z = {z(prof):.1f}, p = {p:.3f} over {null.size} shuffles (centre "
            f"{prof.centre:+.4f}, surround {prof.surround:+.4f})",
            bool(z(prof) > 3 and p < SHUFFLE_ALPHA and prof.is_centre_surround),
            "Sorscher et al. 2023, centre-surround recurrence", int(grid.size),
            f"null sd {sd:.4f}", "one more phase shuffle of the same units",
            f"z = {z(ctl):.1f}, p = {p_ctl:.3f}",
            bool(z(ctl) > 3 and p_ctl < SHUFFLE_ALPHA and ctl.is_centre_surround),
            measurable=is_measured(z(prof), p), control_measurable=is_measured(z(ctl), p_ctl)))
    else:
        claims.append(Claim("mechanism", "grid units sorted by phase have centre-surround "
                            "connectivity", "at least 3 grid units (> 0.3) to sort",
                            f"not measured: only {grid.size} grid units (> 0.3)", False,
                            measurable=False))
    modes = eigenmodes(w, maps, top=8)
    task = trained.task
    n_abl = max(1, min(int(0.1 * active.sum()), int(active.sum()) // 2))
    mean_rate = np.nanmean(maps.rates, axis=(1, 2))
    try:
        abl = matched_ablation(task, params, scores.score_60, active, mean_rate, n_abl,
                               n_draws=ABLATION_DRAWS_QUICK if ctx.quick else 100,
                               n_batches=10 if ctx.quick else 50, seed=ctx.seed)
        lo, hi = abl["matched_interval_cm"]
        claims.append(Claim(
            "mechanism", "silencing grid units hurts path integration more than silencing "
            "as many low-score units of the same mean rate",
            "error increase above the 97.5th percentile of rate-matched draws (within 10%)",
            f"+{abl['increase_grid_cm']:.1f} cm vs matched +{lo:.1f} to +{hi:.1f} cm "
            f"({abl['n_units']} of the top {n_abl} grid units have a rate match)",
            abl["increase_grid_cm"] > hi, "Sorscher et al. 2023, "
            "ablation", len(abl["increase_matched_cm"]), f"95% interval {lo:.1f}-{hi:.1f} cm",
            "one more rate-matched low-score set in place of the grid units",
            f"+{abl['increase_control_cm']:.1f} cm", abl["increase_control_cm"] > hi))
    except ValueError as err:
        abl = None
        claims.append(Claim("mechanism", "silencing grid units hurts path integration more "
                            "than silencing as many low-score units of the same mean rate",
                            "rate-matched low-score units exist", f"not measured: {err}",
                            False, measurable=False))

    ctx.figure_data["mechanism"] = dict(prof=prof, modes=modes, abl=abl)
    ctx.details["mechanism"] = {"ablation": None if abl is None else {
        k: v for k, v in abl.items() if not k.endswith("units")},
        "n_grid_units": int(grid.size)}
    return claims
