"""The attractor sheet: its FFT update against the dense weights, its ring in closed form,
the pattern it forms and the path it integrates."""

import math

import jax
import numpy as np
import pytest
from scipy.special import j0

from gridform.attractor.decode import (
    calibrate_drift,
    decode_translation,
    mode_coefficients,
    sheet_pattern,
)
from gridform.attractor.run import form_pattern
from gridform.attractor.sheet import (
    DIRECTION_ANGLES,
    SheetParams,
    direction_index,
    random_state,
    recurrent_input,
    recurrent_input_direct,
    run_sheet,
    settle,
    weights_between,
)
from gridform.attractor.theory import (
    effective_gain,
    kernel_ring,
    kernel_spectrum,
    mode_gain,
    sheet_mode_gains,
    sheet_theory,
)


def dense_weights(p: SheetParams) -> np.ndarray:
    """W[i, j] = W0(x_i - x_j - l e_j) on the periodic sheet, written out."""
    n = p.n
    d = direction_index(n).reshape(-1)
    rows, cols = np.divmod(np.arange(n * n), n)
    ex, ey = np.cos(DIRECTION_ANGLES)[d], np.sin(DIRECTION_ANGLES)[d]
    dx = (cols[:, None] - cols[None, :] - p.shift * ex[None, :] + n / 2) % n - n / 2
    dy = (rows[:, None] - rows[None, :] - p.shift * ey[None, :] + n / 2) % n - n / 2
    r2 = dx**2 + dy**2
    return p.amplitude * np.exp(-p.gamma * r2) - np.exp(-p.beta * r2)


@pytest.mark.parametrize("n, period, shift", [(12, 5.0, 2.0), (16, 6.0, 1.0), (10, 4.0, 0.5)])
def test_the_fft_update_equals_the_dense_weights(n, period, shift):
    p = SheetParams(n=n, period_neurons=period, shift=shift)
    s = np.asarray(jax.random.uniform(jax.random.key(n), (n, n)))
    want = (dense_weights(p) @ s.reshape(-1)).reshape(n, n)
    scale = np.abs(want).max()
    assert np.abs(np.asarray(recurrent_input(p, s)) - want).max() < 1e-5 * scale
    assert np.abs(np.asarray(recurrent_input_direct(p, s)) - want).max() < 1e-5 * scale
    some = np.array([0, 5, n + 3, n * n - 1])
    assert np.allclose(weights_between(p, some), dense_weights(p)[np.ix_(some, some)])


def test_the_ring_in_closed_form_matches_a_numeric_fft():
    """k_ring^2 = 4 beta gamma ln(gamma^2 / (a beta^2)) / (gamma - beta), and W^(k) is the
    continuous transform: both against the DFT of the kernel sampled on a large sheet."""
    n = 512
    p = SheetParams(n=n, period_neurons=13.0, gamma_ratio=1.05, shift=0.0)
    x = np.fft.fftfreq(n) * n
    r2 = x[None, :] ** 2 + x[:, None] ** 2
    dft = np.real(np.fft.fft2(np.exp(-p.gamma * r2) - np.exp(-p.beta * r2)))
    k = np.fft.fftfreq(n) * 2 * np.pi
    kk = np.hypot(k[None, :], k[:, None])
    assert np.allclose(dft, kernel_spectrum(kk, p), atol=1e-6 * np.abs(dft).max())
    near = kk < 1.0
    k_peak = kk[near][np.argmax(dft[near])]
    assert abs(k_peak - kernel_ring(p)) <= 2 * np.pi / n
    # B&F's setting: ring value 1.14, ring at 0.381 rad/neuron (period 16.5 neurons)
    assert kernel_spectrum(kernel_ring(p), p) == pytest.approx(1.1401, abs=1e-4)
    assert kernel_ring(p) == pytest.approx(0.38145, abs=1e-4)


