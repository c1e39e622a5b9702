"""A pattern-formation experiment as a typed config, run and written to a directory."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from gridform.core.io import (
    RATEMAPS_FILE,
    SCORES_FILE,
    SUMMARY_FILE,
    SUMMARY_JSON_KEYS,
    write_json,
)
from gridform.core.reference import SIGMA_M, SURROUND_SCALE

__all__ = ["PATTERN_FILES", "PatternConfig", "PatternSummary", "run_pattern"]

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


@dataclass(frozen=True)
class PatternSummary:
    """What a pattern run measured (``summary.json`` of a pattern directory).

    The fractions of maps above 0.3 and 0.8 (mean and min-max variants), the median
    score_60 and the median spacing of the maps above 0.8 (m), beside the theory's spacing
    and ring; the run's length and the orthonormality error of the multi-cell rule; the
    distinct wavenumbers the maps took (rad/m). ``summary["frac_above_0.3"]`` reads a field
    by its key in the file, as when the summary was a dict. A key an older version did not
    write reads as the field's default: NaN for a number, None for a count or a name.
    """

    n_cells: int | None = None
    n_scored: int | None = None
    frac_above_0_3: float = math.nan
    frac_above_0_3_minmax: float = math.nan
    frac_above_0_8: float = math.nan
    frac_above_0_8_minmax: float = math.nan
    median_score_60: float = math.nan
    median_spacing_m: float = math.nan
    scorer_version: int | None = None
    predicted_spacing_m: float = math.nan
    k_star: float = math.nan
    nonlinearity: str | None = None
    cells: str | None = None
    kind: str | None = None
    steps: int | None = None
    seconds: float = math.nan
    orthonormality_error: float = math.nan
    distinct_scales_rad_per_m: list[float] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, name) for key, name in _FIELD_OF_KEY.items()}

    def keys(self) -> list[str]:
        return list(_FIELD_OF_KEY)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, _FIELD_OF_KEY[key])

    def __contains__(self, key: object) -> bool:
        return key in _FIELD_OF_KEY

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PatternSummary:
        """From the file's keys; a key written as null (NaN) or not written at all reads
        as the field's default, and keys this version does not know are ignored."""
        return cls(**{_FIELD_OF_KEY[k]: v for k, v in data.items()
                      if k in _FIELD_OF_KEY and v is not None})

    @classmethod
    def load(cls, directory: str | Path) -> PatternSummary:
        """The summary of a pattern directory (``gridform pattern --out DIR``)."""
        path = Path(directory) / PATTERN_FILES["summary"]
        if not path.is_file():
            raise FileNotFoundError(f"{directory} holds no pattern summary ({path.name})")
        return cls.from_json(json.loads(path.read_text()))


# a PatternSummary field's key in summary.json -> the field
_FIELD_OF_KEY = {SUMMARY_JSON_KEYS.get(f.name, f.name): f.name for f in fields(PatternSummary)}


def run_pattern(config: PatternConfig, out: Path, prediction=None) -> PatternSummary:
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
    summary = PatternSummary.from_json(scores.summary() | {
        "scorer_version": SCORER_VERSION,
        "predicted_spacing_m": pred.grid_spacing_m,
        "k_star": pred.k_star,
        "nonlinearity": c.nonlinearity, "cells": c.cells, "kind": c.kind,
        "steps": c.steps, "n_cells": c.n_cells, "seconds": seconds,
        "orthonormality_error": result.orthonormality_error,
        "distinct_scales_rad_per_m": result.distinct_scales().tolist(),
        "config": asdict(c),
    })
    out.mkdir(parents=True, exist_ok=True)
    result.ratemaps.save(out / PATTERN_FILES["ratemaps"])
    scores.to_csv(out / PATTERN_FILES["scores"])
    write_json(out / PATTERN_FILES["summary"], summary.to_json())
    return summary
