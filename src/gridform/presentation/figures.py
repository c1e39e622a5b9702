"""The figures of ``gridform reproduce``, drawn from what each target measured.

Each target of :mod:`gridform.experiments.reproduce` computes its claims and leaves the data of its
figure in the run's context; :func:`save_target_figure` draws it here, in the
presentation layer, and writes ``FIGURES/NAME.png`` and ``.svg``. The command line passes
it to :func:`gridform.experiments.reproduce.reproduce` as ``draw``; so can a script.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gridform.analysis.scores import autocorrelogram
from gridform.core.reference import SIGMA_M, SURROUND_SCALE
from gridform.presentation.plotting import plot_ratemaps, plot_topology, plt, save_figure
from gridform.theory.spectrum import tuning_power_spectrum

__all__ = ["FIGURES", "save_target_figure"]


def draw_spectrum(*, cov, k, sigmas_theory, theory, points, sim, pred, rnn_spacing=None):
    """The figure of the ``spectrum`` target."""
    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    r = np.linspace(0, 0.6, 300)
    s1, s2 = 2 * SIGMA_M**2, 2 * SIGMA_M**2 * SURROUND_SCALE
    # each softmax divides by its area (proportional to sigma^2): surround weight 1 / s
    ax[0].plot(r, np.exp(-r**2 / s1) - np.exp(-r**2 / s2) / 2, label="DoS (shape)")
    ax[0].plot(r, np.exp(-r**2 / s1), label="Gaussian")
    ax[0].axhline(0, color="k", lw=0.5)
    ax[0].set(xlabel="distance from centre (m)", ylabel="tuning (a.u.)",
              title=f"place-cell tuning, sigma = {SIGMA_M} m")
    ax[0].legend(fontsize=7)
    kern = cov.kernel
    ext = [-cov.n_x * cov.dx, cov.n_x * cov.dx, -cov.n_y * cov.dy, cov.n_y * cov.dy]
    ax[1].imshow(kern, origin="lower", extent=ext, cmap="RdBu_r",
                 vmin=-np.abs(kern).max(), vmax=np.abs(kern).max())
    ax[1].set(title="Sigma(dx) of the DoS code", xlabel="dx (m)", ylabel="dy (m)")
    kk, pp = cov.radial_spectrum()
    ax[2].plot(kk, pp / pp.max(), label="empirical (512 cells, 2.2 m box)")
    analytic = tuning_power_spectrum(k, "dos", SIGMA_M, SURROUND_SCALE)
    ax[2].plot(k, analytic / analytic.max(), "--", label="analytic")
    ax[2].axvline(pred.k_star, color="k", lw=1, ls=":", label=f"k* = {pred.k_star:.1f}")
    ax[2].set(xlim=(0, 4 * pred.k_star), xlabel="|k| (rad/m)", ylabel="power (norm.)",
              title="spectrum and ring")
    ax[2].legend(fontsize=7)
    ax[3].plot(sigmas_theory, theory, label="theory 4 pi / (sqrt 3 k*)")
    ax[3].plot(points, sim, "o", label="pattern dynamics")
    if rnn_spacing is not None:
        ax[3].plot([SIGMA_M], [rnn_spacing], "s", label="trained RNN")
    ax[3].set(xlabel="sigma (m)", ylabel="grid spacing (m)", title="spacing vs sigma (s = 2)")
    ax[3].legend(fontsize=7)
    return fig


def draw_pattern(*, gauss_s, results, gauss, width, steps, n):
    """The figure of the ``pattern`` target."""
    fig, axes = plt.subplots(4, 6, figsize=(12, 8.6))
    for row, nl in enumerate(("relu", "tanh", "linear")):
        res, sc = results[nl]
        order = np.argsort(-np.nan_to_num(sc.score_60, nan=-9))[:6]
        plot_ratemaps(res.ratemaps, sc, cells=order, axes=axes[row])
        axes[row, 0].set_ylabel(nl, fontsize=10)
    plot_ratemaps(gauss.ratemaps, gauss_s, cells=np.arange(min(6, n)), axes=axes[3])
    axes[3, 0].set_ylabel("Gaussian Sigma", fontsize=10)
    fig.suptitle(f"single-cell pattern formation, DoS Sigma (sigma {SIGMA_M} m, "
                 f"s = {SURROUND_SCALE:g}), {width} m torus, {steps} steps")
    return fig


def draw_multicell(*, sc, res, n, ratios):
    """The figure of the ``multicell`` target."""
    fig, axes = plt.subplots(3, 8, figsize=(13, 5.4))
    plot_ratemaps(res.ratemaps, sc, cells=np.arange(min(24, n)), axes=axes)
    fig.suptitle("multi-cell dynamics (Sanger order, first maps top-left); successive "
                 "spacing ratios " + ", ".join(f"{r:.2f}" for r in ratios[:5]))
    return fig


def draw_one_layer(*, nmf, s_nmf, pca, s_pca, k, pc):
    """The figure of the ``one-layer`` target."""
    fig, axes = plt.subplots(2, 8, figsize=(13, 3.8))
    plot_ratemaps(nmf, s_nmf, cells=np.arange(8), axes=axes[0])
    plot_ratemaps(pca, s_pca, cells=np.arange(8), axes=axes[1])
    axes[0, 0].set_ylabel("NMF", fontsize=10)
    axes[1, 0].set_ylabel("PCA", fontsize=10)
    fig.suptitle(f"one-layer models of {pc.n_cells} DoS place cells on a lattice ({k} "
                 "components, 2.2 m walled box): greedy semi-NMF (top) vs PCA (bottom)")
    return fig


def draw_rnn(*, maps, scores, order, thr, s60, pred, active, null, run):
    """The figure of the ``rnn`` target."""
    fig = plt.figure(figsize=(14, 6.5))
    gs = fig.add_gridspec(3, 8)
    top = np.array([fig.add_subplot(gs[0, c]) for c in range(8)])
    plot_ratemaps(maps, scores, cells=order, axes=top)
    sac = autocorrelogram(maps.rates[order])
    for c, i in enumerate(order):
        ax = fig.add_subplot(gs[1, c])
        ax.imshow(sac[c], origin="lower", cmap="jet")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"SAC #{i}", fontsize=7)
    ax = fig.add_subplot(gs[2, :4])
    bins = np.linspace(-1.5, 2.0, 36)
    ax.hist(s60[active], bins=bins, alpha=0.7, density=True, label="trained units")
    ax.hist(null.scores, bins=bins, alpha=0.5, density=True, label="null model")
    ax.axvline(thr, color="k", ls="--", lw=1, label=f"spectral null 95th pct {thr:.2f}")
    ax.set(xlabel="gridness score_60", ylabel="density")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(gs[2, 5:])
    good = s60 > 0.3
    ax.hist(scores.spacing_m[good & np.isfinite(scores.spacing_m)], bins=20, alpha=0.8,
            label="units > 0.3")
    ax.axvline(pred, color="k", ls="--", label=f"theory {pred:.2f} m")
    ax.set(xlabel="spacing (m)", ylabel="units")
    ax.legend(fontsize=7)
    fig.suptitle(f"trained RNN ({run}): top units, autocorrelograms, scores vs null model")
    return fig


def draw_conditions(*, runs, frac, frac8, seeds, err, frac_label="> 0.3"):
    """The figure of the ``conditions`` target: ``frac`` (labelled ``frac_label``) and the
    fraction above 0.8 of each arm's seeds."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(runs)
    x = np.arange(len(names))
    for off, values, label in ((-0.2, frac, frac_label), (0.2, frac8, "> 0.8")):
        ax.bar(x + off, [np.mean(values[n]) for n in names], 0.4, label=label,
               yerr=[np.std(values[n]) for n in names], capsize=3)
        for i, n in enumerate(names):
            ax.plot(np.full(len(values[n]), x[i] + off), values[n], "k.", ms=4)
    ax.set_xticks(x, [f"{n}\n{np.nanmean(err[n]):.1f} cm" for n in names])
    ax.set(ylabel="fraction of active units",
           title=f"grid units by condition ({len(seeds)} seeds each)")
    ax.legend()
    return fig