def test_the_effective_gain_is_the_direction_average_of_the_shifted_kernels():
    p = SheetParams(period_neurons=13.0, gamma_ratio=1.05)
    k = np.linspace(0.05, 0.8, 40)
    for theta in np.linspace(0, np.pi / 4, 5):
        mean_cos = np.mean([np.cos(k * p.shift * np.cos(theta - a)) for a in DIRECTION_ANGLES],
                           axis=0)
        exact = kernel_spectrum(k, p) * mean_cos
        assert np.allclose(effective_gain(k, p), exact, atol=0.01 * abs(exact).max())
    assert np.allclose(effective_gain(k, p), kernel_spectrum(k, p) * j0(k * p.shift))
    th = sheet_theory(p)  # B&F's gamma = 1.05 beta: ring 1.14 but effective gain < 1
    assert th.ring_gain > 1 > th.gain and not th.forms_pattern
    assert th.gain == pytest.approx(0.983, abs=0.002)


def test_a_pattern_forms_from_noise_at_the_predicted_period():
    p = SheetParams()
    th = sheet_theory(p)
    s = settle(p, random_state(jax.random.key(3), p.n), 4000)
    pat = sheet_pattern(s)
    assert pat.power_fraction > 0.6 and pat.contrast > 1
    # the 64-neuron torus admits |k| only on shells 2 pi |m| / 64; here within 1%
    assert pat.period_neurons == pytest.approx(th.period_neurons, rel=0.02)
    assert pat.lattice_spacing_neurons == pytest.approx(th.lattice_spacing_neurons, rel=0.04)


@pytest.mark.parametrize("m", [(4, 0), (0, 4), (3, 2), (4, 1)])
def test_a_single_mode_grows_or_decays_at_its_predicted_rate(m):
    """A plane wave on the uniform state changes at (G - 1) / tau, G from mode_gain."""
    n = 64
    for p in (SheetParams(period_neurons=13.0, gamma_ratio=1.05), SheetParams()):
        uniform = 1 / (1 - kernel_spectrum(0.0, p))
        x, y = np.meshgrid(np.arange(n), np.arange(n))
        k = 2 * np.pi * np.asarray(m) / n
        wave = np.cos(k[0] * x + k[1] * y)
        s = np.asarray(settle(p, (uniform + 1e-4 * wave).astype(np.float32), 200))
        amp = np.sum((s - s.mean()) * wave) / np.sum(wave**2)
        rate = math.log(amp / 1e-4) / (200 * p.dt)
        want = (mode_gain(k[0], k[1], p) - 1) / p.tau
        assert rate == pytest.approx(want, rel=0.02, abs=0.1)


@pytest.mark.parametrize("period, ratio", [(13.0, 1.05), (12.0, 1.05)])
def test_an_effective_gain_below_one_forms_no_pattern(period, ratio):
    """Noise decays to the uniform state; late, at the rate of the sheet's slowest mode."""
    p = SheetParams(period_neurons=period, gamma_ratio=ratio)
    th = sheet_theory(p)
    assert not th.forms_pattern and th.growth_rate < 0
    _, gains = sheet_mode_gains(p)
    gains[0, 0] = -np.inf  # the mean is not a pattern
    slowest = (gains.max() - 1) / p.tau
    assert slowest < 0
    wait = 1.0 / -slowest  # s: one e-fold
    steps = round(wait / p.dt)
    s1 = settle(p, random_state(jax.random.key(0), p.n), 3 * steps)  # the fast modes gone
    s2 = settle(p, s1, steps)
    seen = float(np.asarray(s2).std() / np.asarray(s1).std())
    assert seen == pytest.approx(math.exp(slowest * steps * p.dt), rel=0.1)
    uniform = 1 / (1 - kernel_spectrum(0.0, p))  # s = relu(W^(0) s + 1)
    assert float(np.asarray(s2).mean()) == pytest.approx(uniform, rel=1e-3)


