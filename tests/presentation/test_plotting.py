"""Figures from small synthetic inputs whose panels, titles and marks are known."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from gridform.analysis.scores import GridScores
from gridform.core.environment import Box
from gridform.data.synthetic import lattice_ratemaps
from gridform.presentation.plotting import (
    plot_autocorrelograms,
    plot_condition_fractions,
    plot_ratemap_spectrum,
    plot_ratemaps,
    plot_score_histograms,
    plot_spectrum,
    save_figure,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def scores_of(score_60, spacing_m=None, orientation_deg=None):
    """GridScores with the given gridness, spacing and orientation, NaN elsewhere."""
    s60 = np.asarray(score_60, float)
    nan = np.full_like(s60, np.nan)
    return GridScores(s60, nan, nan,
                      nan if spacing_m is None else np.asarray(spacing_m, float),
                      nan if orientation_deg is None else np.asarray(orientation_deg, float),
                      nan, nan, nan, nan, nan)


def five_maps():
    return lattice_ratemaps(0.5, orientation_deg=np.arange(5) * 10.0, bins=20,
                            box=Box(2.0, 1.0))


def test_ratemaps_one_titled_panel_per_cell_and_the_rest_blank():
    maps = five_maps()
    scores = scores_of([0.1, 1.234, -0.5, 0.8, 1.0])
    fig = plot_ratemaps(maps, scores, ncols=4, title="five maps")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 5
    assert [ax.get_title() for ax in panels] == ["#0 g=0.10", "#1 g=1.23", "#2 g=-0.50",
                                                 "#3 g=0.80", "#4 g=1.00"]
    blank = [ax for ax in fig.axes if not ax.images and not ax.axison]
    assert len(blank) == 3  # a 2 x 4 grid holds 5 maps
    assert len(fig.axes) == 2 * 4 + 1  # and the shared colourbar
    assert fig._suptitle.get_text() == ("five maps (each panel 2.0 m x 1.0 m; g = gridness "
                                        "score_60)")
    # each map on its own scale from 0 to 1, drawn over the box in metres
    for ax in panels:
        data = ax.images[0].get_array()
        assert data.min() == pytest.approx(0.0) and data.max() == pytest.approx(1.0)
        assert ax.images[0].get_extent() == pytest.approx(list(maps.extent))


def test_ratemaps_into_given_axes_draws_the_chosen_cells_there():
    fig, axes = plt.subplots(1, 3)
    got = plot_ratemaps(five_maps(), cells=[4, 2], axes=axes)
    assert got is fig
    assert [ax.get_title() for ax in axes[:2]] == ["#4", "#2"]
    assert not axes[2].axison and not fig._suptitle


def test_spectrum_is_normalised_and_marks_the_ring():
    k = np.linspace(0, 40, 81)
    power = 3.0 * np.exp(-((k - 10.0) / 2.0) ** 2)
    fig = plot_spectrum(k, power, k_star=10.0)
    (ax,) = fig.axes
    curve, ring = ax.lines
    assert np.max(curve.get_ydata()) == pytest.approx(1.0)
    assert list(ring.get_xdata()) == [10.0, 10.0]
    assert ax.get_xlim() == (0.0, 40.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["empirical",
                                                                  "k* = 10.00 rad/m"]


def test_autocorrelograms_peak_at_one_at_zero_lag_on_a_shared_scale():
    maps = five_maps()
    fig = plot_autocorrelograms(maps, scores_of([0.1, 0.2, 0.3, 0.4, 0.5]), cells=[1, 3],
                                ncols=2)
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["#1 g=0.20", "#3 g=0.40"]
    assert len(fig.axes) == 3  # two panels and the colourbar
    for ax in panels:
        im = ax.images[0]
        sac = np.asarray(im.get_array())
        ny, nx = sac.shape
        assert (ny, nx) == (39, 39)
        assert sac[ny // 2, nx // 2] == pytest.approx(1.0)  # zero lag: the map itself
        assert im.get_clim() == (-1, 1)
        # lags up to (n - 1) bins either way, in metres
        assert im.get_extent() == pytest.approx([-1.9, 1.9, -0.95, 0.95])


def test_score_histograms_count_the_active_units_and_those_above_0_8():
    scores = scores_of([0.2, 0.9, 1.1, np.nan, 1.5], spacing_m=[0.5, 0.6, 0.7, 0.8, 0.9],
                       orientation_deg=[1.0, 12.0, 24.0, 36.0, 48.0])
    active = np.array([True, True, True, True, False])
    fig = plot_score_histograms(scores, active, predicted_spacing_m=0.65,
                                null_threshold=0.4)
    a, b, c = fig.axes
    assert a.get_title() == "gridness of 4 active units"
    assert sum(p.get_height() for p in a.patches) == 3  # the NaN unit is not drawn
    assert b.get_title() == "spacing of 2 units above 0.8"  # 0.9 and 1.1; 1.5 is inactive
    assert sum(p.get_height() for p in b.patches) == 2 == sum(p.get_height()
                                                              for p in c.patches)
    labels = [t.get_text() for t in b.get_legend().get_texts()]
    assert labels == ["theory 0.650 m", "median 0.650 m"]
    assert "null 95th pct 0.40" in [t.get_text() for t in a.get_legend().get_texts()]


def test_ratemap_spectrum_of_stripes_peaks_at_their_wavenumber():
    spacing = 0.5  # m: 4 periods across a 2 m box, so the peak falls on a bin
    maps = lattice_ratemaps(spacing, orientation_deg=[0.0, 0.0], kind="stripes", bins=40,
                            box=Box(2.0, 2.0))
    fig = plot_ratemap_spectrum(maps, active=np.array([True, True]),
                                k_star=2 * np.pi / spacing)
    mesh = fig.axes[0].collections[0]
    power = np.asarray(mesh.get_array()).reshape(40, 40)
    kx = np.fft.fftshift(np.fft.fftfreq(40, d=2.0 / 40)) * 2 * np.pi
    iy, ix = np.unravel_index(np.argmax(power), power.shape)
    assert power.max() == pytest.approx(1.0)
    assert abs(kx[ix]) == pytest.approx(2 * np.pi / spacing) and kx[iy] == 0.0
    # the power lies on the two points +-k of the wave and nowhere else
    assert np.sum(power > 1e-6) == 2


def test_ratemap_spectrum_without_active_units_says_so():
    fig = plot_ratemap_spectrum(five_maps(), active=np.zeros(5, bool))
    assert [t.get_text() for t in fig.axes[0].texts] == ["no active units"]


def test_condition_fractions_are_bars_of_the_given_heights():
    fig = plot_condition_fractions(["relu, 0.1", "tanh, 0.1"], [0.25, 1.0], title="T")
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == [0.25, 1.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["relu\n0.1", "tanh\n0.1"]
    assert ax.get_ylim() == (0.0, 1.0) and ax.get_title() == "T"


@pytest.mark.parametrize("name, magic", [("f.png", b"\x89PNG"), ("f.svg", b"<?xml")])
def test_save_figure_writes_the_suffix_format_and_closes(tmp_path, name, magic):
    fig = plt.figure()
    path = save_figure(fig, tmp_path / name)
    assert path == tmp_path / name and path.read_bytes().startswith(magic)
    assert not plt.fignum_exists(fig.number)
    assert [p.name for p in tmp_path.iterdir()] == [name]
