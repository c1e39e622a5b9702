"""Population structure of grid cells: modules, and the torus of each module's activity.

A grid module is a set of units that share one lattice (spacing and orientation) and
differ in phase. The population activity of a module is a function of the position
modulo the lattice, so it lies on a 2-torus: persistent homology of the point cloud shows
one H0 component, two long H1 bars and one long H2 bar, Betti numbers (1, 2, 1)
(Gardner et al., Nature 2022; Sorscher et al., Neuron 2023).

Pipeline (docs/topology.md gives the measured behaviour):

1. **Modules.** Units whose ``score_60`` exceeds a threshold (by default the 95th
   percentile of :func:`gridform.analysis.scores.null_model`) are clustered on
   ``log(spacing) / spacing_tol``, the orientation on the circle of period 60 degrees
   (``(cos 6 theta, sin 6 theta) / (6 orientation_tol)``) and the ellipticity of their
   autocorrelogram ring divided by ``ellipticity_tol``: Gaussian mixtures with spherical
   components of at least unit variance, the number of components (1 allowed) chosen by
   BIC. A cluster smaller than ``min_units`` is not a module.
   Or (``select="clusters"``, after Schøyen et al., iScience 2023, who found the torus
   of 4,096-unit networks in a cluster of autocorrelograms, not among the most
   grid-like units): every active unit's autocorrelogram within ``radius_m`` of zero lag,
   centred and scaled to unit norm, so that the dot product of two is their Pearson
   correlation; agglomerative clustering with average linkage on ``1 - correlation``,
   cut where the mean correlation between two groups falls below ``min_correlation``
   (:func:`autocorrelogram_clusters`). Each cluster of at least ``min_units`` units is
   tested, whatever its gridness.
2. **Point cloud.** One point per spatial bin (ratemaps) or per time bin (activity),
   with the module's units as coordinates: each unit z-scored, projected on the first
   ``n_components`` principal components, scaled to unit RMS radius (so that bar
   lifetimes are comparable between data and null), outliers dropped by a k-nearest-
   neighbour density filter, then ``n_landmarks`` landmarks by greedy max-min sampling.
3. **Persistent homology** to H2 with ripser on the landmarks.
4. **Null.** The same pipeline on ``n_shuffles`` shuffled copies: every unit's map rolled
   by its own random offset (ratemaps), or every unit's activity shifted by its own random
   lag (activity). Both keep each unit's own statistics and break their alignment. A bar
   counts when its lifetime exceeds the longest bar of the null in its dimension; Betti
   0 counts the infinite component too. The verdict ``torus`` is Betti ``(1, 2, 1)``.
5. **Decoded phases.** For a torus, the two circular coordinates of its two H1 classes
   (dreimac's toroidal coordinates), one pair per point.

Needs the ``topology`` extra (ripser, scikit-learn; dreimac for the decoded phases).
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy.spatial import cKDTree

from gridform.analysis.scores import GridScores, grid_geometry, null_model, score_ratemaps
from gridform.core.errors import DataError, require
from gridform.core.ratemaps import Ratemaps
from gridform.core.reference import N_LANDMARKS  # landmarks of the homology

__all__ = [
    "ModuleTopology",
    "PointCloud",
    "PopulationStructure",
    "Topology",
    "active_units",
    "activity_point_cloud",
    "autocorrelogram_clusters",
    "circular_spread_deg",
    "find_modules",
    "orientation_spread",
    "persistence_lifetimes",
    "population_structure",
    "population_topology",
    "ratemap_point_cloud",
    "rayleigh_p",
    "ring_ellipticity",
    "rotated_maps",
]

log = logging.getLogger(__name__)

ORIENTATION_PERIOD_DEG = 60.0


# ---------------------------------------------------------------------------------
# Single-unit geometry used for clustering
# ---------------------------------------------------------------------------------
def circular_mean_deg(angles_deg, period: float = ORIENTATION_PERIOD_DEG) -> float:
    """Circular mean of angles of the given period, in ``[0, period)`` degrees."""
    a = np.asarray(angles_deg, np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return float("nan")
    z = np.mean(np.exp(2j * np.pi * a / period))
    return float(np.mod(np.angle(z) * period / (2 * np.pi), period))


def circular_spread_deg(angles_deg, period: float = ORIENTATION_PERIOD_DEG) -> float:
    """Circular standard deviation, in degrees, of angles of the given period.

    ``sqrt(-2 ln R) * period / (2 pi)`` with ``R`` the mean resultant length of the angles
    mapped onto the full circle: 0 for identical angles, about ``period / sqrt(12)`` or
    more for angles spread evenly over the period (infinite at ``R = 0``).
    """
    a = np.asarray(angles_deg, np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return float("nan")
    r = abs(np.mean(np.exp(2j * np.pi * a / period)))
    if r < 1e-12:  # evenly spread: no mean direction
        return float("inf")
    return float(np.sqrt(max(-2.0 * np.log(min(r, 1.0)), 0.0)) * period / (2 * np.pi))


def rayleigh_p(angles_deg, period: float = ORIENTATION_PERIOD_DEG) -> float:
    """p-value of the Rayleigh test that angles of the given period are uniform.

    With ``n`` angles of mean resultant length ``R`` on the full circle, ``Z = n R^2`` and
    ``p = exp(sqrt(1 + 4 n + 4 (n^2 - (n R)^2)) - (1 + 2 n))`` (Zar, Biostatistical
    Analysis, eq. 27.4). NaN with fewer than two angles."""
    a = np.asarray(angles_deg, np.float64)
    a = a[np.isfinite(a)]
    n = a.size
    if n < 2:
        return float("nan")
    rn = n * abs(np.mean(np.exp(2j * np.pi * a / period)))
    return float(min(1.0, np.exp(np.sqrt(1 + 4 * n + 4 * (n * n - rn * rn)) - (1 + 2 * n))))


def ring_ellipticity(peaks: np.ndarray) -> np.ndarray:
    """Ellipticity ``1 - b / a`` of the ring of autocorrelogram peaks, per cell.

    ``peaks`` (cell, n_peaks, 2) peak displacements in metres (NaN-padded, as returned by
    :func:`gridform.analysis.scores.grid_geometry`). The axes ``a >= b`` are the square
    roots of the eigenvalues of the peaks' second-moment matrix; a regular hexagon gives 0.
    NaN where fewer than three peaks were found.
    """
    p = np.asarray(peaks, np.float64)
    ok = np.all(np.isfinite(p), axis=-1)
    q = np.where(ok[..., None], p, 0.0)
    n = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.einsum("cpi,cpj->cij", q, q) / n[:, None, None]
    out = np.full(p.shape[0], np.nan)
    good = n >= 3
    if good.any():
        ev = np.linalg.eigvalsh(m[good])
        out[good] = 1.0 - np.sqrt(np.clip(ev[:, 0], 0, None) / ev[:, 1])
    return out


@dataclass(frozen=True, eq=False)
class ModuleFeatures:
    """Per-unit lattice geometry: (unit,) arrays."""

    spacing_m: np.ndarray
    orientation_deg: np.ndarray
    ellipticity: np.ndarray


def module_features(maps: Ratemaps) -> ModuleFeatures:
    """Spacing, orientation and ring ellipticity of every map's autocorrelogram."""
    from gridform.analysis.scores import autocorrelogram

    geo = grid_geometry(autocorrelogram(maps.rates), maps.bin_size)
    return ModuleFeatures(geo.spacing_m, geo.orientation_deg, ring_ellipticity(geo.peaks))


