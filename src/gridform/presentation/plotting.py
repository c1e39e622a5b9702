"""Figures from computed data; every function returns its figure.

This module never chooses a matplotlib backend: the command line picks a non-interactive
one, and a notebook keeps its own.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from gridform.analysis.spectra import power_spectrum
from gridform.core.ratemaps import Ratemaps

__all__ = ["plot_attractor_run", "plot_autocorrelograms", "plot_firing_on_path",
           "plot_ratemap_spectrum",
           "plot_ratemaps", "plot_score_histograms", "plot_sheet", "plot_sheet_gain",
           "plot_spectrum", "plot_topology", "save_figure"]


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
    im = None
    for ax, c in zip(flat, cells, strict=False):
        r = maps.rates[c]
        lo, hi = (np.nanmin(r), np.nanmax(r)) if np.isfinite(r).any() else (0.0, 1.0)
        # each map on its own scale, shown as 0 (its minimum) .. 1 (its maximum)
        im = ax.imshow((r - lo) / (hi - lo if hi > lo else 1.0), origin="lower",
                       extent=maps.extent, cmap="jet", vmin=0, vmax=1)
        label = f"#{c}" if scores is None else f"#{c} g={scores.score_60[c]:.2f}"
        ax.set_title(label, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in flat[len(cells):]:
        ax.axis("off")
    if title:
        if im is not None and len(flat) > 1:
            fig.colorbar(im, ax=axes, shrink=0.8, label="rate, each map from its min to its max")
        g = "; g = gridness score_60" if scores is not None else ""
        fig.suptitle(f"{title} (each panel {maps.width:.1f} m x {maps.height:.1f} m{g})",
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


def plot_topology(topology, max_modules: int = 4):
    """Modules and persistent homology of a :class:`gridform.analysis.topology.Topology`.

    First row: spacing against orientation of every grid unit, coloured by module (grey:
    in no module). One row per module after it: bar lifetimes of H0, H1 and H2, longest
    first, with the longest bar of the shuffle null as a dashed line (a bar above it
    counts), and, for a torus, the two decoded toroidal phases over the arena.
    """
    mods = topology.modules[:max_modules]
    nrows = 1 + len(mods)
    ncols = 3 if any(m.phases is not None for m in mods) else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols + 1, 2.9 * nrows),
                             squeeze=False)
    ax = axes[0, 0]
    feats = topology.settings.get("features")
    colors = plt.cm.tab10(np.arange(10))
    if feats is not None:
        sp, ori = np.asarray(feats["spacing_m"]), np.asarray(feats["orientation_deg"])
        grid = np.asarray(topology.grid_units, int)
        ax.scatter(ori[grid], sp[grid], s=10, c="0.7", label="grid units")
        for i, m in enumerate(topology.modules):
            ax.scatter(ori[m.units], sp[m.units], s=12, color=colors[i % 10],
                       label=f"module {i + 1} ({len(m.units)})")
        ax.set_xlim(0, 60)
        ax.legend(fontsize=6)
    ax.set_xlabel("orientation (deg, period 60)")
    ax.set_ylabel("spacing (m)")
    ax.set_title(f"{len(topology.grid_units)} of {topology.n_units} units above "
                 f"{topology.threshold:.2f}: {topology.n_modules} module(s)", fontsize=8)
    for ax in axes[0, 1:]:
        ax.axis("off")
    for row, m in enumerate(mods, start=1):
        ax = axes[row, 0]
        for dim, (lts, col) in enumerate(zip((m.h0_lifetimes, m.h1_lifetimes,
                                              m.h2_lifetimes), ("C0", "C1", "C2"),
                                             strict=True)):
            lts = np.asarray(lts[:8])
            xs = dim * 9 + np.arange(lts.size)
            ax.bar(xs, lts, color=col, width=0.8, label=f"H{dim}")
            ax.hlines(m.null_max[dim], dim * 9 - 0.5, dim * 9 + 7.5, colors="k",
                      linestyles="--", linewidth=1)
        ax.set_xticks([3.5, 12.5, 21.5], ["H0", "H1", "H2"])
        ax.set_ylabel("bar lifetime")
        verdict = "torus" if m.torus else "not a torus"
        ax.set_title(f"module {row}: {m.spacing_m:.2f} m, {m.orientation_deg:.0f}"
                     f"±{m.orientation_spread_deg:.1f}°; Betti {tuple(m.betti)}, {verdict}"
                     " (dashed: null max)", fontsize=7)
        for j in range(ncols - 1):
            ax = axes[row, 1 + j]
            if m.phases is None:
                ax.axis("off")
                continue
            pos = np.asarray(m.positions)
            sc = ax.scatter(pos[:, 0], pos[:, 1], c=np.mod(m.phases[j], 2 * np.pi), s=6,
                            cmap="hsv", vmin=0, vmax=2 * np.pi)
            ax.set_aspect("equal")
            ax.set_title(f"decoded phase {j + 1} over the arena", fontsize=7)
            ax.set_xlabel("x (m)", fontsize=7)
            ax.set_ylabel("y (m)", fontsize=7)
            fig.colorbar(sc, ax=ax, label="phase (rad)", shrink=0.8)
    fig.tight_layout()
    return fig


def save_figure(fig, path, dpi: int = 110):
    """Write ``fig`` atomically as PNG (or the format of ``path``'s suffix), then close it."""
    from pathlib import Path

    from gridform.core.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png",
                    bbox_inches="tight")
    plt.close(fig)
    return path


