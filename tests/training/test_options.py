"""The training options that shape the population code, each off by default: the
conformal-isometry term, the attractor-shaped recurrent init and the unit-norm hidden
state. Known answers: exact isometries, the sheet's weights and spectrum, unit norms."""

import hashlib
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gridform.attractor.sheet import weights_between
from gridform.core.models import conformal_isometry_loss, init_params
from gridform.training import ConfigError, load_config, train
from gridform.training.inits import (
    UNIFORM_SPECTRAL_RADIUS,
    attractor_recurrent_weights,
    attractor_sheet,
    sheet_spectrum,
)
from gridform.training.runs import RunDir
from gridform.training.task import build_task

TINY = ["n_hidden=16", "n_place_cells=32", "batch_size=8", "sequence_length=6",
        "checkpoint_every=5", "learning_rate=0.003", "init_input_scale=32.0",
        "weight_decay_start=0"]
OLD_RUN = Path(__file__).resolve().parents[1] / "data" / "run_before_rundir"
NEW_FIELDS = {"hidden_norm": "none", "conformal_weight": 0.0, "conformal_scale": 7.0}


def tiny(**kw):
    return load_config("demo", overrides=TINY, **kw)


def random_walk(rng, t=12, b=5, step=0.02):
    """Time-major positions (t + 1, b, 2) and the steps (t + 1, b, 2) that led to them."""
    steps = step * rng.standard_normal((t + 1, b, 2))
    return np.cumsum(steps, axis=0), steps


# -- the conformal-isometry term ---------------------------------------------------
def test_conformal_term_vanishes_on_a_scaled_isometry_and_has_its_closed_form(rng):
    pos, steps = random_walk(rng)
    q, _ = np.linalg.qr(rng.standard_normal((40, 2)))  # (40, 2), orthonormal columns
    s = 7.0
    hidden = jnp.asarray(s * pos @ q.T)                 # |h(x) - h(y)| = s |x - y|
    assert float(conformal_isometry_loss(hidden, jnp.asarray(steps), s)) < 1e-9
    # at another scale s', each pair misses by (s - s') |dx|: the mean of its square
    expected = np.mean(((s - 3.0) * np.linalg.norm(steps[1:], axis=-1)) ** 2)
    assert float(conformal_isometry_loss(hidden, jnp.asarray(steps), 3.0)) == \
        pytest.approx(expected, rel=1e-5)
    # a map stretched along y is no conformal isometry at any scale
    stretched = jnp.asarray(s * (pos * np.array([1.0, 2.0])) @ q.T)
    assert float(conformal_isometry_loss(stretched, jnp.asarray(steps), s)) > 0.1 * expected


def test_a_unit_norm_hexagonal_code_moves_by_k_over_sqrt2_per_metre(rng):
    """The closed form behind the default s (docs/training.md): three plane waves of wave
    number k, 120 degrees apart, with unit total norm, move by k |dx| / sqrt(2)."""
    pos, steps = random_walk(rng, t=40, b=20, step=0.005)
    k = 4 * np.pi / (np.sqrt(3) * 0.74)
    ang = np.radians([0.0, 120.0, 240.0])
    phase = pos @ (k * np.stack([np.cos(ang), np.sin(ang)]))      # (t, b, 3)
    code = np.concatenate([np.cos(phase), np.sin(phase)], axis=-1) / np.sqrt(3)
    assert np.allclose(np.linalg.norm(code, axis=-1), 1.0)
    at_s = float(conformal_isometry_loss(jnp.asarray(code), jnp.asarray(steps),
                                         k / np.sqrt(2)))
    off_s = float(conformal_isometry_loss(jnp.asarray(code), jnp.asarray(steps),
                                          1.2 * k / np.sqrt(2)))
    assert at_s < 1e-3 * off_s
    assert k / np.sqrt(2) == pytest.approx(load_config("demo").conformal_scale, rel=0.02)


def test_conformal_term_has_a_gradient_and_none_that_is_nan_on_a_still_state(rng):
    pos, steps = random_walk(rng)
    q, _ = np.linalg.qr(rng.standard_normal((40, 2)))
    hidden = jnp.asarray(2.0 * pos @ q.T)
    g = jax.grad(conformal_isometry_loss)(hidden, jnp.asarray(steps), 5.0)
    assert np.all(np.isfinite(g)) and float(jnp.abs(g).max()) > 0
    still = jnp.zeros((6, 3, 8))  # every state the same: zero distance, finite gradient
    g0 = jax.grad(conformal_isometry_loss)(still, jnp.asarray(steps[:6, :3]), 5.0)
    assert np.all(np.isfinite(g0))
    with pytest.raises(ValueError, match="disagree"):
        conformal_isometry_loss(hidden, jnp.asarray(steps[:, :2]), 1.0)


