"""``gridform report``: one self-contained HTML page for a run, a demo or a reproduction.

The report only reads: the summary, the scores, the ratemaps and the code's spectrum that
the evaluation saved. Directories written before a file existed (or scored by an older
scorer) are completed in memory from what they hold.

Every figure is embedded as a base64 PNG, so the page needs no network and no other file.
Sections (each an ``<h2>`` with a stable ``id``): ``config``, ``training`` (curves from
``metrics.jsonl``), ``ratemaps`` (top units and the score distribution), ``theory`` (the
predicted spacing against what was measured) and ``claims`` (the reproduction's table, or
for a single run the demo's bars and those of one module).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np

from gridform.presentation.htmlpage import Markup, Section, figure, paragraph, table, write_page
from gridform.training.runs import RunDir, Summary

log = logging.getLogger(__name__)

__all__ = ["SECTIONS", "find_pattern", "find_run", "save_attractor_figure", "write_report"]

SECTIONS = ("claims", "ratemaps", "pattern", "training", "topology", "theory", "config")


# alt texts of the figures other commands wrote, by file name
ALT = {
    "spectrum": "place-cell tuning, the covariance kernel of the code, its spectrum with the "
                "ring k*, and grid spacing against sigma",
    "pattern": "ratemaps of the single-cell pattern dynamics under ReLU, tanh and linear, "
               "and with Gaussian targets",
    "multicell": "ratemaps of the multi-cell dynamics in Sanger order",
    "one-layer": "ratemaps of the NMF components (top) and the PCA components (bottom)",
    "conditions": "fraction of grid units per condition, three seeds each, with the decoding "
                  "errors",
    "mechanism": "mean recurrent weight against phase displacement, its radial profile, the "
                 "eigenvalues of W, the ablation, and the maps of the leading eigenmodes",
    "rnn": "the most grid-like units, their autocorrelograms, their scores against the null, "
           "and their spacing against the theory",
    "demo": "the spectrum and its ring, maps of the pattern dynamics, and the trained units",
    "topology": "the grid modules by spacing and orientation, and the persistence of each",
}


def find_run(directory: Path) -> Path | None:
    """The training run a directory holds or points to: itself, ``train/`` or ``runs/rnn``."""
    for cand in (directory, directory / "train", directory / "runs" / "rnn"):
        if RunDir(cand).has_run():
            try:
                RunDir(cand).read_metadata()
            except ValueError:  # another program's config.json
                continue
            return cand
    return None


def find_pattern(directory: Path) -> Path | None:
    """The pattern simulation a directory holds: itself or ``pattern/`` (a demo's)."""
    from gridform.experiments.pattern_run import PATTERN_FILES

    for cand in (directory, directory / "pattern"):
        path = cand / PATTERN_FILES["summary"]
        if path.exists() and (cand / PATTERN_FILES["ratemaps"]).exists():
            try:
                data = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(data, dict) and "nonlinearity" in data.get("config", {}):
                return cand
    return None


def _training_figure(run: Path):
    from gridform.presentation.plotting import plt

    recs = [json.loads(line) for line in RunDir(run).metrics_path.read_text().splitlines()
            if line.strip()]
    steps = [r for r in recs if "step" in r]
    evals = [r["eval"] for r in recs if "eval" in r]
    fig, ax = plt.subplots(1, 3 if evals else 2, figsize=(13 if evals else 9, 3.2))
    s = [r["step"] for r in steps]
    ax[0].plot(s, [r["loss"] for r in steps])
    ax[0].set(xlabel="step", ylabel="loss", title="training loss")
    ax[1].plot(s, [r["error_cm"] for r in steps])
    ax[1].set(xlabel="step", ylabel="cm", title="decoding error", yscale="log")
    if evals:
        es = [e["step"] for e in evals]
        ax[2].plot(es, [e.get("frac_above_0.3", np.nan) for e in evals], "o-", label="> 0.3")
        ax[2].plot(es, [e.get("frac_above_0.8", np.nan) for e in evals], "o-", label="> 0.8")
        ax[2].set(xlabel="step", ylabel="fraction of active units", title="grid units")
        ax[2].legend(fontsize=7)
    return fig


def _saved_scores(directory: Path, maps, scorer_version: int | None):
    """The scores saved beside ``maps`` in ``directory`` (``scores.csv``), when the current
    scorer wrote them for these maps; else the maps scored here (older directories)."""
    import warnings

    from gridform.analysis.scores import SCORER_VERSION, GridScores, score_ratemaps
    from gridform.core.io import SCORES_FILE

    path = directory / SCORES_FILE
    if path.exists() and scorer_version == SCORER_VERSION:
        scores = GridScores.load(path)
        if scores.n_cells == maps.n_cells:
            return scores
    log.info("scoring the ratemaps in %s: no scores of this scorer (version %d) saved",
             directory, SCORER_VERSION)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return score_ratemaps(maps)


def _ring(k_star: float | None, predicted_spacing_m: float | None) -> float | None:
    """The theory's ring k* (rad/m) as saved; from the predicted spacing for results
    saved before k* was kept (``lattice_wavenumber`` inverts the spacing exactly)."""
    from gridform.theory.spectrum import lattice_wavenumber

    if k_star is None and predicted_spacing_m is not None \
            and math.isfinite(predicted_spacing_m) and predicted_spacing_m > 0:
        k_star = lattice_wavenumber(predicted_spacing_m)
    return k_star if k_star is not None and math.isfinite(k_star) and k_star > 0 else None


def _ratemap_figures(directory: Path, scorer_version: int | None,
                     predicted_spacing_m: float | None, k_star: float | None,
                     what: str = "units") -> list:
    """The figures of a directory of scored ratemaps: the most grid-like maps, their
    autocorrelograms, histograms of gridness (with a spectrum-matched null's 95th
    percentile), spacing (with the theory's) and orientation, and the maps' 2-D spectrum
    with the theory's ring."""
    import warnings

    from gridform.analysis.scores import spectral_null
    from gridform.core.io import RATEMAPS_FILE
    from gridform.core.ratemaps import load_ratemaps
    from gridform.presentation.plotting import (
        plot_autocorrelograms,
        plot_ratemap_spectrum,
        plot_ratemaps,
        plot_score_histograms,
    )
    from gridform.training.evaluate import active_units

    maps = load_ratemaps(directory / RATEMAPS_FILE)
    scores = _saved_scores(directory, maps, scorer_version)
    active = active_units(maps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        null = (spectral_null(maps.select(np.flatnonzero(active)), 100, 0).threshold(95)
                if active.sum() > 1 else None)
    s = np.nan_to_num(scores.score_60, nan=-9)
    top = np.argsort(-s)[:24]
    ok = predicted_spacing_m is not None and math.isfinite(predicted_spacing_m) \
        and predicted_spacing_m > 0
    k_star = _ring(k_star, predicted_spacing_m)
    return [plot_ratemaps(maps, scores, cells=top, ncols=8,
                          title=f"the {len(top)} most grid-like {what}"),
            plot_autocorrelograms(maps, scores, top[:8]),
            plot_score_histograms(scores, active, predicted_spacing_m if ok else None, null),
            plot_ratemap_spectrum(maps, active, k_star)]


def _run_claims(summary: Summary) -> list[tuple]:
    pred = summary.predicted_spacing_m
    sp = float("nan") if summary.median_spacing_m is None else summary.median_spacing_m
    ratio = summary.spacing_ratio

    def row(claim, expected, measured, ok):
        return ("run", claim, expected, measured, "yes" if ok else "no")

    err = summary.error_cm
    f3, f8 = summary.frac_above_0_3 or 0.0, summary.frac_above_0_8 or 0.0
    corr = summary.mean_pairwise_corr
    spread = summary.orientation_spread_deg
    module = []  # the bars of one module, as the paper's networks and recordings show
    if spread is not None:
        module.append(row("one lattice orientation", "spread <= 5 deg (units > 0.8)",
                          f"{spread:.1f} deg", math.isfinite(spread) and spread <= 5))
    if summary.n_modules is not None:
        module.append(row("one module", "1 module of grid units",
                          f"{summary.n_modules} module" + "s" * (summary.n_modules != 1),
                          summary.n_modules == 1))
        module.append(row("a torus", "Betti (1, 2, 1) above the roll null",
                          "yes" if summary.torus else "no", bool(summary.torus)))
    return [
        row("path integration", "error < 8 cm", f"{err:.1f} cm", err < 8),
        row("grid units", ">= 50% above 0.3", f"{f3:.1%}", f3 >= 0.5),
        row("strong grid units", ">= 20% above 0.8", f"{f8:.1%}", f8 >= 0.2),
        row("diverse units", "mean pairwise corr < 0.2", f"{corr:.3f}", corr < 0.2),
        # the theory's point prediction, with the band the reproduce claim fixes in advance
        row("spacing = 4 pi / (sqrt(3) k*)", f"within 10% of {pred:.3f} m",
            f"{sp:.3f} m ({ratio - 1:+.1%})", abs(ratio - 1) < 0.1),
        *module,
    ]


ATTRACTOR_FIGURE = "attractor.png"


def save_attractor_figure(directory: Path) -> Path:
    """Draw ``DIR/attractor.png`` from what an attractor directory saved."""
    from gridform.analysis.scores import GridScores
    from gridform.attractor.run import ATTRACTOR_FILES, read_activity, read_attractor
    from gridform.core.ratemaps import load_ratemaps
    from gridform.presentation.plotting import plot_attractor_run, save_figure

    saved = read_attractor(directory)
    rates, positions, _ = read_activity(directory)
    fig = plot_attractor_run(saved.summary, saved.config.params, saved.settled,
                             load_ratemaps(directory / ATTRACTOR_FILES["ratemaps"]),
                             GridScores.load(directory / ATTRACTOR_FILES["scores"]),
                             saved.times_s, saved.error_m, positions, rates)
    return save_figure(fig, directory / ATTRACTOR_FIGURE)


def _attractor_section(directory: Path) -> Section:
    """An attractor run's numbers beside the sheet's theory, and its figures."""
    from gridform.attractor.run import read_attractor

    sec = Section("attractor", "Continuous-attractor network")
    s = read_attractor(directory).summary

    def pct(v):
        return "" if v is None else f"{v:.0%}"

    sec.add(f"Burak & Fiete's network on a {s['sheet']} x {s['sheet']} periodic sheet "
            f"(lambda_net {s['period_neurons']:g}, gamma / beta {s['gamma_ratio']:g}, velocity "
            f"gain {s['velocity_gain']:g} s/m) path-integrating {s['duration_s']:g} s of "
            f"path; {s['n_recorded']} neurons recorded.")
    sec.add(table([
        ("sheet period, kernel ring / measured (neurons)",
         f"{s['sheet_period_predicted']:.2f} / {s['sheet_period_measured']:.2f}"),
        ("effective gain of the ring (a pattern needs > 1)", f"{s['effective_gain']:.3f}"),
        ("drift of the pattern (neurons per metre)", f"{s['drift_neurons_per_m']:.1f}"),
        ("grid spacing, predicted / measured (m)",
         f"{s['spacing_predicted_m']:.3f} / {s['spacing_measured_m']:.3f}"),
        ("neurons above 0.3 / 0.8", f"{pct(s['frac_above_0.3'])} / "
                                    f"{pct(s['frac_above_0.8'])}"),
        ("orientation spread (deg)", s.get("orientation_spread_deg")),
        ("modules; torus", f"{s.get('n_modules')}; {s.get('torus')}"),
        ("path-integration error, median / final (cm)",
         f"{100 * s['pi_error_median_m']:.2f} / {100 * s['pi_error_final_m']:.2f}")],
        ("attractor", "value")))
    fig = directory / ATTRACTOR_FIGURE
    sec.add(figure(fig if fig.exists() else save_attractor_figure(directory),
                   "the kernel's gain and ring, the sheet, the path-integration error and "
                   "the most grid-like recorded neurons"))
    for f in _ratemap_figures(directory, s.get("scorer_version"), s["spacing_predicted_m"],
                              None, what="neurons"):
        sec.add(figure(f))
    return sec


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` for a run, demo, attractor or reproduce directory; return its
    path."""
    from gridform.attractor.run import is_attractor_dir

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"not a directory: {directory}")
    if is_attractor_dir(directory):
        out = directory / RunDir.REPORT if out is None else Path(out)
        return write_page(out, f"gridform report: {directory.name or directory}",
                          [_attractor_section(directory),
                           _topology_section(directory, None)])
    run = find_run(directory)
    pattern = find_pattern(directory)
    claims_csv = directory / "claims.csv"
    if run is None and pattern is None and not claims_csv.exists():
        raise FileNotFoundError(f"{directory} holds neither a training run (config.json), a "
                                "pattern simulation (gridform pattern) nor a reproduction "
                                "(claims.csv)")
    out = directory / RunDir.REPORT if out is None else Path(out)
    summary = None
    if run is not None and RunDir(run).summary_path.exists():
        summary = RunDir(run).read_summary()
    # the numbers a reader looks for first; the configuration last, folded
    sections = [_claims_section(claims_csv, summary),
                _ratemaps_section(directory, run, summary), _pattern_section(pattern),
                _training_section(run),
                _topology_section(directory, run), _theory_section(directory, run, summary),
                _config_section(directory, run)]
    return write_page(out, f"gridform report: {directory.name or directory}", sections)


def _pattern_section(pattern: Path | None) -> Section:
    """A pattern simulation's numbers beside the theory, and its figures."""
    from gridform.experiments.pattern_run import PATTERN_FILES

    sec = Section("pattern", "Pattern-forming dynamics")
    if pattern is None:
        return sec.add(_note("no pattern simulation in this directory (gridform pattern)"))
    s = json.loads((pattern / PATTERN_FILES["summary"]).read_text())
    c = s.get("config", {})
    pred = s.get("predicted_spacing_m")
    sp = s.get("median_spacing_m")
    ratio = sp / pred - 1 if isinstance(sp, float) and isinstance(pred, float) and pred else None
    sec.add(f"{c.get('cells', '')}-cell {c.get('nonlinearity', '')} dynamics of "
            f"{c.get('n_cells', '')} maps, {c.get('steps', '')} steps, {c.get('kind', '')} "
            f"place cells (sigma {c.get('sigma', '')} m, s = {c.get('surround_scale', '')}) "
            f"in a {c.get('width', '')} m {c.get('boundary', '')} box at {c.get('bins', '')} "
            "bins.")
    sec.add(table([("fraction of maps above 0.3", s.get("frac_above_0.3")),
                   ("fraction of maps above 0.8", s.get("frac_above_0.8")),
                   ("median score_60", s.get("median_score_60")),
                   ("median spacing, maps above 0.8 (m)", sp),
                   ("theory spacing 4 pi / (sqrt(3) k*) (m)", pred),
                   ("measured / theory - 1", "" if ratio is None else f"{ratio:+.1%}")],
                  ("pattern", "value")))
    for f in _ratemap_figures(pattern, s.get("scorer_version"), pred, s.get("k_star"),
                              what="maps"):
        sec.add(figure(f))
    return sec


def _note(text: str) -> Markup:
    return paragraph(text, note=True)


def _config_section(directory: Path, run: Path | None) -> Section:
    sec = Section("config", "Configuration", collapsed=True)
    if run is not None:
        cfg = RunDir(run).read_metadata()
        sec.add(f"Training run {run}, run id {cfg.get('run_id', '')}.")
        sec.add(table(sorted(cfg["config"].items()), ("field", "value")))
    repro = directory / "reproduce.json"
    if repro.exists():
        meta = json.loads(repro.read_text())
        sec.add(table([("targets", ", ".join(meta.get("targets", []))),
                       ("quick", meta.get("quick")), ("seed", meta.get("seed"))] +
                      [(f"time: {k}", f"{v:.0f} s") for k, v in
                       meta.get("seconds", {}).items()], ("reproduction", "")))
    if not sec.parts:
        sec.add(_note("no configuration found"))
    return sec


def _training_section(run: Path | None) -> Section:
    sec = Section("training", "Training curves")
    if run is not None and RunDir(run).metrics_path.exists():
        return sec.add(figure(_training_figure(run)))
    return sec.add(_note("no training metrics in this directory"))


def _ratemaps_section(directory: Path, run: Path | None, summary: Summary | None
                      ) -> Section:
    sec = Section("ratemaps", "Ratemaps and scores")
    if run is not None and RunDir(run).ratemaps_path.exists():
        pred, k_star, version = (None, None, None) if summary is None else (
            summary.predicted_spacing_m, summary.k_star, summary.scorer_version)
        for f in _ratemap_figures(run, version, pred, k_star):
            sec.add(figure(f))
        if summary is not None:
            sec.add(table(summary.rows()[:-1], ("summary", "value")))
    for name in ("rnn", "demo"):
        for cand in (directory / "figures" / f"{name}.png", directory / f"{name}.png"):
            if cand.exists():
                sec.add(figure(cand, ALT[name]))
    if not sec.parts:
        sec.add(_note("no ratemaps in this directory"))
    return sec


def _theory_section(directory: Path, run: Path | None, summary: Summary | None) -> Section:
    sec = Section("theory", "Theory comparison")
    if summary is not None:
        rows = [("the code's ring k* (rad/m)", summary.k_star),
                ("predicted spacing (m)", summary.predicted_spacing_m),
                ("measured median spacing, units > 0.8 (m)", summary.median_spacing_m),
                ("measured / predicted", summary.spacing_ratio)]
        if summary.corrected_spacing_m is not None:
            c = summary.spacing_correction or {}
            rows += [(f"corrected law's spacing (m): step cost {c.get('step_cost', 0):g} "
                      f"(k l)^{c.get('exponent', 4):g}, l = {100 * c.get('step_m', 0):.2f} "
                      f"cm, offset {c.get('offset', 0):+g}", summary.corrected_spacing_m),
                     ("measured / corrected", summary.corrected_ratio)]
        sec.add(table(rows, ("theory", "value")))
    for name in ("spectrum", "pattern", "multicell", "one-layer", "conditions", "mechanism"):
        fig = directory / "figures" / f"{name}.png"
        if fig.exists():
            sec.add(Markup("<h3>") + name + Markup("</h3>"))
            sec.add(figure(fig, ALT[name]))
    if run is not None and not (directory / "figures" / "spectrum.png").exists():
        sec.add(figure(_spectrum_figure(run)))
    return sec


def _claims_section(claims_csv: Path, summary: Summary | None) -> Section:
    from gridform.experiments.reproduce import read_claims

    sec = Section("claims", "Claims")
    if claims_csv.exists():
        claims = read_claims(claims_csv)
        sec.add(f"{sum(c.holds for c in claims)} of {len(claims)} claims hold. A claim holds "
                "when its measurement meets a threshold fixed in advance and its negative "
                "control, an input on which the paper predicts the opposite, fails the "
                "same check; a claim whose control passes too does not discriminate.")
        rows = [(c.target, c.claim, c.source, c.expected, c.measured,
                 "" if c.n is None else str(c.n), c.spread,
                 f"{c.control}: {c.control_measured}" if c.control else "none", c.verdict)
                for c in claims]
        return sec.add(table(rows, ("target", "claim", "source", "expected", "measured", "n",
                                    "spread", "control", "verdict"),
                             ["pass" if c.holds else "fail" for c in claims]))
    else:
        rows = _run_claims(summary) if summary is not None else []
        n_pass = sum(r[-1] == "yes" for r in rows)
        sec.add(f"This run's bars: {n_pass} of {len(rows)} met. The first five are the "
                "demo's bars for single units; the last ask whether the grid units form one "
                "module on a torus, as in the paper's networks and in recordings."
                if rows else _note("no summary.json: run gridform evaluate"))
        if summary is not None and summary.n_modules is None:
            sec.add(_note("modules and torus not computed: pip install "
                          "'gridform[topology]' and run gridform evaluate again"))
    return sec.add(table(rows, ("target", "claim", "expected", "measured", "pass"),
                         ["pass" if r[-1] == "yes" else "fail" for r in rows]))


def _topology_section(directory: Path, run: Path | None) -> Section:
    """The modules table and figure of a ``topology.json`` found beside the results."""
    sec = Section("topology", "Modules and topology")
    places = [directory / "topology", directory, directory / "figures"]
    if run is not None:
        places += [run / "topology", run]
    found = next((p for p in places if (p / RunDir.TOPOLOGY).exists()), None)
    if found is None:
        return sec.add(_note(f"no topology.json here: run gridform topology {directory} "
                             f"--out {directory / 'topology'} (needs pip install "
                             "'gridform[topology]')"))
    t = json.loads((found / RunDir.TOPOLOGY).read_text())
    sec.add(table([("grid units (score_60 above the null's 95th percentile)",
                    f"{t.get('n_grid_units')} of {t.get('n_units')} "
                    f"(threshold {t.get('grid_threshold', float('nan')):.3g})"),
                   ("modules", t.get("n_modules")),
                   ("orientation spread of the grid units (deg, circular sd, period 60)",
                    t.get("orientation_spread_deg", float("nan"))),
                   ("one module on a torus, Betti (1, 2, 1)", "yes" if t.get("torus") else "no")],
                  ("population", "value")))
    rows = [(i + 1, len(m["units"]), m["spacing_m"], m["orientation_deg"],
             m["orientation_spread_deg"], str(tuple(m["betti"])),
             "yes" if m["torus"] else "no") for i, m in enumerate(t.get("modules", []))]
    if rows:
        sec.add(table(rows, ("module", "units", "spacing (m)", "orientation (deg)",
                             "orientation sd (deg)", "Betti (H0, H1, H2)", "torus")))
    if (found / "topology.png").exists():
        sec.add(figure(found / "topology.png", ALT["topology"]))
    return sec


def _spectrum_figure(run: Path):
    """The targets' covariance spectrum with the ring the run's prediction came from: the
    analytic k* of simulated place cells, the recorded code's own peak for recorded ones
    (``spectrum.npz``; made from the run's config for runs evaluated before it existed)."""
    from gridform.presentation.plotting import plot_spectrum
    from gridform.training.runs import CodeSpectrum

    rd = RunDir(run)
    if rd.spectrum_path.exists():
        spec = CodeSpectrum.load(rd.spectrum_path)
    else:
        from gridform.training.evaluate import code_spectrum
        from gridform.training.task import build_task

        log.info("computing the code's spectrum of %s: evaluated before it was saved", run)
        spec = code_spectrum(build_task(rd.read_config()))
    ring = spec.k_star if math.isfinite(spec.k_star) and spec.k_star > 0 else None
    if not spec.recorded:
        return plot_spectrum(spec.k, spec.power, ring)
    fig = plot_spectrum(spec.k, spec.power, ring, label="recorded targets")
    if ring is None:
        fig.axes[0].set_title("recorded targets' covariance spectrum: no ring")
    return fig
