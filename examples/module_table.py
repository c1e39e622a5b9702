"""Is a trained population one module on a torus? One markdown row per run directory.

For each run it reads the evaluation (`summary.json`, `ratemaps.npz`) and, when present,
the activity topology that `gridform topology RUN --out RUN/topology` wrote, and prints:

- what the run changes from the `demo` preset, and its seed;
- decoding error, the fractions of active units above 0.3 and 0.8 (mean variant) and
  their mean pairwise correlation;
- the orientation spread of the active units above 0.8 (circular sd, period 60 degrees)
  and the Rayleigh test of their uniformity on the six-fold circle;
- from the ratemaps (as `summary.json` has them): the number of modules and whether the
  population is one module with Betti (1, 2, 1) against the roll null;
- from the activity (`topology/topology.json`): the number of modules, the size and Betti
  numbers of the largest, its three longest H1 lifetimes and the null's longest H1.

    python examples/module_table.py RUN_DIR [RUN_DIR ...]

docs/modules.md gives the commands and the tables this printed.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

from gridform.analysis.scores import score_ratemaps
from gridform.analysis.topology import (
    STRONG_GRID_SCORE,
    orientation_spread,
    population_structure,
    rayleigh_p,
)
from gridform.core.ratemaps import load_ratemaps
from gridform.training.config import load_config
from gridform.training.evaluate import active_units
from gridform.training.runs import RunDir

HEADER = ("| change | seed | error | > 0.3 | > 0.8 (units) | corr | orientation spread "
          "| Rayleigh p "
          "| modules, maps | torus, maps | modules, activity (largest) | Betti | H1 lifetimes "
          "| null max H1 |")


def changes(config) -> str:
    """The config fields that differ from the demo preset (seed and bookkeeping aside)."""
    demo = load_config("demo").resolved()
    skip = {"seed", "checkpoint_every", "eval_every", "eval_batches"}
    diff = {k: v for k, v in config.resolved().items() if k not in skip and demo[k] != v}
    return ", ".join(f"{k}={v}" for k, v in sorted(diff.items())) or "none"


def row(run_dir: Path) -> str:
    run = RunDir(run_dir)
    config = run.read_config()
    summary = run.read_summary()
    maps = load_ratemaps(run.ratemaps_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = score_ratemaps(maps)
    active = active_units(maps)
    spread, n_strong = orientation_spread(scores, active)
    strong = active & (np.nan_to_num(scores.score_60, nan=-9) > STRONG_GRID_SCORE)
    p = rayleigh_p(scores.orientation_deg[strong])
    ps = population_structure(maps, scores, units=active)
    cells = [changes(config), str(config.seed), f"{summary.error_cm:.1f} cm",
             f"{summary.frac_above_0_3:.1%}", f"{summary.frac_above_0_8:.1%} ({n_strong})",
             f"{summary.mean_pairwise_corr:.3f}",
             f"{spread:.1f} deg", f"{p:.2g}", str(ps.n_modules), "yes" if ps.torus else "no"]
    topo = run.path / "topology" / "topology.json"
    if topo.exists():
        t = json.loads(topo.read_text())
        mods = sorted(t["modules"], key=lambda m: -len(m["units"]))
        if mods:
            big = mods[0]
            cells += [f"{t['n_modules']} ({len(big['units'])} units)", str(tuple(big["betti"])),
                      ", ".join(f"{v:.2f}" for v in big["h1_lifetimes"][:3]),
                      f"{big['null_max'][1]:.2f}"]
        else:
            cells += ["0", "-", "-", "-"]
    else:
        cells += ["not run"] * 4
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="evaluated run directories")
    args = ap.parse_args()
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    for r in args.runs:
        print(row(r), flush=True)


if __name__ == "__main__":
    main()