def find_modules(features: ModuleFeatures, units, *, spacing_tol: float = 0.07,
                 orientation_tol_deg: float = 4.0, ellipticity_tol: float = 0.1,
                 max_modules: int = 8, min_units: int = 10, seed: int = 0
                 ) -> list[np.ndarray]:
    """Cluster ``units`` (indices) into modules; returns each module's unit indices.

    Units are embedded with their spacing, orientation (period 60 degrees) and
    ellipticity each divided by its tolerance (``spacing_tol`` is relative), so one unit
    of distance is one tolerance. Spherical Gaussian mixtures of 1 to ``max_modules``
    components with variance at least 1 (``reg_covar``) are fitted and the one of lowest
    BIC is kept: groups closer than about a tolerance are one module. Clusters with fewer
    than ``min_units`` units are dropped. Modules are ordered by median spacing.
    """
    mixture = require("sklearn.mixture", "topology")
    units = np.asarray(units, dtype=np.int64)
    if min_units < 2:
        raise ValueError(f"min_units must be at least 2, got {min_units}")
    f = features
    ok = np.isfinite(f.spacing_m[units]) & np.isfinite(f.orientation_deg[units]) \
        & (f.spacing_m[units] > 0)
    units = units[ok]
    if units.size < min_units:
        return []
    theta = np.radians(6 * f.orientation_deg[units])
    ell = np.nan_to_num(f.ellipticity[units], nan=0.0)
    x = np.column_stack([
        np.log(f.spacing_m[units]) / spacing_tol,
        np.cos(theta) / np.radians(6 * orientation_tol_deg),
        np.sin(theta) / np.radians(6 * orientation_tol_deg),
        ell / ellipticity_tol,
    ])
    best, best_bic = None, np.inf
    for k in range(1, min(max_modules, units.size) + 1):
        gm = mixture.GaussianMixture(k, covariance_type="spherical", reg_covar=1.0,
                                     n_init=3, random_state=seed).fit(x)
        bic = gm.bic(x)
        if bic < best_bic - 1e-9:
            best, best_bic = gm, bic
    labels = best.predict(x)
    modules = [units[labels == lab] for lab in np.unique(labels)]
    modules = [m for m in modules if m.size >= min_units]
    return sorted(modules, key=lambda m: float(np.median(f.spacing_m[m])))


