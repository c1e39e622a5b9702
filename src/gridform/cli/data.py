"""``gridform assumptions``, ``gridform import-trajectory``, ``gridform export-nwb``."""

from __future__ import annotations

import argparse
from pathlib import Path

from gridform.cli.args import count, fraction_below_half, positive, probability
from gridform.core.errors import UsageError

__all__ = ["add_data_commands", "box_from_args"]


def box_from_args(args):
    from gridform.core.environment import Box

    if args.box is None:
        return None
    return Box(float(args.box[0]), float(args.box[1]), args.boundary)


def cmd_assumptions(args) -> int:
    from gridform.data.assumptions import test_assumptions, write_assumptions
    from gridform.data.recorded import load_place_cell_maps

    out = Path(args.out)
    if (out / "assumptions.json").exists() and not args.force:
        raise FileExistsError(f"{out} already holds an assumptions report; pass --force to "
                              "replace it")
    maps = load_place_cell_maps(args.place_cells, bins=args.bins)
    half = 0.5 * min(maps.width, maps.height)
    if args.max_lag is not None and not 0 < args.max_lag <= half:
        raise UsageError(f"--max-lag {args.max_lag} m must lie in (0, {half:.3g}] m, half the "
                         f"box of {args.place_cells}")
    report = test_assumptions(maps, periodic=args.periodic, max_lag=args.max_lag,
                              margin=args.margin, shuffles=args.shuffles, seed=args.seed,
                              alpha=args.alpha)
    from gridform.presentation.plotting import plot_assumptions, plt

    fig = plot_assumptions(report, maps)
    write_assumptions(report, maps, out, force=args.force, figure=fig)
    plt.close(fig)
    s = report.summary
    ti = s["translation_invariance"]
    print(f"{s['n_cells']} cells on {s['bins'][0]} x {s['bins'][1]} bins -> {out}")
    print(f"  translation invariant: {'yes' if s['translation_invariant'] else 'NO'} "
          f"(statistic {ti['statistic']:.3f}, null median {ti['null_median']:.3f}, "
          f"p = {ti['p_value']:.3g})")
    print(f"  centre-surround: {'yes' if s['centre_surround'] else 'NO'} "
          f"({100 * s['surround_fraction']:.0f}% of {s['n_cells_fitted']} fitted cells have "
          f"a significant surround; {100 * s['multi_field_fraction']:.0f}% multi-field)")
    if s["ring"]:
        print(f"  ring k* = {s['k_star']:.2f} rad/m: predicted grid spacing "
              f"{s['predicted_spacing_m']:.3f} m")
    else:
        print(f"  no ring (spectrum peaks at k = {s['k_peak']:.2f} rad/m): no grid spacing "
              "is predicted")
    return 0


def cmd_import_trajectory(args) -> int:
    from gridform.data.trajectory_files import load_path

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out must end in .npz, got {out}")
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists; pass --force to replace it")
    cols = tuple(c.strip() for c in args.columns.split(","))
    if len(cols) != 3:
        raise ValueError(f"--columns needs three names (time, x, y), got {args.columns!r}")
    path = load_path(args.source, box_from_args(args), origin=args.origin, units=args.units,
                     columns=cols, series=args.series, max_speed=args.max_speed)
    if args.dt is not None:
        path = path.resample(args.dt)
    path.save(out)
    print(f"{path.n} samples over {path.times[-1] - path.times[0]:.1f} s (dt {path.dt:.4g} s) "
          f"in a {path.box.width} x {path.box.height} m {path.box.boundary} box -> {out}")
    return 0


