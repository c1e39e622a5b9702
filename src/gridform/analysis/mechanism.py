"""How a trained network computes: connectivity on the neural sheet, spectrum, ablation.

docs/theory.md section 3. Grid units are placed on a 2-D neural sheet by their spatial phase
relative to one lattice (the module's spacing and orientation): the phase of unit ``i`` is
the pair ``phi_i = (arg c_i(k_1), arg c_i(k_2))`` of its ratemap's Fourier coefficients at
two of the lattice's wave vectors, a point on a torus. The recurrent weight ``W_ij`` is
then averaged as a function of the phase displacement ``phi_j - phi_i`` (wrapped), which
for a continuous-attractor-like network is centre-surround: units of nearby phase excite
each other, units half a period apart inhibit.

Weight convention (gridform.core.models): ``h_t = f(x_t + h_{t-1} W)``, so ``W[i, j]`` is the
weight from unit ``i`` onto unit ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridform.core.ratemaps import Ratemaps

__all__ = [
    "ConnectivityProfile",
    "DogFit",
    "Eigenmodes",
    "alignment",
    "connectivity_profile",
    "eigenmodes",
    "fit_difference_of_gaussians",
    "lattice_phases",
    "outgoing_offsets",
    "radial_fit",
    "silence_units",
]


def lattice_phases(maps: Ratemaps, spacing_m: float, orientation_deg: float) -> np.ndarray:
    """Phase (cell, 2) in radians, in [-pi, pi), of each map on one common lattice.

    The wave vectors are ``|k| = 4 pi / (sqrt(3) spacing)`` at 90 and 210 degrees from the
    lattice axis (the convention of :func:`gridform.analysis.grid_phase`). Translating a
    map by ``dx`` changes its phase by ``-k_j . dx``. Empty bins (NaN) count as the map's
    mean.
    """
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        raise ValueError(f"spacing_m must be a positive number of metres, got {spacing_m}")
    if not np.isfinite(orientation_deg):
        raise ValueError(f"orientation_deg must be finite, got {orientation_deg}")
    flat = maps.rates.reshape(maps.n_cells, -1)
    valid = np.isfinite(flat)
    mean = np.sum(np.where(valid, flat, 0), 1, keepdims=True) / np.maximum(
        valid.sum(1, keepdims=True), 1)
    centred = np.where(valid, flat - mean, 0.0)
    xx, yy = np.meshgrid(maps.x_centers, maps.y_centers)
    pos = np.stack([xx.ravel(), yy.ravel()], -1)
    kvec = _wave_vectors(spacing_m, orientation_deg)  # (2, 2)
    coef = centred @ np.exp(-1j * pos @ kvec.T)  # (cell, 2)
    return np.angle(coef)


def _wave_vectors(spacing_m: float, orientation_deg: float) -> np.ndarray:
    kmag = 4 * np.pi / (np.sqrt(3) * spacing_m)
    a = np.radians(orientation_deg) + np.radians([90.0, 210.0])
    return kmag * np.stack([np.cos(a), np.sin(a)], -1)


@dataclass(frozen=True)
class ConnectivityProfile:
    """Mean recurrent weight against phase displacement on the neural sheet.

    ``mean_weight`` (bins, bins) over phase displacements on ``phase_edges`` (radians,
    both axes); ``radius_m`` and ``radial_weight``: the same against the length of the
    equivalent spatial displacement (metres, at most half a spacing); ``centre`` the mean
    weight of pairs within ``centre_radius_m``, ``surround`` the most negative ring of
    the radial profile beyond it.
    """

    mean_weight: np.ndarray
    counts: np.ndarray
    phase_edges: np.ndarray
    radius_m: np.ndarray
    radial_weight: np.ndarray
    centre: float
    surround: float
    centre_radius_m: float
    spacing_m: float
    n_units: int

    @property
    def is_centre_surround(self) -> bool:
        """Positive centre and negative surround."""
        return bool(self.centre > 0 and self.surround < 0)


def connectivity_profile(w_rec: np.ndarray, phases: np.ndarray, spacing_m: float,
                         orientation_deg: float, bins: int = 15, radial_bins: int = 8
                         ) -> ConnectivityProfile:
    """Average ``W_ij`` over unit pairs binned by their phase displacement.

    ``w_rec`` (n, n) restricted to the units whose ``phases`` (n, 2) are given (the grid
    units of one module). Self-connections are left out.
    """
    w = np.asarray(w_rec, dtype=np.float64)
    phases = np.asarray(phases, dtype=np.float64)
    n = phases.shape[0]
    if w.shape != (n, n):
        raise ValueError(f"w_rec must be ({n}, {n}) for {n} phases, got {w.shape}")
    if n < 3:
        raise ValueError(f"need at least 3 units on the sheet, got {n}")
    dphi = phases[None, :, :] - phases[:, None, :]
    dphi = (dphi + np.pi) % (2 * np.pi) - np.pi  # (n, n, 2) in [-pi, pi)
    off = ~np.eye(n, dtype=bool)
    d, wv = dphi[off], w[off]
    edges = np.linspace(-np.pi, np.pi, bins + 1)
    ix = np.clip(np.digitize(d[:, 0], edges) - 1, 0, bins - 1)
    iy = np.clip(np.digitize(d[:, 1], edges) - 1, 0, bins - 1)
    sums = np.zeros((bins, bins))
    counts = np.zeros((bins, bins))
    np.add.at(sums, (iy, ix), wv)
    np.add.at(counts, (iy, ix), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / counts, np.nan)
    # the shortest spatial displacement with this phase difference (hexagonal torus)
    shifts = np.array([[a, b] for a in (-1, 0, 1) for b in (-1, 0, 1)], float) * 2 * np.pi
    cand = (d[:, None, :] + shifts[None]) @ (-np.linalg.inv(
        _wave_vectors(spacing_m, orientation_deg)).T)
    r = np.min(np.hypot(cand[..., 0], cand[..., 1]), axis=1)
    r_edges = np.linspace(0, spacing_m / np.sqrt(3), radial_bins + 1)
    ir = np.clip(np.digitize(r, r_edges) - 1, 0, radial_bins - 1)
    rs = np.bincount(ir, wv, radial_bins)
    rc = np.bincount(ir, minlength=radial_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        radial = np.where(rc > 0, rs / rc, np.nan)
    centre_r = spacing_m / 8
    inner = r < centre_r
    centre = float(np.mean(wv[inner])) if inner.any() else float("nan")
    outer = 0.5 * (r_edges[1:] + r_edges[:-1]) >= centre_r
    surround = float(np.nanmin(radial[outer])) if np.isfinite(radial[outer]).any() \
        else float("nan")
    return ConnectivityProfile(mean, counts, edges, 0.5 * (r_edges[1:] + r_edges[:-1]),
                               radial, centre, surround, centre_r, float(spacing_m), n)


@dataclass(frozen=True)
class DogFit:
    """A difference of Gaussians fitted to a radial profile:
    ``w(r) = offset + centre exp(-r^2 / 2 a^2) - surround exp(-r^2 / 2 b^2)``, ``a < b``.

    ``correlation`` is Pearson's r between the profile and the fit, over the bins where
    the profile is finite; ``fitted`` the fit on those bins (NaN elsewhere).
    """

    offset: float
    centre: float
    surround: float
    centre_width: float
    surround_width: float
    correlation: float
    fitted: np.ndarray

    @property
    def is_centre_surround(self) -> bool:
        """Both Gaussians present: a positive centre on a negative surround."""
        return bool(self.centre > 0 and self.surround > 0)


def fit_difference_of_gaussians(radius, weight, starts: int = 6) -> DogFit:
    """Least-squares fit of :class:`DogFit` to ``weight`` (bins,) at ``radius`` (bins,),
    amplitudes >= 0 and widths ``0 < a < b`` (bounded, several starts; the best kept).
    Fewer than 5 finite bins, or a flat profile, gives NaN correlation."""
    from scipy.optimize import least_squares

    r = np.asarray(radius, float)
    w = np.asarray(weight, float)
    ok = np.isfinite(w) & np.isfinite(r)
    nan = np.full(r.shape, np.nan)
    if ok.sum() < 5 or np.ptp(w[ok]) == 0:
        return DogFit(*(float("nan"),) * 6, nan)
    rr, ww = r[ok], w[ok]
    span, top = float(np.ptp(ww)), float(rr.max())

    def model(q, x):
        c, amp_a, amp_b, a, extra = q
        return c + amp_a * np.exp(-x**2 / (2 * a**2)) - amp_b * np.exp(-x**2 / (2 * (a + extra)**2))

    def jac(q):  # exact d model / d q: one model evaluation per iteration, not six
        _, amp_a, amp_b, a, extra = q
        b, x2 = a + extra, rr * rr
        e_a, e_b = np.exp(-x2 / (2 * a**2)), np.exp(-x2 / (2 * b**2))
        d_b = -amp_b * e_b * x2 / b**3
        return np.stack([np.ones_like(rr), e_a, -e_b, amp_a * e_a * x2 / a**3 + d_b, d_b], -1)

    best = None
    lo = [-np.inf, 0.0, 0.0, 1e-3 * top, 1e-3 * top]
    hi = [np.inf, 20 * span, 20 * span, 2 * top, 4 * top]
    for i in range(starts):
        a0 = top * (0.1 + 0.5 * i / starts)
        q0 = [float(ww[-1]), span, span / 2, a0, a0]
        fit = least_squares(lambda q: model(q, rr) - ww, q0, jac=jac, bounds=(lo, hi))
        if best is None or fit.cost < best.cost:
            best = fit
    c, amp_a, amp_b, a, extra = best.x
    f = model(best.x, rr)
    corr = float(np.corrcoef(ww, f)[0, 1]) if np.ptp(f) > 0 else float("nan")
    fitted = nan.copy()
    fitted[ok] = f
    return DogFit(float(c), float(amp_a), float(amp_b), float(a), float(a + extra), corr,
                  fitted)


def _periodic_smooth(a: np.ndarray, sigma_bins: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(a, sigma_bins, mode="wrap")


def radial_fit(profile: ConnectivityProfile, orientation_deg: float) -> DogFit:
    """The best radial difference of Gaussians through the 2-D phase-sorted weights.

    Each bin of ``profile.mean_weight`` sits at the spatial distance its phase
    displacement stands for on the hexagonal torus; :func:`fit_difference_of_gaussians`
    is fitted to the bins against that distance, and ``correlation`` is Pearson's r
    between the bins and the fit: how much of the 2-D structure a centre-surround kernel
    of distance alone explains (about 0 for phase-shuffled units, whose map is noise).
    """
    edges = profile.phase_edges
    c = 0.5 * (edges[1:] + edges[:-1])
    d = np.stack(np.meshgrid(c, c), -1).reshape(-1, 2)  # (phi_x, phi_y) per bin, row-major
    shifts = np.array([[a, b] for a in (-1, 0, 1) for b in (-1, 0, 1)], float) * 2 * np.pi
    inv = -np.linalg.inv(_wave_vectors(profile.spacing_m, orientation_deg)).T
    r = np.min(np.hypot(*np.moveaxis((d[:, None, :] + shifts[None]) @ inv, -1, 0)), axis=1)
    w = profile.mean_weight.reshape(-1)
    order = np.argsort(r)
    fit = fit_difference_of_gaussians(r[order], w[order])
    fitted = np.full(w.shape, np.nan)
    fitted[order] = fit.fitted
    return DogFit(fit.offset, fit.centre, fit.surround, fit.centre_width,
                  fit.surround_width, fit.correlation, fitted.reshape(profile.mean_weight.shape))


def outgoing_offsets(w_rec: np.ndarray, phases: np.ndarray, spacing_m: float,
                     orientation_deg: float, bins: int = 15) -> np.ndarray:
    """(n, 2) spatial shift (m) of each unit's outgoing weights on the neural sheet,
    relative to the population's kernel.

    The population kernel ``K(dphi)`` is the phase-sorted mean weight
    (:func:`connectivity_profile`, smoothed over one bin on the torus). If unit ``i``'s
    outgoing weights ``W[i, j]`` (the convention of gridform.core.models) follow the kernel
    shifted by ``delta_i``, ``W[i, j] - K(dphi_ij) ~ -delta_i . grad K(dphi_ij)`` to first
    order, so ``delta_i`` is the least-squares regression of the residuals on
    ``-grad K`` over the unit's partners; a phase shift is turned into a spatial one
    through the lattice (a translation ``dx`` turns the phases by ``-k . dx``). A
    continuous attractor's units project ahead along their preferred direction (Burak &
    Fiete 2009), so these shifts point along each unit's velocity preference.
    """
    w = np.asarray(w_rec, dtype=np.float64)
    ph = np.asarray(phases, dtype=np.float64)
    n = ph.shape[0]
    prof = connectivity_profile(w, ph, spacing_m, orientation_deg, bins=bins)
    k = np.where(np.isfinite(prof.mean_weight), prof.mean_weight,
                 np.nanmean(prof.mean_weight))
    k = _periodic_smooth(k, 1.0)
    step = 2 * np.pi / bins
    grad_x = (np.roll(k, -1, axis=1) - np.roll(k, 1, axis=1)) / (2 * step)  # d/dphi_x
    grad_y = (np.roll(k, -1, axis=0) - np.roll(k, 1, axis=0)) / (2 * step)
    dphi = (ph[None, :, :] - ph[:, None, :] + np.pi) % (2 * np.pi) - np.pi
    ix = np.clip(((dphi[..., 0] + np.pi) / step).astype(int), 0, bins - 1)
    iy = np.clip(((dphi[..., 1] + np.pi) / step).astype(int), 0, bins - 1)
    resid = w - k[iy, ix]
    g = -np.stack([grad_x[iy, ix], grad_y[iy, ix]], -1)  # (i, j, 2)
    off = ~np.eye(n, dtype=bool)
    delta = np.full((n, 2), np.nan)
    for i in range(n):
        gi, ri = g[i][off[i]], resid[i][off[i]]
        if np.linalg.matrix_rank(gi) == 2:
            delta[i] = np.linalg.lstsq(gi, ri, rcond=None)[0]
    return delta @ (-np.linalg.inv(_wave_vectors(spacing_m, orientation_deg)).T)


def alignment(angles_a, angles_b) -> float:
    """Mean cosine of the angle between paired directions (radians): 1 when every pair
    agrees, 0 for unrelated directions, -1 when opposite. NaN pairs are left out."""
    a, b = np.asarray(angles_a, float), np.asarray(angles_b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.mean(np.cos(a[ok] - b[ok]))) if ok.any() else float("nan")


@dataclass(frozen=True)
class Eigenmodes:
    """Eigenvalues of ``W`` sorted by modulus, and the spatial maps of the top modes.

    ``maps`` holds ``Re(sum_i v_ik r_i(x))``: each leading eigenvector read out through
    the units' ratemaps, i.e. the spatial pattern that mode carries.
    """

    eigenvalues: np.ndarray
    maps: Ratemaps


def eigenmodes(w_rec: np.ndarray, maps: Ratemaps, top: int = 8) -> Eigenmodes:
    """Eigen-decomposition of the recurrent matrix and the spatial maps of its top modes."""
    w = np.asarray(w_rec, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] != maps.n_cells:
        raise ValueError(f"w_rec must be square with one row per map ({maps.n_cells}), "
                         f"got {w.shape}")
    # W acts on row vectors (h W): its modes are the left eigenvectors, eig(W^T)
    vals, vecs = np.linalg.eig(w.T)
    order = np.argsort(-np.abs(vals))
    vals, vecs = vals[order], vecs[:, order[:top]]
    flat = np.nan_to_num(maps.rates.reshape(maps.n_cells, -1))
    modes = np.real(vecs.T @ flat).reshape(-1, *maps.shape)
    return Eigenmodes(vals, Ratemaps(modes.astype(np.float32), maps.occupancy,
                                     maps.x_centers, maps.y_centers))


def silence_units(params: dict, units) -> dict:
    """Parameters with the given hidden units silenced: their outgoing weights are zero.

    A silenced unit still computes its activity but nothing reads it: its row of
    ``w_rec`` (recurrent output) and of ``decoder`` (readout) are zero. For gated cells
    every gate's recurrent row is zeroed.
    """
    units = np.asarray(units, dtype=int)
    out = dict(params)
    n = params["w_rec"].shape[0]
    if units.size and (units.min() < 0 or units.max() >= n):
        raise ValueError(f"unit indices must lie in [0, {n}), got {units.min()}..{units.max()}")
    for name in ("w_rec", "decoder"):
        a = np.array(params[name])
        a[units, :] = 0
        out[name] = a if isinstance(params[name], np.ndarray) else _like(params[name], a)
    return out


def _like(template, array):
    import jax.numpy as jnp

    return jnp.asarray(array, dtype=template.dtype)
