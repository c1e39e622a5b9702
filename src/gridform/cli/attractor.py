"""``gridform attractor``: run the continuous-attractor network along a path (the command
line of :mod:`gridform.attractor`, a layer above it)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from gridform.cli.args import count, positive
from gridform.core.reference import (
    CAN_GAMMA_RATIO,
    CAN_PERIOD_NEURONS,
    CAN_SHEET,
    CAN_VELOCITY_GAIN,
)

__all__ = ["add_attractor_command", "cmd_attractor"]

DEFAULT_DURATION_S = 300.0


def _even_sheet(text: str) -> int:
    n = count(8)(text)
    if n % 2:
        raise argparse.ArgumentTypeError(f"must be even (the four directions tile 2 x 2 "
                                         f"blocks), got {n}")
    return n


def _load_path(source: str, sample_dt: float):
    """A trajectory file resampled to the sheet's sample interval, as an AttractorPath."""
    import numpy as np

    from gridform.attractor.run import AttractorPath
    from gridform.data.trajectory_files import load_path

    recorded = load_path(source).resample(sample_dt)
    walked = recorded.unwrapped()
    return AttractorPath(walked[0], recorded.velocities(), recorded.positions[1:],
                         recorded.box, sample_dt, recorded.source or str(source)), \
        float(np.sum(np.hypot(*np.diff(walked, axis=0).T)))


def _config(args, path_seconds: float | None):
    from gridform.attractor.run import AttractorConfig
    from gridform.core.errors import UsageError
    from gridform.core.reference import CAN_DT_S

    if args.steps is not None:
        duration = args.steps * CAN_DT_S
    else:
        duration = args.duration or path_seconds or DEFAULT_DURATION_S
    if path_seconds is not None and duration > path_seconds + 1e-9:
        raise UsageError(f"--{'steps' if args.steps else 'duration'} asks for "
                         f"{duration:g} s but the --trajectory lasts {path_seconds:g} s")
    if duration < 0.04:
        raise UsageError(f"the path must last at least two samples of 0.02 s, got "
                         f"{duration:g} s")
    try:
        return AttractorConfig(sheet=args.sheet, period_neurons=args.period_neurons,
                               gamma_ratio=args.gamma_ratio,
                               velocity_gain=args.velocity_gain, duration=duration,
                               speed=args.speed, record=args.record, bins=args.bins,
                               seed=args.seed)
    except ValueError as err:
        raise UsageError(str(err).replace("record", "--record", 1)) from None


def _check_theory(config) -> None:
    """Refuse a sheet that can form no pattern, or no whole period, before running."""
    from gridform.attractor.theory import sheet_theory
    from gridform.core.errors import UsageError

    th = sheet_theory(config.params)
    if not th.forms_pattern:
        raise UsageError(f"--gamma-ratio {config.gamma_ratio:g} with --period-neurons "
                         f"{config.period_neurons:g}: the effective gain is {th.gain:.3f} "
                         "<= 1, so the uniform state is stable, no pattern forms and the "
                         "sheet cannot path-integrate (docs/attractor.md)")
    if th.period_neurons > config.sheet / 2:
        raise UsageError(f"--sheet {config.sheet} holds fewer than two periods of "
                         f"{th.period_neurons:.1f} neurons (--period-neurons "
                         f"{config.period_neurons:g}); use a larger sheet or a smaller "
                         "period")


def cmd_attractor(args) -> int:
    from gridform.attractor.run import ATTRACTOR_FILES, run_attractor
    from gridform.core.io import prepare_out_dir, progress_bar

    out = Path(args.out)
    prepare_out_dir(out, ATTRACTOR_FILES["summary"], args.force)
    path, seconds = None, None
    if args.trajectory is not None:
        from gridform.core.reference import DT_S

        path, _ = _load_path(args.trajectory, DT_S)
        seconds = len(path.velocities) * path.dt
    config = _config(args, seconds)
    _check_theory(config)
    print(f"attractor: {config.sheet} x {config.sheet} sheet, {config.steps:,} steps "
          f"({config.samples * config.sample_dt:g} s of path) -> {out}", flush=True)
    total = config.samples
    bar = progress_bar(total, unit="sample", desc="path integration")
    try:
        summary = run_attractor(config, out, path,
                                progress=lambda f: bar.update(round(total * f) - bar.n))
    finally:
        bar.close()
    from gridform.presentation.report import save_attractor_figure

    save_attractor_figure(out)
    _print(summary)
    return 0


