"""``gridform topology``: grid modules and the torus of each module's activity."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from gridform.cli.args import positive

__all__ = ["add_topology_command", "run_topology"]

MIN_SHUFFLES = 20


def _resolve_source(source: Path) -> tuple[str, Path]:
    """("run", run_dir) or ("ratemaps", npz); a demo directory stands for its network."""
    from gridform.attractor.run import is_attractor_dir
    from gridform.training.runs import RunDir

    if source.is_dir():
        if is_attractor_dir(source):
            return "attractor", source
        for cand in (source, source / "train"):
            if RunDir(cand).has_run():
                return "run", cand
        raise ValueError(f"{source} is neither a training run (no {RunDir.CONFIG}), a "
                         "demo directory nor an attractor run; give one of them or a "
                         "ratemaps .npz")
    if source.suffix == ".npz":
        if not source.exists():
            raise FileNotFoundError(f"ratemaps file not found: {source}")
        return "ratemaps", source
    if not source.exists():
        raise FileNotFoundError(f"no such run directory or ratemaps file: {source}")
    raise ValueError(f"{source} is not a run directory or a ratemaps .npz")


def _run_inputs(run_dir: Path, n_batches: int, time_bin: int, min_speed: float):
    """Ratemaps of the run's units and their activity along fresh trajectories."""
    from gridform.analysis.topology import activity_point_cloud
    from gridform.core.ratemaps import load_ratemaps
    from gridform.training.evaluate import hidden_activity
    from gridform.training.trained import TrainedRun

    run = TrainedRun.load(run_dir)
    saved = run.dir.ratemaps_path
    maps = load_ratemaps(saved) if saved.exists() else run.evaluate().ratemaps
    act, pos, speed = hidden_activity(run.task, run.params, n_batches)
    cloud = activity_point_cloud(act, pos, speed, min_speed=min_speed, time_bin=time_bin)
    return maps, cloud


def _attractor_inputs(directory: Path, time_bin: int, min_speed: float):
    """Ratemaps of an attractor run's recorded neurons and their activity along its path
    (the sheet's states sampled every 20 ms)."""
    from gridform.analysis.topology import activity_point_cloud
    from gridform.attractor.run import ATTRACTOR_FILES, read_activity
    from gridform.core.ratemaps import load_ratemaps

    rates, positions, speeds = read_activity(directory)
    cloud = activity_point_cloud(rates, positions, speeds, min_speed=min_speed,
                                 time_bin=time_bin)
    return load_ratemaps(directory / ATTRACTOR_FILES["ratemaps"]), cloud


def run_topology(args) -> dict:
    """Compute, write ``OUT/topology.json`` and ``OUT/topology.png``; return the JSON."""
    from gridform.core.errors import require
    from gridform.core.io import write_json
    from gridform.training.runs import RunDir

    require("ripser", "topology")
    require("sklearn", "topology")
    kind, path = _resolve_source(Path(args.source))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a directory")
    if (out / RunDir.TOPOLOGY).exists() and not args.force:
        raise FileExistsError(f"{out} already holds {RunDir.TOPOLOGY}; pass --force to "
                              "replace it or choose another --out")
    if not 0 < args.min_correlation < 1:
        raise ValueError(f"--min-correlation must lie in (0, 1), got {args.min_correlation}")
    if args.shuffles < MIN_SHUFFLES:
        warnings.warn(f"--shuffles {args.shuffles}: a null of fewer than {MIN_SHUFFLES} "
                      "shuffles makes its maximum a weak threshold", stacklevel=2)
    from gridform.analysis.scores import null_model, score_ratemaps
    from gridform.analysis.topology import population_topology
    from gridform.core.ratemaps import load_ratemaps

    if kind == "run":
        maps, cloud = _run_inputs(path, args.batches, args.time_bin, args.min_speed)
    elif kind == "attractor":
        maps, cloud = _attractor_inputs(path, args.time_bin, args.min_speed)
    else:
        maps, cloud = load_ratemaps(path), None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = score_ratemaps(maps)
    threshold = args.threshold
    if threshold is None:
        threshold = null_model(maps.shape, maps.bin_size, n_maps=500,
                               seed=args.seed).threshold(95)
    # too few grid units for a module (stripes, noise) is an answer, not bad input: no
    # module and no torus, written like any other result
    topo = population_topology(maps, cloud, scores=scores, threshold=threshold,
                               n_shuffles=args.shuffles, min_units=args.min_units,
                               n_landmarks=args.landmarks, seed=args.seed,
                               source=str(path), select=args.select,
                               min_correlation=args.min_correlation)
    result = topo.to_json()
    out.mkdir(parents=True, exist_ok=True)
    from gridform.presentation.plotting import plot_topology, save_figure

    save_figure(plot_topology(topo), out / "topology.png")
    write_json(out / RunDir.TOPOLOGY, result)
    return result


