"""The analytic theory and the pattern-forming learning dynamics (docs/theory.md sections 2, 4)."""

from gridform.theory.dynamics import (
    NONLINEARITIES,
    CovarianceOperator,
    PatternResult,
    dominant_wavenumber,
    simulate_pattern,
)
from gridform.theory.energy import PatternEnergy, pattern_energies
from gridform.theory.one_layer import nmf_maps, pca_maps, place_code_matrix
from gridform.theory.spectrum import (
    CovarianceKernel,
    TheoryPrediction,
    grid_spacing,
    plane_wave_period,
    predict,
    radial_profile,
    ring_wavenumber,
    spatial_covariance,
    tuning_power_spectrum,
)

__all__ = [
    "NONLINEARITIES",
    "CovarianceKernel",
    "CovarianceOperator",
    "PatternEnergy",
    "PatternResult",
    "TheoryPrediction",
    "dominant_wavenumber",
    "grid_spacing",
    "nmf_maps",
    "pattern_energies",
    "pca_maps",
    "place_code_matrix",
    "plane_wave_period",
    "predict",
    "radial_profile",
    "ring_wavenumber",
    "simulate_pattern",
    "spatial_covariance",
    "tuning_power_spectrum",
]
