"""Grid scores and other single-cell spatial statistics, for many ratemaps at once.

Conventions (docs/theory.md section 4):

- The spatial autocorrelogram (SAC) of an (n_y, n_x) map is the Pearson correlation of the
  map with its copy shifted by every lag, over the bins valid (finite) in both: an
  (2 n_y - 1, 2 n_x - 1) array, 1 at the centre and point-symmetric.
- Gridness correlates the SAC with its rotations by 30, 45, 60, 90, 120, 135 and 150
  degrees (Pearson over the bins of a ring mask valid in both). Ring masks keep the lags
  ``r`` with ``0.2 L < r <= outer``, the outer radius going from ``0.4 L`` to ``1.0 L`` in 10
  steps, where ``L`` is the shorter side of the map (``n`` bins for an n x n map); each
  score takes its best ring. The circle ``r = 0.2 L`` itself belongs to the excluded
  centre, as in the DeepMind code that Sorscher et al. score with (``circle(outer) *
  (1 - circle(0.2 n))``, both closed discs); at 20 x 20 bins it holds four lags.
  Mean variant (DeepMind, Sorscher et al.): ``(c60 + c120)/2 - (c30 + c90 + c150)/3``.
  Min-max variant (Sargolini et al. 2006): ``min(c60, c120) - max(c30, c90, c150)``.
  Square score: ``c90 - (c45 + c135)/2``.
  Because the SAC is point-symmetric, ``c(180 - a) = c(a)`` exactly, so the correlations
  at 120, 135 and 150 degrees equal those at 60, 45 and 30 and are not computed twice.
- Spacing: median distance (m) from the centre to the six nearest SAC peaks (local
  maxima above ``peak_threshold``), refined to sub-bin precision by a parabola.
- Orientation: the angle in [0, 60) degrees of the lattice axis nearest to the +x axis
  counter-clockwise (x along columns, y up along rows), circular mean of the six peaks.
- Phase: position (m) of the grid field nearest to the box centre, from the Fourier phases
  of the map at the three wave vectors of the lattice found in the SAC.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import warnings
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.fft as sfft
import scipy.ndimage as ndi
import scipy.sparse as sp

from gridform.core.ratemaps import Ratemaps

__all__ = [
    "SCORER_VERSION",
    "GridGeometry",
    "GridScores",
    "GridformWarning",
    "Gridness",
    "NullModel",
    "Triads",
    "autocorrelogram",
    "border_score",
    "find_triads",
    "grid_geometry",
    "gridness",
    "null_model",
    "phase_randomised",
    "score_ratemaps",
    "spatial_information",
    "spectral_null",
    "triad_phase_sum",
    "triad_waves",
]

# Raised whenever a change to this module can change a score; summaries record it, so a
# saved summary from an older scorer is rescored from its ratemaps rather than trusted.
SCORER_VERSION = 2

CORR_ANGLES = (30, 45, 60, 90, 120, 135, 150)
_COMPUTED_ANGLES = (30, 45, 60, 90)
RING_INNER = 0.2
RING_OUTERS = tuple(np.linspace(0.4, 1.0, 10))


class GridformWarning(UserWarning):
    """Warnings of gridform's analyses (for example, maps that cannot be scored)."""


def _as_maps(rates, name: str = "rates") -> np.ndarray:
    a = np.asarray(rates, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"{name} must be a map (y, x) or maps (cell, y, x), got a "
                         f"{a.ndim}-D array of shape {a.shape}")
    if a.shape[1] < 2 or a.shape[2] < 2:
        raise ValueError(f"{name} needs at least 2 x 2 bins, got {a.shape[1:]}")
    if np.any(np.isinf(a)):
        raise ValueError(f"{name} contain infinite values")
    return a


