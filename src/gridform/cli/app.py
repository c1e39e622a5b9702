"""The ``gridform`` command line: thin commands over the library.

Every command validates its inputs before it writes anything; bad input prints
``gridform: error: ...`` and exits with code 2, leaving existing files untouched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from gridform.cli.args import (
    add_spacing_law_args,
    count,
    positive,
    spacing_correction,
)
from gridform.core.errors import UsageError
from gridform.core.io import clean_json, prepare_out_dir, write_json
from gridform.core.reference import DT_S, SIGMA_M, SPEED_SCALE_M_S, SURROUND_SCALE

__all__ = ["main", "write_json"]


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------
def _print_summary(summary: dict, keys: Sequence[str]) -> None:
    for k in keys:
        if k in summary:
            v = summary[k]
            print(f"  {k:<24} {v:.3f}" if isinstance(v, float) else f"  {k:<24} {v}")


# ---------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------
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


def run_pattern(args, out: Path) -> dict:
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


def cmd_reproduce(args) -> int:
    from gridform.experiments.reproduce import format_claims, reproduce, resolve_targets

    resolve_targets(args.targets)  # unknown names fail before anything is written
    out = Path(args.out)
    prepare_out_dir(out, "claims.csv", args.force)
    if args.run is not None and not Path(args.run).is_dir():
        raise UsageError(f"--run {args.run} is not a directory")
    t0 = time.perf_counter()
    from gridform.presentation.figures import save_target_figure

    claims = reproduce(args.targets, out, quick=args.quick, run_dir=args.run, seed=args.seed,
                       progress=True, draw=save_target_figure)
    print()
    print(format_claims(claims))
    from collections import Counter

    counts = Counter(c.verdict for c in claims)
    others = ", ".join(f"{n} {v}" for v, n in counts.items() if v != "pass")
    print(f"\n{counts['pass']} of {len(claims)} claims hold" + (f" ({others})" if others else "")
          + f" in {(time.perf_counter() - t0) / 60:.1f} min; table in {out / 'claims.csv'}, "
          f"figures in {out / 'figures'}")
    if args.report:
        from gridform.presentation.report import write_report

        print(f"report: {write_report(out)}")
    return 0


def _parse_slurm(items: list[str] | None) -> dict | None:
    if items is None:
        return None
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--slurm expects KEY=VALUE (dask-jobqueue SLURMCluster "
                             f"arguments), got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def cmd_sweep(args) -> int:
    from gridform.experiments.sweep.engine import run_sweep, write_results
    from gridform.experiments.sweep.spec import load_sweep

    if args.threads_per_worker is not None and (args.scheduler or args.slurm is not None):
        raise UsageError("--threads-per-worker splits this machine's cores; it does not "
                         "apply with --scheduler or --slurm")
    spec = load_sweep(args.sweep, quick=args.quick)
    slurm = _parse_slurm(args.slurm)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    manifest = out / "manifest.json"
    runs = spec.manifest()
    if manifest.exists():
        old = {r["run_id"] for r in json.loads(manifest.read_text())["runs"]}
        if old != {r.run_id for r in runs} and not args.force:
            raise UsageError(f"{out} holds a different sweep; pass --force to add this one's "
                             "runs to it or choose another --out")
    pending = sum(not r.run_dir(out).is_done() for r in runs)
    print(f"sweep {spec.name}: {len(runs)} runs ({len(runs) - pending} already done) -> {out}",
          flush=True)
    last = {}

    def progress(c):
        nonlocal last
        if c != last:
            print(f"  runs: {c['done']} done, {c['failed']} failed, {c['running']} queued or "
                  f"running (of {c['total']})", flush=True)
            last = c

    records = run_sweep(spec, out, workers=args.workers, scheduler=args.scheduler,
                        slurm=slurm, population=args.population,
                        threads=args.threads_per_worker, progress=progress,
                        on_start=lambda where: print(f"  on {where}", flush=True))
    write_results(spec, out, runs)
    failed = [r for r in records if r["status"] == "failed"]
    for r in failed:
        print(f"  failed: {r['run_id']}: {r.get('error', '')}", file=sys.stderr)
    print(f"results: {out / 'results.csv'} ({len(records) - len(failed)} done, "
          f"{len(failed)} failed)")
    return 0


def cmd_sweep_report(args) -> int:
    from gridform.presentation.sweep_report import write_sweep_report

    print(f"wrote {write_sweep_report(args.directory, args.threshold, args.min_fraction)}")
    return 0


def cmd_report(args) -> int:
    from gridform.presentation.report import write_report

    path = write_report(Path(args.directory), args.out)
    print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------
# parser
# ---------------------------------------------------------------------------------
def _html_path(text: str) -> str:
    if Path(text).suffix.lower() not in (".html", ".htm"):
        raise argparse.ArgumentTypeError(f"the report is HTML: give a file ending in .html, "
                                         f"got {text!r}")
    return text


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gridform")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _add_place_cell_args(p: argparse.ArgumentParser, kinds: Sequence[str]) -> None:
    p.add_argument("--kind", choices=kinds, default="dos",
                   help="place-cell tuning (default: dos, difference of softmaxes)")
    p.add_argument("--sigma", type=positive(), default=SIGMA_M,
                   help=f"centre width sigma1 in metres (default: {SIGMA_M})")
    p.add_argument("--surround-scale", type=positive(), default=SURROUND_SCALE,
                   help="s = sigma2^2/sigma1^2, this package's convention "
                        f"(default: {SURROUND_SCALE:g})")


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already names it (or
    the option has none worth saying: a flag, or None)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default  # by identity: a default of 0 is worth saying, False not
        if ("default" in text.lower() or not action.option_strings
                or default is None or default is False or default is argparse.SUPPRESS
                or isinstance(action, argparse._HelpAction | argparse._VersionAction)):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """argparse's parser with :class:`_DefaultsFormatter`, for every subcommand too (the
    subparsers are made of the parent's class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:

    parser = _Parser(
        prog="gridform",
        description="Grid cells through the lens of pattern formation (Sorscher et al. 2019): "
                    "theory, pattern-forming dynamics, trained networks and their analysis.")
    parser.add_argument("--version", action="version", version=f"gridform {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of any error")
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="compile every program afresh instead of reusing JAX's "
                             "persistent cache (default: on, in $GRIDFORM_CACHE or "
                             "~/.cache/gridform/jax)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_theory_commands(sub)
    _add_reproduce_commands(sub)
    _add_sweep_commands(sub)

    from gridform.cli.attractor import add_attractor_command
    from gridform.cli.data import add_data_commands
    from gridform.cli.topology import add_topology_command
    from gridform.cli.training import add_training_commands

    add_topology_command(sub)
    add_attractor_command(sub)
    add_training_commands(sub)
    add_data_commands(sub)
    return parser


