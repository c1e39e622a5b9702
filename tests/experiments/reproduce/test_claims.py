"""The claims table: verdicts, controls, and the measurements behind the claims."""

import csv

import numpy as np
import pytest

from gridform.analysis.scores import (
    phase_randomised,
    score_ratemaps,
    spectral_null,
    triad_phase_sum,
)
from gridform.core.ratemaps import Ratemaps
from gridform.experiments.reproduce import Claim, _shell_resolution, _write_claims, read_claims
from gridform.training.evaluate import largest_rate_matched_subset, rate_matched_units


def test_a_claim_holds_only_when_its_control_fails():
    base = dict(target="t", claim="c", expected="e", measured="m")
    assert Claim(**base, passed=True, control="x", control_passes=False).verdict == "pass"
    assert Claim(**base, passed=True, control="x", control_passes=True).verdict == \
        "does not discriminate"
    assert Claim(**base, passed=True).verdict == "no control"
    assert Claim(**base, passed=False, control="x", control_passes=False).verdict == "fail"
    assert [Claim(**base, passed=p, control_passes=c).holds
            for p, c in ((True, False), (True, True), (True, None), (False, False))] == \
        [True, False, False, False]


def test_a_nan_control_is_not_measured_and_never_lets_a_row_pass():
    base = dict(target="t", claim="c", expected="e", measured="m", control="x")
    # the old reading: NaN < bar is False, so a NaN control "failed" and the row passed
    nan_control = float("nan")
    c = Claim(**base, passed=True, control_passes=bool(nan_control < 0.1),
              control_measurable=np.isfinite(nan_control))
    assert c.verdict == "control not measured" and not c.holds
    # a measurement that misses its bar still fails, whatever its control
    assert Claim(**base, passed=False, control_passes=False,
                 control_measurable=False).verdict == "fail"


def test_a_measurement_that_could_not_be_made_is_not_measured():
    base = dict(target="t", claim="c", expected="e", measured="m", control="x",
                control_passes=False)
    assert Claim(**base, passed=False, measurable=False).verdict == "not measured"
    # a NaN value is not measured even when its comparison happened to read True
    assert Claim(**base, passed=True, value=float("nan"), bar=0.1).verdict == "not measured"
    assert not Claim(**base, passed=True, measurable=False).holds


def test_a_measurement_within_one_sd_of_its_bar_is_indeterminate():
    base = dict(target="t", claim="c", expected="> 0.10", measured="m", control="x",
                control_passes=False, bar=0.10, sd=0.02)
    assert Claim(**base, passed=True, value=0.11).verdict == "indeterminate"
    assert Claim(**base, passed=False, value=0.09).verdict == "indeterminate"
    assert Claim(**base, passed=True, value=0.13).verdict == "pass"
    assert Claim(**base, passed=False, value=0.07).verdict == "fail"
    # without an sd there is no band
    assert Claim(**{**base, "sd": None}, passed=True, value=0.11).verdict == "pass"


def test_every_verdict_is_printed_with_its_control():
    from gridform.experiments.reproduce import format_claims
    from gridform.experiments.reproduce.claims import VERDICTS

    claims = [Claim("t", "a", "e", "m", True, control="x", control_passes=False),
              Claim("t", "b", "e", "m", True, control="x", control_passes=False,
                    control_measurable=False, control_measured="nan"),
              Claim("t", "c", "e", "m", True, value=0.11, bar=0.1, sd=0.02),
              Claim("t", "d", "e", "m", False, measurable=False)]
    assert [c.verdict for c in claims] == ["pass", "control not measured", "indeterminate",
                                           "not measured"]
    assert {c.verdict for c in claims} <= set(VERDICTS)
    text = format_claims(claims)
    assert "x: nan (not measured)" in text and "within one sd (0.02) of the bar 0.1" in text


