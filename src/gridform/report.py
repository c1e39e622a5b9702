"""``gridform report``: one self-contained HTML page for a run, a demo or a reproduction.

Every figure is embedded as a base64 PNG, so the page needs no network and no other file.
Sections (each an ``<h2>`` with a stable ``id``): ``config``, ``training`` (curves from
``metrics.jsonl``), ``ratemaps`` (top units and the score distribution), ``theory`` (the
predicted spacing against what was measured) and ``claims`` (the reproduction's table, or
for a single run the demo bar of issue 4).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from gridform._io import atomic_path

__all__ = ["SECTIONS", "find_run", "write_report"]

SECTIONS = ("config", "training", "ratemaps", "theory", "claims")

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4} tr.fail td{background:#fde8e8} tr.pass td{background:#eaf7ea}
img.figure{max-width:100%;border:1px solid #eee;margin:.4em 0;display:block}
.note{color:#666;font-size:.9em}
"""


def find_run(directory: Path) -> Path | None:
    """The training run a directory holds or points to: itself, ``train/`` or ``runs/rnn``."""
    for cand in (directory, directory / "train", directory / "runs" / "rnn"):
        if (cand / "config.json").exists():
            try:
                if "config" in json.loads((cand / "config.json").read_text()):
                    return cand
            except json.JSONDecodeError:
                continue
    return None


def _img(fig_or_path) -> str:
    if isinstance(fig_or_path, Path):
        data = fig_or_path.read_bytes()
    else:
        from gridform.plotting import plt

        buf = io.BytesIO()
        fig_or_path.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig_or_path)
        data = buf.getvalue()
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img class="figure" alt="figure" src="data:image/png;base64,{b64}">'


