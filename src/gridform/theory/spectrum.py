"""The place-cell covariance, its spectrum and the ring of optimal spatial frequencies.

docs/theory.md section 2 (Sorscher et al. 2019, section 3): with the MSE loss and the optimal
readout, hidden maps should span the top eigenvectors of the spatial covariance
``Sigma = P P^T / n_p``. ``Sigma(x, x')`` depends on ``x - x'`` only, so its eigenvectors are
plane waves ``e^{i k.x}`` with eigenvalues ``Sigma~(k) ~ |p~(k)|^2``, the power spectrum of
one tuning curve. For a centre-surround tuning it peaks on a ring ``|k| = k*``; three plane
waves on the ring at 120 degrees make a triangular lattice of spacing
``4 pi / (sqrt(3) k*)`` (the plane-wave period ``2 pi / k*`` is not the grid spacing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import scipy.optimize as opt

from gridform.core.place_cells import PlaceCells, _check_kind
from gridform.core.reference import SIGMA_M, SURROUND_SCALE

__all__ = [
    "CovarianceKernel",
    "SpacingCorrection",
    "TheoryPrediction",
    "corrected_spacing",
    "corrected_wavenumber",
    "grid_spacing",
    "kernel_from_maps",
    "lattice_wavenumber",
    "plane_wave_period",
    "predict",
    "radial_profile",
    "ring_wavenumber",
    "spatial_covariance",
    "step_length_m",
    "tuning_power_spectrum",
]


def _check_params(sigma: float, surround_scale: float, kind: str) -> None:
    _check_kind(kind)
    if not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number of metres, got {sigma!r}")
    if kind != "gaussian" and (not math.isfinite(surround_scale) or surround_scale <= 1):
        raise ValueError(f"surround_scale (sigma2^2/sigma1^2) must be > 1, got "
                         f"{surround_scale!r}")


def tuning_power_spectrum(k, kind: str = "dos", sigma: float = SIGMA_M,
                          surround_scale: float = SURROUND_SCALE, surround_amplitude: float = 1.0
                          ) -> np.ndarray:
    """Power spectrum ``|p~(k)|^2`` of one tuning curve at wavenumbers ``k`` (rad/m).

    With ``sigma1 = sigma`` and ``sigma2^2 = s sigma^2`` (2-D Fourier transform of
    ``exp(-d^2/2 sigma^2)`` is ``2 pi sigma^2 exp(-sigma^2 k^2 / 2)``):

    - ``gaussian``: ``exp(-sigma1^2 k^2)``;
    - ``dos`` and ``dog``: ``(exp(-sigma1^2 k^2/2) - exp(-sigma2^2 k^2/2))^2`` (the softmax
      normalisation of DoS makes each Gaussian integrate to the same total, like ``dog``);
    - ``dog_unnormalised``: ``(exp(-sigma1^2 k^2/2) - a s exp(-sigma2^2 k^2/2))^2``.

    Each is scaled by the same constant ``(2 pi sigma1^2)^2`` dropped here.
    """
    _check_params(sigma, surround_scale, kind)
    k = np.asarray(k, dtype=np.float64)
    s1 = sigma**2
    s2 = surround_scale * s1
    if kind == "gaussian":
        return np.exp(-s1 * k**2)
    if kind in ("dos", "dog"):
        return (np.exp(-s1 * k**2 / 2) - np.exp(-s2 * k**2 / 2)) ** 2
    a = surround_amplitude
    return (np.exp(-s1 * k**2 / 2) - a * surround_scale * np.exp(-s2 * k**2 / 2)) ** 2


def ring_wavenumber(kind: str = "dos", sigma: float = SIGMA_M,
                    surround_scale: float = SURROUND_SCALE,
                    surround_amplitude: float = 1.0) -> float:
    """Radius ``k*`` (rad/m) of the ring where the tuning spectrum peaks.

    Closed form for ``dos`` and ``dog`` (set the derivative of the spectrum to zero):
    ``k*^2 = 2 ln(sigma2^2/sigma1^2) / (sigma2^2 - sigma1^2) = 2 ln s / ((s - 1) sigma^2)``.
    ``gaussian``: 0 (the spectrum peaks at k = 0). ``dog_unnormalised``: numeric peak,
    which is 0 when the power at ``k = 0`` exceeds that of the positive lobe.
    """
    _check_params(sigma, surround_scale, kind)
    s = surround_scale
    if kind == "gaussian":
        return 0.0
    if kind in ("dos", "dog"):
        try:
            return math.sqrt(2 * math.log(s) / ((s - 1) * sigma**2))
        except (OverflowError, ZeroDivisionError):  # sigma^2 outside the float range
            return math.sqrt(2 * math.log(s) / (s - 1)) / sigma  # the same k*, unsquared

    def neg(k):
        return -float(tuning_power_spectrum(k, kind, sigma, s, surround_amplitude))

    ks = np.linspace(0, 10 / sigma, 4001)
    vals = tuning_power_spectrum(ks, kind, sigma, s, surround_amplitude)
    i = int(np.argmax(vals))
    if i == 0:
        return 0.0
    res = opt.minimize_scalar(neg, bounds=(ks[i - 1], ks[min(i + 1, ks.size - 1)]),
                              method="bounded", options={"xatol": 1e-10})
    return float(res.x)


def plane_wave_period(k_star: float) -> float:
    """Period ``2 pi / k*`` (m) of one plane wave on the ring (not the grid spacing)."""
    return math.inf if k_star <= 0 else 2 * math.pi / k_star


def grid_spacing(k_star: float) -> float:
    """Nearest-neighbour spacing ``4 pi / (sqrt(3) k*)`` (m) of the triangular lattice."""
    return math.inf if k_star <= 0 else 4 * math.pi / (math.sqrt(3) * k_star)


def lattice_wavenumber(spacing_m: float) -> float:
    """The ring ``k*`` (rad/m) of a triangular lattice of spacing ``spacing_m``: the
    inverse of :func:`grid_spacing`, which is the same map (``x -> 4 pi / (sqrt 3 x)`` is
    its own inverse)."""
    return grid_spacing(spacing_m)


@dataclass(frozen=True)
class TheoryPrediction:
    """The analytic prediction for one place-cell code.

    Attributes:
        kind, sigma (m), surround_scale (sigma2^2/sigma1^2): the place-cell code.
        k_star: ring radius, rad/m.
        plane_wave_period_m: ``2 pi / k*``, m.
        grid_spacing_m: ``4 pi / (sqrt(3) k*)``, m (the spacing gridness analyses measure).
        box_limited: True when the spectrum peaks at ``k = 0``; the optimal maps are then
            the lowest modes the box allows and their scale is set by the box.
        corrected_spacing_m: the spacing of the corrected law, m, when a correction was
            given (:func:`corrected_spacing`).
    """

    kind: str
    sigma: float
    surround_scale: float
    k_star: float
    plane_wave_period_m: float
    grid_spacing_m: float
    box_limited: bool
    corrected_spacing_m: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["corrected_spacing_m"] is None:  # no correction asked for
            del d["corrected_spacing_m"]
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in d.items()}


def predict(kind: str = "dos", sigma: float = SIGMA_M, surround_scale: float = SURROUND_SCALE,
            surround_amplitude: float = 1.0, correction: SpacingCorrection | None = None,
            step_m: float = 0.0) -> TheoryPrediction:
    """k*, plane-wave period and grid spacing for a place-cell code; with ``correction``
    also the corrected spacing for paths of step length ``step_m`` (:func:`step_length_m`)."""
    k = ring_wavenumber(kind, sigma, surround_scale, surround_amplitude)
    corrected = None if correction is None else corrected_spacing(
        kind, sigma, surround_scale, step_m, correction, surround_amplitude)
    return TheoryPrediction(kind, float(sigma), float(surround_scale), k,
                            plane_wave_period(k), grid_spacing(k), k == 0.0, corrected)


# ---------------------------------------------------------------------------------
# The corrected law: the step cost of path integration (docs/spacing.md)
# ---------------------------------------------------------------------------------
RAYLEIGH_FOURTH_MOMENT = 8.0  # <v^4> / b^4 for Rayleigh speeds of scale b


def step_length_m(speed_scale: float, dt: float) -> float:
    """``l = <|v dt|^4>^(1/4) = 8^(1/4) b dt`` (m) for Rayleigh speeds of scale ``b`` (m/s)."""
    if not (math.isfinite(speed_scale) and speed_scale >= 0):
        raise ValueError(f"speed_scale must be a number of m/s >= 0, got {speed_scale!r}")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
    return RAYLEIGH_FOURTH_MOMENT ** 0.25 * speed_scale * dt


@dataclass(frozen=True)
class SpacingCorrection:
    """The terms of the corrected law: ``weight`` of the step cost ``(k l)^exponent``
    (4, the derived velocity-linear update error, by default) and the speed-independent
    relative ``offset`` (weight and offset 0: the plain prediction)."""

    weight: float = 0.0
    offset: float = 0.0
    exponent: float = 4.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise ValueError(f"weight must be a number >= 0, got {self.weight!r}")
        if not (math.isfinite(self.offset) and self.offset > -1):
            raise ValueError(f"offset must be a number > -1, got {self.offset!r}")
        if not (math.isfinite(self.exponent) and self.exponent > 0):
            raise ValueError(f"exponent must be a number > 0, got {self.exponent!r}")


def corrected_wavenumber(kind: str, sigma: float, surround_scale: float, step_m: float,
                         weight: float, surround_amplitude: float = 1.0,
                         exponent: float = 4.0) -> float:
    """``k_c = argmax_k P(k)/P(k*) - weight (k step_m)^exponent`` (rad/m), searched in
    ``(0, k*]``; 0 for a code without a ring."""
    k_star = ring_wavenumber(kind, sigma, surround_scale, surround_amplitude)
    if k_star == 0.0 or weight == 0.0 or step_m == 0.0:
        return k_star
    peak = float(tuning_power_spectrum(k_star, kind, sigma, surround_scale,
                                       surround_amplitude))

    def objective(k):
        return (tuning_power_spectrum(k, kind, sigma, surround_scale, surround_amplitude)
                / peak - weight * (k * step_m) ** exponent)

    ks = np.linspace(0, k_star, 401)[1:]
    i = int(np.argmax(objective(ks)))  # the coarse peak, then refined between neighbours
    lo, hi = ks[max(i - 1, 0)], ks[min(i + 1, ks.size - 1)]
    return float(opt.minimize_scalar(lambda k: -float(objective(k)), bounds=(lo, hi),
                                     method="bounded", options={"xatol": 1e-10}).x)


def corrected_spacing(kind: str, sigma: float, surround_scale: float, step_m: float,
                      correction: SpacingCorrection, surround_amplitude: float = 1.0
                      ) -> float:
    """The corrected grid spacing (m): ``grid_spacing(k_c) * (1 + offset)``."""
    k = corrected_wavenumber(kind, sigma, surround_scale, step_m, correction.weight,
                             surround_amplitude, correction.exponent)
    return grid_spacing(k) * (1 + correction.offset)



# ---------------------------------------------------------------------------------
# Empirical covariance of a place-cell code
# ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CovarianceKernel:
    """Translation-averaged spatial covariance of a place-cell code on a grid.

    Attributes:
        kernel: (2 n_y - 1, 2 n_x - 1) ``Sigma(d)``, the average over positions ``x`` of
            ``Sigma(x, x + d) = sum_i p_i(x) p_i(x + d) / n_p``; zero lag at the centre.
        spectrum: (n_y, n_x) eigenvalues of ``Sigma *`` on the periodic grid (FFT order),
            only for a periodic box (else None).
        dx, dy: bin size, m.
        n_x, n_y: grid size.
        periodic: whether the box was a torus.
    """

    kernel: np.ndarray
    spectrum: np.ndarray | None
    dx: float
    dy: float
    n_x: int
    n_y: int
    periodic: bool

    def radial_spectrum(self, pad: int = 8, max_k: float | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(k, power): the radially averaged 2-D spectrum of the kernel, rad/m.

        The kernel is zero-padded ``pad`` times before the FFT, which samples the
        continuous spectrum finely enough to locate its ring.
        """
        return radial_profile(self.kernel, self.dx, self.dy, pad=pad, max_k=max_k)

    def ring(self, pad: int = 8) -> float:
        """Numeric ring radius k* (rad/m): the peak of :meth:`radial_spectrum`."""
        k, p = self.radial_spectrum(pad=pad)
        i = int(np.argmax(p))
        if i == 0 or i == p.size - 1:
            return float(k[i])
        y0, y1, y2 = p[i - 1], p[i], p[i + 1]
        denom = y0 - 2 * y1 + y2
        off = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
        return float(k[i] + off * (k[1] - k[0]))


