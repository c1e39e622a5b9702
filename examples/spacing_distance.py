"""Test the distance law of the spacing gap on runs it was not fitted to.

The hypothesis (docs/spacing.md, "The distance law, tested"): the trained spacing's gap
over the theory depends on the distance a training path integrates, D = L x (mean step),
and grows with log2 D. Its two terms are fitted below on the five earlier runs at
sigma = 0.12 m, s = 2 (paths of 1, 5 and 20 steps); everything here was written before the
runs of `examples/spacing_distance.toml` (paths of 10, 20 and 40 steps at three speeds,
seeds 0 and 1).

Pre-registered checks, each with a control that must fail for it to mean anything:

1. the law, on the six settings with 10- or 40-step paths (seed means): median
   |law - measured| / measured <= 5% and worst <= 10% (the bar of the spacing-law claim);
   control: a constant gap, the demo's +18.0%, through the same bar;
2. collapse: settings with equal D have seed-mean gaps within 4 points of each other;
   controls: the same spread over settings of equal path length, and of equal speed.

    python examples/spacing_distance.py SWEEP_DIR   # the --out of `gridform sweep`
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from gridform.core.reference import DT_S, SIGMA_M, SPEED_SCALE_M_S, SURROUND_SCALE
from gridform.experiments.reproduce.spacing_law import MEDIAN_BAR, WORST_BAR, measure_run
from gridform.theory.spectrum import predict
from gridform.training.runs import RunDir

D0 = 20 * SPEED_SCALE_M_S * math.sqrt(math.pi / 2) * DT_S  # 20 reference steps, 0.41 m

# the earlier runs (docs/spacing.md, "Where the gap comes from"; sigma 0.12 m, s = 2, walls):
# (path length, speed factor, measured spacing in m); the 20-step reference point is the
# mean of seeds 0-2
EARLIER = [(1, 1.0, 0.675), (5, 1.0, 0.776), (20, 0.5, 0.819),
           (20, 1.0, (0.872 + 0.868 + 0.878) / 3), (20, 2.0, 0.970)]
CONSTANT_GAP = 0.180  # the demo's measured gap, the control's prediction everywhere
COLLAPSE_POINTS = 0.04


def distance_m(length: int, speed_factor: float) -> float:
    """Mean distance covered by a path of ``length`` steps (Rayleigh speeds: mean b sqrt(pi/2))."""
    return length * speed_factor * SPEED_SCALE_M_S * math.sqrt(math.pi / 2) * DT_S


def theory_spacing() -> float:
    """The theory's spacing for the code of every run here (DoS, sigma 0.12 m, s = 2)."""
    return predict("dos", SIGMA_M, SURROUND_SCALE).grid_spacing_m


def fit_law(predicted: float, points=EARLIER) -> tuple[float, float]:
    """(A, B) of gap = A + B log2(D / D0), least squares on ``points``."""
    x = np.log2([distance_m(n, f) / D0 for n, f, _ in points])
    y = np.array([s / predicted - 1 for _, _, s in points])
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def _bar(errors) -> tuple[bool, str]:
    e = np.asarray(errors)
    med, worst = float(np.median(e)), float(e.max())
    ok = med <= MEDIAN_BAR and worst <= WORST_BAR
    return ok, f"median {100 * med:.1f}%, worst {100 * worst:.1f}% ({'pass' if ok else 'fail'})"


def _spread(gaps: dict, key) -> float:
    groups: dict = {}
    for setting, g in gaps.items():
        groups.setdefault(key(setting), []).append(g)
    return max((max(v) - min(v) for v in groups.values() if len(v) > 1), default=float("nan"))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep_dir", type=Path)
    args = p.parse_args(argv)
    predicted = theory_spacing()
    a, b = fit_law(predicted)
    print(f"law fixed in advance: gap = {a:+.4f} + {b:.4f} log2(D / {D0:.3f} m); "
          f"theory {predicted:.4f} m")

    measured: dict[tuple[int, float], list[tuple[int, float, int]]] = {}
    for run in sorted((args.sweep_dir / "runs").iterdir()):
        if not RunDir(run).is_done():
            continue
        c = RunDir(run).read_config()
        factor = round(c.speed_scale / SPEED_SCALE_M_S, 3)
        spacing, n = measure_run(run)
        measured.setdefault((c.sequence_length, factor), []).append((c.seed, spacing, n))

    print("\n| steps | speed | D (m) | spacing by seed (grid units) | mean | gap | law | "
          "law error | constant error |")
    print("|---|---|---|---|---|---|---|---|---|")
    gaps, law_err, const_err = {}, [], []
    for (length, factor), seeds in sorted(measured.items()):
        d = distance_m(length, factor)
        values = [s for _, s, _ in seeds if math.isfinite(s)]
        mean = float(np.mean(values)) if values else float("nan")
        law = predicted * (1 + a + b * math.log2(d / D0))
        const = predicted * (1 + CONSTANT_GAP)
        by_seed = ", ".join(f"s{seed} {s:.3f} ({n})" if math.isfinite(s) else f"s{seed} - ({n})"
                            for seed, s, n in sorted(seeds))
        if values:
            gaps[(length, factor)] = mean / predicted - 1
            if length != 20:
                law_err.append(abs(law / mean - 1))
                const_err.append(abs(const / mean - 1))
        print(f"| {length} | {factor:g}x | {d:.3f} | {by_seed} | {mean:.3f} | "
              f"{100 * (mean / predicted - 1):+.1f}% | {law:.3f} | "
              f"{100 * (law / mean - 1):+.1f}% | {100 * (const / mean - 1):+.1f}% |")

    print()
    if law_err:
        print(f"1. law on the {len(law_err)} settings of 10 and 40 steps: {_bar(law_err)[1]}")
        print(f"   control, a constant +{100 * CONSTANT_GAP:.1f}%: {_bar(const_err)[1]}")
    for name, key in (("equal D", lambda s: round(s[0] * s[1], 6)),
                      ("equal path length (control)", lambda s: s[0]),
                      ("equal speed (control)", lambda s: s[1])):
        spread = _spread(gaps, key)
        verdict = "within" if spread <= COLLAPSE_POINTS else "beyond"
        print(f"2. largest spread of the gap over settings of {name}: "
              f"{100 * spread:.1f} points ({verdict} {100 * COLLAPSE_POINTS:.0f})")
    diffs = [abs(s[0][1] - s[1][1]) / predicted for s in measured.values()
             if len(s) == 2 and all(math.isfinite(x[1]) for x in s)]
    if diffs:
        print(f"   seed 0 against seed 1, same setting: median {100 * np.median(diffs):.1f}, "
              f"largest {100 * max(diffs):.1f} points")


if __name__ == "__main__":
    main()