# ---------------------------------------------------------------------------------
# Autocorrelogram
# ---------------------------------------------------------------------------------
def autocorrelogram(rates, min_overlap: int = 10, chunk: int = 256) -> np.ndarray:
    """NaN-aware spatial autocorrelograms of maps (cell, y, x) or one map (y, x), by FFT.

    ``r(tau) = (n Sab - Sa Sb) / sqrt((n Saa - Sa^2)(n Sbb - Sb^2))`` with sums over the
    ``n`` bin pairs ``(x, x + tau)`` valid in both copies. Lags with fewer than
    ``min_overlap`` valid pairs, or no variance, are NaN.

    Returns:
        (cell, 2 y - 1, 2 x - 1) array (or (2 y - 1, 2 x - 1) for one map); the zero lag
        sits at index (y - 1, x - 1).
    """
    single = np.asarray(rates).ndim == 2
    maps = _as_maps(rates)
    n_cells, ny, nx = maps.shape
    out = np.empty((n_cells, 2 * ny - 1, 2 * nx - 1), dtype=np.float32)
    fy, fx = _fast_len(2 * ny - 1), _fast_len(2 * nx - 1)
    rows = np.arange(-(ny - 1), ny) % fy  # lag -> index of the circular correlation
    cols = np.arange(-(nx - 1), nx) % fx
    for start in range(0, n_cells, chunk):
        m = maps[start:start + chunk]
        valid = np.isfinite(m)
        m = np.where(valid, m, 0.0)
        m = m - np.sum(m, axis=(1, 2), keepdims=True) / np.maximum(
            valid.sum(axis=(1, 2), keepdims=True), 1)
        m = (m * valid).astype(np.float32)  # centring improves the conditioning below
        v = valid.astype(np.float32)
        f_m, f_v, f_m2 = sfft.rfft2(np.stack([m, v, m * m]), s=(fy, fx), workers=-1)
        # sums over valid pairs (x, x + tau): n, sum a(x), sum a(x)^2, sum a(x) a(x + tau);
        # the sums of a(x + tau) are those of a(x) at lag -tau
        prods = np.stack([np.conj(f_v) * f_v, np.conj(f_m) * f_v, np.conj(f_m2) * f_v,
                          np.conj(f_m) * f_m])
        c = sfft.irfft2(prods, s=(fy, fx), workers=-1)
        c = c[:, :, rows][:, :, :, cols]
        n = np.rint(c[0])
        s_a, s_aa, s_ab = c[1], c[2], c[3]
        s_b, s_bb = s_a[:, ::-1, ::-1], s_aa[:, ::-1, ::-1]
        var_a = n * s_aa - s_a**2
        var_b = n * s_bb - s_b**2
        scale = np.maximum(np.abs(n * s_aa), 1e-30)
        ok = (n >= min_overlap) & (var_a > 1e-5 * scale) & (var_b > 1e-5 * scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (n * s_ab - s_a * s_b) / np.sqrt(np.where(ok, var_a * var_b, 1.0))
        out[start:start + chunk] = np.where(ok, np.clip(r, -1.0, 1.0), np.nan)
    return out[0] if single else out


def _fast_len(n: int) -> int:
    return sfft.next_fast_len(n, real=True)


# ---------------------------------------------------------------------------------
# Rotations and ring masks of an autocorrelogram
# ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RingGeometry:
    index: np.ndarray          # (P,) flat SAC indices inside the largest ring
    masks: np.ndarray          # (n_rings, P) float32 0/1
    rotations: dict            # angle -> sparse (P, n_sac + 1) bilinear interpolation
    outside: dict              # angle -> (P,) bool: a source pixel lies outside the SAC
    outer_fractions: tuple


@lru_cache(maxsize=32)
def _ring_geometry(ny: int, nx: int, dx: float, dy: float) -> _RingGeometry:
    h, w = 2 * ny - 1, 2 * nx - 1
    cy, cx = ny - 1, nx - 1
    yy, xx = np.mgrid[0:h, 0:w]
    X = (xx - cx) * dx
    Y = (yy - cy) * dy
    r = np.hypot(X, Y)
    length = min(nx * dx, ny * dy)
    eps = 1e-9 * length  # lags exactly on a circle are decided as in exact arithmetic
    inside = r <= RING_OUTERS[-1] * length + eps
    index = np.flatnonzero(inside.ravel())
    rr = r.ravel()[index]
    masks = np.stack([
        ((rr > RING_INNER * length + eps) & (rr <= o * length + eps)) for o in RING_OUTERS
    ]).astype(np.float32)
    rotations, outside = {}, {}
    Xs, Ys = X.ravel()[index], Y.ravel()[index]
    for angle in _COMPUTED_ANGLES:
        t = math.radians(angle)
        # target(p) = source(R(-t) p): the SAC rotated counter-clockwise by t
        sx = math.cos(t) * Xs + math.sin(t) * Ys
        sy = -math.sin(t) * Xs + math.cos(t) * Ys
        fj = sx / dx + cx
        fi = sy / dy + cy
        j0 = np.floor(fj).astype(int)
        i0 = np.floor(fi).astype(int)
        tj = fj - j0
        ti = fi - i0
        rows, cols, vals = [], [], []
        for di, dj, wgt in ((0, 0, (1 - ti) * (1 - tj)), (0, 1, (1 - ti) * tj),
                            (1, 0, ti * (1 - tj)), (1, 1, ti * tj)):
            ii, jj = i0 + di, j0 + dj
            keep = wgt > 1e-12
            inb = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < w)
            # a neighbour outside the SAC with nonzero weight makes the target invalid:
            # point it at a sentinel column (index h*w) that is always NaN
            col = np.where(inb, ii * w + jj, h * w)
            rows.append(np.flatnonzero(keep))
            cols.append(col[keep])
            vals.append(wgt[keep])
        mat = sp.csr_matrix(
            (np.concatenate(vals).astype(np.float32),
             (np.concatenate(rows), np.concatenate(cols))),
            shape=(index.size, h * w + 1),
        )
        rotations[angle] = mat
        outside[angle] = np.asarray(mat[:, h * w].todense()).ravel() > 0
    return _RingGeometry(index, masks, rotations, outside, RING_OUTERS)


