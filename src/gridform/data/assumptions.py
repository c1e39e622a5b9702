"""Do recorded place cells satisfy the theory's assumptions?

Sorscher et al. derive hexagonal grids from two properties of the place-cell code
(docs/theory.md section 2), which Schaeffer, Khona, Bertagnoli, Koyejo & Fiete (2023, "Testing
assumptions underlying a unified theory for the origin of grid cells") ask of real data:

1. **A translation-invariant population covariance**: ``Sigma(x, x') = (1/n) sum_i
   p_i(x) p_i(x')`` (each cell's spatial mean removed) depends only on ``d = x' - x``.
   Statistic: for each lag ``d`` with ``|d| <= max_lag`` (``d = 0`` included), the spread
   of ``Sigma(x, x + d)`` over the positions ``x`` for which both ends lie in the interior
   (``margin`` of the box away from walls, where a walled box makes any code
   non-stationary), measured as the standard deviation of its means over ``blocks x
   blocks`` regions of the interior (local sampling noise averages out, a trend across the
   box does not); averaged over lags and divided by the mean variance ``Sigma(x, x)``.
   Each cell's map is centred and scaled to unit spatial variance first, so that a few
   strong or wide cells do not dominate the population.
   Null: every cell's map translated by its own random shift (wrapping round the box),
   which keeps each cell's shape and the population size but makes the code stationary
   by construction; ``p = (1 + #{null >= observed}) / (1 + shuffles)``.
2. **Centre-surround tuning of single cells**: each cell's main field (other fields,
   connected regions above ``field_threshold`` of the peak, are masked out) is fitted
   by least squares with an isotropic Gaussian on a baseline and with a difference of
   Gaussians (surround ``A2 >= 0``, ``sigma2 > sigma1``); the nested models are compared
   by an F test, and a surround counts only if it is significant (``p < alpha``) and dips
   at least ``min_depth`` of the field's height below the baseline.

Plus the consequence the theory draws: the radially averaged spectrum of the
translation-averaged covariance, its ring ``k*`` if any (the spectrum's maximum, when it
lies at least two plane-wave periods per box above ``k = 0`` and stands 1.5x above the
lowest power between the box's lowest mode ``2 pi / L`` and it), and the predicted grid
spacing ``4 pi / (sqrt(3) k*)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage, optimize, stats

from gridform.core.parallel import map_in_processes
from gridform.core.ratemaps import Ratemaps
from gridform.data.extras import DataError
from gridform.data.recorded import box_of, fill_unvisited
from gridform.theory.spectrum import grid_spacing

__all__ = ["AssumptionReport", "centre_surround_fits", "covariance_spectrum",
           "test_assumptions", "translation_invariance"]


@dataclass
class AssumptionReport:
    """Everything :func:`test_assumptions` measured; ``summary`` is the JSON-ready digest."""

    summary: dict[str, Any]
    cells: list[dict[str, Any]]
    k: np.ndarray
    power: np.ndarray
    kernel: np.ndarray
    spread_by_lag: np.ndarray
    null: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def _centred(maps: Ratemaps) -> np.ndarray:
    rates = fill_unvisited(maps.rates)
    return rates - rates.mean(axis=(1, 2), keepdims=True)


def _lags(max_lag: float, dx: float, dy: float) -> list[tuple[int, int]]:
    ry, rx = int(max_lag // dy), int(max_lag // dx)
    out = []
    for ly in range(-ry, ry + 1):
        for lx in range(-rx, rx + 1):
            # Sigma is symmetric: d and -d give the same set of values. Lag 0 is kept:
            # a variance that changes across the box is the plainest non-stationarity.
            if (ly, lx) >= (0, 0) and math.hypot(ly * dy, lx * dx) <= max_lag + 1e-12:
                out.append((ly, lx))
    return out


def _spread_statistic(rates: np.ndarray, lags, interior: np.ndarray, blocks: int,
                      periodic: bool = False) -> tuple[float, np.ndarray]:
    """(statistic, spread per lag) for centred rates (cell, y, x).

    For each lag, ``Sigma(x, x + d)`` is averaged within each of ``blocks x blocks``
    regions of the interior (by the position of ``x``), and the spread is the standard
    deviation of those regional means: local sampling noise averages out, a trend across
    the box does not.
    """
    n, ny, nx = rates.shape
    P = rates.reshape(n, -1)
    sigma = (P.T @ P) / n  # (pos, pos)
    diag = np.diag(sigma).reshape(ny, nx)
    scale = float(np.mean(diag[interior]))
    if scale <= 0:
        raise DataError("the place-cell maps have no spatial variance in the interior")
    yy, xx = np.nonzero(interior)
    # region of each interior bin: equal splits of the interior's rows and columns
    ry = np.searchsorted(np.linspace(yy.min(), yy.max() + 1, blocks + 1)[1:-1], yy,
                         side="right")
    rx = np.searchsorted(np.linspace(xx.min(), xx.max() + 1, blocks + 1)[1:-1], xx,
                         side="right")
    region = ry * blocks + rx
    spreads = np.full(len(lags), np.nan)
    for j, (ly, lx) in enumerate(lags):
        y2, x2 = yy + ly, xx + lx
        if periodic:  # lags wrap round the torus
            y2, x2 = y2 % ny, x2 % nx
        ok = (y2 >= 0) & (y2 < ny) & (x2 >= 0) & (x2 < nx)
        ok[ok] &= interior[y2[ok], x2[ok]]
        vals = sigma[yy[ok] * nx + xx[ok], y2[ok] * nx + x2[ok]]
        counts = np.bincount(region[ok], minlength=blocks * blocks)
        sums = np.bincount(region[ok], weights=vals, minlength=blocks * blocks)
        means = sums[counts > 0] / counts[counts > 0]
        if means.size > 1:
            spreads[j] = np.std(means)
    return float(np.nanmean(spreads) / scale), spreads / scale


def translation_invariance(maps: Ratemaps, *, max_lag: float | None = None,
                           margin: float = 0.15, shuffles: int = 200, seed: int = 0,
                           periodic: bool = False, blocks: int = 3) -> dict[str, Any]:
    """The translation-invariance statistic, its shuffle null and p-value (module doc)."""
    rates = _centred(maps)
    sd = rates.std(axis=(1, 2), keepdims=True)
    if np.any(sd <= 0):
        raise DataError(f"{int(np.sum(sd <= 0))} cells have a flat map (no spatial variance)")
    rates = rates / sd  # every cell counts once, however strong or wide its fields
    n, ny, nx = rates.shape
    if n < 2:
        raise DataError(f"translation invariance needs at least 2 cells, got {n}")
    box = box_of(maps)
    dx, dy = box.width / nx, box.height / ny
    max_lag = 0.15 * min(box.width, box.height) if max_lag is None else max_lag
    lags = _lags(max_lag, dx, dy)
    if periodic:
        interior = np.ones((ny, nx), bool)
    else:
        if not 0 <= margin < 0.5:
            raise DataError(f"the margin (--margin; margin= in Python) must lie in [0, 0.5), "
                            f"got {margin}")
        x, y = maps.x_centers - maps.x_centers.mean(), maps.y_centers - maps.y_centers.mean()
        interior = (np.abs(y)[:, None] <= (0.5 - margin) * box.height) & \
                   (np.abs(x)[None, :] <= (0.5 - margin) * box.width)
    observed, per_lag = _spread_statistic(rates, lags, interior, blocks, periodic)
    rng = np.random.default_rng(seed)
    null = np.empty(shuffles)
    for s in range(shuffles):
        sy = rng.integers(0, ny, n)
        sx = rng.integers(0, nx, n)
        shifted = np.stack([np.roll(r, (a, b), axis=(0, 1)) for r, a, b in zip(rates, sy, sx,
                                                                              strict=True)])
        null[s], _ = _spread_statistic(shifted, lags, interior, blocks, periodic)
    p = (1 + int(np.sum(null >= observed))) / (1 + shuffles)
    return {"statistic": observed, "null_median": float(np.median(null)),
            "null_95": float(np.quantile(null, 0.95)), "ratio": observed / float(np.median(null)),
            "p_value": p, "n_lags": len(lags), "max_lag_m": max_lag, "margin": margin,
            "per_lag": per_lag, "lags": lags, "null": null}


def covariance_spectrum(maps: Ratemaps, periodic: bool = False) -> dict[str, Any]:
    """Translation-averaged covariance kernel, its radial spectrum, ring ``k*`` and spacing."""
    from gridform.theory.spectrum import kernel_from_maps

    rates = _centred(maps)
    box = box_of(maps, "periodic" if periodic else "walls")
    kern = kernel_from_maps(rates, box)
    k, power = kern.radial_spectrum()
    k_min = 2 * np.pi / min(box.width, box.height)
    i = int(np.argmax(power))
    # a ring is a band-pass peak well above the box's own modes: at least two plane-wave
    # periods per box, and 1.5x the lowest power between the box's lowest mode and it
    above = (k >= k_min) & (k <= k[i])
    ring = bool(k[i] >= 2 * k_min and power[i] >= 1.5 * float(np.min(power[above])))
    k_star = float(k[i]) if ring else None
    return {"kernel": kern.kernel, "k": k, "power": power, "k_peak": float(k[i]),
            "ring": ring, "k_star": k_star, "k_min": k_min,
            "predicted_spacing_m": grid_spacing(k_star) if ring else None}


def _gauss(p, x, y):
    b, a1, s1, x0, y0 = p
    return b + a1 * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * s1 * s1))


def _dog(p, x, y):
    b, a1, s1, x0, y0, a2, ratio = p
    r2 = (x - x0) ** 2 + (y - y0) ** 2
    s2 = s1 * ratio
    return b + a1 * np.exp(-r2 / (2 * s1 * s1)) - a2 * np.exp(-r2 / (2 * s2 * s2))


def _gauss_jac(p, x, y):
    """d _gauss / d p, (points, 5): exact derivatives, so a fit takes one model
    evaluation per iteration instead of one per parameter and iteration."""
    _, a1, s1, x0, y0 = p
    dx, dy = x - x0, y - y0
    e1 = np.exp(-(dx * dx + dy * dy) / (2 * s1 * s1))
    g = a1 * e1 / (s1 * s1)
    return np.stack([np.ones_like(x), e1, g * (dx * dx + dy * dy) / s1, g * dx, g * dy], -1)


def _dog_jac(p, x, y):
    """d _dog / d p, (points, 7) (see :func:`_gauss_jac`)."""
    _, a1, s1, x0, y0, a2, ratio = p
    dx, dy = x - x0, y - y0
    r2 = dx * dx + dy * dy
    s2 = s1 * ratio
    e1, e2 = np.exp(-r2 / (2 * s1 * s1)), np.exp(-r2 / (2 * s2 * s2))
    g1, g2 = a1 * e1 / (s1 * s1), a2 * e2 / (s2 * s2)
    return np.stack([np.ones_like(x), e1, (g1 / s1 - g2 * ratio / s2) * r2,
                     (g1 - g2) * dx, (g1 - g2) * dy, -e2, -g2 * r2 * s1 / s2], -1)


def _resid(p, model, jac, x, y, z):
    return model(p, x, y) - z


def _resid_jac(p, model, jac, x, y, z):
    return jac(p, x, y)


def _inside(p0, bounds) -> np.ndarray:
    """A starting point moved into the box ``bounds`` of a fit: a field that spreads over a
    large unvisited (filled) region can estimate a width beyond the largest allowed."""
    lo, hi = (np.asarray(b, float) for b in bounds)
    return np.clip(np.asarray(p0, float), lo, np.where(np.isfinite(hi), hi, np.inf))


# cells per task of the process pool, and the fewest cells worth starting one for
_FIT_CHUNK = 32
_PARALLEL_FROM = 96


def centre_surround_fits(maps: Ratemaps, *, alpha: float = 0.05, min_depth: float = 0.05,
                         field_threshold: float = 0.2, workers: int | None = None
                         ) -> list[dict[str, Any]]:
    """Per-cell Gaussian vs difference-of-Gaussians fits of the main field (module doc).

    The cells are independent fits, so from :data:`_PARALLEL_FROM` cells they are spread
    over ``workers`` processes (:func:`gridform.core.parallel.map_in_processes`; 1 fits
    them here). Each cell's fit is the same wherever it runs."""
    rates = fill_unvisited(maps.rates)
    xs, ys = np.meshgrid(maps.x_centers, maps.y_centers)
    grid = (xs, ys, maps.bin_size[0], 0.5 * min(xs.max() - xs.min(), ys.max() - ys.min()),
            alpha, min_depth, field_threshold)
    if len(rates) < _PARALLEL_FROM:
        workers = 1
    starts = range(0, len(rates), _FIT_CHUNK)
    parts = map_in_processes(_fit_cells, starts, [rates[i:i + _FIT_CHUNK] for i in starts],
                             [grid] * len(starts), workers=workers)
    return [row for part in parts for row in part]


