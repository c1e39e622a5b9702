"""Which wave vectors do the grid units of a network trained on a periodic box use?

On a periodic box of side Lx x Ly a map can only hold the wave vectors
2 pi (n / Lx, m / Ly) with integer n, m: the box quantises the ring of the theory. A
single module needs one closed triad (k1 + k2 + k3 = 0) of nearly equal norms on that
grid, shared by all its units. For every run this prints, over the units whose score_60
exceeds the smoothed-noise null's 95th percentile:

- the six strongest wave vectors (n, m) of their mean power spectrum, with |k| in rad/m;
- the triads of each unit's three strongest wave vectors (up to sign), and how many units
  use each;
- the median fraction of a unit's power in its three strongest pairs (1 for an ideal
  three-wave lattice).

    python examples/torus_wavevectors.py RUN_DIR [RUN_DIR ...]

The ratemaps must cover one period of the box exactly (periodic runs, as `gridform
evaluate` writes them). The analysis is `gridform.analysis.spectra.torus_wave_vectors`.
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from gridform.analysis.scores import null_model, score_ratemaps
from gridform.analysis.spectra import torus_wave_vectors
from gridform.core.ratemaps import load_ratemaps
from gridform.training.runs import RunDir


def describe(run_dir: Path) -> None:
    run = RunDir(run_dir)
    config = run.read_config()
    if config.boundary != "periodic":
        print(f"{run_dir}: not a periodic run, skipped")
        return
    maps = load_ratemaps(run.ratemaps_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = score_ratemaps(maps)
    threshold = null_model(maps.shape, maps.bin_size, n_maps=500, seed=0).threshold(95)
    grid = maps.select(np.flatnonzero(np.nan_to_num(scores.score_60, nan=-9) > threshold))
    modes, fractions = torus_wave_vectors(grid)
    top6, _ = torus_wave_vectors(grid, 6, mean=True)

    def norm(k) -> float:
        return float(2 * np.pi * np.hypot(k[0] / config.box_width, k[1] / config.box_height))

    print(f"{run_dir}: {grid.n_cells} grid units (score_60 > {threshold:.2f}), box "
          f"{config.box_width} x {config.box_height} m")
    print("  strongest wave vectors of the mean spectrum: " + ", ".join(
        f"{tuple(k)} |k| = {norm(k):.2f}" for k in top6[0].tolist()))
    triads = Counter(tuple(sorted(map(tuple, m))) for m in modes.tolist())
    for triad, count in triads.most_common(4):
        print(f"  {count:3d} units: {triad}")
    print(f"  median power in a unit's three strongest pairs: {np.nanmedian(fractions):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="evaluated periodic run directories")
    for r in ap.parse_args().runs:
        describe(r)


if __name__ == "__main__":
    main()
