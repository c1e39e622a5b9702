"""gridform: grid cells through the lens of pattern formation.

Simulation of trajectories and place-cell codes, the analytic theory and pattern-forming
learning dynamics of Sorscher, Mel, Ganguli & Ocko (NeurIPS 2019), path-integrating RNNs
in JAX, and the analysis of ratemaps (gridness, spacing, orientation, phase, border score).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from gridform import _moved

_moved.install()  # the import paths of modules before the layer folders still work

# The names below are imported when first used, not with the package: `gridform --help`
# and every command start without importing JAX, and `from gridform import Ratemaps` works
# as before.
_EXPORTS = {
    **dict.fromkeys(("GridformWarning", "GridScores", "NullModel", "RatemapAccumulator",
                     "Ratemaps", "autocorrelogram", "border_score", "compute_ratemaps",
                     "gridness", "load_ratemaps", "null_model", "score_ratemaps",
                     "spatial_information"), "gridform.analysis"),
    "Box": "gridform.core.environment",
    **dict.fromkeys(("PLACE_CELL_KINDS", "PlaceCells", "surround_scale_from_ratio"),
                    "gridform.core.place_cells"),
    **dict.fromkeys(("MotionModel", "Trajectories", "simulate_trajectories"),
                    "gridform.core.trajectories"),
}

if TYPE_CHECKING:
    from gridform.analysis import (
        GridformWarning,
        GridScores,
        NullModel,
        RatemapAccumulator,
        Ratemaps,
        autocorrelogram,
        border_score,
        compute_ratemaps,
        gridness,
        load_ratemaps,
        null_model,
        score_ratemaps,
        spatial_information,
    )
    from gridform.core.environment import Box
    from gridform.core.place_cells import PLACE_CELL_KINDS, PlaceCells, surround_scale_from_ratio
    from gridform.core.trajectories import MotionModel, Trajectories, simulate_trajectories


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gridform' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__version__ = "0.1.0"

__all__ = [
    "PLACE_CELL_KINDS",
    "Box",
    "GridScores",
    "GridformWarning",
    "MotionModel",
    "NullModel",
    "PlaceCells",
    "RatemapAccumulator",
    "Ratemaps",
    "Trajectories",
    "autocorrelogram",
    "border_score",
    "compute_ratemaps",
    "gridness",
    "load_ratemaps",
    "null_model",
    "score_ratemaps",
    "simulate_trajectories",
    "spatial_information",
    "surround_scale_from_ratio",
]