def test_an_arm_that_does_not_path_integrate_makes_the_comparison_not_comparable():
    c = Claim("conditions", "ReLU > tanh", "p < 0.05", "p = 0.01", True, control="untrained",
              control_passes=False, comparable=False)
    assert c.verdict == "not comparable" and not c.holds


def test_one_sided_welch_test():
    # known answer: means 0.5 and 0.3, sds 0.02 and 0.03, n = 3 each: t = 9.61, df = 3.5
    from scipy.stats import t as student

    from gridform.experiments.reproduce.conditions import _welch_greater

    a, b = [0.48, 0.50, 0.52], [0.27, 0.30, 0.33]
    se = np.sqrt(np.var(a, ddof=1) / 3 + np.var(b, ddof=1) / 3)
    tstat = (np.mean(a) - np.mean(b)) / se
    df = se**4 / ((np.var(a, ddof=1) / 3) ** 2 / 2 + (np.var(b, ddof=1) / 3) ** 2 / 2)
    assert _welch_greater(a, b) == pytest.approx(student.sf(tstat, df))
    assert _welch_greater(a, b) < 0.01 and _welch_greater(b, a) > 0.99
    assert np.isnan(_welch_greater([0.5], b))  # one seed is no statistic


def test_claims_csv_round_trips_and_an_older_table_still_loads(tmp_path):
    claims = [Claim("spectrum", "ring", "5%", "1.3%", True, "paper", 3, "max 4%",
                    "Gaussian code", "85%", False),
              Claim("conditions", "ReLU > tanh", ">", "31% vs 29%", True, n=1),
              Claim("conditions", "DoS > Gaussian", ">", "p = 0.2", False, n=3,
                    control="untrained", control_measured="p = 0.5", control_passes=False,
                    comparable=False)]
    claims += [Claim("rnn", "torus", "Betti", "not measured: no ripser", False,
                     control="rotated", control_passes=False, measurable=False),
               Claim("pattern", "spacing", "10%", "2%", True, n=12, control="Gaussian",
                     control_measured="nan", control_passes=False, control_measurable=False),
               Claim("conditions", "ReLU > tanh", "> 0.1", "0.11", True, n=3,
                     control="init", control_passes=False, value=0.11, bar=0.1, sd=0.02)]
    _write_claims(tmp_path / "claims.csv", claims)
    assert read_claims(tmp_path / "claims.csv") == claims
    assert [c.verdict for c in read_claims(tmp_path / "claims.csv")][-3:] == [
        "not measured", "control not measured", "indeterminate"]
    with open(tmp_path / "claims.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[:11] == ["target", "claim", "source", "expected", "measured", "n", "spread",
                           "control", "control_measured", "control_passes", "pass"]
    old = tmp_path / "old.csv"  # the table as written before claims had controls
    old.write_text("target,claim,expected,measured,pass\nrnn,path integrates,< 8 cm,5.1 cm,"
                   "yes\n")
    (row,) = read_claims(old)
    assert row.passed and row.verdict == "no control" and not row.holds
    # the table as written before the columns measurement_passes, value, bar and sd
    older = tmp_path / "older.csv"
    with open(older, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header[:12])
        w.writerow(["pattern", "triad", "", "< pi/4", "0.1", "12", "", "shuffled", "1.5",
                    "no", "yes", "pass"])
        w.writerow(["rnn", "square", "", ">= 5%", "3%", "", "", "", "", "", "no", "fail"])
    ok, bad = read_claims(older)
    assert ok.verdict == "pass" and ok.passed and ok.n == 12
    assert bad.verdict == "fail" and not bad.passed


def test_shell_resolution_of_a_torus():
    # a 1 m torus: shells at 2 pi |(m, n)|; around k = 2 pi they are 0, 2 pi, 2 pi sqrt 2
    assert _shell_resolution(2 * np.pi, 16, 1.0) == pytest.approx(0.5)
    # a torus 20 times larger resolves the same k 20 times finer, or better
    assert _shell_resolution(2 * np.pi, 320, 20.0) < 0.5 / 20 + 1e-9


