"""The attractor target's checks on inputs whose verdict is known: a wrong period, too few
grid cells, a pattern that does not drift and a kernel without a ring must all fail."""

import math

import numpy as np

from gridform.attractor.decode import SheetPattern
from gridform.experiments.reproduce.attractor import _grid_claim, _period_claim


def sheet_summary(**changes) -> dict:
    s = {"sheet_period_predicted": 15.37, "sheet_period_measured": 15.37, "sheet": 64,
         "pattern_power_fraction": 0.88, "frac_above_0.8": 1.0, "spacing_measured_m": 0.44,
         "spacing_predicted_m": 0.439, "n_recorded": 256, "duration_s": 300.0,
         "pi_error_median_m": 0.004, "median_score_60": 0.97}
    return s | changes


def pattern(power: float, period: float) -> SheetPattern:
    return SheetPattern(np.zeros((3, 2)), power, period, period * 1.15, 1.0)


def runs(sheet: dict, control: dict | None = None, flat: SheetPattern | None = None):
    return {"sheet": (None, sheet, None),
            "no-velocity": (None, control or sheet_summary(
                **{"frac_above_0.8": 0.0}, spacing_measured_m=math.nan,
                spacing_predicted_m=math.inf), None),
            "no-ring": (None, None, flat or pattern(0.0, math.inf))}


def test_the_period_row_passes_the_ring_and_fails_a_wrong_period():
    assert _period_claim(runs(sheet_summary())).holds
    wrong = _period_claim(runs(sheet_summary(sheet_period_measured=17.5)))
    assert not wrong.passed and wrong.verdict == "fail"
    defect = _period_claim(runs(sheet_summary(pattern_power_fraction=0.35)))
    assert not defect.passed  # a lattice with a dislocation is no pattern at the ring


def test_a_kernel_without_a_ring_is_a_control_that_fails_and_one_that_would_pass():
    ok = _period_claim(runs(sheet_summary()))
    assert ok.control_passes is False
    # a control that formed the same pattern would make the row not discriminate
    same = _period_claim(runs(sheet_summary(), flat=pattern(0.85, 15.4)))
    assert same.control_passes is True and same.verdict == "does not discriminate"


def test_the_grid_row_fails_too_few_grid_cells_or_a_wrong_spacing():
    assert _grid_claim(runs(sheet_summary())).holds
    assert not _grid_claim(runs(sheet_summary(**{"frac_above_0.8": 0.6}))).passed
    assert not _grid_claim(runs(sheet_summary(spacing_measured_m=0.47))).passed
    still = _grid_claim(runs(sheet_summary()))
    assert still.control_passes is False and "does not drift" in still.control_measured
