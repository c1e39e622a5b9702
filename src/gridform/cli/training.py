"""``gridform train`` and ``gridform evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from gridform.cli.args import add_spacing_law_args, count, spacing_correction

__all__ = ["add_training_commands"]


def cmd_train(args) -> int:
    from gridform.training.config import PRESETS, load_config
    from gridform.training.loop import train
    from gridform.training.runs import RunDir

    if args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}")
    files = {}  # passed as values, not as --set text: a path may hold any character
    if args.targets:
        from gridform.data.recorded import load_place_cell_maps

        target = Path(args.targets).resolve()
        files |= {"place_cell_file": str(target),
                  "n_place_cells": load_place_cell_maps(target).n_cells}
    if args.trajectories:
        files["trajectory_file"] = str(Path(args.trajectories).resolve())
    config = load_config(args.preset, args.config, list(args.set), steps=args.steps,
                         seed=args.seed, **files)
    out = Path(args.out)
    if args.resume and RunDir(out).has_run():
        config = _resumed_config(out, config, args, files)
    print(f"training {config.run_id()} ({config.steps} steps) -> {out}")
    result = train(config, out, resume=args.resume, force=args.force, progress=True)
    err = result.get("error_cm")
    if args.resume and result.get("step", 0) >= config.steps and err is None:
        print(f"{out} had already finished its {config.steps} steps; nothing to do (give "
              f"--steps above {config.steps} to train it further)")
        return 0
    loss = result.get("loss")
    print(f"done: step {result['step']}, loss "
          + ("n/a" if loss is None else f"{loss:.4f}") + ", decoding error "
          + ("n/a" if err is None else f"{err:.1f} cm")
          + f", {result.get('seconds') or 0:.0f} s")
    return 0


def cmd_evaluate(args) -> int:
    if args.trajectory:
        if spacing_correction(args) is not None:
            from gridform.core.errors import UsageError

            raise UsageError("--step-cost and --offset correct the spacing for the run's "
                             "simulated paths; they do not apply along --trajectory")
        return _evaluate_along(args)
    if args.out is not None or args.force:
        from gridform.core.errors import UsageError

        raise UsageError("--out and --force belong to evaluate --trajectory; without it the "
                         "results go to RUN_DIR")
    from gridform.training.evaluate import evaluate_run

    ev = evaluate_run(Path(args.run_dir), n_batches=args.batches, bins=args.bins,
                      correction=spacing_correction(args))
    _print_summary(args.run_dir, ev.summary)
    return 0


def _resumed_config(out: Path, given, args, files: dict):
    """The stored config of the run in ``out``, with only what this command line names
    explicitly (``--set``, ``--config``, ``--steps``, ``--seed``, data files) taken from
    ``given``; the resume then refuses any of those that differs from the run, except the
    number of steps."""
    import tomllib

    from gridform.training.config import TrainConfig
    from gridform.training.runs import read_run_config

    explicit = {item.split("=", 1)[0].strip() for item in args.set} | set(files)
    if args.config:
        data = tomllib.loads(Path(args.config).read_text())  # valid: load_config read it
        explicit |= set(data.get("train", data))
    explicit |= {k for k in ("steps", "seed") if getattr(args, k) is not None}
    stored = read_run_config(out).resolved()
    return TrainConfig(**(stored | {k: v for k, v in given.resolved().items()
                                    if k in explicit}))


def _print_summary(where, s) -> None:
    floor = ("" if s.decoder_floor_cm is None else
             f" (decoding the true place code: {s.decoder_floor_cm:.1f} cm)")
    print(f"evaluated {where}: {s.n_active}/{s.n_units} active units, decoding error "
          f"{s.error_cm:.1f} cm{floor}")
    for label, value in s.rows(("frac_above_0_3", "frac_above_0_8", "frac_above_0_3_minmax",
                                "frac_above_0_8_minmax", "mean_pairwise_corr",
                                "median_spacing_m", "predicted_spacing_m")):
        print(f"  {label:<24} {value:.3f}")
    if s.corrected_spacing_m is not None:
        c = s.spacing_correction or {}
        print(f"  {'corrected_spacing_m':<24} {s.corrected_spacing_m:.3f} (step cost "
              f"{c.get('step_cost', 0):g} (k l)^{c.get('exponent', 4):g}, l = "
              f"{100 * c.get('step_m', 0):.2f} cm a step; offset {c.get('offset', 0):+g})")
    print("  " + s.population_line())


def _evaluate_along(args) -> int:
    from gridform.data.paths import network_ratemaps
    from gridform.data.trajectory_files import load_path
    from gridform.training.evaluate import summarise, with_population_structure
    from gridform.training.runs import RunDir
    from gridform.training.trained import TrainedRun

    run = TrainedRun.load(args.run_dir)
    out = Path(args.out) if args.out else run.dir.along_path(args.trajectory)
    if RunDir(out).summary_path.exists() and not args.force:
        raise FileExistsError(f"{out} already holds an evaluation; pass --force to replace it")
    path = load_path(args.trajectory)
    ev = with_population_structure(
        summarise(run.task, *network_ratemaps(run.task, run.params, path, args.bins)))
    ev.write(out, trajectory=str(args.trajectory),
             duration_s=float(path.times[-1] - path.times[0]))
    _print_summary(f"{run.path} along {args.trajectory} -> {out}", ev.summary)
    return 0


def add_training_commands(sub: argparse._SubParsersAction) -> None:
    from gridform.training.config import PRESETS

    p = sub.add_parser("train", help="train a path-integrating RNN",
                       description="Train on batches generated on the fly from (seed, "
                                   "step); checkpoints are safetensors + JSON.")
    p.add_argument("--preset", choices=sorted(PRESETS), default="demo",
                   help="demo: minutes on a CPU; paper: the reference, for a GPU")
    p.add_argument("--config", default=None, help="TOML file with config fields")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config field (repeatable)")
    p.add_argument("--steps", type=int, default=None, help="number of training steps")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the initial weights, place cells and batches (default: "
                        "the preset's, 0)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--targets", default=None, help="recorded place cells (.npz ratemaps or "
                   ".nwb) as the training targets instead of simulated ones")
    p.add_argument("--trajectories", default=None, help="gridform trajectory .npz (gridform "
                   "import-trajectory): train on windows of it instead of the random walk")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in --out")
    g.add_argument("--force", action="store_true", help="start over, replacing the run")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="ratemaps, grid scores and decoding error of a run",
                       description="Writes RUN_DIR/ratemaps.npz, scores.csv, summary.json.")
    p.add_argument("run_dir")
    p.add_argument("--batches", type=count(1), default=None,
                   help="evaluation batches (at least 1)")
    p.add_argument("--bins", type=count(8), default=20,
                   help="ratemap bins per side, at least 8 to score them (default: 20)")
    p.add_argument("--trajectory", default=None, help="evaluate along this trajectory "
                   "(gridform .npz) instead of fresh random walks")
    p.add_argument("--out", default=None, help="with --trajectory: where to write "
                   "(default RUN_DIR/along-NAME)")
    p.add_argument("--force", action="store_true", help="with --trajectory: replace an "
                   "earlier evaluation in --out")
    add_spacing_law_args(p, what="the summary holds the corrected spacing too "
                                 "(corrected_spacing_m)")
    p.set_defaults(func=cmd_evaluate)