def _waves(ks, phases, n=40):
    y, x = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return sum(a * np.cos(2 * np.pi * (ky * y + kx * x) / n + p)
               for (ky, kx), p, a in zip(ks, phases, (1.0, 0.9, 0.8), strict=True))


def test_triad_phase_sum_of_known_plane_waves():
    triad = [(0, 5), (4, -3), (-4, -2)]  # sums to zero
    maps = np.stack([_waves(triad, (0.3, -0.1, 0.1)), _waves(triad, (1.0, 1.0, np.pi - 2)),
                     _waves([(0, 5), (5, 0), (3, 3)], (0, 0, 0))])  # the last is no triad
    got = triad_phase_sum(maps)
    assert got[0] == pytest.approx(0.3) and abs(got[1]) == pytest.approx(np.pi)
    assert np.isnan(got[2])
    # a shift of the map moves every phase but not their sum
    assert triad_phase_sum(np.roll(maps[:1], (3, 7), axis=(1, 2)))[0] == pytest.approx(0.3)


def test_phase_randomised_maps_keep_the_power_spectrum_and_lose_the_phase_sum():
    rng = np.random.default_rng(0)
    m = _waves([(0, 5), (4, -3), (-4, -2)], (0.0, 0.0, 0.0))
    shuffled = phase_randomised(np.repeat(m[None], 200, axis=0), rng)
    assert np.allclose(np.abs(np.fft.fft2(shuffled)), np.abs(np.fft.fft2(m))[None])
    sums = np.abs(triad_phase_sum(shuffled))
    assert np.median(sums) > 1.0  # uniform on [0, pi]: median pi / 2


def test_spectral_null_is_calibrated_on_isotropic_noise_and_rejects_hexagons():
    from gridform.core.environment import Box
    from gridform.data.synthetic import lattice_ratemaps

    box = Box(2.2, 2.2, "walls")
    hexes = lattice_ratemaps(0.74, np.linspace(0, 60, 16, endpoint=False), bins=20, box=box)
    null = spectral_null(hexes, 300, seed=0)
    assert np.all(score_ratemaps(hexes).score_60 > null.threshold(95))
    # noise maps tested against a null built from their own spectrum: about 5% exceed it
    rng = np.random.default_rng(1)
    import scipy.ndimage as ndi

    noise = ndi.gaussian_filter(rng.standard_normal((400, 20, 20)), (0, 1.5, 1.5), mode="wrap")
    maps = Ratemaps(noise, hexes.occupancy, hexes.x_centers, hexes.y_centers)
    frac = np.mean(np.nan_to_num(score_ratemaps(maps).score_60, nan=-9)
                   > spectral_null(maps, 400, seed=2).threshold(95))
    assert 0.01 < frac < 0.12


def test_rate_matched_units_match_within_ten_percent():
    rng = np.random.default_rng(0)
    rate = np.concatenate([np.linspace(1.0, 2.0, 10), rng.uniform(0.5, 2.5, 200)])
    targets, candidates = np.arange(10), np.arange(10, 210)
    picked = rate_matched_units(rate, targets, candidates, rng)
    assert len(set(picked)) == 10 and set(picked) <= set(candidates)
    assert np.all(np.abs(rate[picked] / rate[targets] - 1) <= 0.1)
    with pytest.raises(ValueError, match="within 10%"):
        rate_matched_units(rate, [0], [5, 6], rng)  # rates 1.56, 1.67 are not near 1.0
    # two targets at rate 1.0 and one candidate near them: one pair is the most there is
    rates = np.array([1.0, 1.0, 1.05, 3.0])
    assert largest_rate_matched_subset(rates, [0, 1], [2, 3]).size == 1
    with pytest.raises(ValueError, match="without a partner"):
        rate_matched_units(rates, [0, 1], [2, 3], rng)


