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
