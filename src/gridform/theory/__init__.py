"""The analytic theory and the pattern-forming learning dynamics (docs/theory.md sections 2, 4)."""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

if TYPE_CHECKING:
    from gridform.theory.dynamics import (
        NONLINEARITIES,
        CovarianceOperator,
        PatternResult,
        dominant_wavenumber,
        simulate_pattern,
    )
    from gridform.theory.energy import PatternEnergy, pattern_energies
    from gridform.theory.one_layer import nmf_maps, pca_maps, place_code_matrix
    from gridform.theory.spacing_law import LawFit, fit_spacing_law
    from gridform.theory.spectrum import (
        CovarianceKernel,
        SpacingCorrection,
        TheoryPrediction,
        corrected_spacing,
        grid_spacing,
        plane_wave_period,
        predict,
        radial_profile,
        ring_wavenumber,
        spatial_covariance,
        step_length_m,
        tuning_power_spectrum,
    )

__getattr__, __dir__ = exports(globals(), {
    "NONLINEARITIES": "gridform.theory.dynamics",
    "CovarianceOperator": "gridform.theory.dynamics",
    "PatternResult": "gridform.theory.dynamics",
    "dominant_wavenumber": "gridform.theory.dynamics",
    "simulate_pattern": "gridform.theory.dynamics",
    "PatternEnergy": "gridform.theory.energy",
    "pattern_energies": "gridform.theory.energy",
    "nmf_maps": "gridform.theory.one_layer",
    "pca_maps": "gridform.theory.one_layer",
    "place_code_matrix": "gridform.theory.one_layer",
    "LawFit": "gridform.theory.spacing_law",
    "fit_spacing_law": "gridform.theory.spacing_law",
    "CovarianceKernel": "gridform.theory.spectrum",
    "SpacingCorrection": "gridform.theory.spectrum",
    "TheoryPrediction": "gridform.theory.spectrum",
    "corrected_spacing": "gridform.theory.spectrum",
    "grid_spacing": "gridform.theory.spectrum",
    "plane_wave_period": "gridform.theory.spectrum",
    "predict": "gridform.theory.spectrum",
    "radial_profile": "gridform.theory.spectrum",
    "ring_wavenumber": "gridform.theory.spectrum",
    "spatial_covariance": "gridform.theory.spectrum",
    "step_length_m": "gridform.theory.spectrum",
    "tuning_power_spectrum": "gridform.theory.spectrum",
})

__all__ = [
    "NONLINEARITIES",
    "CovarianceKernel",
    "CovarianceOperator",
    "LawFit",
    "PatternEnergy",
    "PatternResult",
    "SpacingCorrection",
    "TheoryPrediction",
    "corrected_spacing",
    "dominant_wavenumber",
    "fit_spacing_law",
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
    "step_length_m",
    "tuning_power_spectrum",
]
