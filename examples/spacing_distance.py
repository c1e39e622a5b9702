"""Test the distance law of the spacing gap on a sweep you ran yourself.

`gridform reproduce spacing-distance --out repro` trains the sweep and checks the law in one
command (gridform.experiments.reproduce.spacing_distance, where the law, its fit and its
bars are written down). This script runs the same checks on a sweep trained with

    gridform sweep examples/spacing_distance.toml --out dist
    python examples/spacing_distance.py dist

and prints each setting's spacing by seed beside the law's prediction, then the two claims.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from gridform.experiments.reproduce import format_claims
from gridform.experiments.reproduce._common import _Context
from gridform.experiments.reproduce.spacing_distance import (
    CONSTANT_GAP,
    D0,
    fit_law,
    law_gap,
    settings_of_sweep,
    spacing_distance_claims,
    theory_spacing,
)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep_dir", type=Path)
    args = p.parse_args(argv)
    predicted = theory_spacing()
    a, b = fit_law(predicted)
    print(f"law fixed in advance: gap = {a:+.4f} + {b:.4f} log2(D / {D0:.3f} m); "
          f"theory {predicted:.4f} m\n")
    settings = settings_of_sweep(args.sweep_dir)
    print("| steps | speed | D (m) | spacing by seed (grid units) | mean | gap | law | "
          "constant |")
    print("|---|---|---|---|---|---|---|---|")
    for s in settings:
        law = predicted * (1 + law_gap(s.distance, a, b))
        by_seed = ", ".join(f"{x:.3f} ({n})" if math.isfinite(x) else f"- ({n})"
                            for x, n in zip(s.spacings, s.grid_units, strict=True))
        print(f"| {s.length} | {s.speed_factor:g}x | {s.distance:.3f} | {by_seed} | "
              f"{s.mean:.3f} | {100 * (s.mean / predicted - 1):+.1f}% | {law:.3f} | "
              f"{predicted * (1 + CONSTANT_GAP):.3f} |")
    print()
    ctx = _Context(args.sweep_dir, quick=False, run_dir=None)
    print(format_claims(spacing_distance_claims(ctx, settings)))


if __name__ == "__main__":
    main()