@pytest.mark.slow
def test_the_trainer_adds_the_term_on_its_hidden_states_and_real_steps():
    base = build_task(tiny(boundary="walls"))
    task = build_task(tiny(boundary="walls", conformal_weight=0.5, conformal_scale=4.0))
    params, _ = base.init()
    v, p0, targets, positions = task.batch(task.data_key)
    disp = np.asarray(task.displacement(v))
    # a path's positions are the cumulative sum of its steps (velocities in m/s here)
    assert np.allclose(np.diff(np.asarray(positions), axis=1), disp[:, 1:], atol=1e-5)
    hs, _ = task.apply(params, v, p0)
    term = conformal_isometry_loss(jnp.swapaxes(hs, 0, 1), jnp.swapaxes(v * 0.02, 0, 1),
                                   4.0)
    batch_tm = (jnp.swapaxes(v, 0, 1), p0, jnp.swapaxes(targets, 0, 1))
    diff = task.objective(params, batch_tm, 0) - base.objective(params, batch_tm, 0)
    assert float(diff) == pytest.approx(0.5 * float(term), rel=1e-4)
    assert float(task.loss(params, (v, p0, targets, positions))[0]
                 - base.loss(params, (v, p0, targets, positions))[0]) == \
        pytest.approx(0.5 * float(term), rel=1e-4)
    # the term reaches the recurrent weights
    g_on = jax.grad(task.objective)(params, batch_tm, 0)["w_rec"]
    g_off = jax.grad(base.objective)(params, batch_tm, 0)["w_rec"]
    assert float(jnp.abs(g_on - g_off).max()) > 0


# -- the attractor init ------------------------------------------------------------
@pytest.mark.parametrize("n_hidden", [64, 256])
def test_sheet_spectrum_by_blocks_equals_the_dense_eigenvalues(n_hidden):
    sheet = attractor_sheet(n_hidden)
    fast = sheet_spectrum(sheet)
    dense = np.linalg.eigvals(weights_between(sheet, np.arange(n_hidden)))
    assert fast.shape == dense.shape
    # the same multiset: every eigenvalue has its twin, and the sorted parts agree
    gap = np.abs(fast[:, None] - dense[None, :])
    assert gap.min(axis=0).max() < 1e-8 and gap.min(axis=1).max() < 1e-8
    assert np.allclose(np.sort(fast.real), np.sort(dense.real), atol=1e-8)
    assert np.allclose(np.sort(np.abs(fast.imag)), np.sort(np.abs(dense.imag)), atol=1e-8)


def test_attractor_sheet_holds_at_least_two_periods():
    assert attractor_sheet(256).n == 16 and attractor_sheet(256).period_neurons == 8.0
    assert attractor_sheet(144).period_neurons == 6.0
    assert attractor_sheet(4096).n == 64 and attractor_sheet(4096).period_neurons == 12.0
    for bad in (250, 81, 4, 0):  # not a square, an odd side, a side below 4
        with pytest.raises(ValueError, match="square of an even number"):
            attractor_sheet(bad)


def test_attractor_init_is_the_sheet_transposed_at_the_uniform_inits_radius():
    w = attractor_recurrent_weights(256)
    sheet = weights_between(attractor_sheet(256), np.arange(256))  # [a, b]: b onto a
    big = np.unravel_index(np.argmax(np.abs(sheet)), sheet.shape)
    c = w.T[big] / sheet[big]                                      # w [i, j]: i onto j
    assert c > 0 and np.allclose(w, c * sheet.T, rtol=1e-5, atol=1e-7 * abs(c))
    rho = np.max(np.abs(np.linalg.eigvals(w.astype(np.float64))))
    assert rho == pytest.approx(UNIFORM_SPECTRAL_RADIUS, rel=1e-5)
    # the uniform init's spectral radius: 1/sqrt(3) as n grows (circular law); at 256
    # units its edge lies a few % outside (0.58-0.63 over seeds 0-9, mean 0.605)
    for seed in range(3):
        uni = np.asarray(init_params(jax.random.key(seed), 8, 256)["w_rec"], np.float64)
        assert np.max(np.abs(np.linalg.eigvals(uni))) == pytest.approx(rho, rel=0.1)
    assert np.max(np.abs(np.linalg.eigvals(attractor_recurrent_weights(256, 2.0)))) == \
        pytest.approx(2 * UNIFORM_SPECTRAL_RADIUS, rel=1e-5)
    # neuron 0 (east) drives its eastern neighbour at l = 2 more than its western one
    assert w[0, 2] > w[0, 16 - 2]