def _print(s: dict) -> None:
    def f(v, spec=".3f"):
        return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) \
            else format(v, spec)

    print(f"  sheet period            {f(s['sheet_period_measured'], '.2f')} neurons "
          f"(kernel ring predicts {f(s['sheet_period_predicted'], '.2f')})")
    print(f"  grid spacing            {f(s['spacing_measured_m'])} m (predicted "
          f"{f(s['spacing_predicted_m'])} m from the ring and the drift of "
          f"{f(s['drift_neurons_per_m'], '.1f')} neurons/m)")
    print(f"  above 0.3 / 0.8         {f(s['frac_above_0.3'], '.0%')} / "
          f"{f(s['frac_above_0.8'], '.0%')} of {s['n_recorded']} neurons")
    print(f"  orientation spread      {f(s['orientation_spread_deg'], '.2f')} deg; "
          f"modules {s['n_modules'] if s['n_modules'] is not None else 'n/a'}; torus "
          f"{s['torus'] if s['torus'] is not None else 'n/a (needs gridform[topology])'}")
    print(f"  path-integration error  median {f(100 * s['pi_error_median_m'], '.1f')} cm, "
          f"final {f(100 * s['pi_error_final_m'], '.1f')} cm")
    print(f"  {s['seconds']:.1f} s")


def add_attractor_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "attractor", help="the continuous-attractor grid network (Burak & Fiete 2009)",
        description="Form a hexagonal pattern on a periodic sheet of neurons with shifted "
                    "centre-surround connectivity, path-integrate a trajectory with it and "
                    "score the recorded neurons: OUT/ratemaps.npz, scores.csv, "
                    "summary.json, activity.npz, path_integration.csv, sheet.npz "
                    "(docs/attractor.md).")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--sheet", type=_even_sheet, default=CAN_SHEET,
                   help="neurons per side of the periodic sheet (even)")
    p.add_argument("--period-neurons", type=positive(), default=CAN_PERIOD_NEURONS,
                   help="lambda_net, the kernel's scale in neurons (Burak & Fiete: 13)")
    p.add_argument("--gamma-ratio", type=positive(), default=CAN_GAMMA_RATIO,
                   help="gamma / beta of the kernel (Burak & Fiete: 1.05, which forms no "
                        "pattern with four shifted directions)")
    p.add_argument("--velocity-gain", type=positive(), default=CAN_VELOCITY_GAIN,
                   help="alpha (s/m) of the velocity input 1 + alpha e . v")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--duration", type=positive(), default=None, metavar="SECONDS",
                        help=f"seconds of path (default: {DEFAULT_DURATION_S:g}, or the "
                             "whole --trajectory)")
    length.add_argument("--steps", type=count(80), default=None, metavar="N",
                        help="Euler steps of the sheet (0.5 ms each) instead of --duration")
    p.add_argument("--trajectory", default=None, metavar="PATH.npz",
                   help="a trajectory file (gridform import-trajectory, RatInABox, "
                        "gridform's own), resampled to 20 ms (default: gridform's random "
                        "walk at --speed in a 2.2 m walled box)")
    p.add_argument("--speed", type=positive(), default=0.25,
                   help="mean running speed of the simulated path, m/s")
    p.add_argument("--record", type=count(1), default=128, metavar="K",
                   help="neurons recorded (chosen at random) for the ratemaps and activity")
    p.add_argument("--bins", type=count(8), default=20, metavar="B",
                   help="ratemap bins per side")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial state, the "
                   "recorded neurons and the simulated path")
    p.add_argument("--force", action="store_true", help="overwrite an earlier run in --out")
    p.set_defaults(func=cmd_attractor)