def _add_theory_commands(sub: argparse._SubParsersAction) -> None:
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


def _add_reproduce_commands(sub: argparse._SubParsersAction) -> None:
    """reproduce and report."""
    from gridform.experiments.reproduce import EXTRA_TARGETS, TARGETS

    p = sub.add_parser("reproduce", help="check the paper's claims: figures and a claims table",
                       description="Run the paper's claims, one target per claim family "
                                   f"({', '.join(TARGETS)}; and, only when named, "
                                   f"{', '.join(EXTRA_TARGETS)}); write figures (PNG, SVG), "
                                   "OUT/claims.csv and print each claim with its threshold, "
                                   "measurement, n, spread, negative control and verdict.")
    p.add_argument("targets", nargs="*", default=["all"], metavar="TARGET",
                   help="targets to run, or all (default; the spacing-law target trains a "
                        "sweep of its own and runs only when named)")
    p.add_argument("--quick", action="store_true",
                   help="CPU-sized (about 19 minutes for all on 2 cores, 16 for "
                        "spacing-law); without it the networks use the paper preset, meant "
                        "for a GPU")
    p.add_argument("--run", default=None, metavar="RUN_DIR",
                   help="an existing training run to analyse for the rnn and mechanism "
                        "targets instead of training one")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of every simulation, training and null model")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--force", action="store_true", help="overwrite an earlier claims table")
    p.add_argument("--no-report", dest="report", action="store_false",
                   help="do not write OUT/report.html (written by default)")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("report", help="one self-contained HTML report of a run or reproduction",
                       description="Write DIR/report.html (figures embedded) for a training "
                                   "run, a pattern simulation, a demo directory or a "
                                   "reproduce directory.")
    p.add_argument("directory", metavar="RUN_OR_REPRODUCE_DIR")
    p.add_argument("--out", default=None, type=_html_path,
                   help="HTML file to write, ending in .html (default: DIR/report.html)")
    p.set_defaults(func=cmd_report)