def draw_mechanism(*, prof, modes, abl):
    """The figure of the ``mechanism`` target."""
    fig = plt.figure(figsize=(16, 7))
    gs = fig.add_gridspec(2, 8, wspace=1.0)
    ax = fig.add_subplot(gs[0, :2])
    if prof is not None:
        v = np.nanmax(np.abs(prof.mean_weight))
        im = ax.imshow(prof.mean_weight, origin="lower", cmap="RdBu_r", vmin=-v, vmax=v,
                       extent=[-180, 180, -180, 180])
        fig.colorbar(im, ax=ax, fraction=0.046)
        ax.set(xlabel="phase difference 1 (deg)", ylabel="phase difference 2 (deg)",
               title="mean W vs sheet displacement")
        ax = fig.add_subplot(gs[0, 2:4])
        ax.plot(100 * prof.radius_m, prof.radial_weight, "o-")
        ax.axhline(0, color="k", lw=0.5)
        ax.set(xlabel="equivalent spatial displacement (cm)", ylabel="mean W",
               title="radial profile")
    ax = fig.add_subplot(gs[0, 4:6])
    ev = modes.eigenvalues
    ax.plot(ev.real, ev.imag, ".", ms=3)
    ax.add_patch(plt.Circle((0, 0), 1, fill=False, ls="--", lw=0.8))
    ax.set(aspect="equal", xlabel="Re", ylabel="Im", title="eigenvalues of W")
    ax = fig.add_subplot(gs[0, 6:])
    if abl is not None:
        ax.hist(abl["increase_matched_cm"], bins=10, alpha=0.7, label="rate-matched low-score")
        ax.axvline(abl["increase_grid_cm"], color="C3", lw=2,
                   label=f"{abl['n_units']} grid units")
        ax.legend(fontsize=7)
    ax.set(xlabel="increase of decoding error (cm)", ylabel="draws", title="ablation")
    axes = np.array([fig.add_subplot(gs[1, c]) for c in range(8)])
    plot_ratemaps(modes.maps, None, cells=np.arange(8), axes=axes)
    for i, a in enumerate(axes):
        a.set_title(f"mode {i}, |l|={abs(ev[i]):.2f}", fontsize=7)
    fig.suptitle("mechanism of the trained network (top: connectivity, spectrum, ablation; "
                 "bottom: spatial maps of the leading eigenmodes)")
    return fig


