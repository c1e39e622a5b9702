"""Scoring and ratemap speed: gridform vs a straightforward per-map scorer.

The per-map scorer follows the DeepMind/Sorscher style: a scipy.signal.convolve2d
autocorrelogram (six NaN-aware convolutions) and scipy.ndimage.rotate of the SAC per
angle per map, correlated inside ten ring masks. Run:

    python benchmarks/bench_scores.py [--maps 4096] [--per-map-44 512]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import scipy.ndimage as ndi
import scipy.signal as sig

from gridform import Box, RatemapAccumulator, Ratemaps, score_ratemaps
from gridform.analysis.scores import autocorrelogram, gridness

ANGLES = (30, 45, 60, 90, 120, 135, 150)


def _circle(n, radius):
    size = 2 * n - 1
    y, x = np.mgrid[0:size, 0:size] - (n - 1)
    return np.hypot(x, y) <= radius


def per_map_scores(rates: np.ndarray) -> np.ndarray:
    n = rates.shape[1]
    masks = [_circle(n, hi * n) & ~_circle(n, 0.2 * n) for hi in np.linspace(0.4, 1.0, 10)]
    out = np.empty(len(rates))
    for i, m in enumerate(rates):
        valid = np.isfinite(m).astype(float)
        x = np.nan_to_num(m)

        def f2(a, b):
            return sig.convolve2d(b, np.rot90(a, 2), mode="full")

        nb = f2(valid, valid)
        s1, s2 = f2(x, valid), f2(valid, x)
        q1, q2 = f2(x * x, valid), f2(valid, x * x)
        xy = f2(x, x)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd1 = np.sqrt(q1 / nb - (s1 / nb) ** 2)
            sd2 = np.sqrt(q2 / nb - (s2 / nb) ** 2)
            sac = np.nan_to_num((xy / nb - s1 * s2 / nb**2) / (sd1 * sd2))
        rots = {a: ndi.rotate(sac, a, reshape=False) for a in ANGLES}
        best = -np.inf
        for mask in masks:
            mean = sac[mask].mean()
            var = ((sac[mask] - mean) ** 2).mean() + 1e-5
            c = {a: ((sac[mask] - mean) * (rots[a][mask] - mean)).mean() / var for a in ANGLES}
            best = max(best, (c[60] + c[120]) / 2 - (c[30] + c[90] + c[150]) / 3)
        out[i] = best
    return out


def maps_of(n_maps: int, n: int, rng) -> Ratemaps:
    c = np.linspace(-1.1 + 1.1 / n, 1.1 - 1.1 / n, n)
    rates = ndi.gaussian_filter(rng.standard_normal((n_maps, n, n)), (0, 1, 1))
    return Ratemaps(np.maximum(rates, 0) + 1e-3 * rng.random(rates.shape), np.ones((n, n)), c, c)


def timed(fn, *a):
    t = time.perf_counter()
    out = fn(*a)
    return out, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--maps", type=int, default=4096)
    p.add_argument("--per-map-44", type=int, default=512,
                   help="maps timed with the per-map scorer at 44 x 44 (extrapolated)")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    for n, n_ref in ((20, args.maps), (44, args.per_map_44)):
        maps = maps_of(args.maps, n, rng)
        score_ratemaps(maps.select(np.arange(8)))  # warm caches
        _, t_grid = timed(lambda m: gridness(autocorrelogram(m.rates), m.bin_size), maps)
        _, t_full = timed(score_ratemaps, maps)
        ref, t_ref = timed(per_map_scores, maps.rates[:n_ref])
        t_ref_all = t_ref * args.maps / n_ref
        ours = gridness(autocorrelogram(maps.rates[:n_ref]), maps.bin_size).score_60
        agree = np.corrcoef(ref, ours)[0, 1]
        note = "" if n_ref == args.maps else f" (timed on {n_ref}, scaled)"
        print(f"{args.maps} maps of {n}x{n}: gridform SAC+gridness {t_grid:.2f} s, all "
              f"scores (+spacing, orientation, phase, border, info) {t_full:.2f} s; per-map "
              f"{t_ref_all:.1f} s{note}; speed-up {t_ref_all / t_grid:.0f}x (gridness), "
              f"{t_ref_all / t_full:.0f}x (all); score correlation with per-map {agree:.3f}")

    # ratemaps of 4096 units from 200,000 samples, streamed in chunks
    n_units, n_samples, chunk = 4096, 200_000, 10_000
    box = Box()
    tracemalloc.start()
    t = time.perf_counter()
    acc = RatemapAccumulator(box, n_units, 20)
    for _ in range(0, n_samples, chunk):
        pos = rng.uniform(-1.1, 1.1, (chunk, 2))
        act = rng.random((chunk, n_units), dtype=np.float32)
        acc.add(pos, act)
    maps = acc.result()
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"ratemaps of {n_units} units from {n_samples} samples ({maps.shape[0]}x"
          f"{maps.shape[1]} bins): {elapsed:.2f} s including generating the activity, "
          f"peak traced memory {peak / 2**20:.0f} MiB (chunks of {chunk})")


if __name__ == "__main__":
    main()
