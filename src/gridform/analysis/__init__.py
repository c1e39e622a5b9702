"""Analysis of ratemaps: containers, autocorrelograms, grid scores, null models."""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

if TYPE_CHECKING:
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
    from gridform.core.ratemaps import (
        RatemapAccumulator,
        Ratemaps,
        compute_ratemaps,
        load_ratemaps,
    )

__getattr__, __dir__ = exports(globals(), {
    "RatemapAccumulator": "gridform.core.ratemaps",
    "Ratemaps": "gridform.core.ratemaps",
    "compute_ratemaps": "gridform.core.ratemaps",
    "load_ratemaps": "gridform.core.ratemaps",
    "GridformWarning": "gridform.analysis.scores",
    "GridScores": "gridform.analysis.scores",
    "NullModel": "gridform.analysis.scores",
    "autocorrelogram": "gridform.analysis.scores",
    "border_score": "gridform.analysis.scores",
    "grid_geometry": "gridform.analysis.scores",
    "grid_phase": "gridform.analysis.scores",
    "gridness": "gridform.analysis.scores",
    "null_model": "gridform.analysis.scores",
    "score_ratemaps": "gridform.analysis.scores",
    "spatial_information": "gridform.analysis.scores",
})

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
