import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi
from conftest import as_ratemaps, lattice_map
from hypothesis import given, settings
from hypothesis import strategies as st

from gridform import (
    GridformWarning,
    GridScores,
    Ratemaps,
    autocorrelogram,
    border_score,
    null_model,
    score_ratemaps,
    spatial_information,
)


def test_hexagonal_map_scores_about_1_6():
    m, c = lattice_map(20, spacing=0.7)
    s = score_ratemaps(as_ratemaps(m, c))
    assert s.score_60[0] == pytest.approx(1.6, abs=0.1)
    assert s.score_60_minmax[0] > 1.3


@settings(max_examples=12, deadline=None)
@given(st.floats(0, 360))
def test_hexagonal_score_is_rotation_invariant(angle):
    m, c = lattice_map(20, spacing=0.7, theta_deg=angle, phase=(0.13, -0.07))
    s = score_ratemaps(as_ratemaps(m, c))
    assert abs(s.score_60[0] - 1.6) < 0.15


def test_hexagonal_score_survives_ten_percent_nan_holes(rng):
    m, c = lattice_map(20, spacing=0.7, theta_deg=17)
    holes = m.copy()
    holes.ravel()[rng.choice(m.size, m.size // 10, replace=False)] = np.nan
    full = score_ratemaps(as_ratemaps(m, c)).score_60[0]
    s = score_ratemaps(as_ratemaps(holes, c)).score_60[0]
    assert abs(s - full) < 0.15


def test_square_lattice_scores_square():
    m, c = lattice_map(20, spacing=0.6, kind="square")
    s = score_ratemaps(as_ratemaps(m, c))
    assert s.score_60[0] < 0
    assert s.score_60_minmax[0] < -0.5
    assert s.score_90[0] > 1.2


def test_stripes_and_smoothed_noise_score_low(rng):
    stripes, c = lattice_map(20, spacing=0.5, theta_deg=20, kind="stripes")
    noise = ndi.gaussian_filter(rng.standard_normal((50, 20, 20)), (0, 1.5, 1.5))
    s = score_ratemaps(as_ratemaps(np.concatenate([stripes[None], noise]), c))
    assert s.score_60[0] < 0.3
    assert np.median(s.score_60[1:]) < 0.3
    assert np.mean(s.score_60[1:] > 0.8) < 0.05


@pytest.mark.parametrize("spacing", [0.5, 0.7, 0.9])
@pytest.mark.parametrize("n", [20, 44])
def test_spacing_is_recovered_within_one_bin(spacing, n):
    m, c = lattice_map(n, spacing=spacing, theta_deg=11)
    s = score_ratemaps(as_ratemaps(m, c))
    assert abs(s.spacing_m[0] - spacing) < 2.2 / n


@pytest.mark.parametrize("theta", [0.0, 7.0, 23.0, 41.0, 59.0, 75.0])
def test_orientation_within_three_degrees(theta):
    m, c = lattice_map(44, spacing=0.6, theta_deg=theta)
    o = score_ratemaps(as_ratemaps(m, c)).orientation_deg[0]
    diff = (o - theta % 60 + 30) % 60 - 30
    assert abs(diff) < 3


def test_phase_is_the_field_nearest_the_centre():
    for phase in [(0.1, -0.2), (-0.15, 0.05)]:
        m, c = lattice_map(44, spacing=0.7, theta_deg=9, phase=phase)
        s = score_ratemaps(as_ratemaps(m, c))
        assert np.hypot(s.phase_x_m[0] - phase[0], s.phase_y_m[0] - phase[1]) < 2.2 / 44


def test_autocorrelogram_is_one_at_centre_and_point_symmetric(rng):
    maps = rng.random((4, 12, 15))
    maps[0, 3:5, 2:9] = np.nan
    sac = autocorrelogram(maps)
    assert sac.shape == (4, 23, 29)
    np.testing.assert_allclose(sac[:, 11, 14], 1.0, atol=1e-5)
    np.testing.assert_allclose(sac, sac[:, ::-1, ::-1], atol=1e-5, equal_nan=True)


def test_autocorrelogram_matches_a_direct_pearson_correlation(rng):
    m = rng.random((9, 11))
    m[2, 3] = np.nan
    sac = autocorrelogram(m, min_overlap=2)
    for dy, dx in [(0, 1), (2, -3), (-4, 5)]:
        a = m[max(0, -dy):9 - max(0, dy), max(0, -dx):11 - max(0, dx)]
        b = m[max(0, dy):9 + min(0, dy), max(0, dx):11 + min(0, dx)]
        ok = np.isfinite(a) & np.isfinite(b)
        r = np.corrcoef(a[ok], b[ok])[0, 1]
        assert sac[8 + dy, 10 + dx] == pytest.approx(r, abs=1e-5)


def test_ring_masks_are_those_of_the_reference_scorer():
    # The DeepMind scorer that Sorscher et al. use keeps the lags 0.2 n < r <= outer n
    # (circle(outer) * (1 - circle(0.2 n)), closed discs). On 20 x 20 bins of 0.11 m the
    # inner circle passes exactly through four lags, where rounding of 0.2 * 20 * 0.11
    # against 4 * 0.11 must not decide.
    from gridform.analysis.scores import RING_OUTERS, _ring_geometry

    n = 20
    geo = _ring_geometry(n, n, 0.11, 0.11)
    width = 2 * n - 1

    def rings(dy, dx):
        hit = np.flatnonzero(geo.index == (dy + n - 1) * width + (dx + n - 1))
        return geo.masks[:, hit[0]] > 0 if hit.size else np.zeros(len(RING_OUTERS), bool)

    for lag in [(0, 4), (4, 0), (0, -4), (-4, 0), (0, 0), (2, 3)]:
        assert not rings(*lag).any(), lag  # the centre, its closing circle included
    assert rings(1, 4).all() and rings(0, 5).all()
    assert rings(0, 8)[0] and not rings(0, 9)[0] and not rings(6, 6)[0]  # 0.4 n = 8
    assert rings(0, 20)[-1] and rings(12, 16)[-1] and not rings(13, 16)[-1]  # 1.0 n = 20
    # the first ring holds exactly the integer lags with 16 < dy^2 + dx^2 <= 64
    d2 = np.add.outer(np.arange(-19, 20) ** 2, np.arange(-19, 20) ** 2)
    assert geo.masks[0].sum() == np.count_nonzero((d2 > 16) & (d2 <= 64))


def test_skaggs_information_closed_forms():
    occ = np.ones((5, 5))
    uniform = np.ones((5, 5))
    onehot = np.zeros((5, 5))
    onehot[2, 3] = 1.0
    info = spatial_information(np.stack([uniform, onehot]), occ)
    assert info[0] == pytest.approx(0.0, abs=1e-12)
    assert info[1] == pytest.approx(np.log2(25))


def test_border_score_separates_wall_and_centre_fields():
    wall = np.zeros((20, 20))
    wall[:, :2] = 1.0
    centre = np.zeros((20, 20))
    centre[8:12, 8:12] = 1.0
    b = border_score(np.stack([wall, centre]))
    assert b[0] > 0.5
    assert b[1] < -0.5


def test_null_model_thresholds_are_ordered_and_low():
    null = null_model((20, 20), (0.11, 0.11), n_maps=200, seed=1)
    t95, t99 = null.threshold(95), null.threshold(99)
    assert t95 <= t99 < 1.0


def test_bad_maps_get_nan_and_a_warning_and_all_bad_raises():
    m, c = lattice_map(20)
    maps = np.stack([m, np.full_like(m, np.nan), np.ones_like(m)])
    with pytest.warns(GridformWarning, match="2 of 3"):
        s = score_ratemaps(as_ratemaps(maps, c))
    assert np.isfinite(s.score_60[0]) and np.isnan(s.score_60[1:]).all()
    with pytest.raises(ValueError, match="no map can be scored"):
        score_ratemaps(as_ratemaps(np.full((2, 20, 20), np.nan), c))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score_ratemaps(as_ratemaps(m, c))


def test_csv_has_the_promised_columns(tmp_path):
    m, c = lattice_map(20)
    s = score_ratemaps(Ratemaps(m[None], np.ones((20, 20)), c, c))
    path = s.to_csv(tmp_path / "s.csv")
    header = path.read_text().splitlines()[0].split(",")
    for col in ("cell", "score_60", "score_60_minmax", "score_90", "spacing_m",
                "orientation_deg", "phase_x_m", "phase_y_m", "border_score",
                "spatial_info_bits"):
        assert col in header


def test_scores_read_back_to_the_digits_the_file_keeps(tmp_path):
    m, c = lattice_map(20, spacing=0.7)
    maps = np.stack([m, np.ones_like(m), lattice_map(20, spacing=0.9, theta_deg=20)[0]])
    with pytest.warns(GridformWarning, match="1 of 3"):
        s = score_ratemaps(as_ratemaps(maps, c))
    path = s.to_csv(tmp_path / "scores.csv")
    back = GridScores.load(path)
    assert back.n_cells == 3
    for name, col in s.columns().items():
        if name == "cell":
            continue
        got = getattr(back, name)
        assert np.array_equal(np.isnan(got), np.isnan(col)), name  # the constant map
        assert np.allclose(got, col, rtol=5e-6, atol=0, equal_nan=True), name
    assert back.spacing_m[0] == pytest.approx(0.7, abs=0.11)  # one bin: the lattice's
    # written again, the same file byte for byte
    assert back.to_csv(tmp_path / "again.csv").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("text, message", [
    ("cell,score_60\n0,0.5\n", "no column score_60_minmax, score_90"),
    (None, r"row 3 should be cell 1"),
    (None, "column score_60: could not convert"),
])
def test_a_file_that_is_not_a_scores_table_is_named(tmp_path, text, message):
    m, c = lattice_map(20)
    good = score_ratemaps(as_ratemaps(np.stack([m, m]), c)).to_csv(tmp_path / "s.csv")
    lines = good.read_text().splitlines()
    if text is None and "row" in message:
        lines[2] = "7" + lines[2][1:]  # the second cell misnumbered
    elif text is None:
        lines[1] = "0,high" + lines[1][lines[1].index(",", 2):]
    bad = tmp_path / "bad.csv"
    bad.write_text(text if text is not None else "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=message):
        GridScores.load(bad)
    with pytest.raises(FileNotFoundError, match="no scores file"):
        GridScores.load(tmp_path / "absent.csv")


def test_gridness_and_geometry_are_typed_and_still_read_by_name():
    from gridform.analysis.scores import GridGeometry, Gridness, grid_geometry, gridness
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps

    maps = lattice_ratemaps(0.7, [0.0, 20.0], bins=40, box=Box(2.2, 2.2))
    sac = autocorrelogram(maps.rates)
    g, geo = gridness(sac, maps.bin_size), grid_geometry(sac, maps.bin_size)
    assert isinstance(g, Gridness) and isinstance(geo, GridGeometry)
    assert g.keys() == ["score_60", "score_60_minmax", "score_90", "ring_outer"]
    assert g["score_60"] is g.score_60 and (g.score_60 > 1).all()
    np.testing.assert_allclose(geo.spacing_m, 0.7, rtol=0.05)
    assert geo["peaks"].shape == (2, 6, 2)
    with pytest.raises(KeyError):
        g["spacing_m"]


def test_fraction_above_counts_nan_as_below_over_all_cells_or_a_subset():
    from dataclasses import fields

    from gridform.analysis.scores import GridScores

    s60 = np.array([0.9, np.nan, 0.2, 0.5])
    scores = GridScores(**{f.name: s60 for f in fields(GridScores)})
    assert scores.fraction_above(0.4) == 0.5
    assert scores.fraction_above(0.4, units=[1, 2]) == 0.0
    assert scores.fraction_above(0.4, "score_90", units=np.array([0, 3])) == 1.0