def cmd_export_nwb(args) -> int:
    from gridform.core.ratemaps import load_ratemaps
    from gridform.data.nwb import write_nwb
    from gridform.data.trajectory_files import load_path

    src = Path(args.source)
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give the .nwb file to write")
    if out.suffix != ".nwb":
        raise UsageError(f"--out must name a .nwb file, got {out}")
    if out.exists() and not args.force:
        raise FileExistsError(f"{out} exists; pass --force to replace it")
    scores = None
    if src.is_dir():
        from gridform.core.io import RATEMAPS_FILE, SCORES_FILE

        if not (src / RATEMAPS_FILE).exists():
            raise FileNotFoundError(f"{src} has no {RATEMAPS_FILE}: run gridform evaluate "
                                    "first")
        maps = load_ratemaps(src / RATEMAPS_FILE)
        if (src / SCORES_FILE).exists():
            from gridform.analysis.scores import GridScores

            saved = GridScores.load(src / SCORES_FILE).columns()
            scores = {k: v for k, v in saved.items() if k != "cell"}
    else:
        maps = load_ratemaps(src)
    traj = load_path(args.trajectory) if args.trajectory else None
    write_nwb(out, trajectory=traj, ratemaps=maps, scores=scores,
              description=args.description, overwrite=args.force)
    print(f"{maps.n_cells} ratemaps{' + scores' if scores else ''}"
          f"{' + trajectory' if traj is not None else ''} -> {out}")
    return 0


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assumptions", help="test the theory's assumptions on place cells",
                       description="Translation invariance of the population covariance "
                       "(against a shifted-cells null), centre-surround fits of single "
                       "cells, the spectrum's ring and its predicted grid spacing. Writes "
                       "DIR/assumptions.json, cells.csv and assumptions.png.")
    p.add_argument("place_cells", help="ratemaps .npz (cell, y, x) or .nwb (units + "
                   "positions, or stored ratemaps)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--bins", type=count(8), default=32, help="bins per side when computing "
                   "ratemaps from spikes, at least 8 (default: 32)")
    p.add_argument("--shuffles", type=count(1), default=200,
                   help="shuffles of the permutation tests (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the permutation tests")
    p.add_argument("--margin", type=fraction_below_half, default=0.15,
                   help="fraction of the box at each wall left out of the invariance test, "
                   "in [0, 0.5) (default: 0.15)")
    p.add_argument("--max-lag", type=float, default=None, help="largest lag tested, m "
                   "(default 15%% of the box)")
    p.add_argument("--alpha", type=probability, default=0.05,
                   help="significance level of the tests, in (0, 1) (default 0.05)")
    p.add_argument("--periodic", action="store_true", help="the maps cover a torus")
    p.add_argument("--force", action="store_true", help="replace earlier results in --out")
    p.set_defaults(func=cmd_assumptions)

    p = sub.add_parser("import-trajectory", help="CSV / NPZ / NWB trajectory -> gridform .npz",
                       description="Checks (NaNs, jumps, positions outside the box), converts "
                       "to metres with the origin at the box centre, optionally resamples.")
    p.add_argument("source")
    p.add_argument("--out", required=True, help="gridform trajectory .npz")
    p.add_argument("--box", nargs=2, type=positive(), metavar=("WIDTH", "HEIGHT"), default=None,
                   help="arena size in metres (not needed for gridform's own files or NWB "
                   "files written by gridform)")
    p.add_argument("--boundary", choices=("walls", "periodic"), default="walls",
                   help="the arena's boundary")
    p.add_argument("--origin", choices=("centre", "corner"), default="centre",
                   help="where the source's (0, 0) lies: the box centre (gridform's "
                        "convention) or its lower-left corner (RatInABox's)")
    p.add_argument("--units", choices=("m", "cm", "mm"), default="m",
                   help="length unit of the source's positions")
    p.add_argument("--columns", default="t,x,y", help="CSV columns for time, x, y")
    p.add_argument("--series", default=None, help="NWB SpatialSeries name")
    p.add_argument("--dt", type=positive(), default=None, help="resample to this step, s")
    p.add_argument("--max-speed", type=positive(), default=5.0, help="m/s; faster steps are "
                   "reported as tracking jumps (default: 5)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_import_trajectory)

    p = sub.add_parser("export-nwb", help="ratemaps, scores and a trajectory -> NWB",
                       description="SOURCE is a run directory (ratemaps.npz and scores.csv "
                       "from gridform evaluate) or a ratemaps .npz.")
    p.add_argument("source")
    p.add_argument("--out", required=True, help="the .nwb file to write")
    p.add_argument("--trajectory", default=None, help="gridform trajectory .npz to include")
    p.add_argument("--description", default="gridform export",
                   help="the NWB file's description of what it holds")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_export_nwb)
