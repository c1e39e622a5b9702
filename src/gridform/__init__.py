"""gridform: grid cells through the lens of pattern formation.

Simulation of trajectories and place-cell codes, the analytic theory and pattern-forming
learning dynamics of Sorscher, Mel, Ganguli & Ocko (NeurIPS 2019), path-integrating RNNs
in JAX, and the analysis of ratemaps (gridness, spacing, orientation, phase, border score).
"""

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
from gridform.environment import Box
from gridform.place_cells import PLACE_CELL_KINDS, PlaceCells, surround_scale_from_ratio
from gridform.trajectories import MotionModel, Trajectories, simulate_trajectories

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
