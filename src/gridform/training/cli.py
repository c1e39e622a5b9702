"""``gridform train`` and ``gridform evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_training_commands"]


def cmd_train(args) -> int:
    from gridform.training.config import PRESETS, load_config
    from gridform.training.loop import train

    if args.preset not in PRESETS:
        raise ValueError(f"unknown preset {args.preset!r}")
    config = load_config(args.preset, args.config, args.set, steps=args.steps, seed=args.seed)
    out = Path(args.out)
    print(f"training {config.run_id()} ({config.steps} steps) -> {out}")
    result = train(config, out, resume=args.resume, force=args.force, progress=True)
    print(f"done: step {result['step']}, loss {result['loss']:.4f}, decoding error "
          f"{result['error_cm']:.1f} cm, {result['seconds']:.0f} s")
    return 0


def cmd_evaluate(args) -> int:
    from gridform.training.evaluate import evaluate_run

    ev = evaluate_run(Path(args.run_dir), n_batches=args.batches, bins=args.bins)
    s = ev.summary
    print(f"evaluated {args.run_dir}: {s['n_active']}/{s['n_units']} active units, "
          f"decoding error {s['error_cm']:.1f} cm")
    for k in ("frac_above_0.3", "frac_above_0.8", "frac_above_0.3_minmax",
              "frac_above_0.8_minmax", "mean_pairwise_corr", "median_spacing_m",
              "predicted_spacing_m"):
        if k in s:
            print(f"  {k:<24} {s[k]:.3f}")
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
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", required=True, help="run directory")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true", help="continue the run in --out")
    g.add_argument("--force", action="store_true", help="start over, replacing the run")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="ratemaps, grid scores and decoding error of a run",
                       description="Writes RUN_DIR/ratemaps.npz, scores.csv, summary.json.")
    p.add_argument("run_dir")
    p.add_argument("--batches", type=int, default=None, help="evaluation batches")
    p.add_argument("--bins", type=int, default=20, help="ratemap bins per side")
    p.set_defaults(func=cmd_evaluate)