def radial_profile(kernel: np.ndarray, dx: float, dy: float, pad: int = 8,
                   max_k: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum (k in rad/m, power) of a centred 2-D kernel."""
    h, w = kernel.shape
    fy, fx = pad * h, pad * w
    centred = np.zeros((fy, fx))
    centred[:h, :w] = kernel
    centred = np.roll(centred, (-(h // 2), -(w // 2)), axis=(0, 1))
    power = np.abs(np.fft.fft2(centred)) * dx * dy
    ky = 2 * np.pi * np.fft.fftfreq(fy, d=dy)
    kx = 2 * np.pi * np.fft.fftfreq(fx, d=dx)
    kk = np.hypot(*np.meshgrid(kx, ky))
    dk = 2 * np.pi / max(fx * dx, fy * dy)
    top = max_k if max_k is not None else min(np.abs(kx).max(), np.abs(ky).max())
    edges = np.arange(0, top + dk, dk)
    idx = np.digitize(kk.ravel(), edges) - 1
    ok = (idx >= 0) & (idx < edges.size - 1)
    sums = np.bincount(idx[ok], weights=power.ravel()[ok], minlength=edges.size - 1)
    counts = np.bincount(idx[ok], minlength=edges.size - 1)
    with np.errstate(invalid="ignore"):
        prof = sums / counts
    centres = (edges[:-1] + edges[1:]) / 2
    centres[0] = 0.0
    keep = counts > 0
    return centres[keep], prof[keep]


def spatial_covariance(place_cells: PlaceCells, bins: int | tuple[int, int] = 44,
                       centre: bool = True) -> CovarianceKernel:
    """The translation-averaged covariance of a place-cell code sampled on a grid.

    The code ``P`` (positions x cells) is evaluated at the bin centres of the place
    cells' box. With ``centre`` (the default) each cell's spatial mean is removed first:
    the constant mode is carried by the readout (a softmax is blind to a constant shift
    of its logits, and an MSE readout with a bias absorbs it), and without centring the
    nonnegative DoS code puts most of its power at ``k = 0``. On a torus, ``Sigma *`` is
    diagonal in Fourier space with eigenvalues ``sum_i |FFT(p_i)(k)|^2 / (n_p n_pos)``; in
    a walled box each lag is averaged over the positions for which both ends lie in it.
    """
    box = place_cells.box
    n_x, n_y = (bins, bins) if isinstance(bins, int) else bins
    if n_x < 2 or n_y < 2:
        raise ValueError(f"bins must be at least 2 per axis, got {bins!r}")
    grid = box.grid(n_x, n_y)
    P = np.asarray(place_cells.encode(grid), dtype=np.float64)  # (n_pos, n_p)
    if centre:
        P = P - P.mean(axis=0, keepdims=True)
    return kernel_from_maps(P.T.reshape(place_cells.n_cells, n_y, n_x), box)


def kernel_from_maps(maps: np.ndarray, box) -> CovarianceKernel:
    """The translation-averaged covariance kernel of maps (cell, y, x) covering ``box``.

    The maps are used as given (centre them first for the theory's covariance). Used for
    simulated codes (:func:`spatial_covariance`) and recorded ones alike.
    """
    maps = np.asarray(maps, dtype=np.float64)
    n_p, n_y, n_x = maps.shape
    dx, dy = box.width / n_x, box.height / n_y
    if box.periodic:
        f = np.fft.fft2(maps)
        spectrum = np.sum(np.abs(f) ** 2, axis=0) / (n_p * n_x * n_y)
        circ = np.real(np.fft.ifft2(spectrum))  # circular kernel, zero lag at [0, 0]
        rows = np.arange(-(n_y - 1), n_y) % n_y
        cols = np.arange(-(n_x - 1), n_x) % n_x
        kernel = circ[rows][:, cols]
        # lags beyond half the box alias on a torus; keep the nearest image only
        ly = np.abs(np.arange(-(n_y - 1), n_y))[:, None]
        lx = np.abs(np.arange(-(n_x - 1), n_x))[None, :]
        kernel = np.where((2 * ly <= n_y) & (2 * lx <= n_x), kernel, 0.0)
        return CovarianceKernel(kernel, spectrum, dx, dy, n_x, n_y, True)
    fy, fx = 2 * n_y, 2 * n_x
    f = np.fft.rfft2(maps, s=(fy, fx))
    corr = np.fft.irfft2(np.sum(np.abs(f) ** 2, axis=0), s=(fy, fx)) / n_p
    ones = np.fft.rfft2(np.ones((n_y, n_x)), s=(fy, fx))
    count = np.rint(np.fft.irfft2(np.abs(ones) ** 2, s=(fy, fx)))
    rows = np.arange(-(n_y - 1), n_y) % fy
    cols = np.arange(-(n_x - 1), n_x) % fx
    kernel = corr[rows][:, cols] / count[rows][:, cols]
    return CovarianceKernel(kernel, None, dx, dy, n_x, n_y, False)