def plot_condition_fractions(labels: list[str], fractions, title: str):
    """Bar chart: the fraction of runs forming grids in each condition of a sweep."""
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(labels) + 2), 3.6))
    x = np.arange(len(labels))
    ax.bar(x, fractions)
    ax.set_xticks(x, [lab.replace(", ", "\n") for lab in labels], fontsize=7)
    ax.set(ylim=(0, 1), ylabel="fraction of runs forming grids", title=title)
    return fig



def plot_autocorrelograms(maps: Ratemaps, scores, cells, ncols: int = 8):
    """Spatial autocorrelograms of ``cells``, each titled with its gridness g (score_60),
    lags in metres, one shared colour scale of correlation (-1 to 1) with its colourbar."""
    from gridform.analysis.scores import autocorrelogram

    cells = np.asarray(cells)
    sacs = autocorrelogram(maps.rates[cells])
    ny, nx = maps.shape
    dx, dy = maps.width / nx, maps.height / ny
    extent = (-(nx - 1) * dx, (nx - 1) * dx, -(ny - 1) * dy, (ny - 1) * dy)
    nrows = int(np.ceil(len(cells) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.6 * ncols + 0.8, 1.7 * nrows + 0.5),
                             squeeze=False)
    flat = np.ravel(axes)
    im = None
    for ax, c, sac in zip(flat, cells, sacs, strict=False):
        im = ax.imshow(sac, origin="lower", extent=extent, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(f"#{c} g={scores.score_60[c]:.2f}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in flat[len(cells):]:
        ax.axis("off")
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.8, label="correlation")
    fig.suptitle(f"spatial autocorrelograms (lags up to {extent[1]:.1f} m); g = gridness "
                 "score_60", fontsize=9)
    return fig


def plot_score_histograms(scores, active, predicted_spacing_m: float | None = None,
                          null_threshold: float | None = None):
    """Histograms of gridness (all active units, with 0.3, 0.8 and a null's 95th
    percentile marked), and of spacing and orientation of the units above 0.8 (the
    theory's spacing marked)."""
    s60 = scores.score_60[active]
    good = active & (np.nan_to_num(scores.score_60, nan=-9) > 0.8)
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.2))
    ax[0].hist(s60[np.isfinite(s60)], bins=30, color="0.4")
    ax[0].axvline(0.3, color="k", ls="--", lw=0.8, label="0.3")
    ax[0].axvline(0.8, color="k", ls=":", lw=0.8, label="0.8")
    if null_threshold is not None and np.isfinite(null_threshold):
        ax[0].axvline(null_threshold, color="tab:red", lw=1,
                      label=f"null 95th pct {null_threshold:.2f}")
    ax[0].set(xlabel="gridness score_60", ylabel="active units",
              title=f"gridness of {int(active.sum())} active units")
    ax[0].legend(fontsize=7)
    sp = scores.spacing_m[good]
    sp = sp[np.isfinite(sp)]
    ax[1].hist(sp, bins=20, color="tab:blue")
    if predicted_spacing_m is not None and np.isfinite(predicted_spacing_m):
        ax[1].axvline(predicted_spacing_m, color="k", lw=1.2,
                      label=f"theory {predicted_spacing_m:.3f} m")
    if sp.size:
        ax[1].axvline(float(np.median(sp)), color="tab:orange", ls="--", lw=1.2,
                      label=f"median {np.median(sp):.3f} m")
    ax[1].set(xlabel="grid spacing (m)", ylabel="units above 0.8",
              title=f"spacing of {sp.size} units above 0.8")
    if ax[1].get_legend_handles_labels()[0]:  # nothing to label without units or theory
        ax[1].legend(fontsize=7)
    ori = scores.orientation_deg[good]
    ori = ori[np.isfinite(ori)]
    ax[2].hist(ori, bins=np.arange(0, 61, 5), color="tab:green")
    ax[2].set(xlabel="orientation (deg, period 60)", ylabel="units above 0.8",
              title="lattice orientation", xlim=(0, 60))
    fig.tight_layout()
    return fig