def _add_sweep_commands(sub: argparse._SubParsersAction) -> None:
    """sweep and sweep-report."""
    p = sub.add_parser("sweep", help="run a sweep of trainings on Dask",
                       description="Expand SWEEP.toml into runs and train them on Dask: a "
                                   "local cluster by default, an existing scheduler with "
                                   "--scheduler, SLURM with --slurm. Finished runs are "
                                   "skipped; failed runs are recorded.")
    p.add_argument("sweep", metavar="SWEEP.toml")
    p.add_argument("--out", required=True, help="sweep directory")
    p.add_argument("--workers", type=count(1), default=None,
                   help="worker processes of the local cluster (SLURM: jobs; default: one "
                        "per core, fewer if the runs would not fit in memory; SLURM: 2)")
    p.add_argument("--threads-per-worker", type=count(1), default=None, metavar="N",
                   help="cores for each local worker, which is pinned to them (default: "
                        "the cores divided among the workers)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="use a running Dask scheduler")
    p.add_argument("--slurm", nargs="*", default=None, metavar="KEY=VALUE",
                   help="run on SLURM through dask-jobqueue (pip install 'gridform[slurm]'); "
                        "KEY=VALUE are SLURMCluster arguments, e.g. cores=8 memory=32GB")
    p.add_argument("--population", type=count(1), default=None, metavar="K",
                   help="train up to K runs that differ only in seed as one vmapped program "
                        "(default: 8 on a GPU, 1 (off) on a CPU, where it is not faster)")
    p.add_argument("--quick", action="store_true", help="apply the sweep's [quick] section")
    p.add_argument("--force", action="store_true",
                   help="add this sweep's runs to a directory holding another sweep")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("sweep-report", help="HTML summary of a sweep: grid formation per "
                                            "condition")
    p.add_argument("directory", metavar="SWEEP_DIR")
    p.add_argument("--threshold", type=float, default=0.3, choices=[0.3, 0.8],
                   help="gridness threshold of a grid unit (default: 0.3)")
    p.add_argument("--min-fraction", type=float, default=0.1,
                   help="fraction of active units above it for a run to form grids "
                        "(default: 0.1)")
    p.set_defaults(func=cmd_sweep_report)


def main(argv: Sequence[str] | None = None) -> int:
    from gridform.data.extras import MissingExtraError

    parser = build_parser()
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")  # the commands only write files; no window ever opens
    if args.no_compile_cache:
        from gridform.core import compile_cache

        compile_cache.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return code
    except BrokenPipeError:  # the reader went away (gridform theory --json | head): quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (UsageError, ValueError, FileNotFoundError, FloatingPointError, OSError,
            MissingExtraError) as err:
        # bad input: options, files, data (ValueError is the library's bad-argument error)
        if args.debug:
            raise
        print(f"gridform: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # training says where its checkpoint is
        print(f"gridform: interrupted{': ' + str(err) if str(err) else ''}", file=sys.stderr)
        return 130
    except Exception as err:  # anything else is a bug: say so, never as a usage error
        if args.debug:
            raise
        print(f"gridform: internal error: {type(err).__name__}: {err}\n"
              "  this is a bug in gridform, not a problem with the input; rerun with "
              "--debug for the traceback and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
