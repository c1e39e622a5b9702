"""The unification: the continuous-attractor network beside the trained one.

Five claims (docs/attractor.md, where their bars were fixed before the first run): the
sheet's period is its kernel's ring; its neurons are grid cells of the predicted spacing;
its population is one module on a torus; the trained network's phase-sorted connectivity
is centre-surround; its outgoing weights are shifted along each unit's velocity input,
as the attractor's are by construction.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from gridform.experiments.reproduce._common import (
    _Context,
    _fmt,
    _median,
    _rnn_maps,
    _rnn_trained,
    _shell_resolution,
)
from gridform.experiments.reproduce.claims import Claim, is_measured

SOURCE = "Burak & Fiete 2009"
PERIOD_TOLERANCE = 0.05     # row 1: relative, or the torus's shell resolution if larger
STRONG_FRACTION = 0.70      # row 2: neurons above 0.8
SPACING_TOLERANCE = 0.05    # row 2: relative
RADIAL_R = 0.5              # row 4: correlation with the best radial DoG
RADIAL_SHUFFLES = 100
RADIAL_P = 0.05
ALIGNMENT = 0.3             # row 5: mean cosine between shift and velocity input
ALIGNMENT_SHUFFLES = 1000
ALIGNMENT_P = 0.01
RECORD = 256                # neurons recorded: the sanity cases of rows 4 and 5 use them


def _sheet_runs(ctx: _Context) -> dict:
    """The default sheet along the default path, the same with velocity gain 0, and the
    kernel with a = 0 from noise; computed once per context."""
    if "attractor_runs" in ctx.details:
        return ctx.details["attractor_runs"]
    import jax

    from gridform.attractor.run import (
        ATTRACTOR_FILES,
        AttractorConfig,
        form_pattern,
        run_attractor,
    )
    from gridform.attractor.sheet import random_state
    from gridform.core.ratemaps import load_ratemaps

    base = AttractorConfig(record=RECORD, seed=ctx.seed)
    runs = {}
    for name, config in (("sheet", base),
                         ("no-velocity", AttractorConfig(record=RECORD, seed=ctx.seed,
                                                         velocity_gain=0.0))):
        out = ctx.out / "attractor" / name
        summary = _reuse(out, config)
        if summary is None:
            print(f"      attractor {name}: {config.sheet} x {config.sheet} sheet, "
                  f"{config.samples * config.sample_dt:g} s of path", flush=True)
            summary = run_attractor(config, out)
        runs[name] = (out, summary, load_ratemaps(out / ATTRACTOR_FILES["ratemaps"]))
    flat = dataclasses.replace(base.params, amplitude=0.0)
    state, pattern = form_pattern(flat, random_state(jax.random.key(ctx.seed), flat.n),
                                  base.settle, base.anneal)
    runs["no-ring"] = (flat, np.asarray(state), pattern)
    ctx.details["attractor_runs"] = runs
    return runs


def _reuse(out, config) -> dict | None:
    """The summary of a finished run of ``config`` in ``out``, or None: a second
    reproduce re-analyses instead of re-simulating."""
    import json
    from dataclasses import asdict

    from gridform.analysis.scores import SCORER_VERSION
    from gridform.attractor.run import is_attractor_dir, read_attractor

    if not is_attractor_dir(out):
        return None
    summary = read_attractor(out).summary
    same = summary.get("config") == json.loads(json.dumps(asdict(config)))
    return summary if same and summary.get("scorer_version") == SCORER_VERSION else None


def _saved_scores(out):
    """The scores run_attractor saved beside the ratemaps (a reused run's scorer version
    is checked by :func:`_reuse`), instead of scoring the maps again."""
    from gridform.analysis.scores import GridScores
    from gridform.attractor.run import ATTRACTOR_FILES

    return GridScores.load(out / ATTRACTOR_FILES["scores"])


def _period_claim(runs: dict) -> Claim:
    _, s, _ = runs["sheet"]
    _, _, flat_pattern = runs["no-ring"]
    from gridform.attractor.run import CLEAN_PATTERN

    predicted = s["sheet_period_predicted"]
    tol = max(PERIOD_TOLERANCE, _shell_resolution(2 * math.pi / predicted, s["sheet"],
                                                  s["sheet"]))
    rel = s["sheet_period_measured"] / predicted - 1
    formed = flat_pattern.power_fraction >= CLEAN_PATTERN
    rel_c = flat_pattern.period_neurons / predicted - 1 if formed else float("nan")
    return Claim(
        "attractor", "the sheet's pattern period is its kernel's ring 2 pi / k*",
        f"a pattern ({CLEAN_PATTERN:.0%} of the variance in three modes) with its period "
        f"within {tol:.1%} of {predicted:.2f} neurons (5% or the torus's shell resolution)",
        f"{s['sheet_period_measured']:.2f} neurons ({100 * rel:+.1f}%), "
        f"{s['pattern_power_fraction']:.0%} of the variance in three modes",
        bool(abs(rel) <= tol and s["pattern_power_fraction"] >= CLEAN_PATTERN),
        SOURCE + "; the ring of the pattern-formation theory", 1,
        f"{s['sheet']} x {s['sheet']} sheet", "the kernel without its centre (a = 0: the "
        "inhibitory Gaussian alone, no ring)",
        f"{flat_pattern.power_fraction:.0%} of the variance in three smooth modes"
        + (f", period {flat_pattern.period_neurons:.2f} neurons" if formed
           else ": no pattern"),
        bool(formed and abs(rel_c) <= tol), value=rel, bar=tol)


def _grid_claim(runs: dict) -> Claim:
    _, s, _ = runs["sheet"]
    _, z, _ = runs["no-velocity"]

    def check(x) -> tuple[bool, str]:
        ratio = x["spacing_measured_m"] / x["spacing_predicted_m"] \
            if math.isfinite(x["spacing_predicted_m"]) else float("nan")
        ok = x["frac_above_0.8"] >= STRONG_FRACTION and abs(ratio - 1) <= SPACING_TOLERANCE
        if not math.isfinite(x["spacing_predicted_m"]):
            return bool(ok), (f"{x['frac_above_0.8']:.0%} above 0.8; no spacing predicted "
                              "(the pattern does not drift)")
        return bool(ok), (f"{x['frac_above_0.8']:.0%} above 0.8; spacing "
                          f"{_fmt(x['spacing_measured_m'])} m against "
                          f"{_fmt(x['spacing_predicted_m'])} m predicted")

    ok, text = check(s)
    ok_c, text_c = check(z)
    return Claim(
        "attractor", "the sheet's neurons are grid cells with the spacing its ring and "
        "drift predict", f">= {STRONG_FRACTION:.0%} of recorded neurons above 0.8 and "
        f"median spacing within {SPACING_TOLERANCE:.0%} of the sheet's lattice spacing "
        "over the calibrated drift", text + f" ({s['n_recorded']} neurons, "
        f"{s['duration_s']:g} s path, path-integration error median "
        f"{100 * s['pi_error_median_m']:.1f} cm)", ok, SOURCE, s["n_recorded"],
        f"median score {s['median_score_60']:.2f}", "velocity gain 0 (the pattern does not "
        "move with the animal)", text_c, ok_c)


def _torus_claim(ctx: _Context, runs: dict) -> Claim:
    from gridform.core.errors import MissingExtraError, require

    claim = "the sheet's population is one module on a torus"
    expected = "one module with Betti (1, 2, 1) above the null, from the ratemaps and from " \
               "the activity along the path"
    try:
        require("ripser", "topology")
        require("sklearn", "topology")
    except MissingExtraError as err:
        return Claim("attractor", claim, expected, f"not measured: {err}", False,
                     measurable=False)
    from gridform.analysis.scores import null_model
    from gridform.analysis.topology import (
        activity_point_cloud,
        population_topology,
        rotated_maps,
    )
    from gridform.attractor.run import read_activity

    out, _, maps = runs["sheet"]
    rates, positions, speeds = read_activity(out)
    thr = null_model(maps.shape, maps.bin_size, n_maps=300, seed=ctx.seed).threshold(95)
    kw = {"threshold": thr, "n_shuffles": 20, "seed": ctx.seed}
    from_maps = population_topology(maps, **kw)
    from_act = population_topology(maps, activity_point_cloud(rates, positions, speeds),
                                   **kw)
    control = population_topology(rotated_maps(maps, np.random.default_rng(ctx.seed)),
                                  phases=False, **kw)

    def one_torus(t) -> bool:
        return t.n_modules == 1 and t.torus

    def text(t) -> str:
        return (f"{t.n_modules} module(s) of {len(t.grid_units)}, Betti "
                + (", ".join(str(tuple(m.betti)) for m in t.modules) or "none"))

    ctx.details["attractor_topology"] = {"ratemaps": from_maps.to_json(),
                                         "activity": from_act.to_json()}
    return Claim(
        "attractor", claim, expected, f"ratemaps: {text(from_maps)}; activity: "
        f"{text(from_act)}; orientation sd {_fmt(from_maps.orientation_spread_deg, '.2f')} "
        "deg", one_torus(from_maps) and one_torus(from_act),
        SOURCE + "; Gardner et al. 2022", len(from_maps.grid_units), "one sheet",
        "every map rotated by its own random angle", text(control), one_torus(control))


def _attractor_sheet_inputs(runs: dict):
    """The attractor's recorded neurons as a 'trained network' would be analysed: their
    outgoing weights (unit -> unit, gridform.core.models' convention), phases on the lattice,
    and preferred directions."""
    from gridform.analysis.mechanism import lattice_phases
    from gridform.attractor.run import read_attractor
    from gridform.attractor.sheet import DIRECTION_ANGLES, direction_index, weights_between

    out, _, maps = runs["sheet"]
    from gridform.attractor.run import ATTRACTOR_FILES

    with np.load(out / ATTRACTOR_FILES["activity"]) as z:
        neurons = np.asarray(z["neurons"])
    scores = _saved_scores(out)
    spacing, orient = _median(scores.spacing_m), _median(scores.orientation_deg)
    params = read_attractor(out).config.params
    w = weights_between(params, neurons).T  # [a, b]: from a onto b
    phases = lattice_phases(maps, spacing, orient)
    angles = DIRECTION_ANGLES[direction_index(params.n).reshape(-1)[neurons]]
    return w, phases, spacing, orient, angles


def _rnn_inputs(ctx: _Context):
    """The trained network's grid units: weights among them, phases, lattice, input
    directions, and the ratemaps of the best unit (for the figure)."""
    from gridform.analysis.mechanism import lattice_phases
    _, _, maps, scores, active = _rnn_maps(ctx)
    params = _rnn_trained(ctx).params
    s60 = np.nan_to_num(scores.score_60, nan=-9)
    grid = np.flatnonzero(active & (s60 > 0.3) & np.isfinite(scores.spacing_m)
                          & np.isfinite(scores.orientation_deg))
    if grid.size < 3:
        return None, grid, maps, s60
    spacing = _median(scores.spacing_m[grid])
    orient = _median(scores.orientation_deg[grid])
    w = np.asarray(params["w_rec"], float)[np.ix_(grid, grid)]
    w_in = np.asarray(params["w_in"], float)[:, :np.asarray(params["w_rec"]).shape[0]]
    angles = np.arctan2(w_in[1, grid], w_in[0, grid])
    phases = lattice_phases(maps.select(grid), spacing, orient)
    return (w, phases, spacing, orient, angles), grid, maps, s60


def _radial_correlations(w, phases, orders, spacing, orient) -> list[float]:
    """The radial fit's correlation with the units' phases in each of ``orders``."""
    from gridform.analysis.mechanism import connectivity_profile, radial_fit

    return [radial_fit(connectivity_profile(w, phases[o], spacing, orient), orient
                       ).correlation for o in orders]


def _radial(w, phases, spacing, orient, rng):
    """(correlation, shuffle p, one more shuffle's correlation and p, profile). The
    shuffles are drawn here, in order, and fitted on every core."""
    from gridform.analysis.mechanism import connectivity_profile, radial_fit
    from gridform.core.parallel import available_cores, map_in_processes

    prof = connectivity_profile(w, phases, spacing, orient)
    r = radial_fit(prof, orient).correlation
    orders = [rng.permutation(len(phases)) for _ in range(RADIAL_SHUFFLES + 1)]
    parts = np.array_split(np.arange(len(orders)), len(available_cores()))
    fitted = map_in_processes(_radial_correlations, [w] * len(parts), [phases] * len(parts),
                              [[orders[i] for i in part] for part in parts],
                              [spacing] * len(parts), [orient] * len(parts))
    null = np.array([c for part in fitted for c in part])
    null, r_c = null[:RADIAL_SHUFFLES], float(null[RADIAL_SHUFFLES])

    def p_of(x) -> float:
        return float((1 + np.sum(np.nan_to_num(null, nan=-np.inf) >= x)) / (1 + null.size)) \
            if math.isfinite(x) else float("nan")

    return r, p_of(r), r_c, p_of(r_c), prof


def _aligned(w, phases, spacing, orient, angles, rng):
    """(alignment, permutation p, one more permutation's alignment and p)."""
    from gridform.analysis.mechanism import alignment, outgoing_offsets

    off = outgoing_offsets(w, phases, spacing, orient)
    shift = np.arctan2(off[:, 1], off[:, 0])
    a = alignment(shift, angles)
    null = np.array([alignment(shift, rng.permutation(angles))
                     for _ in range(ALIGNMENT_SHUFFLES)])
    a_c = alignment(shift, rng.permutation(angles))

    def p_of(x) -> float:
        return float((1 + np.sum(null >= x)) / (1 + null.size)) if math.isfinite(x) \
            else float("nan")

    return a, p_of(a), a_c, p_of(a_c)


def _connectivity_claims(ctx: _Context, runs: dict) -> tuple[list[Claim], dict]:
    rng = np.random.default_rng(ctx.seed)
    sheet = _attractor_sheet_inputs(runs)
    r_s, p_s, *_ = _radial(*sheet[:4], rng)
    a_s, pa_s, *_ = _aligned(*sheet, rng)
    rnn, grid, maps, s60 = _rnn_inputs(ctx)
    claim4 = "the trained network's phase-sorted connectivity is centre-surround"
    claim5 = ("the trained network's outgoing weights are shifted along each unit's "
              "velocity input, as the attractor's are")
    exp4 = (f"correlation with the best radial difference of Gaussians >= {RADIAL_R} and "
            f"p < {RADIAL_P} against {RADIAL_SHUFFLES} phase shuffles")
    exp5 = (f"mean cos(shift, velocity input) >= {ALIGNMENT} and p < {ALIGNMENT_P} against "
            f"{ALIGNMENT_SHUFFLES} shuffled pairings")
    sanity4 = f"; the attractor's own neurons: r = {r_s:.2f} (p = {p_s:.3f})"
    sanity5 = f"; the attractor's own neurons: {a_s:+.2f} (p = {pa_s:.3f})"
    figure = {"rnn_maps": maps, "rnn_best": int(np.argmax(s60)), "profile": None}
    if rnn is None:
        text = f"not measured: only {grid.size} grid units (> 0.3)"
        return [Claim("attractor", claim4, exp4, text + sanity4, False, measurable=False),
                Claim("attractor", claim5, exp5, text + sanity5, False, measurable=False)
                ], figure
    r, p, r_c, p_c, prof = _radial(*rnn[:4], rng)
    a, pa, a_c, pa_c = _aligned(*rnn, rng)
    figure["profile"] = prof
    n = int(grid.size)
    ctx.details["attractor_connectivity"] = {
        "radial_r": r, "radial_p": p, "alignment": a, "alignment_p": pa,
        "sheet_radial_r": r_s, "sheet_alignment": a_s, "n_grid_units": n}
    return [
        Claim("attractor", claim4, exp4, f"r = {_fmt(r, '.2f')} (p = {_fmt(p, '.3f')})"
              + sanity4, bool(r >= RADIAL_R and p < RADIAL_P),
              "Sorscher et al. 2023, centre-surround recurrence", n, "one seed",
              "one more phase shuffle of the same units",
              f"r = {_fmt(r_c, '.2f')} (p = {_fmt(p_c, '.3f')})",
              bool(r_c >= RADIAL_R and p_c < RADIAL_P), measurable=is_measured(r),
              control_measurable=is_measured(r_c)),
        Claim("attractor", claim5, exp5, f"{_fmt(a, '+.2f')} (p = {_fmt(pa, '.3f')})"
              + sanity5, bool(a >= ALIGNMENT and pa < ALIGNMENT_P),
              "Sorscher et al. 2023, velocity update; " + SOURCE, n, "one seed",
              "one more shuffled pairing of shifts and inputs",
              f"{_fmt(a_c, '+.2f')} (p = {_fmt(pa_c, '.3f')})",
              bool(a_c >= ALIGNMENT and pa_c < ALIGNMENT_P), measurable=is_measured(a),
              control_measurable=is_measured(a_c)),
    ], figure


def target_attractor(ctx: _Context) -> list[Claim]:
    """The continuous-attractor network and the trained one, side by side."""
    from gridform.attractor.theory import sheet_theory

    runs = _sheet_runs(ctx)
    claims = [_period_claim(runs), _grid_claim(runs), _torus_claim(ctx, runs)]
    more, figure = _connectivity_claims(ctx, runs)
    claims += more
    out, s, maps = runs["sheet"]
    from gridform.attractor.run import ATTRACTOR_FILES

    with np.load(out / ATTRACTOR_FILES["sheet"]) as z:
        state = np.asarray(z["settled"])
    from gridform.attractor.run import AttractorConfig, read_activity

    params = AttractorConfig(record=RECORD, seed=ctx.seed).params
    rates, positions, _ = read_activity(out)
    s60 = np.nan_to_num(_saved_scores(out).score_60, nan=-9)
    best = int(np.argmax(s60))
    ctx.figure_data["attractor"] = dict(params=params, theory=sheet_theory(params),
                                        state=state, maps=maps, summary=s,
                                        path_xy=positions, neuron_rate=rates[:, best],
                                        neuron_score=float(s60[best]), **figure)
    ctx.details["attractor"] = {k: v for k, v in s.items() if k != "config"}
    return claims
