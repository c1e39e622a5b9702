"""The commands that check and report: ``reproduce`` and ``report``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gridform.core.errors import UsageError
from gridform.core.io import prepare_out_dir

__all__ = ["add_reproduce_commands", "cmd_report", "cmd_reproduce"]


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


def cmd_report(args) -> int:
    from gridform.presentation.report import write_report

    path = write_report(Path(args.directory), args.out)
    print(f"wrote {path}")
    return 0


def _html_path(text: str) -> str:
    if Path(text).suffix.lower() not in (".html", ".htm"):
        raise argparse.ArgumentTypeError(f"the report is HTML: give a file ending in .html, "
                                         f"got {text!r}")
    return text


def add_reproduce_commands(sub: argparse._SubParsersAction) -> None:
    """reproduce and report."""
    from gridform.experiments.reproduce import EXTRA_TARGETS, TARGETS

    p = sub.add_parser("reproduce", help="check the paper's claims: figures and a claims table",
                       description="Run the paper's claims, one target per claim family "
                                   f"({', '.join(TARGETS)}; and, only when named, "
                                   f"{', '.join(EXTRA_TARGETS)}); write figures (PNG, SVG), "
                                   "OUT/claims.csv and print each claim with its threshold, "
                                   "measurement, n, spread, negative control and verdict.")
    p.add_argument("targets", nargs="*", default=["all"], metavar="TARGET",
                   help="targets to run, or all (default; the spacing-law and "
                        "spacing-distance targets train sweeps of their own and run only "
                        "when named)")
    p.add_argument("--quick", action="store_true",
                   help="CPU-sized (about 24 minutes for all on 2 cores, 16 for "
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