def cmd_topology(args) -> int:
    r = run_topology(args)
    if r["selection"] == "clusters":
        print(f"{r['n_active_units']} of {r['n_units']} units active; "
              f"{len(r['clusters'])} autocorrelogram cluster(s) of at least "
              f"{args.min_units} units; {r['n_grid_units']} grid units above "
              f"{r['grid_threshold']:.2f}; {r['seconds']:.1f} s -> {args.out}")
        for i, m in enumerate(r["clusters"], start=1):
            print(f"  cluster {i}: {len(m['units'])} units, autocorrelogram correlation "
                  f"{m['sac_correlation']:.2f}, median score_60 {m['median_score_60']:.2f}, "
                  f"spacing {m['spacing_m']:.3f} m, Betti {tuple(m['betti'])}: "
                  f"{'torus' if m['torus'] else 'not a torus'}")
        return 0
    print(f"{r['n_grid_units']} of {r['n_units']} units above {r['grid_threshold']:.2f}; "
          f"{r['n_modules']} module(s); orientation spread of the grid units "
          f"{r['orientation_spread_deg']:.1f} deg; {r['seconds']:.1f} s -> {args.out}")
    if not r["modules"]:
        print(f"  no module: a module needs at least --min-units {args.min_units} grid units "
              "of one spacing and orientation; no torus")
    for i, m in enumerate(r["modules"], start=1):
        print(f"  module {i}: {len(m['units'])} units, spacing {m['spacing_m']:.3f} m, "
              f"orientation {m['orientation_deg']:.1f} ± {m['orientation_spread_deg']:.1f} "
              f"deg, Betti {tuple(m['betti'])}: {'torus' if m['torus'] else 'not a torus'}")
    return 0


def add_topology_command(sub: argparse._SubParsersAction) -> None:
    from gridform.core.reference import N_LANDMARKS

    p = sub.add_parser(
        "topology", help="grid modules and persistent homology of a population",
        description="Cluster the grid units into modules (spacing, orientation, ring "
                    "shape; number chosen by BIC), or with --select clusters all active "
                    "units by their autocorrelograms, then compute the persistent homology "
                    "(H0-H2, ripser) of each module's population activity against a "
                    "shuffle null: Betti (1, 2, 1) is a torus. Writes OUT/topology.json "
                    "and OUT/topology.png. Needs pip install 'gridform[topology]'.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("source", metavar="SOURCE",
                   help="a training run directory (its activity along fresh trajectories), "
                        "a demo directory, an attractor run (its activity along its path), "
                        "or a ratemaps .npz (one point per spatial bin)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffles and clustering")
    p.add_argument("--shuffles", type=positive(int), default=MIN_SHUFFLES,
                   help="shuffles of the null (each unit rolled in space or shifted in time)")
    p.add_argument("--threshold", type=float, default=None,
                   help="score_60 above which a unit is a grid unit (default: the 95th "
                        "percentile of 500 low-pass filtered noise maps)")
    p.add_argument("--select", choices=("grid", "clusters"), default="grid",
                   help="grid: the modules of the grid units (score_60 above the "
                        "threshold); clusters: every cluster of the active units' "
                        "autocorrelograms (Schøyen et al. 2023), whatever its gridness")
    p.add_argument("--min-correlation", type=float, default=0.5,
                   help="--select clusters: mean correlation of autocorrelograms at "
                        "which two groups of units stop being joined")
    p.add_argument("--min-units", type=positive(int), default=10,
                   help="fewest units that make a module (or a cluster)")
    p.add_argument("--landmarks", type=positive(int), default=N_LANDMARKS,
                   help="landmark points of the persistent homology")
    p.add_argument("--batches", type=positive(int), default=10,
                   help="run source: batches of fresh trajectories for the activity")
    p.add_argument("--time-bin", type=positive(int), default=1,
                   help="run source: time steps averaged into one sample")
    p.add_argument("--min-speed", type=float, default=0.025,
                   help="run source: samples slower than this (m/s) are dropped")
    p.add_argument("--force", action="store_true", help="replace an earlier topology.json")
    p.set_defaults(func=cmd_topology)