@pytest.fixture(scope="module")
def formed():
    p = SheetParams()
    s, pat = form_pattern(p, random_state(jax.random.key(1), p.n), 1.0, 10.0)
    return p, s, pat


def test_a_straight_path_moves_the_pattern_at_the_calibrated_speed(formed):
    p, s, pat = formed
    cal = calibrate_drift(p, s, pat.wavevectors, speed=0.25)
    assert cal.anisotropy < 1.1
    # a path at 30 degrees and another speed, 1 s: the decoded displacement is the true one
    v = 0.2 * np.array([math.cos(math.pi / 6), math.sin(math.pi / 6)])
    rec = run_sheet(p, s, np.tile(v, (100, 1)), 20, wavevectors=pat.wavevectors)
    u = decode_translation(np.asarray(rec.modes), pat.wavevectors,
                           mode_coefficients(s, pat.wavevectors))
    moved = cal.to_position(u)[-1]
    true = v * 100 * 20 * p.dt
    # a transient of a few tau while the pattern starts to move: within 3% of 0.2 m
    assert np.hypot(*(moved - true)) < 0.03 * np.hypot(*true)


def test_the_drift_and_so_the_spacing_scale_with_the_velocity_gain(formed):
    p, s, pat = formed
    full = calibrate_drift(p, s, pat.wavevectors, seconds=0.5)
    half = calibrate_drift(SheetParams(velocity_gain=p.velocity_gain / 2), s,
                           pat.wavevectors, seconds=0.5)
    assert full.neurons_per_metre / half.neurons_per_metre == pytest.approx(2.0, rel=0.05)


def test_a_pattern_at_rest_stays_put(formed):
    p, s, pat = formed
    rec = run_sheet(p, s, np.zeros((50, 2)), 20, wavevectors=pat.wavevectors)
    u = decode_translation(np.asarray(rec.modes), pat.wavevectors,
                           mode_coefficients(s, pat.wavevectors))
    assert np.abs(u).max() < 0.05  # neurons


def test_sheet_params_refuse_bad_values():
    for kwargs, word in [({"n": 7}, "even"), ({"n": 2}, "even"),
                         ({"gamma_ratio": 0.9}, "gamma_ratio"),
                         ({"period_neurons": -1.0}, "period_neurons"),
                         ({"dt": 0.01}, "too coarse"), ({"tau": float("nan")}, "tau")]:
        with pytest.raises(ValueError, match=word):
            SheetParams(**kwargs)


def test_the_sheet_vmaps_over_parameter_sets():
    """Two velocity gains in one vmapped program give the two single runs."""
    import jax.numpy as jnp

    p = SheetParams(n=32, period_neurons=6.0)
    s = settle(p, random_state(jax.random.key(0), 32), 2000)
    gains = jnp.asarray([0.1, 0.05])
    batch = jax.tree_util.tree_map(lambda x: jnp.full((2,), x), p)
    batch = SheetParams(32, *[getattr(batch, f) for f in ("period_neurons", "gamma_ratio",
                                                          "shift")], gains,
                        *[getattr(batch, f) for f in ("amplitude", "tau", "dt")])
    v = jnp.tile(jnp.asarray([0.3, 0.0]), (200, 1))

    def one(params):
        from gridform.attractor.sheet import kernel_hat, step

        hat = kernel_hat(params)
        return jax.lax.fori_loop(0, 200, lambda i, x: step(params, hat, x, v[i]), s)

    both = jax.vmap(one)(batch)
    for i, g in enumerate([0.1, 0.05]):
        single = one(SheetParams(n=32, period_neurons=6.0, velocity_gain=g))
        assert np.allclose(both[i], single, atol=1e-5)


def test_the_package_exports_resolve_lazily():
    import subprocess
    import sys

    import gridform.attractor as a

    assert sorted(a.__all__) == sorted(a._NAMES)
    assert all(getattr(a, name) is not None for name in a.__all__)
    code = "import sys, gridform.attractor\nprint('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"  # the command line can import the package without JAX