@pytest.fixture(scope="module")
def pattern_claims(quick_reproduction):
    out, _ = quick_reproduction
    return {c.claim.rsplit(" (", 1)[0]: c for c in read_claims(out / "claims.csv")}


@pytest.mark.slow
def test_every_control_fails_and_the_known_answers_hold(pattern_claims):
    assert len(pattern_claims) >= 15
    assert all(c.control and c.control_passes is False for c in pattern_claims.values())
    targets = {c.target for c in pattern_claims.values()}
    assert targets == {"spectrum", "pattern", "multicell", "one-layer"}
    for name in ("ReLU (nonnegative) dynamics form hexagonal grids",
                 "the constrained single-cell model (g >= 0, |g| = 1) forms hexagonal grids",
                 "a hexagonal map is three plane waves whose phases sum to zero",
                 "Gaussian targets (no ring): the box sets the scale",
                 "under a ReLU the Lagrangian's optima are hexagons",
                 "Gaussian tuning has no ring: the code's spectrum falls monotonically from k = 0",
                 "a nonnegative one-layer model (NMF) is more hexagonal than PCA"):
        assert pattern_claims[name].holds, pattern_claims[name]


@pytest.mark.slow
def test_the_hierarchy_is_measured_beyond_the_torus_shells_against_a_sharp_ring(
        pattern_claims):
    """The old count of distinct scales on a 2.2 m torus counted the torus's own Fourier
    shells; the row now runs where the shells are denser than the tolerance, and its
    control is a spectrum with one sharp ring."""
    claim = pattern_claims["the multi-cell ReLU dynamics form maps at several distinct "
                           "scales, beyond the torus's own Fourier shells"]
    assert claim.control.startswith("a spectrum with one sharp ring")
    assert claim.control_passes is False
    order = pattern_claims["under the orthogonality constraint the maps take lower modes "
                           "in order: the spectrum's power at each map's dominant k falls "
                           "with its Sanger index"]
    assert order.control.startswith("independent single cells")
    assert order.control_passes is False


def test_the_old_ring_check_could_not_fail_and_the_empirical_one_does():
    """The old check compared the closed form with a numeric optimum of the same analytic
    spectrum, so it passed whatever code was built; the new one measures the code."""
    import jax
    from scipy.optimize import minimize_scalar

    from gridform.core.environment import Box
    from gridform.core.place_cells import PlaceCells
    from gridform.theory.spectrum import (
        ring_wavenumber,
        spatial_covariance,
        tuning_power_spectrum,
    )

    claimed = ring_wavenumber("dos", 0.12, 2.0)
    numeric = minimize_scalar(lambda k: -tuning_power_spectrum(k, "dos", 0.12, 2.0),
                              bounds=(0.1, 40), method="bounded").x
    assert numeric == pytest.approx(claimed, rel=1e-3)  # the old check: always passes
    # a code built with another sigma than the claim's: the empirical check sees it
    box = Box(2.2, 2.2, "periodic")
    wrong = PlaceCells.random(jax.random.key(0), 512, box, kind="dos", sigma=0.16)
    assert abs(spatial_covariance(wrong, 44).ring() / claimed - 1) > 0.10
    right = PlaceCells.random(jax.random.key(0), 512, box, kind="dos", sigma=0.12)
    assert spatial_covariance(right, 44).ring() == pytest.approx(claimed, rel=0.05)


def test_diversity_passes_for_diverse_phases_and_fails_on_its_shared_phase_control():
    from gridform.data.synthetic import lattice_ratemaps
    from gridform.experiments.reproduce.rnn import _diversity_claim, shared_phase
    from gridform.training.evaluate import mean_pairwise_correlation

    rng = np.random.default_rng(0)
    module = lattice_ratemaps(0.87, 7.0, rng.uniform(0, 2.2, (40, 2)), bins=20)
    claim = _diversity_claim(module, np.ones(40, bool))
    assert claim.passed and claim.control_passes is False and claim.holds
    # the control is the maps themselves at one phase: every peak at the centre bin
    aligned = shared_phase(module)
    assert np.all(aligned.rates[:, 10, 10] == aligned.rates.max(axis=(1, 2)))
    assert mean_pairwise_correlation(aligned) > 0.3
    # one map copied 40 times is not diverse: the check fails
    copies = lattice_ratemaps(0.87, 7.0, np.zeros((40, 2)) + 0.3, bins=20)
    assert not _diversity_claim(copies, np.ones(40, bool)).passed