def active_units(maps: Ratemaps, rel_tol: float = 1e-6) -> np.ndarray:
    """Indices of the units whose ratemap varies over space by more than ``rel_tol`` of
    the population's largest |rate| (dead and constant units are inactive), the rule of
    a run's ``n_active``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(maps.rates, axis=(1, 2)) - np.nanmin(maps.rates, axis=(1, 2))
    scale = np.nanmax(np.abs(maps.rates)) if np.isfinite(maps.rates).any() else 0.0
    return np.flatnonzero(np.nan_to_num(spread) > rel_tol * max(scale, 1e-30))


@dataclass(frozen=True, eq=False)
class SacClusters:
    """Units grouped by the shape of their autocorrelograms.

    ``clusters``: the unit indices of each cluster of at least ``min_units`` units,
    largest first; ``correlation``: each cluster's mean pairwise Pearson correlation of
    autocorrelograms; ``units``: the units that were clustered (the active ones).
    """

    clusters: list[np.ndarray]
    correlation: list[float]
    units: np.ndarray
    min_correlation: float
    radius_m: float


def autocorrelogram_clusters(maps: Ratemaps, units=None, *, min_correlation: float = 0.5,
                             radius_m: float | None = None, min_units: int = 10
                             ) -> SacClusters:
    """Cluster units by their spatial autocorrelograms (SACs), whatever their gridness.

    Each unit's SAC (:func:`gridform.analysis.scores.autocorrelogram`) within
    ``radius_m`` of zero lag (default: half the arena's shorter side), lags undefined in
    a SAC set to its mean, is centred and divided by its norm, so ``x_a . x_b`` is the
    Pearson correlation ``r_ab`` of two SACs. Agglomerative clustering with average
    linkage on ``1 - r_ab`` (scikit-learn) joins groups while the mean correlation
    between them is at least ``min_correlation``. The SAC does not depend on a unit's
    phase, so the units of one module (one spacing, orientation and field shape) share
    one SAC, and units of another lattice, or of none, do not.

    This stands in for Schøyen et al.'s (iScience 2023) UMAP embedding of the SACs and
    DBSCAN, without UMAP's extra dependency and its stochastic embedding: a cut on the
    correlation itself has one interpretable parameter.

    ``units``: indices to cluster (default: :func:`active_units`). Clusters of fewer
    than ``min_units`` are dropped.
    """
    agglo = require("sklearn.cluster", "topology")
    from gridform.analysis.scores import autocorrelogram

    if not 0 < min_correlation < 1:
        raise ValueError(f"min_correlation must lie in (0, 1), got {min_correlation!r}")
    if min_units < 2:
        raise ValueError(f"min_units must be at least 2, got {min_units}")
    units = active_units(maps) if units is None else np.asarray(units, np.int64)
    ny, nx = maps.shape
    by, bx = maps.bin_size
    if radius_m is None:
        radius_m = 0.5 * min(ny * by, nx * bx)
    if not radius_m > 0:
        raise ValueError(f"radius_m must be positive, got {radius_m!r}")
    empty = SacClusters([], [], units, float(min_correlation), float(radius_m))
    if units.size < min_units:
        return empty
    sac = autocorrelogram(maps.rates[units])
    ly, lx = np.meshgrid((np.arange(2 * ny - 1) - (ny - 1)) * by,
                         (np.arange(2 * nx - 1) - (nx - 1)) * bx, indexing="ij")
    disc = np.hypot(ly, lx) <= radius_m
    x = sac[:, disc].astype(np.float64)
    mean = np.nanmean(np.where(np.isfinite(x), x, np.nan), axis=1, keepdims=True)
    x = np.where(np.isfinite(x), x, np.nan_to_num(mean)) - np.nan_to_num(mean)
    norm = np.linalg.norm(x, axis=1)
    keep = norm > 0  # a SAC with no defined lag or no variance belongs to no cluster
    units, x = units[keep], x[keep] / norm[keep, None]
    if units.size < min_units:
        return SacClusters([], [], units, float(min_correlation), float(radius_m))
    r = np.clip(x @ x.T, -1.0, 1.0)
    labels = agglo.AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average",
        distance_threshold=1.0 - min_correlation).fit(1.0 - r).labels_
    groups = [np.flatnonzero(labels == lab) for lab in np.unique(labels)]
    groups = sorted((g for g in groups if g.size >= min_units), key=lambda g: -g.size)
    corr = [float((r[np.ix_(g, g)].sum() - g.size) / (g.size * (g.size - 1)))
            for g in groups]
    return SacClusters([units[g] for g in groups], corr, units, float(min_correlation),
                       float(radius_m))


# ---------------------------------------------------------------------------------
# Point clouds
# ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PointCloud:
    """Population activity as points: ``samples`` (point, unit) and where each was.

    ``positions`` (point, 2) metres (x, y) of every sample; ``units`` (unit,) the indices
    of the units that the columns hold; ``valid`` (y, x) the spatial bins the points are
    (ratemap clouds) or None (activity clouds, one point per time bin).
    """

    samples: np.ndarray
    positions: np.ndarray
    units: np.ndarray
    valid: np.ndarray | None = None

    def __post_init__(self) -> None:
        s = np.asarray(self.samples, np.float64)
        p = np.asarray(self.positions, np.float64)
        u = np.asarray(self.units, np.int64)
        if s.ndim != 2 or p.shape != (s.shape[0], 2) or u.shape != (s.shape[1],):
            raise ValueError(f"samples must be (point, unit), positions (point, 2) and "
                             f"units (unit,), got {s.shape}, {p.shape} and {u.shape}")
        if not np.all(np.isfinite(s)):
            raise DataError("the population samples contain NaN or infinite values")
        if self.valid is not None and int(np.sum(self.valid)) != s.shape[0]:
            raise ValueError("valid must mark one spatial bin per point")
        object.__setattr__(self, "samples", s)
        object.__setattr__(self, "positions", p)
        object.__setattr__(self, "units", u)

    @property
    def kind(self) -> str:
        return "activity" if self.valid is None else "ratemaps"

    @property
    def n_points(self) -> int:
        return int(self.samples.shape[0])

    def select_units(self, units) -> PointCloud:
        """The columns of the given unit indices (indices into the original population)."""
        col = {int(u): i for i, u in enumerate(self.units)}
        missing = [int(u) for u in units if int(u) not in col]
        if missing:
            raise ValueError(f"units {missing[:5]} are not in the point cloud")
        idx = np.asarray([col[int(u)] for u in units], np.int64)
        return PointCloud(self.samples[:, idx], self.positions, self.units[idx], self.valid)

    def shuffled(self, rng: np.random.Generator) -> PointCloud:
        """Every unit moved by its own random offset: its map rolled over the spatial grid
        (ratemap clouds; bins rolled in from unvisited ones take the unit's mean), or its
        activity shifted in time by a lag between 10% and 90% of the samples."""
        out = np.empty_like(self.samples)
        if self.valid is not None:
            ny, nx = self.valid.shape
            for u in range(self.samples.shape[1]):
                m = np.full(self.valid.shape, np.nan)
                m[self.valid] = self.samples[:, u]
                m = np.roll(m, (rng.integers(ny), rng.integers(nx)), axis=(0, 1))[self.valid]
                out[:, u] = np.where(np.isfinite(m), m, np.nanmean(m))
        else:
            n = self.n_points
            for u in range(self.samples.shape[1]):
                out[:, u] = np.roll(self.samples[:, u], rng.integers(n // 10, n - n // 10 + 1))
        return PointCloud(out, self.positions, self.units, self.valid)


def ratemap_point_cloud(maps: Ratemaps, units=None) -> PointCloud:
    """One point per spatial bin valid in every selected map: the units' rates there."""
    units = np.arange(maps.n_cells) if units is None else np.asarray(units, np.int64)
    rates = maps.rates[units]
    valid = np.all(np.isfinite(rates), axis=0)
    if valid.sum() < 20:
        raise DataError(f"only {int(valid.sum())} spatial bins are valid in every map; the "
                        "population point cloud needs at least 20")
    yy, xx = np.meshgrid(maps.y_centers, maps.x_centers, indexing="ij")
    return PointCloud(rates[:, valid].T, np.column_stack([xx[valid], yy[valid]]), units,
                      valid)


def activity_point_cloud(activity, positions, speeds=None, *, min_speed: float = 0.025,
                         time_bin: int = 1, units=None) -> PointCloud:
    """Population samples from activity along trajectories.

    ``activity`` (time, unit), ``positions`` (time, 2) metres, ``speeds`` (time,) m/s.
    Samples slower than ``min_speed`` (m/s) are dropped, as in Gardner et al. (2022), then
    consecutive runs of ``time_bin`` samples are averaged (activity and positions).
    """
    a = np.asarray(activity, np.float64)
    p = np.asarray(positions, np.float64)
    if a.ndim != 2 or p.shape != (a.shape[0], 2):
        raise ValueError(f"activity must be (time, unit) and positions (time, 2), got "
                         f"{a.shape} and {p.shape}")
    if int(time_bin) != time_bin or time_bin < 1:
        raise ValueError(f"time_bin must be a positive integer, got {time_bin!r}")
    if speeds is not None:
        keep = np.asarray(speeds, np.float64) >= min_speed
        a, p = a[keep], p[keep]
    n = (a.shape[0] // time_bin) * time_bin
    if n // time_bin < 20:
        raise DataError(f"only {n // time_bin} time bins remain after the speed filter; the "
                        "population point cloud needs at least 20")
    a = a[:n].reshape(-1, time_bin, a.shape[1]).mean(axis=1)
    p = p[:n].reshape(-1, time_bin, 2).mean(axis=1)
    units = np.arange(a.shape[1]) if units is None else units
    return PointCloud(a, p, units)


def embed(samples: np.ndarray, n_components: int = 6) -> np.ndarray:
    """Z-score every unit, project on the top principal components, scale to unit RMS
    radius. ``samples`` (point, unit) -> (point, n_components)."""
    s = np.asarray(samples, np.float64)
    sd = s.std(axis=0)
    s = (s[:, sd > 0] - s[:, sd > 0].mean(axis=0)) / sd[sd > 0]
    if s.shape[1] == 0:
        raise DataError("every unit is constant over the point cloud")
    # principal axes from the (unit x unit) covariance: cheaper than an SVD of the samples
    evals, evecs = np.linalg.eigh(s.T @ s)
    k = min(n_components, evals.size)
    x = s @ evecs[:, ::-1][:, :k]
    return x / np.sqrt(np.mean(np.sum(x * x, axis=1)))


def maxmin_landmarks(x: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` landmarks chosen by greedy max-min (farthest-point) sampling,
    starting from point 0: each new landmark is the point farthest from those chosen."""
    n = min(int(n), x.shape[0])
    idx = np.empty(n, np.int64)
    idx[0] = 0
    d = np.sum((x - x[0]) ** 2, axis=1)
    for i in range(1, n):
        idx[i] = int(np.argmax(d))
        d = np.minimum(d, np.sum((x - x[idx[i]]) ** 2, axis=1))
    return idx


def density_filter(x: np.ndarray, keep: float = 0.9, k: int = 10, max_points: int = 5000,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices of the densest ``keep`` fraction of (at most ``max_points``) points, by the
    mean distance to their ``k`` nearest neighbours: outliers would otherwise be the first
    landmarks of a max-min sample."""
    rng = rng or np.random.default_rng(0)
    idx = np.arange(x.shape[0])
    if idx.size > max_points:
        idx = np.sort(rng.choice(idx, max_points, replace=False))
    if keep >= 1.0 or idx.size <= k + 1:
        return idx
    d, _ = cKDTree(x[idx]).query(x[idx], k=k + 1)
    score = d[:, 1:].mean(axis=1)
    return idx[np.argsort(score, kind="stable")[: max(int(keep * idx.size), k + 1)]]


def rotated_maps(maps: Ratemaps, rng: np.random.Generator) -> Ratemaps:
    """Every map rotated about the arena centre by its own angle, uniform in [0, 60) deg.

    A control for the torus: each unit stays a grid cell of the same spacing, but the units
    no longer share a lattice, so their joint activity is no 2-torus. (Randomising each
    unit's Fourier phases is no such control: the population vector of maps built on the
    same three wave vectors is a function of two phases whatever the maps' own phases, so
    it stays on a torus.) Bins rotated in from outside the arena are NaN.
    """
    import scipy.ndimage as ndi

    out = np.empty_like(maps.rates)
    for i, m in enumerate(maps.rates):
        filled = np.where(np.isfinite(m), m, np.nanmean(m))
        angle = rng.uniform(0.0, 60.0)
        rot = ndi.rotate(filled, angle, reshape=False, order=1, mode="constant", cval=np.nan)
        valid = ndi.rotate(np.isfinite(m).astype(float), angle, reshape=False, order=0,
                           mode="constant", cval=0.0) > 0.5
        out[i] = np.where(valid & np.isfinite(rot), rot, np.nan)
    return Ratemaps(out, maps.occupancy, maps.x_centers, maps.y_centers)


# ---------------------------------------------------------------------------------
# Persistent homology
# ---------------------------------------------------------------------------------
def persistence_diagrams(x: np.ndarray, maxdim: int = 2) -> list[np.ndarray]:
    """Vietoris-Rips persistence diagrams (birth, death) of the points ``x`` for H0..H
    ``maxdim``, over Z/2.

    Computed by giotto-ph (a parallel implementation of Ripser, on every core) when it is
    installed, else by ripser.py: the two give the same diagrams, giotto-ph 3-7 times
    faster on two cores (docs/topology.md).
    """
    x = np.ascontiguousarray(x, np.float64)
    try:
        from gph import ripser_parallel
    except ImportError:
        ripser = require("ripser", "topology")
        return list(ripser.ripser(x, maxdim=maxdim)["dgms"])
    return list(ripser_parallel(x, maxdim=maxdim, n_threads=-1)["dgms"])


def persistence_lifetimes(x: np.ndarray, maxdim: int = 2, n_landmarks: int = N_LANDMARKS
                          ) -> list[np.ndarray]:
    """Bar lifetimes (death - birth), longest first, for H0..H``maxdim`` of ``x``.

    ``x`` (point, dim). Greedy max-min sampling (:func:`maxmin_landmarks`) picks
    ``n_landmarks`` points (all of them when there are fewer). H0's infinite bar is left out.
    """
    dgms = persistence_diagrams(x[maxmin_landmarks(x, n_landmarks)], maxdim)
    out = []
    for d in dgms:
        life = d[:, 1] - d[:, 0]
        out.append(np.sort(life[np.isfinite(life)])[::-1])
    return out


def betti_numbers(lifetimes: list[np.ndarray], null_max) -> tuple[int, ...]:
    """Bars longer than the null's longest, per dimension; H0 adds its infinite bar."""
    b = [int(np.sum(lt > m)) for lt, m in zip(lifetimes, null_max, strict=True)]
    b[0] += 1
    return tuple(b)


# ---------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ModuleTopology:
    """One module: its units, lattice, persistent homology against its null."""

    units: list[int]
    spacing_m: float
    spacing_spread_m: float
    orientation_deg: float
    orientation_spread_deg: float
    ellipticity: float
    betti: list[int]
    h0_lifetimes: list[float]
    h1_lifetimes: list[float]
    h2_lifetimes: list[float]
    null_max: list[float]
    torus: bool
    phases: np.ndarray | None = field(default=None, repr=False)     # (2, point) rad
    positions: np.ndarray | None = field(default=None, repr=False)  # (point, 2) m
    null_lifetimes: list[list[float]] = field(default_factory=list, repr=False)
    # autocorrelogram clusters only: the units' median score_60 and the cluster's mean
    # pairwise correlation of autocorrelograms
    median_score_60: float | None = None
    sac_correlation: float | None = None

    def to_json(self, bars: int = 10) -> dict:
        d = {k: v for k, v in asdict(self).items()
             if k not in ("phases", "positions", "null_lifetimes")
             and not (k in ("median_score_60", "sac_correlation") and v is None)}
        for k in ("h0_lifetimes", "h1_lifetimes", "h2_lifetimes"):
            d[k] = [round(float(v), 6) for v in d[k][:bars]]
        d["null_max"] = [round(float(v), 6) for v in d["null_max"]]
        d["phases_decoded"] = self.phases is not None
        return d


@dataclass(frozen=True, eq=False)
class Topology:
    """Modules of a population and the torus verdict of each.

    ``selection``: ``"grid"`` (the modules of the grid units, by spacing, orientation and
    ellipticity) or ``"clusters"`` (the autocorrelogram clusters of all active units,
    ``active_units``; ``modules`` then holds the clusters).
    """

    modules: list[ModuleTopology]
    grid_units: list[int]
    threshold: float
    n_units: int
    seconds: float
    source: str
    settings: dict
    selection: str = "grid"
    active_units: list[int] | None = None

    @property
    def n_modules(self) -> int:
        return len(self.modules)

    @property
    def torus(self) -> bool:
        """True when the population is exactly one module whose activity is a torus."""
        return self.n_modules == 1 and self.modules[0].torus

    @property
    def orientation_spread_deg(self) -> float:
        """Spread of the orientations of all grid units (not only one module's)."""
        return float(self.settings.get("grid_orientation_spread_deg", float("nan")))

    def to_json(self) -> dict:
        d = {"n_modules": self.n_modules, "seconds": self.seconds, "torus": self.torus,
             "n_units": self.n_units, "n_grid_units": len(self.grid_units),
             "grid_threshold": self.threshold, "source": self.source,
             "orientation_spread_deg": self.orientation_spread_deg,
             "selection": self.selection,
             "settings": {k: v for k, v in self.settings.items() if k != "features"},
             "modules": [m.to_json() for m in self.modules]}
        if self.selection == "clusters":
            d["n_active_units"] = len(self.active_units or [])
            d["clusters"] = d["modules"]
        return d


def _null_max(cloud: PointCloud, n_shuffles: int, rng, embed_kw: dict) -> tuple[list, list]:
    per_shuffle = []
    for _ in range(n_shuffles):
        lts = _lifetimes(cloud.shuffled(rng), rng, **embed_kw)
        per_shuffle.append([float(lt[0]) if lt.size else 0.0 for lt in lts])
    arr = np.asarray(per_shuffle)
    return arr.max(axis=0).tolist(), arr.T.tolist()


def _lifetimes(cloud: PointCloud, rng, n_components: int, n_landmarks: int, keep: float
               ) -> list[np.ndarray]:
    x = embed(cloud.samples, n_components)
    idx = density_filter(x, keep=keep, rng=rng)
    return persistence_lifetimes(x[idx], 2, n_landmarks)


def _decode_phases(cloud: PointCloud, n_components: int, n_landmarks: int):
    """(2, point) toroidal coordinates in radians, or None without dreimac."""
    try:
        dreimac = require("dreimac", "topology")
    except ImportError:
        return None
    x = embed(cloud.samples, n_components)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tc = dreimac.ToroidalCoords(x, n_landmarks=min(n_landmarks, x.shape[0]))
        try:
            return np.asarray(tc.get_coordinates(perc=0.5, cocycle_idxs=[0, 1]))
        except Exception as err:  # dreimac raises a bare Exception when it cannot
            # (e.g. "the cohomology class selected is too short" on its own landmarks);
            # the Betti numbers stand, only the decoded phases are missing
            log.warning("toroidal phases not decoded: dreimac: %s", err)
            return None


def module_topology(cloud: PointCloud, features: ModuleFeatures, units, *,
                    n_shuffles: int = 20, n_components: int = 6, n_landmarks: int = N_LANDMARKS,
                    keep: float = 0.9, seed: int = 0, phases: bool = True
                    ) -> ModuleTopology:
    """Persistent homology of one module's point cloud against its shuffle null."""
    if n_shuffles < 1:
        raise ValueError(f"n_shuffles must be at least 1, got {n_shuffles}")
    units = np.asarray(units, np.int64)
    sub = cloud.select_units(units)
    rng = np.random.default_rng(seed)
    kw = {"n_components": n_components, "n_landmarks": n_landmarks, "keep": keep}
    lts = _lifetimes(sub, rng, **kw)
    null_max, null_all = _null_max(sub, n_shuffles, rng, kw)
    betti = betti_numbers(lts, null_max)
    torus = betti == (1, 2, 1)
    sp = features.spacing_m[units]
    ph = _decode_phases(sub, n_components, n_landmarks) if (phases and torus) else None
    with warnings.catch_warnings():  # a set of units with no lattice (an autocorrelogram
        warnings.simplefilter("ignore", RuntimeWarning)  # cluster of non-grid units): NaN
        spacing, spacing_sd = float(np.nanmedian(sp)), float(np.nanstd(sp))
        ellipticity = float(np.nanmedian(features.ellipticity[units]))
    return ModuleTopology(
        units=units.tolist(), spacing_m=spacing, spacing_spread_m=spacing_sd,
        orientation_deg=circular_mean_deg(features.orientation_deg[units]),
        orientation_spread_deg=circular_spread_deg(features.orientation_deg[units]),
        ellipticity=ellipticity,
        betti=list(betti), h0_lifetimes=lts[0].tolist(), h1_lifetimes=lts[1].tolist(),
        h2_lifetimes=lts[2].tolist(), null_max=null_max, torus=bool(torus),
        phases=ph, positions=sub.positions if ph is not None else None,
        null_lifetimes=null_all)


def _grid_units(maps: Ratemaps, scores: GridScores | None, threshold: float | None,
                seed: int):
    """(threshold, grid units, every unit's lattice features, scores): the grid units of
    ``maps`` have ``score_60`` above ``threshold``, by default the 95th percentile of the
    smoothed-noise null."""
    if scores is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = score_ratemaps(maps)
    if threshold is None:
        threshold = null_model(maps.shape, maps.bin_size, n_maps=500, seed=seed).threshold(95)
    s = np.nan_to_num(scores.score_60, nan=-np.inf)
    return float(threshold), np.flatnonzero(s > threshold), module_features(maps), scores


def _grid_modules(maps: Ratemaps, scores: GridScores | None, threshold: float | None,
                  min_units: int, seed: int):
    """The grid units of ``maps`` (:func:`_grid_units`), their lattice features and
    their modules."""
    threshold, grid, features, _ = _grid_units(maps, scores, threshold, seed)
    modules = find_modules(features, grid, min_units=min_units, seed=seed)
    return threshold, grid, features, modules


def population_topology(maps: Ratemaps, cloud: PointCloud | None = None, *,
                        scores: GridScores | None = None, threshold: float | None = None,
                        n_shuffles: int = 20, min_units: int = 10, n_components: int = 6,
                        n_landmarks: int = N_LANDMARKS, keep: float | None = None, seed: int = 0,
                        phases: bool = True, source: str = "ratemaps",
                        select: str = "grid", min_correlation: float = 0.5) -> Topology:
    """Modules of the grid units of ``maps`` and the topology of each module's activity.

    ``maps`` gives the units' scores and lattices; ``cloud`` the population samples
    (default: :func:`ratemap_point_cloud` of ``maps``; pass an
    :func:`activity_point_cloud` of the same units for activity along a trajectory).
    ``threshold`` on ``score_60`` selects grid units (default: the 95th percentile of
    500 low-pass filtered noise maps of the same shape, :func:`null_model`).
    ``select="clusters"`` tests instead every autocorrelogram cluster of the active units
    (:func:`autocorrelogram_clusters` with ``min_correlation``) of at least
    ``min_units`` units, whatever its gridness.
    """
    t0 = time.perf_counter()
    if not isinstance(maps, Ratemaps):
        raise TypeError(f"population_topology expects Ratemaps, got {type(maps).__name__}")
    if select not in ("grid", "clusters"):
        raise ValueError(f"select must be 'grid' or 'clusters', got {select!r}")
    if cloud is not None and cloud.samples.shape[1] != maps.n_cells:
        raise ValueError(f"the point cloud has {cloud.samples.shape[1]} units and the "
                         f"ratemaps {maps.n_cells}")
    if select == "grid":
        threshold, grid, features, modules = _grid_modules(maps, scores, threshold,
                                                           min_units, seed)
    else:
        threshold, grid, features, scores = _grid_units(maps, scores, threshold, seed)
        sac = autocorrelogram_clusters(maps, min_correlation=min_correlation,
                                       min_units=min_units)
        modules = sac.clusters
    if modules and cloud is None:
        cloud = ratemap_point_cloud(maps)
    if keep is None:  # a grid of bins has no outliers; a filter would cut holes in it
        keep = 1.0 if cloud is None or cloud.kind == "ratemaps" else 0.9
    results = [module_topology(cloud, features, m, n_shuffles=n_shuffles,
                               n_components=n_components, n_landmarks=n_landmarks,
                               keep=keep, seed=seed + i, phases=phases)
               for i, m in enumerate(modules)]
    active = None
    if select == "clusters":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a cluster of no grid unit
            results = [replace(r, median_score_60=float(np.nanmedian(scores.score_60[m]))
                               if np.isfinite(scores.score_60[m]).any() else float("nan"),
                               sac_correlation=c)
                       for r, m, c in zip(results, modules, sac.correlation, strict=True)]
        active = sac.units.tolist()
    settings = {"n_shuffles": n_shuffles, "min_units": min_units,
                "n_components": n_components, "n_landmarks": n_landmarks, "seed": seed,
                "null": "roll each unit's map by a random offset" if (cloud is None or
                        cloud.kind == "ratemaps") else "shift each unit's activity by a "
                        "random lag",
                "grid_orientation_spread_deg": circular_spread_deg(
                    features.orientation_deg[grid]) if grid.size else float("nan"),
                "features": {k: getattr(features, k).tolist() for k in
                             ("spacing_m", "orientation_deg", "ellipticity")}}
    if select == "clusters":
        settings |= {"min_correlation": sac.min_correlation, "sac_radius_m": sac.radius_m}
    return Topology(results, grid.tolist(), threshold, maps.n_cells,
                    time.perf_counter() - t0, source, settings, select, active)


# ---------------------------------------------------------------------------------
# The population's structure in three numbers, for a run's summary
# ---------------------------------------------------------------------------------
STRONG_GRID_SCORE = 0.8  # the units whose orientations must agree in a module


def orientation_spread(scores: GridScores, units=None, strong: float = STRONG_GRID_SCORE
                       ) -> tuple[float, int]:
    """Circular standard deviation (degrees, period 60) of the lattice orientations of
    the units with ``score_60 > strong``, among ``units`` (indices or a boolean mask;
    default all), and how many such units there are. NaN with fewer than two."""
    s = np.nan_to_num(np.asarray(scores.score_60, np.float64), nan=-np.inf)
    keep = s > strong
    if units is not None:
        mask = np.zeros(keep.shape, bool)
        mask[np.asarray(units)] = True
        keep &= mask
    angles = np.asarray(scores.orientation_deg, np.float64)[keep]
    angles = angles[np.isfinite(angles)]
    return (circular_spread_deg(angles) if angles.size >= 2 else float("nan"),
            int(angles.size))


@dataclass(frozen=True, eq=False)
class PopulationStructure:
    """Whether a population's grid units form one module on a torus.

    ``orientation_spread_deg`` over the ``n_strong`` units with ``score_60 > 0.8``;
    ``n_modules`` as :func:`population_topology` finds them (grid units above the
    smoothed-noise null's 95th percentile, clustered on spacing, orientation and
    ellipticity); ``torus``: exactly one module, and its ratemap point cloud has Betti
    numbers (1, 2, 1) against the roll null. ``module`` holds that one module's homology.
    """

    orientation_spread_deg: float
    n_strong: int
    n_modules: int
    torus: bool
    module: ModuleTopology | None = None


def population_structure(maps: Ratemaps, scores: GridScores | None = None, *,
                         units=None, threshold: float | None = None, n_shuffles: int = 20,
                         min_units: int = 10, seed: int = 0) -> PopulationStructure:
    """Orientation spread, module count and torus verdict of the units of ``maps``.

    ``units``: the units to consider (indices or a boolean mask, e.g. the active ones;
    default all). The homology is computed only when the grid units form exactly one
    module (a population of several modules is not one torus), on the ratemaps with the
    settings of ``gridform topology MAPS.npz``, so the verdict matches that command's.
    Needs the ``topology`` extra (scikit-learn, ripser).
    """
    if scores is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = score_ratemaps(maps)
    spread, n_strong = orientation_spread(scores, units)
    if units is not None:  # the others count as no grid unit
        mask = np.zeros(maps.n_cells, bool)
        mask[np.asarray(units)] = True
        scores = GridScores(**{f: np.where(mask, getattr(scores, f), np.nan)
                               for f in scores.__dataclass_fields__})
    _, _, features, modules = _grid_modules(maps, scores, threshold, min_units, seed)
    module = None
    if len(modules) == 1:
        module = module_topology(ratemap_point_cloud(maps), features, modules[0],
                                 n_shuffles=n_shuffles, keep=1.0, seed=seed, phases=False)
    return PopulationStructure(spread, n_strong, len(modules),
                               bool(module is not None and module.torus), module)