def _fit_cells(first: int, rates: np.ndarray, grid: tuple) -> list[dict[str, Any]]:
    """:func:`_fit_cell` of each map of ``rates``, numbered from ``first``."""
    return [_fit_cell(first + j, m, *grid) for j, m in enumerate(rates)]


def _fit_cell(i: int, m: np.ndarray, xs, ys, dx: float, half: float, alpha: float,
              min_depth: float, field_threshold: float) -> dict[str, Any]:
    """One cell's row of :func:`centre_surround_fits`: ``m`` its filled map on the bin
    centres ``xs``, ``ys`` (bin size ``dx``; ``half`` the largest window radius)."""
    row: dict[str, Any] = {"cell": i}
    lo, hi = float(np.median(m)), float(m.max())
    if not hi > lo:
        return row | {"n_fields": 0, "surround": False, "p_value": float("nan")}
    iy, ix = np.unravel_index(int(np.argmax(m)), m.shape)
    labels, n_fields = ndimage.label(m > lo + field_threshold * (hi - lo))
    main = labels == labels[iy, ix]
    half_max = ndimage.label(m > lo + 0.5 * (hi - lo))[0]
    area = float(np.sum(half_max == half_max[iy, ix])) * dx * dx
    s_est = max(math.sqrt(area / math.pi) / 1.1774, 0.5 * dx)
    x0, y0 = float(xs[iy, ix]), float(ys[iy, ix])
    r = np.hypot(xs - x0, ys - y0)
    window = (r <= min(6 * s_est, half)) & ((labels == 0) | main)
    x, y, z = xs[window], ys[window], m[window]
    if z.size < 12:
        return row | {"n_fields": n_fields, "surround": False, "p_value": float("nan")}
    amp = hi - lo
    g0 = [lo, amp, s_est, x0, y0]
    gb = ([-np.inf, 0, 0.25 * dx, x0 - 2 * s_est, y0 - 2 * s_est],
          [np.inf, np.inf, half, x0 + 2 * s_est, y0 + 2 * s_est])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = optimize.least_squares(_resid, _inside(g0, gb), jac=_resid_jac, bounds=gb,
                                   args=(_gauss, _gauss_jac, x, y, z))
        best = None
        for ratio0, frac in ((1.4, 0.3), (2.0, 0.3), (1.4, 0.8)):
            d0 = [g.x[0], g.x[1] * (1 + frac), g.x[2] * 0.9, g.x[3], g.x[4],
                  g.x[1] * frac, ratio0]
            db = (gb[0] + [0, 1.05], gb[1] + [np.inf, 6.0])
            d = optimize.least_squares(_resid, _inside(d0, db), jac=_resid_jac,
                                       bounds=db, args=(_dog, _dog_jac, x, y, z))
            if best is None or d.cost < best.cost:
                best = d
    d = best
    rss_g, rss_d = 2 * g.cost, 2 * d.cost
    dof = z.size - 7
    if rss_d <= 0:
        f_stat = math.inf if rss_g > 0 else 0.0
    else:
        f_stat = max(0.0, (rss_g - rss_d) / 2) / (rss_d / dof)
    p = float(stats.f.sf(f_stat, 2, dof)) if math.isfinite(f_stat) else 0.0
    _, a1, s1, _, _, a2, ratio = d.x
    rr = np.linspace(0, 6 * s1 * ratio, 400)
    prof = a1 * np.exp(-rr**2 / (2 * s1**2)) - a2 * np.exp(-rr**2 / (2 * (s1 * ratio) ** 2))
    height = float(prof[0])
    depth = float(-prof.min()) / height if height > 0 else 0.0
    row.update({"n_fields": int(n_fields), "peak_x": x0, "peak_y": y0,
                "gauss_sigma_m": float(g.x[2]), "dog_sigma1_m": float(s1),
                "dog_sigma2_m": float(s1 * ratio), "dog_surround_amp": float(a2),
                "surround_depth": depth, "f_stat": f_stat, "p_value": p,
                "surround": bool(p < alpha and a2 > 0 and depth >= min_depth),
                "r2_gauss": 1 - rss_g / float(np.sum((z - z.mean()) ** 2)),
                "r2_dog": 1 - rss_d / float(np.sum((z - z.mean()) ** 2))})
    return row


