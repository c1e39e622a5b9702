"""Known-wrong inputs that used to pass the claims' checks now fail them, and known-right
inputs still pass: the triad's phase sum, square units, squares under Gaussian targets."""

import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi

from gridform.analysis.scores import (
    find_triads,
    score_ratemaps,
    spectral_null,
    triad_phase_sum,
    triad_waves,
)
from gridform.core.ratemaps import Ratemaps

TRIAD = [(0, 5), (4, -3), (-4, -2)]  # sums to zero on a 40-bin torus


def _waves(phases: np.ndarray, n: int = 40) -> np.ndarray:
    """(map, y, x) three plane waves on the triad, one row of phases per map."""
    y, x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.stack([sum(a * np.cos(2 * np.pi * (ky * y + kx * x) / n + p)
                         for (ky, kx), p, a in zip(TRIAD, ph, (1.0, 0.95, 0.9), strict=True))
                     for ph in phases])


def _scores(maps):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return score_ratemaps(maps)


def test_the_strongest_triad_is_found_among_two_interleaved_ones():
    # a square torus's hexagon: (5, 0) = (2, 4) + (3, -4) = (2, -4) + (3, 4), with the
    # three strongest modes (5, 0), (2, 4), (2, -4) forming no triad
    n = 40
    y, x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    modes = [((5, 0), 1.2, 0.4), ((2, 4), 1.0, -0.1), ((2, -4), 0.98, 0.0),
             ((3, -4), 0.96, -0.3), ((3, 4), 0.9, 0.0)]
    m = sum(a * np.cos(2 * np.pi * (ky * y + kx * x) / n + p) for (ky, kx), a, p in modes)
    t = find_triads(m[None])
    # (5, 0) - (2, 4) - (3, -4): phases 0.4 + 0.1 + 0.3
    assert t.found[0] and t.phase_sum[0] == pytest.approx(0.8)
    assert np.all(t.wavevectors[0].sum(axis=0) == 0)
    # a map whose strong modes form no triad has none
    lone = np.cos(2 * np.pi * (5 * x) / n) + np.cos(2 * np.pi * (5 * y) / n)
    assert not find_triads(lone[None]).found[0]


def test_waves_rebuilt_from_a_triad_carry_the_phases_they_are_given():
    t = find_triads(_waves(np.zeros((1, 3))))
    phases = np.array([[0.3, -0.2, 0.5], [1.0, 1.0, 1.0]])
    got = triad_phase_sum(triad_waves(t, (40, 40), phases))
    assert got == pytest.approx([0.6, 3.0])
    with pytest.raises(ValueError, match="no map has a triad"):
        triad_waves(find_triads(np.zeros((1, 40, 40))), (40, 40), phases)


def test_relu_maps_with_a_random_phase_sum_fail_the_triad_check():
    from gridform.experiments.reproduce.pattern import triad_check

    rng = np.random.default_rng(0)
    phases = rng.uniform(-np.pi, np.pi, (40, 3))
    relu = np.maximum(_waves(phases), 0.0)
    # the old check: the median |phase sum| of the rectified maps under pi / 4; the ReLU
    # pulls every sum toward zero, so maps with no selected phase passed it
    assert np.median(np.abs(triad_phase_sum(relu))) < np.pi / 4
    check = triad_check(relu, np.random.default_rng(1), rectified=True)
    assert not check.passed and check.median > check.threshold
    # rectified maps with a zero phase sum pass against the same ReLU null
    zero = np.maximum(_waves(np.tile([0.4, -0.1, -0.3], (40, 1))), 0.0)
    assert triad_check(zero, np.random.default_rng(1), rectified=True).passed
    # before the ReLU: a zero sum passes, a random one fails, the null is uniform
    pre = triad_check(_waves(np.tile([0.4, -0.1, -0.3], (40, 1))), rng, rectified=False)
    assert pre.passed and pre.threshold == pytest.approx(0.05 * np.pi, abs=0.05)
    assert not triad_check(_waves(phases), rng, rectified=False).passed


def test_a_map_without_a_triad_counts_as_a_failure_not_a_drop():
    from gridform.experiments.reproduce.pattern import triad_check

    n = 40
    y, x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    squares = np.cos(2 * np.pi * 5 * x / n) + np.cos(2 * np.pi * 5 * y / n)
    maps = np.concatenate([_waves(np.zeros((4, 3))), np.repeat(squares[None], 5, axis=0)])
    check = triad_check(maps, np.random.default_rng(0), rectified=False)
    # 4 maps at 0 and 5 counted as pi: the median is pi, and the check fails
    assert check.n == 9 and check.n_without_triad == 5
    assert check.median == pytest.approx(np.pi) and not check.passed


