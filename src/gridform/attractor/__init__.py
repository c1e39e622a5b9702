"""The mechanistic half: Burak & Fiete's (2009) continuous-attractor grid network.

``sheet`` holds the model (a periodic sheet of rate neurons with shifted centre-surround
kernels, applied by FFT), ``theory`` the closed-form ring of its kernel and the period it
predicts, ``decode`` the pattern's wave vectors, its drift per metre and the position it
path-integrates, and ``run`` an experiment written to a directory (``gridform
attractor``). See docs/attractor.md.
"""

from gridform.attractor.decode import (
    DriftCalibration,
    SheetPattern,
    calibrate_drift,
    decode_translation,
    sheet_pattern,
)
from gridform.attractor.run import (
    ATTRACTOR_FILES,
    AttractorConfig,
    AttractorPath,
    AttractorResult,
    run_attractor,
    simulate_attractor,
)
from gridform.attractor.sheet import (
    SheetParams,
    kernel,
    random_state,
    recurrent_input,
    run_sheet,
    settle,
)
from gridform.attractor.theory import (
    SheetTheory,
    effective_gain,
    kernel_ring,
    kernel_spectrum,
    sheet_theory,
)

__all__ = ["ATTRACTOR_FILES", "AttractorConfig", "AttractorPath", "AttractorResult",
           "DriftCalibration", "SheetParams", "SheetPattern", "SheetTheory",
           "calibrate_drift", "decode_translation", "effective_gain", "kernel",
           "kernel_ring", "kernel_spectrum", "random_state", "recurrent_input", "run_attractor",
           "run_sheet", "settle", "sheet_pattern", "sheet_theory", "simulate_attractor"]