def _table(rows: list[tuple], header: tuple | None = None, classes: list[str] | None = None
           ) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(_str(v))}</td>" for v in r)
                   + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _str(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="sec-{sid}">\n<h2 id="{sid}">{html.escape(title)}</h2>\n{body}\n</section>'


def _training_figure(run: Path):
    from gridform.plotting import plt

    recs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()
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


def _ratemap_figures(run: Path) -> list:
    from gridform.analysis.ratemaps import load_ratemaps
    from gridform.analysis.scores import score_ratemaps
    from gridform.plotting import plot_ratemaps, plt

    maps = load_ratemaps(run / "ratemaps.npz")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = score_ratemaps(maps)
    s = np.nan_to_num(scores.score_60, nan=-9)
    fig1 = plot_ratemaps(maps, scores, cells=np.argsort(-s)[:24], ncols=8,
                         title="the 24 most grid-like units")
    fig2, ax = plt.subplots(figsize=(5, 3))
    ax.hist(scores.score_60[np.isfinite(scores.score_60)], bins=30)
    ax.axvline(0.3, color="k", ls="--", lw=0.8)
    ax.axvline(0.8, color="k", ls=":", lw=0.8)
    ax.set(xlabel="score_60", ylabel="units", title="gridness of all scored units")
    return [fig1, fig2]


def _run_claims(summary: dict) -> list[tuple]:
    pred = summary.get("predicted_spacing_m") or float("nan")
    sp = summary.get("median_spacing_m")
    sp = float("nan") if sp is None else sp
    rel = abs(sp / pred - 1) if math.isfinite(sp) and math.isfinite(pred) else float("nan")

    def row(claim, expected, measured, ok):
        return ("run", claim, expected, measured, "yes" if ok else "no")

    err = summary.get("error_cm", float("nan"))
    f3, f8 = summary.get("frac_above_0.3", 0.0), summary.get("frac_above_0.8", 0.0)
    corr = summary.get("mean_pairwise_corr", float("nan"))
    return [
        row("path integration", "error < 8 cm", f"{err:.1f} cm", err < 8),
        row("grid units", ">= 50% above 0.3", f"{f3:.1%}", f3 >= 0.5),
        row("strong grid units", ">= 20% above 0.8", f"{f8:.1%}", f8 >= 0.2),
        row("diverse units", "mean pairwise corr < 0.2", f"{corr:.3f}", corr < 0.2),
        row("spacing", f"within 20% of {pred:.3f} m", f"{sp:.3f} m", rel < 0.2),
    ]


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` for a run, demo or reproduce directory; return its path."""
    from gridform.reproduce import read_claims

    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"not a directory: {directory}")
    run = find_run(directory)
    claims_csv = directory / "claims.csv"
    if run is None and not claims_csv.exists():
        raise FileNotFoundError(f"{directory} holds neither a training run (config.json) nor "
                                "a reproduction (claims.csv)")
    out = directory / "report.html" if out is None else Path(out)
    parts: list[str] = []

    # config
    body = []
    if run is not None:
        cfg = json.loads((run / "config.json").read_text())
        body.append(f"<p>Training run <code>{html.escape(str(run))}</code>, run id "
                    f"<code>{html.escape(str(cfg.get('run_id', '')))}</code>.</p>")
        body.append(_table(sorted(cfg["config"].items()), ("field", "value")))
    repro = directory / "reproduce.json"
    if repro.exists():
        meta = json.loads(repro.read_text())
        body.append(_table([("targets", ", ".join(meta.get("targets", []))),
                            ("quick", meta.get("quick")), ("seed", meta.get("seed"))] +
                           [(f"time: {k}", f"{v:.0f} s") for k, v in
                            meta.get("seconds", {}).items()], ("reproduction", "")))
    parts.append(_section("config", "Configuration", "\n".join(body) or
                          '<p class="note">no configuration found</p>'))

    # training
    if run is not None and (run / "metrics.jsonl").exists():
        body = _img(_training_figure(run))
    else:
        body = '<p class="note">no training metrics in this directory</p>'
    parts.append(_section("training", "Training curves", body))

    # ratemaps and scores
    summary: dict = {}
    if run is not None and (run / "summary.json").exists():
        summary = json.loads((run / "summary.json").read_text())
    body = []
    if run is not None and (run / "ratemaps.npz").exists():
        body.extend(_img(f) for f in _ratemap_figures(run))
        keys = ("steps", "error_cm", "decoder_floor_cm", "n_active", "frac_above_0.3",
                "frac_above_0.8", "frac_above_0.3_minmax", "frac_above_0.8_minmax",
                "median_score_60", "mean_pairwise_corr", "median_spacing_m")
        body.append(_table([(k, summary.get(k, "")) for k in keys if k in summary],
                           ("summary", "value")))
    for name in ("rnn", "demo"):
        for cand in (directory / "figures" / f"{name}.png", directory / f"{name}.png"):
            if cand.exists():
                body.append(_img(cand))
    parts.append(_section("ratemaps", "Ratemaps and scores", "\n".join(body) or
                          '<p class="note">no ratemaps in this directory</p>'))

    # theory
    body = []
    if summary:
        body.append(_table([("predicted spacing (m)", summary.get("predicted_spacing_m")),
                            ("measured median spacing, units > 0.8 (m)",
                             summary.get("median_spacing_m"))], ("theory", "value")))
    for name in ("spectrum", "pattern", "multicell", "one-layer", "conditions", "mechanism"):
        fig = directory / "figures" / f"{name}.png"
        if fig.exists():
            body.append(f"<h3>{html.escape(name)}</h3>" + _img(fig))
    if run is not None and not (directory / "figures" / "spectrum.png").exists():
        body.append(_img(_spectrum_figure(run)))
    parts.append(_section("theory", "Theory comparison", "\n".join(body)))

    # claims
    if claims_csv.exists():
        claims = read_claims(claims_csv)
        rows = [(c.target, c.claim, c.expected, c.measured, "yes" if c.passed else "no")
                for c in claims]
        n_pass = sum(c.passed for c in claims)
        head = f"<p>{n_pass} of {len(claims)} claims pass.</p>"
    else:
        rows = _run_claims(summary) if summary else []
        n_pass = sum(r[-1] == "yes" for r in rows)
        head = (f"<p>The demo bar (issue 4) for this run: {n_pass} of {len(rows)} met.</p>"
                if rows else '<p class="note">no summary.json: run gridform evaluate</p>')
    body = head + _table(rows, ("target", "claim", "expected", "measured", "pass"),
                         ["pass" if r[-1] == "yes" else "fail" for r in rows])
    parts.append(_section("claims", "Claims", body))

    title = f"gridform report: {directory.name or directory}"
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n")
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out


def _spectrum_figure(run: Path):
    """The targets' covariance spectrum with the ring the run's prediction came from: the
    analytic k* of simulated place cells, the recorded code's own peak for recorded ones."""
    from gridform.plotting import plot_spectrum
    from gridform.theory.spectrum import predict, spatial_covariance
    from gridform.training.loop import build_task, read_run_config

    config = read_run_config(run)
    task = build_task(config)
    if config.place_cell_file is not None:
        from gridform.data.assumptions import covariance_spectrum

        spec = covariance_spectrum(task.place_cells.maps, task.box.periodic)
        fig = plot_spectrum(spec["k"], spec["power"], spec["k_star"], label="recorded targets")
        if spec["k_star"] is None:
            fig.axes[0].set_title("recorded targets' covariance spectrum: no ring")
        return fig
    pred = predict(config.place_cell_kind, config.sigma, config.surround_scale)
    k, p = spatial_covariance(task.place_cells, 44).radial_spectrum()
    return plot_spectrum(k, p, pred.k_star if pred.k_star > 0 else None)
