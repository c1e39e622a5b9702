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
evaluate` writes them).
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from gridform.analysis.scores import null_model, score_ratemaps
from gridform.core.ratemaps import load_ratemaps
from gridform.training.runs import RunDir


def canonical(k: tuple[int, int]) -> tuple[int, int]:
    """One of the pair +-k: the one with n > 0, or n = 0 and m > 0."""
    n, m = k
    return (n, m) if (n > 0 or (n == 0 and m > 0)) else (-n, -m)


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
    grid = np.nan_to_num(scores.score_60, nan=-9) > threshold
    rates = np.nan_to_num(maps.rates[grid])
    rates = rates - rates.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(rates)) ** 2  # (unit, y, x): one period of the box
    ny, nx = power.shape[1:]
    m_idx = np.fft.fftfreq(ny, 1 / ny).astype(int)
    n_idx = np.fft.fftfreq(nx, 1 / nx).astype(int)
    quantum = 2 * np.pi / np.array([config.box_width, config.box_height])

    def wave(flat: int) -> tuple[int, int]:
        row, col = np.unravel_index(flat, (ny, nx))
        return int(n_idx[col]), int(m_idx[row])

    def norm(k) -> float:
        return float(np.hypot(k[0] * quantum[0], k[1] * quantum[1]))

    mean = power.mean(axis=0)
    mean = mean / mean.sum()
    def strongest(p: np.ndarray, count: int) -> list[tuple[int, int]]:
        """The ``count`` strongest wave vectors of the spectrum ``p``, one of each +-k."""
        out: list[tuple[int, int]] = []
        for flat in np.argsort(p.ravel())[::-1]:
            k = canonical(wave(flat))
            if k not in out:
                out.append(k)
            if len(out) == count:
                return out
        return out

    top = strongest(mean, 6)
    print(f"{run_dir}: {int(grid.sum())} grid units (score_60 > {threshold:.2f}), box "
          f"{config.box_width} x {config.box_height} m")
    print("  strongest wave vectors of the mean spectrum: " + ", ".join(
        f"{k} |k| = {norm(k):.2f} ({2 * mean[k[1] % ny, k[0] % nx]:.1%})" for k in top))
    triads: Counter = Counter()
    fractions = []
    for p in power:
        triads[tuple(sorted(strongest(p, 3)))] += 1
        fractions.append(np.sort(p.ravel())[::-1][:6].sum() / p.sum())
    for triad, count in triads.most_common(4):
        print(f"  {count:3d} units: {triad}")
    print(f"  median power in a unit's three strongest pairs: {np.median(fractions):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="evaluated periodic run directories")
    for r in ap.parse_args().runs:
        describe(r)


if __name__ == "__main__":
    main()
