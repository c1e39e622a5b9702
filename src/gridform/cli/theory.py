"""The commands of the theory and its dynamics: ``demo``, ``score``, ``theory`` and
``pattern``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from gridform.cli.args import (
    add_spacing_law_args,
    count,
    positive,
    spacing_correction,
)
from gridform.core.errors import UsageError
from gridform.core.io import clean_json, prepare_out_dir
from gridform.core.reference import DT_S, SIGMA_M, SPEED_SCALE_M_S, SURROUND_SCALE

__all__ = ["add_theory_commands", "cmd_demo", "cmd_pattern", "cmd_score", "cmd_theory",
           "run_pattern"]


def _print_summary(summary: dict, keys: Sequence[str]) -> None:
    for k in keys:
        if k in summary:
            v = summary[k]
            print(f"  {k:<24} {v:.3f}" if isinstance(v, float) else f"  {k:<24} {v}")


def cmd_score(args) -> int:
    import numpy as np

    from gridform.analysis.scores import null_model, score_ratemaps
    from gridform.core.environment import Box
    from gridform.core.ratemaps import Ratemaps, load_ratemaps

    maps = load_ratemaps(args.ratemaps)
    if args.width is not None or args.height is not None:
        box = Box(args.width or maps.width, args.height or maps.height)
        x, y = box.bin_centers(maps.shape[1], maps.shape[0])
        maps = Ratemaps(maps.rates, maps.occupancy, x, y)
    out = Path(args.out)
    if out.suffix != ".csv":
        raise UsageError(f"--out must name a .csv file, got {out}")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out {out} is a directory")
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists; pass --force to replace it")
    if min(maps.shape) < 8:
        raise UsageError(f"{args.ratemaps}: ratemaps of {maps.shape[0]} x {maps.shape[1]} bins "
                         "are too coarse to score (an autocorrelogram needs at least 8 x 8)")
    finite = maps.rates[np.isfinite(maps.rates)]
    if finite.size and finite.min() < 0:
        print(f"gridform: warning: {args.ratemaps} holds negative rates (min "
              f"{finite.min():.3g}); the scores are computed as given", file=sys.stderr)
    scores = score_ratemaps(maps)
    summary = scores.summary()
    if 0 < args.null < 20:
        print(f"gridform: warning: --null {args.null}: a 95th percentile of fewer than 20 "
              "noise maps is not a threshold; use 200 or more", file=sys.stderr)
    if args.null:
        null = null_model(maps.shape, maps.bin_size, n_maps=args.null, seed=0)
        summary["null_threshold_95"] = null.threshold(95)
        summary["null_threshold_99"] = null.threshold(99)
        summary["frac_above_null_95"] = scores.fraction_above(null.threshold(95))
    scores.to_csv(out)
    print(f"scored {maps.n_cells} maps of {maps.shape[0]} x {maps.shape[1]} bins "
          f"({maps.width:.2f} m x {maps.height:.2f} m) -> {out}")
    _print_summary(summary, list(summary))
    return 0


def cmd_theory(args) -> int:
    from gridform.core.place_cells import surround_scale_from_ratio
    from gridform.theory.spectrum import predict

    s = args.surround_scale
    if args.surround_ratio is not None:
        try:
            s = surround_scale_from_ratio(args.surround_ratio)
        except ValueError as err:  # the library names its parameter; name the flag
            raise UsageError(str(err).replace("sigma_ratio", "--surround-ratio", 1)) from None
    elif s <= 1 and args.kind != "gaussian":
        raise UsageError(f"--surround-scale (sigma2^2/sigma1^2) must be > 1, got {s}")
    correction, step = spacing_correction(args), None
    if correction is not None:
        from gridform.theory.spectrum import step_length_m

        step = step_length_m(args.speed_scale, args.dt)
    pred = predict(args.kind, args.sigma, s, correction=correction, step_m=step or 0.0)
    spacing = pred.grid_spacing_m
    # no ring: no periods. At the ends of the float range the ring is infinite (sigma near
    # 0: spacing 0, periods without end) or so near k = 0 that the spacing is infinite
    periods = None if pred.box_limited else \
        math.inf if spacing == 0 else args.width / spacing
    result = pred.to_dict() | {
        "surround_scale_convention": "sigma2^2/sigma1^2",
        "surround_ratio": math.sqrt(s),
        "box_width_m": args.width,
        "periods_per_box": periods,
        # fewer than one period in the box: the box, not the code, sets the maps' scale
        "fits_in_box": periods is not None and periods >= 1,
    }
    if correction is not None:
        result |= {"correction": {"step_cost": correction.weight, "offset": correction.offset,
                                  "exponent": correction.exponent, "step_m": step,
                                  "speed_scale": args.speed_scale, "dt": args.dt}}
    if args.json:
        print(json.dumps(clean_json(result), indent=2, sort_keys=True))
        return 0
    print(f"place cells: {args.kind}, sigma = {args.sigma} m, surround scale "
          f"s = sigma2^2/sigma1^2 = {s:g} (sigma2/sigma1 = {math.sqrt(s):.3g})")
    if pred.box_limited:
        print("  the tuning spectrum peaks at k = 0: no ring; optimal maps are the lowest "
              f"modes of the box (scale set by the {args.width} m box, not by sigma)")
        return 0
    print(f"  ring radius k*            {pred.k_star:.3f} rad/m")
    print(f"  plane-wave period 2pi/k*  {pred.plane_wave_period_m:.3f} m")
    print(f"  grid spacing 4pi/(v3 k*)  {pred.grid_spacing_m:.3f} m "
          f"({periods:.2f} per {args.width} m box)")
    if pred.corrected_spacing_m is not None:
        print(f"  corrected spacing         {pred.corrected_spacing_m:.3f} m (step cost "
              f"{correction.weight:g} (k l)^{correction.exponent:g}, l = {100 * step:.2f} cm "
              f"a step; offset {correction.offset:+g}; docs/spacing.md)")
    if periods < 1:
        print(f"  box-limited: the predicted spacing is larger than the {args.width} m box, "
              "so no grid period fits in it and the box, not sigma, will set the maps' "
              "scale (give --width for another box)")
    return 0


def run_pattern(args, out: Path):
    """Run the pattern-formation simulation of the parsed ``args``; write it to ``out``."""
    from dataclasses import fields

    from gridform.experiments.pattern_run import PatternConfig
    from gridform.experiments.pattern_run import run_pattern as run

    config = PatternConfig(**{f.name: getattr(args, f.name) for f in fields(PatternConfig)})
    return run(config, out)


def cmd_pattern(args) -> int:
    from gridform.experiments.pattern_run import PATTERN_FILES

    out = Path(args.out)
    prepare_out_dir(out, PATTERN_FILES["summary"], args.force)
    summary = run_pattern(args, out)
    print(f"{args.cells}-cell {args.nonlinearity} dynamics, {args.n_cells} maps, "
          f"{args.steps} steps ({summary['seconds']:.1f} s) -> {out}")
    _print_summary(summary, ["frac_above_0.3", "frac_above_0.8", "median_score_60",
                             "median_spacing_m", "predicted_spacing_m",
                             "orthonormality_error"])
    return 0


def cmd_demo(args) -> int:
    from gridform.cli.demo import run_demo

    run_demo(Path(args.out), force=args.force)
    return 0


def _add_place_cell_args(p: argparse.ArgumentParser, kinds: Sequence[str]) -> None:
    p.add_argument("--kind", choices=kinds, default="dos",
                   help="place-cell tuning (default: dos, difference of softmaxes)")
    p.add_argument("--sigma", type=positive(), default=SIGMA_M,
                   help=f"centre width sigma1 in metres (default: {SIGMA_M})")
    p.add_argument("--surround-scale", type=positive(), default=SURROUND_SCALE,
                   help="s = sigma2^2/sigma1^2, this package's convention "
                        f"(default: {SURROUND_SCALE:g})")


def add_theory_commands(sub: argparse._SubParsersAction) -> None:
    """demo, score, theory and pattern."""
    from gridform.core.reference import NONLINEARITIES, PLACE_CELL_KINDS

    p = sub.add_parser("demo", help="run the main job on built-in defaults",
                       description="Theory, pattern formation, a trained network and their "
                                   "scores, written under --out with a figure.")
    p.add_argument("--out", default="gridform-demo", help="output directory "
                   "(default: ./gridform-demo)")
    p.add_argument("--force", action="store_true", help="overwrite an earlier demo in --out")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("score", help="grid scores of ratemaps (.npz)",
                       description="Score every map of a ratemaps .npz (keys rates (cell, y, "
                                   "x), occupancy, x_centers, y_centers) and write one CSV row "
                                   "per cell.")
    p.add_argument("ratemaps", help="path of the .npz file")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--width", type=positive(), default=None,
                   help="box width in metres; replaces the file's x_centers")
    p.add_argument("--height", type=positive(), default=None,
                   help="box height in metres; replaces the file's y_centers")
    p.add_argument("--null", type=count(0), default=0, metavar="N",
                   help="also score N low-pass filtered noise maps and report the 95th/99th "
                        "percentile thresholds (default: 0, off)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("theory", help="ring k*, plane-wave period and grid spacing",
                       description="The analytic prediction of the pattern-formation theory "
                                   "for a place-cell code.")
    _add_place_cell_args(p, [k for k in PLACE_CELL_KINDS if k != "dog_unnormalised"]
                         + ["dog_unnormalised"])
    p.add_argument("--surround-ratio", type=positive(), default=None,
                   help="sigma2/sigma1, the 'No free lunch' convention; overrides "
                        "--surround-scale with its square")
    p.add_argument("--width", type=positive(), default=2.2, help="box width in metres")
    add_spacing_law_args(p, what="the corrected spacing is printed too")
    p.add_argument("--speed-scale", type=positive(), default=SPEED_SCALE_M_S, metavar="B",
                   help="Rayleigh scale of the running speed, m/s, for the step length l")
    p.add_argument("--dt", type=positive(), default=DT_S, help="time step, s")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_theory)

    p = sub.add_parser("pattern", help="simulate the pattern-forming learning dynamics",
                       description="Single- or multi-cell dynamics g <- phi(g + eta(-g + "
                                   "Sigma*g)) with the covariance of a place-cell code.")
    p.add_argument("--nonlinearity", choices=NONLINEARITIES, default="relu",
                   help="phi of the dynamics; nonneg: g >= 0 with |g| = 1")
    p.add_argument("--n-cells", type=positive(int), default=32,
                   help="maps simulated (independent cells, or the multi-cell population)")
    p.add_argument("--steps", type=positive(int), default=1000, help="steps of the dynamics")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the place-cell centres and initial maps")
    p.add_argument("--cells", choices=["single", "multi"], default="single",
                   help="single: cells evolve alone; multi: orthonormalised together "
                        "(Sanger's rule)")
    _add_place_cell_args(p, ["dos", "gaussian", "dog", "dog_unnormalised"])
    p.add_argument("--place-cells", type=positive(int), default=512,
                   help="number of place cells (default: 512)")
    p.add_argument("--width", type=positive(), default=3.3,
                   help="side of the square box in metres (default: 3.3, which fits the "
                        "default lattice)")
    p.add_argument("--bins", type=count(8), default=60,
                   help="grid bins per side, at least 8 (default: 60)")
    p.add_argument("--boundary", choices=["periodic", "walls"], default="periodic",
                   help="a torus, or a box with walls")
    p.add_argument("--eta", type=positive(), default=0.5, help="step size (default: 0.5)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--force", action="store_true", help="overwrite earlier results in --out")
    p.set_defaults(func=cmd_pattern)

