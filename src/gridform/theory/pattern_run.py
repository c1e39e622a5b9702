"""A pattern-formation experiment as a typed config, run and written to a directory."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from gridform._io import RATEMAPS_FILE, SCORES_FILE, SUMMARY_FILE, write_json
from gridform.reference import SIGMA_M, SURROUND_SCALE

__all__ = ["PATTERN_FILES", "PatternConfig", "run_pattern"]

# A pattern directory (``gridform pattern --out DIR``): its ratemaps, scores and summary,
# the summary written last.
PATTERN_FILES = {"ratemaps": RATEMAPS_FILE, "scores": SCORES_FILE, "summary": SUMMARY_FILE}


@dataclass(frozen=True)
class PatternConfig:
    """The single- or multi-cell dynamics ``g <- phi(g + eta (-g + Sigma * g))`` with the
    covariance ``Sigma`` of random place cells in a square box (SI units)."""

    nonlinearity: str = "relu"
    n_cells: int = 32
    steps: int = 1000
    seed: int = 0
    cells: Literal["single", "multi"] = "single"
    kind: str = "dos"
    sigma: float = SIGMA_M        # m, centre width sigma1
    surround_scale: float = SURROUND_SCALE  # s = sigma2^2 / sigma1^2
    place_cells: int = 512
    width: float = 3.3            # m, side of the square box (fits the default lattice)
    bins: int = 60
    boundary: Literal["periodic", "walls"] = "periodic"
    eta: float = 0.5


def run_pattern(config: PatternConfig, out: Path) -> dict:
    """Simulate, score and write :data:`PATTERN_FILES` into ``out`` (the summary last);
    return the summary."""
    from gridform import compile_cache
    from gridform.analysis.scores import score_ratemaps
    from gridform.errors import check_memory
    from gridform.theory.dynamics import simulate_place_cell_pattern
    from gridform.theory.spectrum import predict

    compile_cache.enable()
    c = config
    # the place code on the grid (positions x place cells) and the maps, in float32
    check_memory(4.0 * c.bins**2 * (c.place_cells + 4 * c.n_cells),
                 f"--bins {c.bins} with {c.place_cells} place cells and {c.n_cells} maps")
    t0 = time.perf_counter()
    result = simulate_place_cell_pattern(
        c.seed, c.width, c.boundary, c.bins, c.place_cells, c.kind, c.sigma,
        c.surround_scale, c.n_cells, c.steps, c.nonlinearity, c.eta, c.cells)
    seconds = time.perf_counter() - t0
    scores = score_ratemaps(result.ratemaps)
    pred = predict(c.kind, c.sigma, c.surround_scale)
    summary = scores.summary() | {
        "predicted_spacing_m": pred.grid_spacing_m,
        "nonlinearity": c.nonlinearity, "cells": c.cells, "kind": c.kind,
        "steps": c.steps, "n_cells": c.n_cells, "seconds": seconds,
        "orthonormality_error": result.orthonormality_error,
        "distinct_scales_rad_per_m": result.distinct_scales().tolist(),
        "config": asdict(c),
    }
    out.mkdir(parents=True, exist_ok=True)
    result.ratemaps.save(out / PATTERN_FILES["ratemaps"])
    scores.to_csv(out / PATTERN_FILES["scores"])
    write_json(out / PATTERN_FILES["summary"], summary)
    return summary