def test_relu_noise_fails_the_square_units_check():
    from gridform.experiments.reproduce.rnn import ABOVE_NULL, shape_fractions

    rng = np.random.default_rng(0)
    bins, size = 20, 0.11
    noise = ndi.gaussian_filter(rng.standard_normal((300, bins, bins)), (0, 1.4, 1.4),
                                mode="wrap")
    centres = (np.arange(bins) + 0.5) * size
    maps = Ratemaps(np.maximum(noise, 0) + 1e-9 * rng.random(noise.shape),
                    np.ones((bins, bins)), centres, centres)
    sc = _scores(maps)
    s60, s90 = np.nan_to_num(sc.score_60, nan=-9), np.nan_to_num(sc.score_90, nan=-9)
    # the old check: >= 5% with score_90 > 0.8 (and above score_60): ReLU noise passed it
    assert np.mean((s90 > 0.8) & (s90 > s60)) >= 0.05
    shapes = shape_fractions(sc, np.arange(maps.n_cells), spectral_null(maps, 300, seed=1))
    # against its own spectrum, noise puts about 5% above each 95th percentile
    assert shapes.square < ABOVE_NULL and shapes.hexagonal < ABOVE_NULL
    assert not shapes.coexist


def test_square_units_above_their_null_coexist_with_hexagonal_ones():
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps
    from gridform.experiments.reproduce.rnn import shape_fractions

    box = Box(2.2, 2.2, "walls")
    rng = np.random.default_rng(0)
    hexes = lattice_ratemaps(0.55, rng.uniform(0, 60, 20), bins=20, box=box)
    squares = lattice_ratemaps(0.55, rng.uniform(0, 90, 20), kind="square", bins=20, box=box)
    maps = Ratemaps(np.concatenate([hexes.rates, squares.rates]), hexes.occupancy,
                    hexes.x_centers, hexes.y_centers)
    shapes = shape_fractions(_scores(maps), np.arange(40), spectral_null(maps, 300, seed=0))
    assert shapes.coexist and shapes.square >= 0.4 and shapes.hexagonal >= 0.4


@pytest.mark.parametrize("wrong", ["relu noise", "stripes"])
def test_relu_noise_and_stripes_at_the_box_scale_fail_the_gaussian_squares_check(wrong):
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps
    from gridform.experiments.reproduce.pattern import square_check

    box, bins = Box(3.3, 3.3, "periodic"), 60
    rng = np.random.default_rng(0)
    if wrong == "stripes":
        maps = lattice_ratemaps(3.3, rng.uniform(0, 180, 12), kind="stripes", bins=bins,
                                box=box)
    else:
        noise = ndi.gaussian_filter(rng.standard_normal((12, bins, bins)), (0, 10, 10),
                                    mode="wrap")
        c = (np.arange(bins) + 0.5) * 3.3 / bins
        maps = Ratemaps(np.maximum(noise, 0), np.ones((bins, bins)), c, c)
    sc = _scores(maps)
    assert np.nanmedian(sc.score_90 - sc.score_60) > 0  # the old check passed them
    check = square_check(maps, sc, seed=0, sets=40)
    assert not check.passed and check.margin < check.threshold


def test_square_patterns_pass_the_gaussian_squares_check():
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps
    from gridform.experiments.reproduce.pattern import square_check

    box = Box(3.3, 3.3, "periodic")
    maps = lattice_ratemaps(0.55, np.linspace(0, 90, 12, endpoint=False), kind="square",
                            bins=60, box=box)
    check = square_check(maps, _scores(maps), seed=0, sets=40)
    assert check.passed and check.margin > 1.0


def test_a_null_model_gives_thresholds_for_score_90_and_names_a_bad_variant():
    from gridform.analysis.scores import null_model

    null = null_model((20, 20), n_maps=50, seed=0)
    assert null.threshold(95, "score_90") == pytest.approx(np.percentile(null.scores_90, 95))
    with pytest.raises(ValueError, match="variant must be 'mean', 'minmax' or 'score_90'"):
        null.threshold(95, "score_60")


def test_torus_shell_scales_fail_the_hierarchy_check():
    """Maps whose wavenumbers are the 2.2 m torus's own neighbouring Fourier shells (6.39,
    8.57, 9.03, 10.30, 11.78 rad/m) used to count as five scales; no gap between them holds
    two shells that no map took, so they are one scale now."""
    from gridform.experiments.reproduce._common import _shells
    from gridform.experiments.reproduce.multicell import MIN_SCALES, hierarchy

    shells = _shells(44, 2.2)
    k = np.repeat([shells[np.argmin(abs(shells - v))] for v in (6.39, 8.57, 9.03, 10.30,
                                                                  11.78)], 3)
    h = hierarchy(k, np.ones_like(k), shells)
    assert h.n_scales < MIN_SCALES
    assert h.shell_gap > 0.1  # the torus's own gaps exceed the tolerance


