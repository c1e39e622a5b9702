"""``gridform sweep-report``: which conditions form grid cells, as one HTML page.

A *condition* is a setting of the varied parameters other than the seed. A run *forms
grids* when at least ``min_fraction`` of its active units have ``score_60 > threshold``
(defaults: 10% above 0.3). The page shows, per condition, how many runs finished, the
fraction of them that formed grids (the "no free lunch" figure of Schaeffer, Khona &
Fiete 2022), and the mean decoding error and grid fractions.
"""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path

import numpy as np

from gridform._io import atomic_path

__all__ = ["condition_table", "write_sweep_report"]


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def condition_table(rows: list[dict[str, str]], varied: list[str], threshold: float = 0.3,
                    min_fraction: float = 0.1) -> list[dict]:
    """One entry per condition: runs, finished, failed, fraction forming grids, means."""
    col = f"frac_above_{threshold:g}"
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        key = tuple(r.get(k, "") for k in varied if k != "seed")
        groups.setdefault(key, []).append(r)
    table = []
    for key, runs in groups.items():
        done = [r for r in runs if r["status"] == "done"]
        fracs = np.array([_num(r.get(col, "")) for r in done])
        forming = int(np.sum(np.nan_to_num(fracs, nan=-1) >= min_fraction))
        errs = np.array([_num(r.get("error_cm", "")) for r in done])
        table.append({
            "condition": dict(zip([k for k in varied if k != "seed"], key, strict=True)),
            "runs": len(runs), "done": len(done),
            "failed": sum(r["status"] == "failed" for r in runs),
            "forming": forming,
            "fraction_forming": forming / len(done) if done else float("nan"),
            "mean_error_cm": float(np.nanmean(errs)) if np.isfinite(errs).any() else math.nan,
            f"mean_{col}": float(np.nanmean(fracs)) if np.isfinite(fracs).any() else math.nan,
        })
    return table


def write_sweep_report(sweep_dir: str | Path, threshold: float = 0.3,
                       min_fraction: float = 0.1) -> Path:
    """Write ``DIR/sweep_report.html`` from ``DIR/results.csv``; return its path."""
    from gridform.plotting import plt
    from gridform.report import _CSS, _img, _table

    sweep_dir = Path(sweep_dir)
    results = sweep_dir / "results.csv"
    if not results.exists():
        raise FileNotFoundError(f"{sweep_dir} holds no sweep results (results.csv)")
    if threshold not in (0.3, 0.8):
        raise ValueError(f"threshold must be 0.3 or 0.8 (the columns of results.csv), got "
                         f"{threshold}")
    with open(results, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = reader.fieldnames or []
    manifest = json.loads((sweep_dir / "manifest.json").read_text()) \
        if (sweep_dir / "manifest.json").exists() else {}
    varied = [h for h in header if h not in ("run_id", "status", "error")
              and not h.startswith(("frac_", "median_", "mean_", "error_cm", "steps",
                                    "predicted_"))]
    table = condition_table(rows, varied, threshold, min_fraction)

    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(table) + 2), 3.6))
    labels = ["\n".join(f"{k}={v}" for k, v in t["condition"].items()) or "all"
              for t in table]
    ax.bar(np.arange(len(table)), [t["fraction_forming"] for t in table])
    ax.set_xticks(np.arange(len(table)), labels, fontsize=7)
    ax.set(ylim=(0, 1), ylabel="fraction of runs forming grids",
           title=f"runs with >= {min_fraction:.0%} of units above {threshold:g}")
    n_done = sum(r["status"] == "done" for r in rows)
    n_fail = sum(r["status"] == "failed" for r in rows)
    cond_rows = [(labels[i].replace("\n", ", "), t["runs"], t["done"], t["failed"],
                  t["forming"], t["fraction_forming"], t["mean_error_cm"],
                  t[f"mean_frac_above_{threshold:g}"]) for i, t in enumerate(table)]
    failed = [(r["run_id"], r.get("error", "")) for r in rows if r["status"] == "failed"]
    body = [
        f"<h1>gridform sweep: {html.escape(str(manifest.get('name', sweep_dir.name)))}</h1>",
        f"<p>{len(rows)} runs: {n_done} done, {n_fail} failed, "
        f"{len(rows) - n_done - n_fail} pending.</p>",
        '<h2 id="conditions">Grid formation by condition</h2>', _img(fig),
        _table(cond_rows, ("condition", "runs", "done", "failed", "forming grids",
                           "fraction forming", "mean error (cm)",
                           f"mean fraction > {threshold:g}")),
        '<h2 id="runs">Runs</h2>',
        _table([tuple(r.get(h, "") for h in header) for r in rows], tuple(header)),
    ]
    if failed:
        body += ['<h2 id="failed">Failed runs</h2>', _table(failed, ("run", "error"))]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gridform "
            f"sweep</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) +
            "\n</body></html>\n")
    out = sweep_dir / "sweep_report.html"
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return out
