"""The commands of many trainings: ``sweep`` and ``sweep-report``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gridform.cli.args import count
from gridform.core.errors import UsageError

__all__ = ["add_sweep_commands", "cmd_sweep", "cmd_sweep_report"]


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


def add_sweep_commands(sub: argparse._SubParsersAction) -> None:
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

