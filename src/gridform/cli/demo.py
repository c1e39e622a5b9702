"""``gridform demo``: theory, pattern formation and a trained network, side by side.

1. the analytic prediction for the reference place cells (k*, spacing);
2. the pattern-forming dynamics with the same place cells (ReLU, single cells);
3. the ``demo`` training preset, evaluated (decoding error, grid fractions, spacing);
4. one figure, ``DIR/demo.png``, ``DIR/summary.json`` and ``DIR/report.html``.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["run_demo"]

# The demo directory: DIR/pattern (a pattern directory), DIR/train (a run directory), and:
DEMO_FIGURE = "demo.png"


def run_demo(out: Path, force: bool = False, train_steps: int | None = None) -> dict:
    """Run the three stages into ``out`` and write the figure, summary and report.

    Each thing is made once: one prediction, one task (trained, then evaluated), one
    covariance spectrum, one scoring per set of maps; the figure and the report read what
    the stages saved."""
    from gridform.core.errors import UsageError
    from gridform.core.io import SUMMARY_FILE, prepare_out_dir, write_json
    from gridform.experiments.pattern_run import PatternConfig, run_pattern
    from gridform.theory.spectrum import predict
    from gridform.training.config import load_config
    from gridform.training.evaluate import code_spectrum, evaluate_run
    from gridform.training.loop import train
    from gridform.training.runs import RunDir
    from gridform.training.task import build_task

    prepare_out_dir(out, SUMMARY_FILE, force)
    config = load_config("demo", steps=train_steps)
    if RunDir(out / "train").has_run() and not force:
        raise UsageError(f"{out / 'train'} already holds a run; pass --force")
    pred = predict(config.place_cell_kind, config.sigma, config.surround_scale)
    print(f"[1/3] theory: k* = {pred.k_star:.2f} rad/m, predicted grid spacing "
          f"{pred.grid_spacing_m:.3f} m (plane-wave period {pred.plane_wave_period_m:.3f} m)",
          flush=True)

    pattern = PatternConfig(n_cells=16, steps=1000, kind=config.place_cell_kind,
                            sigma=config.sigma, surround_scale=config.surround_scale)
    pat = run_pattern(pattern, out / "pattern", prediction=pred)
    print(f"[2/3] pattern formation (ReLU): {pat['frac_above_0.8']:.0%} of maps above 0.8, "
          f"median spacing {pat['median_spacing_m']:.3f} m", flush=True)

    print(f"[3/3] training the demo preset ({config.steps} steps, {config.n_hidden} units)",
          flush=True)
    task = build_task(config)
    train(config, out / "train", force=force, progress=True, task=task)
    ev = evaluate_run(out / "train", task=task, spectrum=code_spectrum(task, pred))
    s = ev.summary
    rnn_spacing = float("nan") if s.median_spacing_m is None else s.median_spacing_m
    print(f"      decoding error {s.error_cm:.1f} cm (the true place code decodes to "
          f"{s.decoder_floor_cm:.1f} cm); {s.frac_above_0_3 or 0:.1%} of "
          f"active units above 0.3, {s.frac_above_0_8 or 0:.1%} above 0.8; mean "
          f"pairwise correlation {s.mean_pairwise_corr:.3f}; median spacing "
          f"{rnn_spacing:.3f} m (theory {pred.grid_spacing_m:.3f} m)")
    print(f"      population: {s.population_line()}")

    _demo_figure(out, pred, pat, ev)
    summary = {"theory": pred.to_dict(), "pattern": pat.to_json(), "rnn": s.to_json()}
    write_json(out / SUMMARY_FILE, summary)
    from gridform.presentation.report import write_report

    report = write_report(out)
    print(f"wrote {out / DEMO_FIGURE}, {out / SUMMARY_FILE} and the report {report}")
    return summary


def _demo_figure(out: Path, pred, pat: dict, ev) -> None:
    """``DEMO_FIGURE``: the code's spectrum with its ring, the pattern maps (as saved) and
    the trained units, from the evaluation ``ev`` and the pattern directory."""
    import numpy as np

    from gridform.analysis.scores import GridScores
    from gridform.core.ratemaps import load_ratemaps
    from gridform.experiments.pattern_run import PATTERN_FILES
    from gridform.presentation.plotting import plot_ratemaps, plot_spectrum, plt

    s = ev.summary
    rnn_spacing = float("nan") if s.median_spacing_m is None else s.median_spacing_m
    fig = plt.figure(figsize=(14, 7.5))
    gs = fig.add_gridspec(2, 9)
    plot_spectrum(ev.spectrum.k, ev.spectrum.power, pred.k_star,
                  ax=fig.add_subplot(gs[:, :3]))
    pmaps = load_ratemaps(out / "pattern" / PATTERN_FILES["ratemaps"])
    pscores = GridScores.load(out / "pattern" / PATTERN_FILES["scores"])
    axes = np.array([[fig.add_subplot(gs[r, 3 + c]) for c in range(3)] for r in range(2)])
    plot_ratemaps(pmaps, pscores, cells=np.argsort(-pscores.score_60)[:6], axes=axes)
    axes[0, 1].set_title("pattern dynamics (ReLU)\n" + axes[0, 1].get_title(), fontsize=8)
    axes = np.array([[fig.add_subplot(gs[r, 6 + c]) for c in range(3)] for r in range(2)])
    if ev.scores is not None:
        order = np.argsort(-np.nan_to_num(ev.scores.score_60, nan=-9))[:6]
        plot_ratemaps(ev.ratemaps, ev.scores, cells=order, axes=axes)
    axes[0, 1].set_title("trained RNN, top units\n" + axes[0, 1].get_title(), fontsize=8)
    fig.suptitle(f"gridform demo: theory spacing {pred.grid_spacing_m:.2f} m | pattern "
                 f"{pat['median_spacing_m']:.2f} m | RNN "
                 f"{rnn_spacing:.2f} m, error {s.error_cm:.1f} cm")
    fig.savefig(out / DEMO_FIGURE, dpi=110)
    plt.close(fig)