def test_scales_with_empty_shells_between_them_pass_the_hierarchy_check():
    from gridform.experiments.reproduce._common import _shells
    from gridform.experiments.reproduce.multicell import hierarchy

    shells = _shells(260, 13.0)  # shells about 1-2% apart near 5-10 rad/m
    k = np.array([shells[np.argmin(abs(shells - v))] for v in (5.0, 5.05, 7.0, 7.1, 9.8,
                                                                9.9)])
    h = hierarchy(k, np.ones_like(k), shells)
    assert h.n_scales == 3 and list(h.counts) == [2, 2, 2]
    np.testing.assert_allclose(h.ratios, [9.85 / 7.05, 7.05 / 5.025], rtol=0.02)
    # a map the covariance does not drive (energy below 20% of the largest) is no scale
    k2 = np.append(k, shells[np.argmin(abs(shells - 3.0))])
    assert hierarchy(k2, np.append(np.ones_like(k), 0.1), shells).n_scales == 3
    assert hierarchy(k2, np.ones_like(k2), shells).n_scales == 4
    with pytest.raises(ValueError, match="k and energy"):
        hierarchy(k, np.ones(2), shells)


def test_mode_order_reads_falling_power_and_not_a_shuffle():
    from gridform.experiments.reproduce.multicell import ORDER_BAR, mode_order

    k_star = 10.0
    k = np.linspace(10.0, 6.0, 40)  # maps move away from the ring in order

    def power(x):
        return np.exp(-((x - k_star) ** 2))

    order = mode_order(k, np.ones_like(k), k_star, power)
    assert order.rho == pytest.approx(-1.0) and order.below > 0 and order.above == 0
    shuffled = mode_order(np.random.default_rng(0).permutation(k), np.ones_like(k), k_star,
                          power)
    assert shuffled.rho > ORDER_BAR


def test_a_sharp_ring_spectrum_peaks_on_its_ring_only():
    from gridform.core.environment import Box
    from gridform.theory.dynamics import CovarianceOperator

    box = Box(4.4, 4.4, "periodic")
    op = CovarianceOperator.ring(box, 66, 9.8, 0.3)
    f = 2 * np.pi * np.fft.fftfreq(66, d=4.4 / 66)
    k = np.hypot(*np.meshgrid(f, f))
    assert op.multipliers.max() == pytest.approx(1.0) and op.multipliers[0, 0] == 0
    assert op.multipliers[np.abs(k - 9.8) > 1.5].max() < 1e-5
    with pytest.raises(ValueError, match="periodic"):
        CovarianceOperator.ring(Box(4.4, 4.4, "walls"), 66, 9.8, 0.3)
    with pytest.raises(ValueError, match="width"):
        CovarianceOperator.ring(box, 66, 9.8, 0.0)


def test_the_shuffle_p_value_counts_the_draws_at_or_above():
    from gridform.experiments.reproduce.mechanism import shuffle_p

    null = np.arange(100.0)
    assert shuffle_p(1000.0, null) == pytest.approx(1 / 101)
    assert shuffle_p(-1.0, null) == pytest.approx(1.0)
    assert shuffle_p(89.5, null) == pytest.approx(11 / 101)
    assert np.isnan(shuffle_p(float("nan"), null))
    assert np.isnan(shuffle_p(1.0, [np.nan]))


def test_literature_thresholds_are_reported_in_both_variants():
    from gridform.analysis.scores import GridScores
    from gridform.experiments.reproduce.pattern import threshold_table

    s = np.array([0.2, 0.35, 0.5, 0.9, 1.2, np.nan])
    m = np.array([0.0, 0.0, 0.4, 0.4, 0.4, 0.4])
    nan = np.full(6, np.nan)
    sc = GridScores(s, m, nan, nan, nan, nan, nan, nan, nan, nan)
    assert threshold_table(sc) == ("above 0.3/0.37/0.8/1.15: mean variant 67%, 50%, 33%, "
                                   "17%, min-max variant 67%, 67%, 0%, 0%")


@pytest.mark.parametrize("kind, peak", [("dos", 9.81), ("gaussian", 2 * np.pi / 3.3)])
def test_random_field_targets_carry_their_spectrum(kind, peak):
    from gridform.core.environment import Box
    from gridform.experiments.reproduce.pattern import random_field_operator

    op = random_field_operator(kind, Box(3.3, 3.3, "periodic"), 60, 256, 0)
    f = 2 * np.pi * np.fft.fftfreq(60, d=3.3 / 60)
    k = np.hypot(*np.meshgrid(f, f))
    ring = np.bincount(np.round(k / f[1]).astype(int).ravel(), op.multipliers.ravel())
    ring /= np.bincount(np.round(k / f[1]).astype(int).ravel())
    assert np.argmax(ring) * f[1] == pytest.approx(peak, rel=0.12)


def test_sklearn_nmf_refuses_a_negative_code_and_returns_nonnegative_maps():
    pytest.importorskip("sklearn")
    import jax

    from gridform.core.environment import Box
    from gridform.core.place_cells import PlaceCells
    from gridform.theory.one_layer import sklearn_nmf_maps

    box = Box(2.2, 2.2, "walls")
    pc = PlaceCells.random(jax.random.key(0), 64, box, kind="dos")
    maps = sklearn_nmf_maps(pc, k=4, bins=16, seed=0, max_iter=200)
    assert maps.rates.shape == (4, 16, 16) and (maps.rates >= 0).all()
    dog = PlaceCells.random(jax.random.key(0), 64, box, kind="dog")
    with pytest.raises(ValueError, match="nonnegative code"):
        sklearn_nmf_maps(dog, k=4, bins=16)