def test_assumptions(maps: Ratemaps, *, periodic: bool = False, max_lag: float | None = None,
                     margin: float = 0.15, shuffles: int = 200, seed: int = 0,
                     alpha: float = 0.05, min_surround_fraction: float = 0.5
                     ) -> AssumptionReport:
    """Both assumptions and the ring, for place-cell ratemaps (cell, y, x)."""
    if maps.rates.shape[0] < 2:
        raise DataError("the assumptions are about a population: give at least 2 cells")
    if maps.x_centers.size < 8 or maps.y_centers.size < 8:
        raise DataError(f"ratemaps of {maps.y_centers.size} x {maps.x_centers.size} bins are "
                        "too coarse; use at least 8 x 8")
    ti = translation_invariance(maps, max_lag=max_lag, margin=margin, shuffles=shuffles,
                                seed=seed, periodic=periodic)
    spec = covariance_spectrum(maps, periodic)
    cells = centre_surround_fits(maps, alpha=alpha)
    fitted = [c for c in cells if "p_value" in c and np.isfinite(c["p_value"])]
    frac = float(np.mean([c["surround"] for c in fitted])) if fitted else 0.0
    n_fields = np.array([c.get("n_fields", 0) for c in cells])
    summary = {
        "n_cells": int(maps.rates.shape[0]),
        "bins": [int(maps.y_centers.size), int(maps.x_centers.size)],
        "translation_invariance": {k: v for k, v in ti.items()
                                   if k not in ("per_lag", "lags", "null")},
        "translation_invariant": bool(ti["p_value"] >= alpha),
        "surround_fraction": frac,
        "n_cells_fitted": len(fitted),
        "centre_surround": bool(frac >= min_surround_fraction),
        "multi_field_fraction": float(np.mean(n_fields > 1)),
        "ring": spec["ring"],
        "k_star": spec["k_star"],
        "k_peak": spec["k_peak"],
        "predicted_spacing_m": spec["predicted_spacing_m"],
        "alpha": alpha,
        "min_surround_fraction": min_surround_fraction,
    }
    summary["assumptions_hold"] = bool(summary["translation_invariant"]
                                       and summary["centre_surround"] and spec["ring"])
    return AssumptionReport(summary, cells, spec["k"], spec["power"], spec["kernel"],
                            ti["per_lag"], ti["null"], {"lags": ti["lags"]})


