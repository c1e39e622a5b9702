"""Analysis of ratemaps: containers, autocorrelograms, grid scores, null models."""

from gridform.analysis.ratemaps import (
    RatemapAccumulator,
    Ratemaps,
    compute_ratemaps,
    load_ratemaps,
)
from gridform.analysis.scores import (
    GridformWarning,
    GridScores,
    NullModel,
    autocorrelogram,
    border_score,
    grid_geometry,
    grid_phase,
    gridness,
    null_model,
    score_ratemaps,
    spatial_information,
)

__all__ = [
    "GridScores",
    "GridformWarning",
    "NullModel",
    "RatemapAccumulator",
    "Ratemaps",
    "autocorrelogram",
    "border_score",
    "compute_ratemaps",
    "grid_geometry",
    "grid_phase",
    "gridness",
    "load_ratemaps",
    "null_model",
    "score_ratemaps",
    "spatial_information",
]
