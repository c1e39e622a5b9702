"""The mechanistic half: Burak & Fiete's (2009) continuous-attractor grid network.

``sheet`` holds the model (a periodic sheet of rate neurons with shifted centre-surround
kernels, applied by FFT), ``theory`` the closed-form ring of its kernel and the period it
predicts, ``decode`` the pattern's wave vectors, its drift per metre and the position it
path-integrates, and ``run`` an experiment written to a directory (``gridform
attractor``). See docs/attractor.md. Names are imported when first used, so the command
line starts without JAX.
"""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

_NAMES = {
    **dict.fromkeys(("DriftCalibration", "SheetPattern", "calibrate_drift",
                     "decode_translation", "sheet_pattern"), "gridform.attractor.decode"),
    **dict.fromkeys(("ATTRACTOR_FILES", "AttractorConfig", "AttractorPath", "AttractorResult",
                     "read_attractor", "run_attractor", "simulate_attractor"),
                    "gridform.attractor.run"),
    **dict.fromkeys(("SheetParams", "kernel", "random_state", "recurrent_input", "run_sheet",
                     "settle", "weights_between"), "gridform.attractor.sheet"),
    **dict.fromkeys(("SheetTheory", "effective_gain", "kernel_ring", "kernel_spectrum",
                     "mode_gain", "sheet_theory"), "gridform.attractor.theory"),
}

if TYPE_CHECKING:
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
        read_attractor,
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
        weights_between,
    )
    from gridform.attractor.theory import (
        SheetTheory,
        effective_gain,
        kernel_ring,
        kernel_spectrum,
        mode_gain,
        sheet_theory,
    )

__getattr__, __dir__ = exports(globals(), _NAMES)

__all__ = ["ATTRACTOR_FILES", "AttractorConfig", "AttractorPath", "AttractorResult",
           "DriftCalibration", "SheetParams", "SheetPattern", "SheetTheory",
           "calibrate_drift", "decode_translation", "effective_gain", "kernel",
           "kernel_ring", "kernel_spectrum", "mode_gain", "random_state", "read_attractor",
           "recurrent_input", "run_attractor", "run_sheet", "settle", "sheet_pattern",
           "sheet_theory", "simulate_attractor", "weights_between"]
