"""Wall time of ``gridform topology`` on a trained run: modules, H0-H2 and the null.

The bar: a 256-unit run in at most 60 s on 2 cores, with H2 and 20 shuffles, the whole
command from a cold process (imports, JAX compilation, activity along fresh trajectories,
clustering, ripser on every module and its shuffles, decoded phases, the figure). Run:

    python benchmarks/bench_topology.py RUN_DIR [--repeats 2] [--shuffles 20]

RUN_DIR is a training run or a demo directory (``gridform demo`` writes one with a
256-unit network). Without RUN_DIR the ideal ratemaps of a 256-unit population (four
modules of 64 units) are scored instead, as a ratemaps source.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_source(directory: Path) -> Path:
    from gridform.core.ratemaps import Ratemaps
    from gridform.data.synthetic import lattice_ratemaps

    rng = np.random.default_rng(0)
    parts = [lattice_ratemaps(s, o, rng.uniform(-1.1, 1.1, (64, 2)), bins=40)
             for s, o in ((0.5, 0.0), (0.7, 15.0), (0.98, 30.0), (1.37, 45.0))]
    maps = Ratemaps(np.concatenate([p.rates for p in parts]), parts[0].occupancy,
                    parts[0].x_centers, parts[0].y_centers)
    return maps.save(directory / "four_modules.npz")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", nargs="?", default=None, help="run or demo directory")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--shuffles", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = Path(args.source) if args.source else synthetic_source(tmp)
        walls = []
        for r in range(args.repeats):
            out = tmp / f"out{r}"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "gridform.cli.app", "topology", str(source),
                            "--out", str(out), "--shuffles", str(args.shuffles)],
                           check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t)
            result = json.loads((out / "topology.json").read_text())
        print(f"source: {source} ({result['n_units']} units, {result['n_grid_units']} above "
              f"{result['grid_threshold']:.2f}, {result['n_modules']} module(s))")
        print(f"gridform topology, {args.shuffles} shuffles, H0-H2: wall "
              f"{min(walls):.1f} s best of {len(walls)} ({', '.join(f'{w:.1f}' for w in walls)}"
              f"); analysis alone {result['seconds']:.1f} s")
        for i, m in enumerate(result["modules"], start=1):
            print(f"  module {i}: {len(m['units'])} units, {m['spacing_m']:.3f} m, "
                  f"spread {m['orientation_spread_deg']:.1f} deg, Betti {m['betti']}, "
                  f"torus {m['torus']}")


if __name__ == "__main__":
    main()
