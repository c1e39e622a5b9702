"""``gridform sweep-report``: which conditions form grid cells, as one HTML page.

A *condition* is a setting of the varied parameters other than the seed. A run *forms
grids* when at least ``min_fraction`` of its active units have ``score_60 > threshold``
(defaults: 10% above 0.3). The page shows, per condition, how many runs finished, the
fraction of them that formed grids (the "no free lunch" figure of Schaeffer, Khona &
Fiete 2022), and the mean decoding error and grid fractions.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from gridform.experiments.sweep.spec import DEFAULT_METRICS

__all__ = ["condition_table", "write_sweep_report"]


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def varied_columns(header: list[str], manifest: dict) -> list[str]:
    """The columns of ``results.csv`` that hold varied settings: the names the manifest's
    runs vary, in the header's order; without a manifest, every column that is not a
    metric or bookkeeping (a metric column such as ``orientation_spread_deg`` is never a
    condition)."""
    named = {k for run in manifest.get("runs", []) for k in run.get("varied", {})}
    if named:
        return [h for h in header if h in named]
    return [h for h in header if h not in ("run_id", "status", "error")
            and h not in DEFAULT_METRICS]


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
    from gridform.presentation.htmlpage import Section, figure, table, write_page
    from gridform.presentation.plotting import plot_condition_fractions

    sweep_dir = Path(sweep_dir)
    results = sweep_dir / "results.csv"
    if not results.exists():
        raise FileNotFoundError(f"{sweep_dir} holds no sweep results (results.csv)")
    if threshold not in (0.3, 0.8):
        raise ValueError(f"--threshold must be 0.3 or 0.8 (the columns of results.csv), "
                         f"got {threshold}")
    if not 0.0 <= min_fraction <= 1.0:
        raise ValueError(f"--min-fraction is a fraction of units, between 0 and 1; got "
                         f"{min_fraction}")
    with open(results, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = reader.fieldnames or []
    manifest = json.loads((sweep_dir / "manifest.json").read_text()) \
        if (sweep_dir / "manifest.json").exists() else {}
    varied = varied_columns(header, manifest)
    conditions = condition_table(rows, varied, threshold, min_fraction)
    labels = [", ".join(f"{k}={v}" for k, v in t["condition"].items()) or "all"
              for t in conditions]
    fig = plot_condition_fractions(labels, [t["fraction_forming"] for t in conditions],
                                   f"runs with >= {min_fraction:.0%} of units above "
                                   f"{threshold:g}")
    n_done = sum(r["status"] == "done" for r in rows)
    n_fail = sum(r["status"] == "failed" for r in rows)
    cond_rows = [(labels[i], t["runs"], t["done"], t["failed"], t["forming"],
                  t["fraction_forming"], t["mean_error_cm"],
                  t[f"mean_frac_above_{threshold:g}"]) for i, t in enumerate(conditions)]
    failed = [(r["run_id"], r.get("error", "")) for r in rows if r["status"] == "failed"]
    sections = [
        Section("conditions", "Grid formation by condition").add(
            f"{len(rows)} runs: {n_done} done, {n_fail} failed, "
            f"{len(rows) - n_done - n_fail} pending.").add(figure(fig)).add(
            table(cond_rows, ("condition", "runs", "done", "failed", "forming grids",
                              "fraction forming", "mean error (cm)",
                              f"mean fraction > {threshold:g}"))),
        Section("runs", "Runs").add(
            table([tuple(r.get(h, "") for h in header) for r in rows], tuple(header))),
    ]
    if failed:
        sections.append(Section("failed", "Failed runs").add(table(failed, ("run", "error"))))
    name = manifest.get("name", sweep_dir.name)
    return write_page(sweep_dir / "sweep_report.html", f"gridform sweep: {name}", sections)