def test_the_old_gaussian_check_could_not_fail_and_the_empirical_one_does():
    """The old check took the argmax of the analytic exp(-sigma^2 k^2): zero for whatever
    code was built. The new one measures the spectrum of the code itself, and a DoS code
    sent through it fails."""
    from gridform.experiments.reproduce.spectrum import _largest_rise
    from gridform.theory.spectrum import ring_wavenumber, tuning_power_spectrum

    k = np.linspace(0, 40, 2001)
    assert k[np.argmax(tuning_power_spectrum(k, "gaussian", 0.12))] == 0.0  # the old check
    assert ring_wavenumber("gaussian", 0.12) == 0.0  # ... whatever the code is
    assert _largest_rise("gaussian", 0) < 0.001  # the code's own spectrum falls from k = 0
    assert _largest_rise("dos", 0) > 0.05  # a DoS code has a ring: the check fails on it


def test_holm_adjusts_the_smallest_p_most_and_keeps_the_order():
    from gridform.experiments.reproduce.conditions import holm

    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
    out = holm([0.02, float("nan")])  # a comparison that was not measured is not counted
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1])


@pytest.mark.parametrize("quick", [True, False])
def test_full_mode_trains_five_seeds_adds_the_dog_rows_and_corrects_by_holm(
        quick, tmp_path, monkeypatch):
    """With made-up fractions (arms differ by 0.1, seeds by 0.01), the rows say how they
    were tested; only full mode adds normalised vs unnormalised DoG and adjusts p."""
    from types import SimpleNamespace

    import gridform.experiments.reproduce.conditions as cond
    from gridform.experiments.reproduce._common import QUICK_BASE, _Context

    level = {"ReLU, DoS": 0.5, "tanh, DoS": 0.3, "ReLU, Gaussian": 0.2, "ReLU, DoG": 0.45,
             "ReLU, unnormalised DoG": 0.1}
    seen = {}

    def fake_arms(ctx, preset, seeds, arms, **base):
        seen.update(seeds=seeds, arms=arms, base=base)
        return {name: [(None, SimpleNamespace(frac_above_0_3=level[name] + 0.01 * i,
                                              frac_above_0_8=0.1, error_cm=5.0,
                                              to_json=dict))
                       for i, _ in enumerate(seeds)] for name in arms}

    monkeypatch.setattr(cond, "_train_arms", fake_arms)
    monkeypatch.setattr(cond, "_trained_fractions", lambda runs, seed: {
        name: [s.frac_above_0_3 for _, s in v] for name, v in runs.items()})
    monkeypatch.setattr(cond, "_untrained_fractions",
                        lambda configs, seed: [0.05 + 0.01 * i for i, _ in enumerate(configs)])
    claims = cond.target_conditions(_Context(tmp_path, quick=quick, run_dir=None))
    assert len(seen["seeds"]) == (3 if quick else 5)
    assert len(claims) == (2 if quick else 3)
    assert all(c.verdict == "pass" for c in claims)
    if quick:
        assert all("quick mode" in c.claim and "Holm" not in c.expected for c in claims)
        assert seen["base"] == QUICK_BASE
    else:
        assert all("Holm-adjusted over 3 comparisons" in c.expected for c in claims)
        assert seen["arms"]["ReLU, DoG"] == {"place_cell_kind": "dog", "loss": "mse"}
        assert "unnormalised" in claims[2].claim
