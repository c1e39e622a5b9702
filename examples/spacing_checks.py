"""Two checks of a trained run's grid spacing: a second estimator, and the spacing at each
part of the sequence.

Trained RNNs put their grid spacing 20-30% above the theory's 4 pi / (sqrt(3) k*)
(docs/demo-recipe.md). This asks whether that is the estimator or the integration:

1. The ``spacing_m`` of ``scores.csv`` comes from the six nearest peaks of each unit's
   autocorrelogram. The second estimator takes the ring of maximal power in the unit's 2-D
   spectrum (mean removed, zero-padded), k_peak, and reports 4 pi / (sqrt(3) k_peak). Both
   are run first on ideal rectified hexagons of known spacing on the run's own bins.
2. Ratemaps from the hidden states of the first step of each sequence only (the state
   the encoder of the initial place code sets up, one update in) and of later parts: if
   the spacing grew as errors accumulated along a path, the early maps would be narrower.

    python examples/spacing_checks.py RUN_DIR [--batches 100]

``RUN_DIR`` must hold an evaluated run (``gridform evaluate RUN_DIR``).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import jax
import numpy as np

from gridform.analysis.scores import GridScores, autocorrelogram, grid_geometry
from gridform.analysis.spectra import spectral_spacing
from gridform.core.environment import Box
from gridform.core.ratemaps import RatemapAccumulator, load_ratemaps
from gridform.data.synthetic import lattice_ratemaps
from gridform.training.evaluate import summarise
from gridform.training.trained import TrainedRun


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--batches", type=int, default=100)
    args = p.parse_args()
    run = args.run_dir
    maps = load_ratemaps(run / "ratemaps.npz")
    saved = GridScores.load(run / "scores.csv")
    score, sac_spacing = saved.score_60, saved.spacing_m
    dx = float(maps.x_centers[1] - maps.x_centers[0])
    rng = np.random.default_rng(0)

    print("1. estimators on ideal rectified hexagons (30 maps each, the run's bins):")
    for spacing in (0.739, 0.95):
        ideal = lattice_ratemaps(spacing, rng.uniform(0, 60, 30), rng.uniform(-1, 1, (30, 2)),
                                 bins=len(maps.x_centers), box=Box(maps.width, maps.height))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sac = grid_geometry(autocorrelogram(ideal.rates), (dx, dx)).spacing_m
        print(f"   true {spacing:.3f} m: autocorrelogram {np.nanmedian(sac):.3f} m, "
              f"spectrum {np.median(spectral_spacing(ideal)):.3f} m")
    grid = score > 0.8
    print(f"   the run's {grid.sum()} units above 0.8: autocorrelogram "
          f"{np.nanmedian(sac_spacing[grid]):.3f} m, spectrum "
          f"{np.median(spectral_spacing(maps.select(grid))):.3f} m")

    trained = TrainedRun.load(run)
    config, task, params = trained.config, trained.task, trained.params
    t = config.sequence_length
    parts = [(0, 1), (1, t // 4), (t // 4, t // 2), (t // 2, 3 * t // 4), (3 * t // 4, t)]
    parts = [(a, b) for a, b in parts if b > a]

    @jax.jit
    def hidden(key):
        v, p0, _, pos = task.batch(key)
        hs, logits = task.apply(params, v, p0)
        return hs, pos, task.decoding_errors(logits, pos)

    accs = [RatemapAccumulator(task.box, config.n_hidden, maps.rates.shape[-1])
            for _ in parts]
    errors = [[] for _ in parts]
    for b in range(args.batches):
        hs, pos, err = (np.asarray(a) for a in hidden(jax.random.fold_in(task.eval_key, b)))
        for (a, z), acc, e in zip(parts, accs, errors, strict=True):
            acc.add(pos[:, a:z].reshape(-1, 2), hs[:, a:z].reshape(-1, hs.shape[-1]))
            e.append(err[:, a:z].mean())
    print(f"2. by step of the sequence ({args.batches} batches of the evaluation key):")
    for (a, z), acc, e in zip(parts, accs, errors, strict=True):
        s = summarise(task, acc.result(), float(np.mean(e))).summary
        print(f"   steps {a:2d}-{z - 1:2d}: error {s.error_cm:.1f} cm, "
              f"> 0.3 {s.frac_above_0_3:.0%}, > 0.8 {s.frac_above_0_8:.0%}, "
              f"spacing {s.median_spacing_m:.3f} m (predicted "
              f"{s.predicted_spacing_m:.3f} m)")


if __name__ == "__main__":
    main()
