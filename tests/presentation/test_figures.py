"""The reproduce figures, drawn from small made-up target data whose marks are known."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gridform.experiments.reproduce import EXTRA_TARGETS, TARGETS
from gridform.experiments.reproduce.spacing_law import SpacingRow
from gridform.presentation.figures import FIGURES, save_target_figure


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def conditions_data():
    return dict(runs={"relu": None, "tanh": None},
                frac={"relu": [0.5, 0.7], "tanh": [0.0, 0.1]},
                frac8={"relu": [0.2, 0.4], "tanh": [0.0, 0.0]},
                seeds=[0, 1], err={"relu": [4.0, 6.0], "tanh": [20.0, 30.0]})


def row(sigma, speed, measured, held_out, predicted=0.7):
    return SpacingRow(run_dir="r", sigma=sigma, surround_scale=2.0, speed_scale=speed,
                      box_width=2.2, boundary="periodic", seed=0, dt=0.02,
                      predicted_spacing_m=predicted, measured_spacing_m=measured,
                      n_grid_units=5, held_out=held_out, corrected_prediction_m=0.75)


def test_every_target_has_a_figure():
    assert set(FIGURES) == {*TARGETS, *EXTRA_TARGETS}


def test_conditions_figure_shows_the_mean_fractions_and_the_error_of_each_condition():
    fig = FIGURES["conditions"](**conditions_data())
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    # first the bars above 0.3, then those above 0.8, one per condition
    assert heights == pytest.approx([0.6, 0.05, 0.3, 0.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["relu\n5.0 cm", "tanh\n25.0 cm"]
    assert ax.get_title() == "grid units by condition (2 seeds each)"


def test_spacing_law_figure_plots_every_measured_run_once_per_prediction():
    rows = [row(0.12, 0.1, 0.72, False), row(0.12, 0.2, 0.78, True),
            row(0.16, 0.1, 0.95, False, predicted=0.9),
            row(0.16, 0.2, float("nan"), False, predicted=0.9)]
    fig = FIGURES["spacing-law"](rows=rows, line={"slope": 0.96, "r2": 0.871})
    a, b = fig.axes
    # fitted and held-out runs, each against the plain and the corrected prediction
    counts = [len(c.get_offsets()) for c in a.collections]
    assert counts == [2, 2, 1, 1]
    assert a.get_title() == "measured vs plain prediction: slope 0.96, R$^2$ 0.87"
    # one line per sigma through its measured runs; the NaN run is left out
    per_sigma = [line for line in b.lines if line.get_label().startswith("sigma")]
    assert [line.get_label() for line in per_sigma] == ["sigma 0.12 m", "sigma 0.16 m"]
    assert [len(line.get_xdata()) for line in per_sigma] == [2, 1]
    np.testing.assert_allclose(per_sigma[1].get_ydata(), [100 * (0.95 / 0.9 - 1)])


def test_a_target_figure_is_saved_as_png_and_svg_and_closed(tmp_path):
    before = plt.get_fignums()
    save_target_figure("conditions", conditions_data(), tmp_path / "figures")
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "conditions.png", "conditions.svg"]
    assert (tmp_path / "figures" / "conditions.png").read_bytes()[:4] == b"\x89PNG"
    assert plt.get_fignums() == before


def test_spacing_distance_figure_plots_each_path_length_and_the_law():
    import gridform.experiments.reproduce.spacing_distance as sd

    pred = sd.theory_spacing()
    settings = [sd.Setting(10, 1.0, (0.8, 0.82), (10, 12)),
                sd.Setting(40, 1.0, (0.95, float("nan")), (9, 2)),
                sd.Setting(20, 2.0, (float("nan"),), (0,))]
    fig = FIGURES["spacing-distance"](settings=settings, predicted=pred,
                                       law={"A": 0.2, "B": 0.07, "D0_m": sd.D0})
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]
    assert labels == ["10-step paths", "40-step paths", "law, fixed in advance",
                      "control: constant gap"]
    means = next(line for line in ax.lines if line.get_label() == "10-step paths")
    np.testing.assert_allclose(means.get_ydata(), [100 * (0.81 / pred - 1)])
