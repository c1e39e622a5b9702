"""Figures. The only module that imports matplotlib; every function returns its figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from gridform.analysis.ratemaps import Ratemaps

__all__ = ["plot_ratemaps", "plot_spectrum"]


def plot_ratemaps(maps: Ratemaps, scores=None, cells=None, ncols: int = 8, title: str = "",
                  axes=None):
    """A grid of ratemaps (x, y in metres), each titled with its gridness when given."""
    cells = np.arange(min(maps.n_cells, 16)) if cells is None else np.asarray(cells)
    nrows = int(np.ceil(len(cells) / ncols))
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols, 1.7 * nrows + 0.4),
                                 squeeze=False)
    else:
        fig = np.ravel(axes)[0].figure
    flat = np.ravel(axes)
    for ax, c in zip(flat, cells, strict=False):
        ax.imshow(maps.rates[c], origin="lower", extent=maps.extent, cmap="jet")
        label = f"#{c}" if scores is None else f"#{c} g={scores.score_60[c]:.2f}"
        ax.set_title(label, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in flat[len(cells):]:
        ax.axis("off")
    if title:
        fig.suptitle(f"{title} (each panel {maps.width:.1f} m x {maps.height:.1f} m)",
                     fontsize=9)
    return fig


def plot_spectrum(k, power, k_star: float | None = None, ax=None, label: str = ""):
    """Radial power spectrum of the place-cell covariance with the ring k* marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    ax.plot(k, power / np.max(power), label=label or "empirical")
    if k_star is not None and k_star > 0:
        ax.axvline(k_star, color="k", ls="--", lw=1, label=f"k* = {k_star:.2f} rad/m")
    ax.set_xlabel("wavenumber |k| (rad/m)")
    ax.set_ylabel("power (normalised)")
    ax.set_title("place-cell covariance spectrum")
    ax.set_xlim(0, 4 * (k_star or 10))
    ax.legend(fontsize=7)
    return ax.figure


def plot_assumptions(report, maps: Ratemaps, n_examples: int = 4):
    """Six panels: covariance kernel, its radial spectrum, the spread of Sigma(x, x + d) by
    lag, the null of the translation-invariance test, and example centre-surround fits."""
    s = report.summary
    fig, axes = plt.subplots(2, 4, figsize=(14, 6.6))
    ax = axes[0, 0]
    kern = report.kernel
    h, w = kern.shape
    dx, dy = maps.bin_size
    ext = (-(w // 2) * dx, (w // 2) * dx, -(h // 2) * dy, (h // 2) * dy)
    ax.imshow(kern, origin="lower", extent=ext, cmap="RdBu_r",
              vmin=-np.abs(kern).max(), vmax=np.abs(kern).max())
    ax.set_title("translation-averaged covariance")
    ax.set_xlabel("lag x (m)")
    ax.set_ylabel("lag y (m)")
    ax = axes[0, 1]
    keep = report.k > 0
    ax.plot(report.k[keep], report.power[keep], color="k")
    if s["k_star"] is not None:
        ax.axvline(s["k_star"], color="C3", ls="--",
                   label=f"k* = {s['k_star']:.2f} rad/m\nspacing {s['predicted_spacing_m']:.3f} m")
        ax.legend(fontsize=8)
    ax.set_title("radial spectrum" + ("" if s["ring"] else " (no ring)"))
    ax.set_xlabel("k (rad/m)")
    ax = axes[0, 2]
    lags = np.array(report.extra["lags"])
    dist = np.hypot(lags[:, 0] * dy, lags[:, 1] * dx)
    ax.scatter(dist, report.spread_by_lag, s=8, color="k")
    ax.set_title("spread of Sigma(x, x+d) across regions")
    ax.set_xlabel("|d| (m)")
    ax = axes[0, 3]
    ti = s["translation_invariance"]
    ax.hist(report.null, bins=30, color="0.7", label="shifted-cells null")
    ax.axvline(ti["statistic"], color="C3", label=f"observed (p = {ti['p_value']:.3g})")
    ax.set_title("translation invariant" if s["translation_invariant"]
                 else "NOT translation invariant")
    ax.legend(fontsize=8)
    fitted = [c for c in report.cells if "dog_sigma1_m" in c]
    fitted.sort(key=lambda c: c["p_value"])
    picks = fitted[: n_examples // 2] + fitted[::-1][: n_examples - n_examples // 2]
    for ax, c in zip(axes[1], picks, strict=False):
        m = maps.rates[c["cell"]]
        ax.imshow(m, origin="lower", cmap="jet",
                  extent=(maps.x_centers[0], maps.x_centers[-1], maps.y_centers[0],
                          maps.y_centers[-1]))
        ax.set_title(f"cell {c['cell']}: surround {'yes' if c['surround'] else 'no'}\n"
                     f"p = {c['p_value']:.2g}, depth {c['surround_depth']:.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[1, len(picks):]:
        ax.axis("off")
    fig.suptitle(f"{s['n_cells']} place cells: centre-surround in "
                 f"{100 * s['surround_fraction']:.0f}% of fitted cells, "
                 f"{100 * s['multi_field_fraction']:.0f}% multi-field")
    fig.tight_layout()
    return fig