def _ring_correlations(sac: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Correlations (cell, ring, angle) of SACs with their rotations, angles CORR_ANGLES."""
    n_cells, h, w = sac.shape
    ny, nx = (h + 1) // 2, (w + 1) // 2
    geo = _ring_geometry(ny, nx, float(dx), float(dy))
    flat = sac.reshape(n_cells, -1).astype(np.float32)
    valid_all = np.isfinite(flat)
    values_all = np.concatenate([np.where(valid_all, flat, 0.0), np.zeros((n_cells, 1))],
                                axis=1).astype(np.float32)
    any_nan = not valid_all.all()
    if any_nan:
        invalid_all = np.concatenate([~valid_all, np.ones((n_cells, 1), bool)], axis=1)
        invalid_all = invalid_all.astype(np.float32)
    a = values_all[:, geo.index]
    va = valid_all[:, geo.index]
    mt = geo.masks.T  # (P, n_rings)
    out = {}
    for angle, rot in geo.rotations.items():
        # dense @ sparse through the transpose keeps scipy on its fast path
        b = np.asarray((rot @ values_all.T).T)
        if any_nan:
            bad = np.asarray((rot @ invalid_all.T).T) > 1e-6
        else:
            bad = geo.outside[angle][None, :]
        wgt = (va & ~bad).astype(np.float32)
        aw, bw = a * wgt, b * wgt
        stats = np.stack([wgt, aw, bw, aw * a, bw * b, aw * b]) @ mt  # (6, cell, ring)
        n, sa, sb, saa, sbb, sab = stats.astype(np.float64)
        var = (n * saa - sa**2) * (n * sbb - sb**2)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (n * sab - sa * sb) / np.sqrt(var)
        out[angle] = np.where((n >= 3) & (var > 0), c, np.nan)
    mirror = {120: 60, 135: 45, 150: 30}
    return np.stack([out[mirror.get(a, a)] for a in CORR_ANGLES], axis=-1)


class _Fields:
    """Read a result's fields by name as well: ``result["score_60"]`` is
    ``result.score_60``, for code written when these results were dicts."""

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> list[str]:
        return [f.name for f in fields(self)]


@dataclass(frozen=True, eq=False)
class Gridness(_Fields):
    """Gridness of each map (:func:`gridness`), every field a (cell,) array.

    Attributes:
        score_60: the mean variant at the best ring.
        score_60_minmax: the min-max variant at its best ring.
        score_90: the square score at its best ring.
        ring_outer: the outer radius of ``score_60``'s best ring, a fraction of the map side.
    """

    score_60: np.ndarray
    score_60_minmax: np.ndarray
    score_90: np.ndarray
    ring_outer: np.ndarray


@dataclass(frozen=True, eq=False)
class GridGeometry(_Fields):
    """The lattice read from each map's autocorrelogram peaks (:func:`grid_geometry`).

    Attributes:
        spacing_m: (cell,) mean distance to the six nearest peaks; NaN below three peaks.
        orientation_deg: (cell,) angle of the first peak counter-clockwise from +x, in
            [0, 60); NaN below three peaks.
        peaks: (cell, n_peaks, 2) peak displacements (x, y) in metres, nearest first,
            NaN-padded.
    """

    spacing_m: np.ndarray
    orientation_deg: np.ndarray
    peaks: np.ndarray


def gridness(sac: np.ndarray, bin_size: tuple[float, float] = (1.0, 1.0),
             chunk: int = 512) -> Gridness:
    """Gridness scores of autocorrelograms (cell, 2y-1, 2x-1): a :class:`Gridness` of
    (cell,) arrays, each score at its best ring."""
    sac = np.asarray(sac, dtype=np.float64)
    if sac.ndim == 2:
        sac = sac[None]
    if sac.ndim != 3 or sac.shape[1] % 2 == 0 or sac.shape[2] % 2 == 0:
        raise ValueError(f"autocorrelograms must have shape (cell, 2y-1, 2x-1), got "
                         f"{sac.shape}")
    dx, dy = bin_size
    parts = [_ring_correlations(sac[s:s + chunk], dx, dy) for s in range(0, sac.shape[0], chunk)]
    c = np.concatenate(parts, axis=0)  # (cell, ring, angle)
    ca = {a: c[..., i] for i, a in enumerate(CORR_ANGLES)}
    s60 = (ca[60] + ca[120]) / 2 - (ca[30] + ca[90] + ca[150]) / 3
    s60mm = np.minimum(ca[60], ca[120]) - np.maximum(np.maximum(ca[30], ca[90]), ca[150])
    s90 = ca[90] - (ca[45] + ca[135]) / 2

    def best(s):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmax(s, axis=1), s

    out60, _ = best(s60)
    filled = np.where(np.isfinite(s60), s60, -np.inf)
    ring = np.asarray(RING_OUTERS)[np.argmax(filled, axis=1)]
    ring = np.where(np.isfinite(out60), ring, np.nan)
    return Gridness(out60, best(s60mm)[0], best(s90)[0], ring)


# ---------------------------------------------------------------------------------
# Spacing, orientation, phase
# ---------------------------------------------------------------------------------
def grid_geometry(sac: np.ndarray, bin_size: tuple[float, float] = (1.0, 1.0),
                  peak_threshold: float = 0.0, n_peaks: int = 6) -> GridGeometry:
    """Spacing (m) and orientation (deg) from the peaks of autocorrelograms (cell, h, w):
    a :class:`GridGeometry`."""
    sac = np.asarray(sac, dtype=np.float64)
    if sac.ndim == 2:
        sac = sac[None]
    n_cells, h, w = sac.shape
    dx, dy = bin_size
    cy, cx = (h - 1) // 2, (w - 1) // 2
    filled = np.where(np.isfinite(sac), sac, -np.inf)
    yy, xx = np.mgrid[0:h, 0:w]
    X, Y = (xx - cx) * dx, (yy - cy) * dy
    r = np.hypot(X, Y)
    # interior local maxima: not below any of the 8 neighbours
    core = filled[:, 1:-1, 1:-1]
    is_core_peak = (core > peak_threshold) & (r[1:-1, 1:-1] > 0)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_core_peak &= core >= filled[:, 1 + di:h - 1 + di, 1 + dj:w - 1 + dj]
    is_peak = np.zeros_like(filled, dtype=bool)
    is_peak[:, 1:-1, 1:-1] = is_core_peak
    dist = np.where(is_peak, r, np.inf).reshape(n_cells, -1)
    k = min(n_peaks, dist.shape[1])
    idx = np.argpartition(dist, k - 1, axis=1)[:, :k]
    d_sel = np.take_along_axis(dist, idx, axis=1)
    order = np.argsort(d_sel, axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    found = np.isfinite(np.take_along_axis(dist, idx, axis=1))
    pi, pj = np.divmod(idx, w)
    # parabolic sub-bin refinement along each axis
    cells = np.arange(n_cells)[:, None]

    def offset(c0, cm, cp):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            denom = cm - 2 * c0 + cp
            o = 0.5 * (cm - cp) / denom
        return np.where(np.isfinite(o) & (np.abs(o) <= 0.5), o, 0.0)

    pjc, pic = np.clip(pj, 1, w - 2), np.clip(pi, 1, h - 2)
    c0 = filled[cells, pic, pjc]
    ox = offset(c0, filled[cells, pic, pjc - 1], filled[cells, pic, pjc + 1])
    oy = offset(c0, filled[cells, pic - 1, pjc], filled[cells, pic + 1, pjc])
    px = np.where(found, (pj + ox - cx) * dx, np.nan)
    py = np.where(found, (pi + oy - cy) * dy, np.nan)
    dists = np.hypot(px, py)
    enough = found.sum(axis=1) >= 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spacing = np.where(enough, np.nanmedian(dists, axis=1), np.nan)
        ang = np.arctan2(py, px)  # radians
        z = np.nansum(np.exp(1j * 6 * ang), axis=1)
    orientation = np.mod(np.degrees(np.angle(z)) / 6, 60.0)
    orientation = np.where(enough, orientation, np.nan)
    return GridGeometry(spacing, orientation, np.stack([px, py], axis=-1))


def grid_phase(maps: Ratemaps, spacing_m: np.ndarray, orientation_deg: np.ndarray
               ) -> np.ndarray:
    """Position (cell, 2) in metres of the grid field nearest to the box centre.

    The map is taken as ``sum_j cos(k_j . x - phi_j)`` with the three wave vectors ``k_j``
    of a triangular lattice of the given spacing and orientation (``|k| = 4 pi /
    (sqrt(3) spacing)``, at 90, 210 and 330 degrees from the lattice axis); ``phi_j`` is
    minus the argument of the map's Fourier coefficient at ``k_j``, and the field sits at
    ``x0`` with ``k_j . x0 = phi_j``. NaN where spacing or orientation is NaN.
    """
    rates = maps.rates
    n = rates.shape[0]
    xx, yy = np.meshgrid(maps.x_centers, maps.y_centers)
    pos = np.stack([xx.ravel(), yy.ravel()], axis=-1)  # (P, 2)
    flat = rates.reshape(n, -1)
    valid = np.isfinite(flat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.where(valid, flat, np.nan), axis=1, keepdims=True)
    centred = np.where(valid, flat - mean, 0.0)
    theta = np.radians(orientation_deg)
    kmag = 4 * np.pi / (np.sqrt(3) * spacing_m)
    angles = theta[:, None] + np.radians([90.0, 210.0])[None, :]
    kvec = kmag[:, None, None] * np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # (n,2,2)
    kvec = np.where(np.isfinite(kvec), kvec, 0.0)
    proj = np.einsum("njd,pd->njp", kvec, pos)
    coef = np.einsum("np,njp->nj", centred, np.exp(-1j * proj))
    phi = -np.angle(coef)  # (n, 2)
    ok = np.isfinite(spacing_m) & np.isfinite(orientation_deg)
    eye = np.broadcast_to(np.eye(2), (n, 2, 2))
    K = np.where(ok[:, None, None], kvec, eye)
    x0 = np.linalg.solve(K, phi[..., None])[..., 0]
    # lattice vectors: a1 along the orientation, a2 at +60 degrees
    sp_ = np.where(ok, spacing_m, 1.0)
    th = np.where(ok, theta, 0.0)
    A = sp_[:, None, None] * np.stack(
        [np.stack([np.cos(th), np.sin(th)], -1),
         np.stack([np.cos(th + np.pi / 3), np.sin(th + np.pi / 3)], -1)], axis=-1)  # (n,2,2)
    frac = np.linalg.solve(A, x0[..., None])[..., 0]
    frac = frac - np.floor(frac)
    shifts = np.array([[m1, m2] for m1 in (-1, 0, 1) for m2 in (-1, 0, 1)], float)  # (9, 2)
    cand = np.einsum("nij,nsj->nsi", A, frac[:, None, :] + shifts[None])  # (n, 9, 2)
    best = np.argmin(np.hypot(cand[..., 0], cand[..., 1]), axis=1)
    out = cand[np.arange(n), best]
    out[~ok] = np.nan
    return out


# ---------------------------------------------------------------------------------
# Border score and spatial information
# ---------------------------------------------------------------------------------
def border_score(rates, field_threshold: float = 0.3, min_field_bins: int = 4) -> np.ndarray:
    """Border score of Solstad et al. (2008), ``b = (cM - dm) / (cM + dm)``, per map.

    Fields are connected groups of at least ``min_field_bins`` bins with rate above
    ``field_threshold`` times the map's peak. ``cM`` is the largest fraction of one wall's
    valid bins covered by one field; ``dm`` is the rate-weighted mean distance of all field
    bins to the nearest wall, in units of half the shorter side. Every field counts.
    Ranges from -1 (central fields) to 1 (a field covering a whole wall); NaN for maps
    with no field.
    """
    maps = _as_maps(rates)
    n, ny, nx = maps.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    dist = np.minimum.reduce([xx + 0.5, nx - xx - 0.5, yy + 0.5, ny - yy - 0.5])
    dist = dist / (min(nx, ny) / 2)
    valid = np.isfinite(maps)
    filled = np.where(valid, maps, -np.inf)
    peak = filled.max(axis=(1, 2))
    has_peak = np.isfinite(peak) & (peak > 0)
    above = valid & has_peak[:, None, None] & (filled > field_threshold * peak[:, None, None])
    # label fields of all maps at once; the structure never connects two maps
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = ndi.generate_binary_structure(2, 1)
    labels, n_labels = ndi.label(above, structure=structure)
    sizes = np.bincount(labels.ravel(), minlength=n_labels + 1)
    keep = sizes >= min_field_bins
    keep[0] = False
    in_field = keep[labels]
    weights = np.where(in_field, maps, 0.0)
    wsum = weights.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        dm = np.sum(weights * dist, axis=(1, 2)) / wsum
    label_cell = np.zeros(n_labels + 1, dtype=np.int64)
    label_cell[labels.ravel()] = np.repeat(np.arange(n), ny * nx)
    cm = np.zeros(n)
    for wall in ((slice(None), slice(None), 0), (slice(None), slice(None), nx - 1),
                 (slice(None), 0, slice(None)), (slice(None), ny - 1, slice(None))):
        lab = np.where(keep[labels[wall]], labels[wall], 0)  # (n, wall length)
        n_valid = valid[wall].sum(axis=1)
        counts = np.bincount(lab.ravel(), minlength=n_labels + 1).astype(float)
        counts[0] = 0.0
        cells = label_cell
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(n_valid[cells] > 0, counts / n_valid[cells], 0.0)
        np.maximum.at(cm, cells, frac)
    has_field = wsum > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        b = (cm - dm) / (cm + dm)
    return np.where(has_field & (cm + dm > 0), b, np.nan)


def spatial_information(rates, occupancy) -> np.ndarray:
    """Skaggs spatial information, bits per unit of activity, per map.

    ``I = sum_i p_i (r_i / r) log2(r_i / r)``, with ``p_i`` the occupancy probability of bin
    ``i``, ``r_i`` its rate and ``r = sum_i p_i r_i`` the mean rate (Skaggs et al. 1993).
    Rates must be nonnegative; bins with zero occupancy or NaN rate are left out.
    """
    maps = _as_maps(rates)
    occ = np.asarray(occupancy, dtype=np.float64)
    if occ.shape != maps.shape[1:]:
        raise ValueError(f"occupancy shape {occ.shape} does not match the maps "
                         f"{maps.shape[1:]}")
    valid = np.isfinite(maps) & (occ > 0)[None]
    if np.any(np.where(valid, maps, 0.0) < 0):
        raise ValueError("spatial information needs nonnegative rates")
    p = np.where(valid, occ[None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / p.sum(axis=(1, 2), keepdims=True)
        r = np.where(valid, maps, 0.0)
        mean = np.sum(p * r, axis=(1, 2), keepdims=True)
        ratio = r / mean
        terms = np.where((ratio > 0) & valid, p * ratio * np.log2(ratio), 0.0)
    info = terms.sum(axis=(1, 2))
    return np.where(mean[:, 0, 0] > 0, info, np.nan)


# ---------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GridScores:
    """Per-cell scores. Every field is a (cell,) array; NaN where a map cannot be scored."""

    score_60: np.ndarray
    score_60_minmax: np.ndarray
    score_90: np.ndarray
    spacing_m: np.ndarray
    orientation_deg: np.ndarray
    phase_x_m: np.ndarray
    phase_y_m: np.ndarray
    border_score: np.ndarray
    spatial_info_bits: np.ndarray
    ring_outer: np.ndarray

    @property
    def n_cells(self) -> int:
        return int(self.score_60.shape[0])

    def columns(self) -> dict[str, np.ndarray]:
        return {"cell": np.arange(self.n_cells)} | {
            f.name: getattr(self, f.name) for f in fields(self)}

    def fraction_above(self, threshold: float, variant: str = "score_60",
                       units=None) -> float:
        """Fraction of all cells, or of the cells ``units`` (indices), whose score exceeds
        ``threshold`` (NaN counts as below)."""
        s = getattr(self, variant)
        if units is not None:
            s = s[np.asarray(units, dtype=int)]
        return float(np.mean(np.where(np.isfinite(s), s, -np.inf) > threshold))

    def summary(self, thresholds=(0.3, 0.8)) -> dict[str, float]:
        out: dict[str, float] = {"n_cells": self.n_cells,
                                 "n_scored": int(np.isfinite(self.score_60).sum())}
        for t in thresholds:
            out[f"frac_above_{t}"] = self.fraction_above(t)
            out[f"frac_above_{t}_minmax"] = self.fraction_above(t, "score_60_minmax")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out["median_score_60"] = float(np.nanmedian(self.score_60))
            grid = np.where(self.score_60 > max(thresholds), self.spacing_m, np.nan)
            out["median_spacing_m"] = float(np.nanmedian(grid)) if np.isfinite(grid).any() \
                else float("nan")
        return out

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write one row per cell, atomically."""
        from gridform.core.io import atomic_path

        path = Path(path)
        cols = self.columns()
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(cols))
            for i in range(self.n_cells):
                writer.writerow([_fmt(cols[k][i]) for k in cols])
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> GridScores:
        """Read a file written by :meth:`to_csv` (a run's or a pattern's ``scores.csv``).

        Values come back to the six significant digits the file stores, NaN where it says
        ``nan`` or nothing; writing them again gives the same file. Columns this version
        does not know are ignored. Raises ``FileNotFoundError``, or ``ValueError`` naming
        the file and the missing column, the misnumbered row or the value that is not a
        number.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no scores file at {path}")
        try:
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a scores table (not text)") from None
        names = [f.name for f in fields(cls)]
        header = rows[0] if rows else []
        missing = [n for n in ["cell", *names] if n not in header]
        if missing:
            raise ValueError(f"{path} is not a scores table: no column "
                             f"{', '.join(missing)}")
        body = rows[1:]
        cells = [r[header.index("cell")] if len(r) == len(header) else None for r in body]
        for i, c in enumerate(cells):
            if c != str(i):
                raise ValueError(f"{path}: row {i + 2} should be cell {i} with "
                                 f"{len(header)} values, got {body[i]!r}")
        cols = {}
        for name in names:
            j = header.index(name)
            try:
                cols[name] = np.array([float(r[j]) if r[j] else np.nan for r in body])
            except ValueError as err:
                raise ValueError(f"{path}: column {name}: {err}") from None
        return cls(**cols)


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    return "nan" if not math.isfinite(v) else f"{v:.6g}"


def score_ratemaps(maps: Ratemaps, min_overlap: int = 10) -> GridScores:
    """All per-cell scores of a :class:`Ratemaps`.

    Maps that are all NaN or constant get NaN scores and a :class:`GridformWarning`; if no
    map can be scored at all, ``ValueError``.
    """
    if not isinstance(maps, Ratemaps):
        raise TypeError(f"score_ratemaps expects Ratemaps, got {type(maps).__name__}")
    rates = maps.rates
    flat = rates.reshape(rates.shape[0], -1)
    finite = np.isfinite(flat)
    n_finite = finite.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(flat, axis=1) - np.nanmin(flat, axis=1)
    bad = (n_finite == 0) | ~(spread > 0)
    if bad.all():
        raise ValueError("no map can be scored: every map is all NaN or constant")
    if bad.any():
        warnings.warn(f"{int(bad.sum())} of {maps.n_cells} maps are all NaN or constant and "
                      f"get NaN scores (cells {np.flatnonzero(bad)[:10].tolist()}...)",
                      GridformWarning, stacklevel=2)
    sac = autocorrelogram(rates, min_overlap=min_overlap)
    sac[bad] = np.nan
    g = gridness(sac, maps.bin_size)
    geo = grid_geometry(sac, maps.bin_size)
    phase = grid_phase(maps, geo.spacing_m, geo.orientation_deg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nonneg = np.where(np.isfinite(rates), rates - np.nanmin(rates, axis=(1, 2),
                                                                 keepdims=True), np.nan)
    info = spatial_information(np.where(bad[:, None, None], np.nan, nonneg), maps.occupancy)
    return GridScores(
        score_60=g.score_60, score_60_minmax=g.score_60_minmax, score_90=g.score_90,
        spacing_m=geo.spacing_m, orientation_deg=geo.orientation_deg,
        phase_x_m=phase[:, 0], phase_y_m=phase[:, 1],
        border_score=np.where(bad, np.nan, border_score(np.where(bad[:, None, None], 0.0,
                                                                    nonneg))),
        spatial_info_bits=info, ring_outer=g.ring_outer,
    )


# ---------------------------------------------------------------------------------
# Null model
# ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NullModel:
    """Scores of low-pass filtered noise maps and the score thresholds they imply."""

    scores: np.ndarray           # (n_maps,) score_60 of the noise maps
    scores_minmax: np.ndarray    # (n_maps,) min-max variant
    smoothing_m: float
    percentiles: tuple[float, ...]
    kind: str = "smoothed noise"
    scores_90: np.ndarray | None = None  # (n_maps,) score_90 (squareness) of the noise maps

    def threshold(self, percentile: float, variant: str = "mean") -> float:
        """The ``percentile``-th percentile of the null's scores: ``variant`` is ``"mean"``
        (score_60), ``"minmax"`` (score_60, min-max variant) or ``"score_90"``."""
        s = {"mean": self.scores, "minmax": self.scores_minmax,
             "score_90": self.scores_90}.get(variant, "unknown")
        if isinstance(s, str):
            raise ValueError(f"variant must be 'mean', 'minmax' or 'score_90', got "
                             f"{variant!r}")
        if s is None:
            raise ValueError("this null model was built without score_90")
        return float(np.nanpercentile(s, percentile))

    @property
    def thresholds(self) -> dict[float, float]:
        return {p: self.threshold(p) for p in self.percentiles}


def null_model(shape: tuple[int, int], bin_size: tuple[float, float] = (0.11, 0.11),
               n_maps: int = 500, smoothing_m: float = 0.1, seed: int | np.random.Generator = 0,
               percentiles: tuple[float, ...] = (95.0, 99.0), rectify: bool = True) -> NullModel:
    """Gridness of ``n_maps`` low-pass filtered white-noise maps of the given shape.

    Each map is Gaussian white noise smoothed by a Gaussian of ``smoothing_m`` metres
    (per axis, in bins of ``bin_size``), rectified when ``rectify`` (like ReLU units), then
    scored like real maps. ``NullModel.threshold(p)`` is the p-th percentile of its scores.
    """
    ny, nx = shape
    if ny < 2 or nx < 2:
        raise ValueError(f"null model maps need at least 2 x 2 bins, got {shape}")
    if n_maps < 1:
        raise ValueError(f"n_maps must be positive, got {n_maps}")
    if not smoothing_m > 0:
        raise ValueError(f"smoothing_m must be positive, got {smoothing_m}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    noise = rng.standard_normal((n_maps, ny, nx))
    sm = ndi.gaussian_filter(noise, sigma=(0, smoothing_m / bin_size[1], smoothing_m / bin_size[0]),
                             mode="wrap")
    if rectify:
        sm = np.maximum(sm, 0) + 1e-9 * rng.random(sm.shape)
    sac = autocorrelogram(sm)
    g = gridness(sac, bin_size)
    return NullModel(g.score_60, g.score_60_minmax, smoothing_m, tuple(percentiles),
                     scores_90=g.score_90)


def spectral_null(maps: Ratemaps, n_maps: int = 300, seed: int | np.random.Generator = 0,
                  percentiles: tuple[float, ...] = (95.0, 99.0)) -> NullModel:
    """Gridness of noise maps with the population's own isotropic power spectrum.

    The power spectra of the given maps (each filled with its mean where unvisited and
    centred) are averaged and then averaged over each ring of ``|k|``: a spectrum with the
    population's scale but no preferred direction. Gaussian noise is shaped by it and
    scored like the maps. A map whose 60-degree symmetry comes only from its scale scores
    like this null; the threshold :meth:`NullModel.threshold` is therefore stricter than
    :func:`null_model`'s smoothed noise for cells whose scale matches their spacing.
    """
    if n_maps < 1:
        raise ValueError(f"n_maps must be positive, got {n_maps}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    from gridform.analysis.spectra import power_spectrum

    iso = power_spectrum(maps).isotropic()
    ny, nx = iso.shape
    noise = np.fft.fft2(rng.standard_normal((n_maps, ny, nx)))
    sm = np.real(np.fft.ifft2(noise * np.sqrt(iso)))
    g = gridness(autocorrelogram(sm), maps.bin_size)
    return NullModel(g.score_60, g.score_60_minmax, float("nan"), tuple(percentiles),
                     "isotropic spectrum of the maps", g.score_90)


def phase_randomised(rates, rng: np.random.Generator) -> np.ndarray:
    """Maps (cell, y, x) with the Fourier amplitudes of ``rates`` and random phases.

    The phases come from the Fourier transform of real white noise, so the result is real;
    the power spectrum, and with it the periodic autocorrelogram, is unchanged.
    """
    rates = _as_maps(rates)
    f = np.fft.fft2(rates)
    noise = np.fft.fft2(rng.standard_normal(rates.shape))
    return np.real(np.fft.ifft2(np.abs(f) * np.exp(1j * np.angle(noise))))


@dataclass(frozen=True, eq=False)
class Triads:
    """The strongest triad of plane waves of each map (:func:`find_triads`).

    Attributes:
        phase_sum: (cell,) ``phi_1 + phi_2 + phi_3`` in radians, in [-pi, pi); NaN where
            the map has no triad.
        wavevectors: (cell, 3, 2) integer wave vectors (cycles per map along y, x), signed
            so that they sum to zero; zeros where the map has no triad.
        amplitudes: (cell, 3) Fourier amplitudes of the three waves; zeros where none.
    """

    phase_sum: np.ndarray
    wavevectors: np.ndarray
    amplitudes: np.ndarray

    @property
    def found(self) -> np.ndarray:
        """(cell,) True where the map has a triad."""
        return np.isfinite(self.phase_sum)


_SIGNS = ((1, 1, 1), (1, 1, -1), (1, -1, 1), (1, -1, -1))


def find_triads(rates, candidates: int = 6, min_ratio: float = 0.5) -> Triads:
    """The strongest triad of plane waves of each map (cell, y, x) on a torus.

    A hexagonal lattice of peaks is ``sum_j a_j cos(k_j . x + phi_j)`` with
    ``k_1 + k_2 + k_3 = 0`` and ``phi_1 + phi_2 + phi_3 = 0``; a shift of the map moves
    each phase but not their sum, and a sum of ``pi`` makes a honeycomb of holes
    (Sorscher et al. 2023). The ``candidates`` strongest Fourier modes (counting ``k`` and
    ``-k`` once) with at least ``min_ratio`` of the strongest mode's amplitude are
    searched for three whose signed wave vectors sum to zero; of those, the triad of the
    largest summed amplitude is kept. On a square torus a hexagon is often two
    interleaved triads of nearly equal modes, so looking only at the three strongest
    modes misses half of them.
    """
    rates = _as_maps(rates)
    if candidates < 3:
        raise ValueError(f"candidates must be at least 3, got {candidates}")
    if not 0 < min_ratio <= 1:
        raise ValueError(f"min_ratio must lie in (0, 1], got {min_ratio}")
    n, ny, nx = rates.shape
    f = np.fft.fft2(rates - rates.mean(axis=(1, 2), keepdims=True))
    iy, ix = np.meshgrid(np.fft.fftfreq(ny, 1 / ny).astype(int),
                         np.fft.fftfreq(nx, 1 / nx).astype(int), indexing="ij")
    half = ((iy > 0) | ((iy == 0) & (ix > 0))).ravel()  # one of each +-k pair
    vec = np.stack([iy.ravel(), ix.ravel()], axis=1)
    phase_sum = np.full(n, np.nan)
    wavevectors = np.zeros((n, 3, 2), int)
    amplitudes = np.zeros((n, 3))
    for c in range(n):
        fc = f[c].ravel()
        amp = np.where(half, np.abs(fc), -1.0)
        top = np.argsort(amp)[::-1][:candidates]
        top = top[amp[top] >= min_ratio * amp[top[0]]] if amp[top[0]] > 0 else top[:0]
        best = -1.0
        for i, j, k in itertools.combinations(top, 3):
            idx = np.array([i, j, k])
            for signs in _SIGNS:
                s = np.asarray(signs)
                if np.all((s[:, None] * vec[idx]).sum(axis=0) == 0) and amp[idx].sum() > best:
                    best = float(amp[idx].sum())
                    phase_sum[c] = (np.sum(np.angle(fc[idx]) * s) + np.pi) % (2 * np.pi) - np.pi
                    wavevectors[c] = s[:, None] * vec[idx]
                    amplitudes[c] = amp[idx]
    return Triads(phase_sum, wavevectors, amplitudes)


def triad_phase_sum(rates, candidates: int = 6, min_ratio: float = 0.5) -> np.ndarray:
    """(cell,) phase sum ``phi_1 + phi_2 + phi_3`` (radians, in [-pi, pi)) of the
    strongest triad of plane waves of each map on a torus; NaN where the map has none.
    See :func:`find_triads`."""
    return find_triads(rates, candidates, min_ratio).phase_sum


def triad_waves(triads: Triads, shape: tuple[int, int], phases: np.ndarray,
                rectify: bool = False) -> np.ndarray:
    """(draw, y, x) maps of three plane waves: for each draw ``d`` and map ``m =
    d % n_maps`` with a triad, ``sum_j a_j cos(2 pi k_j . x / n + phases[d, j])`` with
    the wave vectors ``k_j`` and amplitudes ``a_j`` of ``triads`` (maps without one are
    skipped), passed through a ReLU when ``rectify``. ``phases`` is (draw, 3).

    With uniformly random phases these are the null of the triad's phase sum: a uniform
    sum on the same bins and the same waves, cut by the same ReLU as the maps measured.
    """
    ny, nx = shape
    have = np.flatnonzero(triads.found)
    if have.size == 0:
        raise ValueError("no map has a triad to build waves from")
    phases = np.asarray(phases, float)
    m = have[np.arange(phases.shape[0]) % have.size]
    y, x = np.meshgrid(np.arange(ny) / ny, np.arange(nx) / nx, indexing="ij")
    k = triads.wavevectors[m].astype(float)  # (draw, 3, 2)
    arg = 2 * np.pi * (k[..., 0, None, None] * y + k[..., 1, None, None] * x) \
        + phases[..., None, None]
    out = np.sum(triads.amplitudes[m][..., None, None] * np.cos(arg), axis=1)
    return np.maximum(out, 0.0) if rectify else out