def plot_ratemap_spectrum(maps: Ratemaps, active, k_star: float | None = None):
    """The 2-D power spectrum of the active units' ratemaps (each mean-subtracted, NaN
    bins at the map's mean, averaged over units), in rad/m, with the theory's ring k* and
    the grid's first Fourier shell drawn as circles."""
    rates = maps.rates[np.asarray(active)]
    fig, ax = plt.subplots(figsize=(4.6, 4))
    if rates.shape[0] == 0:
        ax.text(0.5, 0.5, "no active units", ha="center", transform=ax.transAxes)
        return fig
    power, ky, kx = power_spectrum(maps.select(active)).shifted()
    im = ax.pcolormesh(kx, ky, power / power.max(), cmap="magma", shading="nearest")
    fig.colorbar(im, ax=ax, label="power (normalised)")
    if k_star is not None and k_star > 0:
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(k_star * np.cos(t), k_star * np.sin(t), "c--", lw=1,
                label=f"theory ring k* = {k_star:.2f} rad/m")
        ax.legend(fontsize=7, loc="upper right")
    lim = 3 * k_star if k_star else kx.max()
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="k_x (rad/m)", ylabel="k_y (rad/m)",
           title="ratemaps' 2-D power spectrum", aspect="equal")
    return fig


def plot_sheet_gain(params, ax=None):
    """The attractor kernel's gain about the uniform state: ``W^(k)`` (no shifts) and the
    effective ``G(k) = W^(k) J0(k l)``, the threshold 1 and the ring ``k*``."""
    from gridform.attractor.theory import effective_gain, kernel_spectrum, sheet_theory

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    th = sheet_theory(params)
    k = np.linspace(0, max(1.0, 3 * th.k_star), 400)
    ax.plot(k, kernel_spectrum(k, params), color="C7", lw=1, label="kernel W^(k)")
    ax.plot(k, effective_gain(k, params), color="C0", label="with shifts, G(k)")
    ax.axhline(1, color="k", lw=0.6, ls=":", label="pattern threshold G = 1")
    ax.axvline(th.k_star, color="C3", ls="--", lw=1,
               label=f"k* = {th.k_star:.3f} rad/neuron ({th.period_neurons:.1f} neurons)")
    top = max(2.0, 1.2 * th.ring_gain)
    ax.set(xlabel="wavenumber |k| (rad/neuron)", ylabel="gain", ylim=(-0.5, top),
           title="the sheet's ring")
    ax.legend(fontsize=6)
    return ax.figure


def plot_sheet(state, ax=None, title: str = "the sheet's activity"):
    """An (n, n) sheet state (x along columns)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3))
    im = ax.imshow(np.asarray(state), origin="lower", cmap="viridis")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, label="rate")
    ax.set(xlabel="neuron (x)", ylabel="neuron (y)", title=title)
    return ax.figure


def plot_firing_on_path(positions, rate, ax=None, fraction: float = 0.5):
    """A neuron's firing on the path: the path (positions (time, 2), m) in grey, the
    samples where ``rate`` (time,) exceeds ``fraction`` of its peak in red. Fields show
    whatever the bins, as in a spike-on-path plot."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 3.2))
    p, r = np.asarray(positions), np.asarray(rate)
    ax.plot(p[:, 0], p[:, 1], color="0.8", lw=0.3)
    high = r > fraction * np.max(r) if r.size and np.max(r) > 0 else np.zeros(r.shape, bool)
    ax.scatter(p[high, 0], p[high, 1], s=1.5, color="C3")
    ax.set(aspect="equal", xlabel="x (m)", ylabel="y (m)")
    return ax.figure


def plot_attractor_run(summary: dict, params, state, maps: Ratemaps, scores,
                       times_s, error_m, positions=None, rates=None):
    """One attractor run: the kernel's gain and ring, the sheet, the path-integration
    error along the path, and the most grid-like recorded neurons (their firing on the
    path when ``positions`` (time, 2) and ``rates`` (time, neuron) are given, and their
    ratemaps)."""
    fig = plt.figure(figsize=(15, 6))
    gs = fig.add_gridspec(2, 6, hspace=0.45, wspace=1.5)
    plot_sheet_gain(params, fig.add_subplot(gs[0, :2]))
    plot_sheet(state, fig.add_subplot(gs[0, 2:4]),
               f"the sheet: period {summary['sheet_period_measured']:.2f} neurons")
    ax = fig.add_subplot(gs[0, 4:])
    ax.plot(times_s, 100 * np.asarray(error_m))
    ax.set(xlabel="time (s)", ylabel="error (cm)",
           title="path integration: decoded - true position")
    s = np.nan_to_num(scores.score_60, nan=-9)
    shown = 3 if positions is not None and rates is not None else 6
    order = np.argsort(-s)[:shown]
    plot_ratemaps(maps, scores, cells=order, axes=np.array(
        [fig.add_subplot(gs[1, c]) for c in range(shown)]))
    if shown == 3:
        for c, cell in enumerate(order):
            ax = fig.add_subplot(gs[1, 3 + c])
            plot_firing_on_path(positions, np.asarray(rates)[:, cell], ax)
            ax.set_title(f"#{cell} on the path", fontsize=7)
            ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    fig.suptitle(
        f"continuous attractor, {summary['sheet']} x {summary['sheet']} sheet: "
        f"{summary['frac_above_0.8']:.0%} of {summary['n_recorded']} neurons above 0.8, "
        f"spacing {summary['spacing_measured_m']:.3f} m (predicted "
        f"{summary['spacing_predicted_m']:.3f} m)", fontsize=10)
    return fig