def test_attractor_init_replaces_only_the_recurrent_matrix():
    task = build_task(tiny(recurrent_init="attractor"))
    params, _ = task.init()
    uniform, _ = build_task(tiny()).init()
    assert np.array_equal(params["w_rec"], attractor_recurrent_weights(16))
    for k in ("encoder", "w_in", "decoder"):
        assert np.array_equal(params[k], uniform[k])
    with pytest.raises(ValueError, match="exactly when recurrent_init is 'attractor'"):
        init_params(jax.random.key(0), 8, 16, recurrent_init="attractor")


@pytest.mark.parametrize(("override", "message"), [
    ({"recurrent_init": "attractor", "n_hidden": 24}, "n_hidden: recurrent_init='attractor'"),
    ({"recurrent_init": "attractor", "n_hidden": 81}, "n_hidden: recurrent_init='attractor'"),
    ({"recurrent_init": "attractor", "cell": "gru"}, "recurrent_init: 'attractor'"),
    ({"hidden_norm": "unit", "cell": "lstm"}, "hidden_norm: 'unit' is defined for the rnn"),
    ({"hidden_norm": "l1"}, "hidden_norm"),
    ({"conformal_weight": -1.0}, "conformal_weight"),
    ({"conformal_scale": 0.0}, "conformal_scale"),
    ({"conformal_weight": 1.0, "sequence_length": 1}, "sequence_length must be at least 2"),
])
def test_bad_option_values_name_the_field(override, message):
    with pytest.raises(ConfigError, match=message):
        tiny(**override)


# -- the unit-norm hidden state ----------------------------------------------------
def test_unit_norm_hidden_states_lie_on_the_sphere_in_the_positive_orthant():
    task = build_task(tiny(hidden_norm="unit", activation="relu"))
    params, _ = task.init()
    v, p0, _, _ = task.batch(task.data_key)
    hs, _ = task.apply(params, v, p0)
    assert hs.shape == (8, 6, 16)
    assert np.allclose(np.linalg.norm(np.asarray(hs), axis=-1), 1.0, atol=1e-5)
    assert float(hs.min()) >= 0.0
    plain, _ = build_task(tiny()).apply(params, v, p0)
    assert not np.allclose(np.linalg.norm(np.asarray(plain), axis=-1), 1.0, atol=1e-2)


@pytest.mark.slow
def test_all_three_options_train_and_store_their_config(tmp_path):
    config = tiny(n_hidden=36, steps=6, recurrent_init="attractor", hidden_norm="unit",
                  conformal_weight=0.1, conformal_scale=5.0)
    out = train(config, tmp_path / "run")
    assert np.isfinite(out["loss"])
    stored = RunDir(tmp_path / "run").read_config()
    assert (stored.recurrent_init, stored.hidden_norm, stored.conformal_weight,
            stored.conformal_scale) == ("attractor", "unit", 0.1, 5.0)


# -- old runs ------------------------------------------------------------------------
def test_runs_written_before_the_options_load_with_them_off_and_keep_their_ids():
    stored = json.loads((OLD_RUN / "config.json").read_text())
    assert not set(NEW_FIELDS) & set(stored["config"])  # written before the fields
    config = RunDir(OLD_RUN).read_config()
    assert {k: getattr(config, k) for k in NEW_FIELDS} == NEW_FIELDS
    assert config.recurrent_init == "uniform"
    # a config at the defaults hashes as it did before the fields existed
    base = tiny(weight_decay_hold_steps=0, weight_decay_ramp_steps=0)
    before = {k: v for k, v in base.resolved().items() if k not in NEW_FIELDS}
    added = ("speed_scale", "lr_warmup_steps", "activity_l1", "place_cell_layout",
             "weight_decay_start", "weight_decay_hold_steps", "weight_decay_ramp_steps")
    before = {k: v for k, v in before.items() if k not in added}
    old = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:12]
    assert base.config_hash() == old
    off = {"weight_decay_hold_steps": 0, "weight_decay_ramp_steps": 0}
    for changed in ({"hidden_norm": "unit"}, {"conformal_weight": 0.1},
                    {"conformal_scale": 3.0}, {"recurrent_init": "attractor"}):
        assert tiny(**off, **changed).config_hash() != old
