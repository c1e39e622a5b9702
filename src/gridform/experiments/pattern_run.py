"""A pattern-formation experiment as a typed config, run and written to a directory."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from gridform.core.io import RATEMAPS_FILE, SCORES_FILE, SUMMARY_FILE, write_json
from gridform.core.reference import SIGMA_M, SURROUND_SCALE

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


def run_pattern(config: PatternConfig, out: Path, prediction=None) -> dict:
    """Simulate, score and write :data:`PATTERN_FILES` into ``out`` (the summary last);
    return the summary. It records the scorer's version, so a reader can trust the scores
    file rather than score the maps again.

    ``prediction``: the theory's :class:`~gridform.theory.spectrum.TheoryPrediction` for
    this code, when the caller has made it (one for another kind, sigma or surround scale
    raises ValueError)."""
    from gridform.analysis.scores import SCORER_VERSION, score_ratemaps
    from gridform.core import compile_cache
    from gridform.core.errors import check_memory
    from gridform.theory.dynamics import simulate_place_cell_pattern
    from gridform.theory.spectrum import predict

    c = config
    code = (c.kind, float(c.sigma), float(c.surround_scale))
    given = None if prediction is None else (prediction.kind, prediction.sigma,
                                             prediction.surround_scale)
    if given is not None and given != code:
        raise ValueError(f"prediction is for the code {given}, but the pattern's is {code} "
                         "(kind, sigma, surround_scale)")
    compile_cache.enable()
    # the place code on the grid (positions x place cells) and the maps, in float32
    check_memory(4.0 * c.bins**2 * (c.place_cells + 4 * c.n_cells),
                 f"--bins {c.bins} with {c.place_cells} place cells and {c.n_cells} maps")
    t0 = time.perf_counter()
    result = simulate_place_cell_pattern(
        c.seed, c.width, c.boundary, c.bins, c.place_cells, c.kind, c.sigma,
        c.surround_scale, c.n_cells, c.steps, c.nonlinearity, c.eta, c.cells)
    seconds = time.perf_counter() - t0
    scores = score_ratemaps(result.ratemaps)
    pred = predict(c.kind, c.sigma, c.surround_scale) if prediction is None else prediction
    summary = scores.summary() | {
        "scorer_version": SCORER_VERSION,
        "predicted_spacing_m": pred.grid_spacing_m,
        "k_star": pred.k_star,
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