CELL_COLUMNS = ("cell", "n_fields", "peak_x", "peak_y", "gauss_sigma_m", "dog_sigma1_m",
                "dog_sigma2_m", "dog_surround_amp", "surround_depth", "f_stat", "p_value",
                "surround", "r2_gauss", "r2_dog")


def write_assumptions(report: AssumptionReport, maps: Ratemaps, out, force: bool = False,
                      figure=None):
    """Write ``assumptions.json``, ``cells.csv`` and, given a matplotlib ``figure`` (for
    example :func:`gridform.presentation.plotting.plot_assumptions` of the same report),
    ``assumptions.png`` into ``out``.

    An ``out`` that already holds ``assumptions.json`` is refused unless ``force``.
    Each file is written to a temporary name and renamed, the JSON last.
    """
    import csv
    from pathlib import Path

    from gridform.core.io import atomic_path, write_json

    out = Path(out)
    if (out / "assumptions.json").exists() and not force:
        raise FileExistsError(f"{out} already holds an assumptions report; pass --force to "
                              "replace it")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "cells.csv") as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(CELL_COLUMNS)
            for c in report.cells:
                w.writerow(["" if c.get(k) is None else c.get(k, "") for k in CELL_COLUMNS])
    if figure is not None:
        with atomic_path(out / "assumptions.png") as tmp:
            figure.savefig(tmp, dpi=110, format="png")
    write_json(out / "assumptions.json", report.summary)
    return out