def draw_topology(*, topo):
    """The figure of the ``topology`` target: the modules and their persistence."""
    return plot_topology(topo)


def draw_spacing_law(*, rows, line):
    """The figure of the ``spacing-law`` target: measured against predicted spacing, plain
    and corrected, the held-out runs marked; and the ratio against the step length."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.3))
    measured = [r for r in rows if np.isfinite(r.measured_spacing_m)]
    for held, marker in ((False, "o"), (True, "s")):
        rs = [r for r in measured if r.held_out == held]
        which = "held out" if held else "fitted"
        a.scatter([r.predicted_spacing_m for r in rs], [r.measured_spacing_m for r in rs],
                  marker=marker, color="C0", label=f"plain prediction, {which}")
        a.scatter([r.corrected_prediction_m for r in rs], [r.measured_spacing_m for r in rs],
                  marker=marker, facecolors="none", edgecolors="C3",
                  label=f"corrected prediction, {which}")
    lo = min([r.measured_spacing_m for r in measured] + [0.4])
    hi = max([r.measured_spacing_m for r in measured] + [1.4])
    a.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="measured = predicted")
    a.set(xlabel="predicted spacing (m)", ylabel="measured spacing (m)",
          title=f"measured vs plain prediction: slope {line['slope']:.2f}, "
                f"R$^2$ {line['r2']:.2f}")
    a.legend(fontsize=7)
    sigmas = sorted({r.sigma for r in measured})
    for i, sg in enumerate(sigmas):
        rs = sorted((r for r in measured if r.sigma == sg), key=lambda r: r.step_m)
        b.plot([100 * r.step_m for r in rs],
               [100 * (r.measured_spacing_m / r.predicted_spacing_m - 1) for r in rs], "o-",
               color=f"C{i}", label=f"sigma {sg:.2f} m")
    b.axhline(0, color="k", lw=0.5)
    b.set(xlabel="step length <|v dt|^4>^(1/4) (cm)", ylabel="measured / predicted - 1 (%)",
          title="the gap against the distance run per step")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_attractor(*, params, theory, state, maps, summary, rnn_maps, rnn_best, profile,
                   path_xy, neuron_rate, neuron_score):
    """The figure of the ``attractor`` target: the two halves side by side. Top, the
    attractor: its kernel's ring, the sheet's pattern, a recorded neuron's map. Bottom, the
    trained network: the place-cell covariance's ring, its most grid-like unit, and its
    phase-sorted connectivity."""
    from gridform.presentation.plotting import plot_firing_on_path, plot_sheet, plot_sheet_gain
    from gridform.theory.spectrum import predict

    fig, ax = plt.subplots(2, 3, figsize=(13, 8))
    plot_sheet_gain(params, ax[0, 0])
    plot_sheet(state, ax[0, 1], f"the sheet: period {summary['sheet_period_measured']:.2f} "
                                f"neurons (ring: {theory.period_neurons:.2f})")
    plot_firing_on_path(path_xy, neuron_rate, ax[0, 2])
    ax[0, 2].set_title(f"a recorded neuron (score {neuron_score:.2f}): spacing "
                       f"{summary['spacing_measured_m']:.3f} m,\npredicted "
                       f"{summary['spacing_predicted_m']:.3f} m; red: rate above half its "
                       "peak", fontsize=8)
    pred = predict("dos", SIGMA_M, SURROUND_SCALE)
    k = np.linspace(0, 4 * pred.k_star, 400)
    power = tuning_power_spectrum(k, "dos", SIGMA_M, SURROUND_SCALE)
    ax[1, 0].plot(k, power / power.max(), color="C0", label="place-cell tuning power")
    ax[1, 0].axvline(pred.k_star, color="C3", ls="--", lw=1,
                     label=f"k* = {pred.k_star:.2f} rad/m ({pred.grid_spacing_m:.3f} m)")
    ax[1, 0].set(xlabel="wavenumber |k| (rad/m)", ylabel="power (normalised)",
                 title="the place code's ring")
    ax[1, 0].legend(fontsize=6)
    plot_ratemaps(rnn_maps, None, cells=[rnn_best], axes=np.array([ax[1, 1]]))
    ax[1, 1].set_title("trained network: its most grid-like unit", fontsize=8)
    if profile is not None:
        v = np.nanmax(np.abs(profile.mean_weight))
        im = ax[1, 2].imshow(profile.mean_weight, origin="lower", cmap="RdBu_r", vmin=-v,
                             vmax=v, extent=[-180, 180, -180, 180])
        fig.colorbar(im, ax=ax[1, 2], fraction=0.046)
        ax[1, 2].set(xlabel="phase difference 1 (deg)", ylabel="phase difference 2 (deg)",
                     title="trained W sorted by phase")
    else:
        ax[1, 2].axis("off")
    fig.suptitle("the same mathematics on both sides: a ring in a spectrum sets the period "
                 "(top: the hand-tuned attractor, on its sheet; bottom: the trained network, "
                 "in space)", fontsize=10)
    fig.tight_layout()
    return fig


def draw_spacing_distance(*, settings, law, predicted):
    """The figure of the ``spacing-distance`` target: each setting's gap against the
    distance its paths integrate (seeds as dots, their mean as a marker per path length),
    the law fixed before the runs, and the constant gap of its control."""
    from gridform.experiments.reproduce.spacing_distance import CONSTANT_GAP, law_gap

    fig, ax = plt.subplots(figsize=(6, 4))
    for length in sorted({s.length for s in settings}):
        group = [s for s in settings if s.length == length and np.isfinite(s.mean)]
        if not group:
            continue
        d = [s.distance for s in group]
        ax.plot(d, [100 * (s.mean / predicted - 1) for s in group], "o",
                label=f"{length}-step paths")
        for s in group:
            seeds = [100 * (x / predicted - 1) for x in s.spacings if np.isfinite(x)]
            ax.plot([s.distance] * len(seeds), seeds, "k.", ms=3)
    d = np.geomspace(0.05, 2.0, 50)
    ax.plot(d, 100 * law_gap(d, law["A"], law["B"]), "-", color="C3",
            label="law, fixed in advance")
    ax.axhline(100 * CONSTANT_GAP, color="0.5", ls="--", label="control: constant gap")
    ax.set_xscale("log")
    ax.set(xlabel="distance a training path integrates D (m)",
           ylabel="spacing over the theory (%)", title="the spacing gap against D")
    ax.legend(fontsize=8)
    return fig


FIGURES: dict[str, Callable[..., Any]] = {
    "spectrum": draw_spectrum, "pattern": draw_pattern, "multicell": draw_multicell,
    "one-layer": draw_one_layer, "rnn": draw_rnn, "conditions": draw_conditions,
    "mechanism": draw_mechanism, "topology": draw_topology, "spacing-law": draw_spacing_law,
    "attractor": draw_attractor, "spacing-distance": draw_spacing_distance,
}


def save_target_figure(name: str, data: dict[str, Any], figures: Path) -> None:
    """Draw the figure of target ``name`` and write it to ``figures`` (PNG and SVG; the
    topology figure as PNG, beside its ``topology.json``)."""
    figures.mkdir(parents=True, exist_ok=True)
    fig = FIGURES[name](**data)
    if name == "topology":
        save_figure(fig, figures / "topology.png")
        return
    for ext in ("png", "svg"):
        fig.savefig(figures / f"{name}.{ext}", dpi=110, bbox_inches="tight")
    plt.close(fig)
