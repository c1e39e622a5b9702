"""The hand-written gradients of the recurrent core and the fused readout equal autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gridform.core.models import (
    ACTIVATIONS,
    Activation,
    Cell,
    forward,
    init_params,
    n_gates,
    sequence_loss,
)

B, T, NP, H = 6, 7, 24, 16


def batch(seed=0):
    k = jax.random.split(jax.random.key(seed), 3)
    v = 0.05 * jax.random.normal(k[0], (B, T, 2))
    p0 = jax.random.uniform(k[1], (B, NP))
    targets = jax.nn.softmax(3 * jax.random.normal(k[2], (B, T, NP)), axis=-1)
    return v, p0, targets


def reference_loss(params, v, p0, targets, cell, activation, loss):
    """The same model written plainly: a Python loop over time, autodiff everywhere."""
    act = ACTIVATIONS[activation]
    h = p0 @ params["encoder"]
    logits = []
    for t in range(T):
        h = act(v[:, t] @ params["w_in"] + h @ params["w_rec"])
        logits.append(h @ params["decoder"])
    logits = jnp.stack(logits, axis=1)
    if loss == "cross_entropy":
        return -jnp.mean(jnp.sum(targets * jax.nn.log_softmax(logits, -1), -1))
    return jnp.mean(jnp.sum((targets - logits) ** 2, -1))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_custom_gradients_match_autodiff(activation, loss):
    params = init_params(jax.random.key(1), NP, H)
    params["w_rec"] = params["w_rec"] * 3  # make the recurrence matter
    v, p0, y = batch()
    for unroll in (1, T):
        got_l, got = jax.value_and_grad(sequence_loss)(params, v, p0, y, "rnn", activation,
                                                       loss, unroll=unroll)
        want_l, want = jax.value_and_grad(reference_loss)(params, v, p0, y, "rnn",
                                                          activation, loss)
        np.testing.assert_allclose(got_l, want_l, rtol=1e-5)
        for name in params:
            scale = float(jnp.max(jnp.abs(want[name])))
            assert scale > 0, name
            np.testing.assert_allclose(got[name], want[name], rtol=0, atol=1e-5 * scale,
                                       err_msg=name)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_activity_penalty_adds_the_mean_summed_activity(loss):
    params = init_params(jax.random.key(6), NP, H)
    v, p0, y = batch(7)
    lam = 1.0

    def want(params):
        hs, _ = forward(params, v, p0, "rnn", "relu")
        return (reference_loss(params, v, p0, y, "rnn", "relu", loss)
                + lam * jnp.sum(jnp.abs(hs)) / (B * T))

    got_l, got = jax.value_and_grad(sequence_loss)(params, v, p0, y, "rnn", "relu", loss,
                                                   activity_l1=lam)
    want_l, want_g = jax.value_and_grad(want)(params)
    plain = sequence_loss(params, v, p0, y, "rnn", "relu", loss)
    assert float(got_l - plain) > 0.05 * float(plain)  # the term is there and counts
    np.testing.assert_allclose(got_l, want_l, rtol=1e-5)
    for name in params:
        scale = float(jnp.max(jnp.abs(want_g[name])))
        np.testing.assert_allclose(got[name], want_g[name], rtol=0, atol=1e-5 * scale,
                                   err_msg=name)


def test_cross_entropy_gradient_holds_for_unnormalised_targets():
    # d/dlogits of -sum(y log softmax) is softmax * sum(y) - y: targets need not sum to 1
    params = init_params(jax.random.key(2), NP, H)
    v, p0, y = batch(3)
    y = 2.5 * y
    got = jax.grad(sequence_loss)(params, v, p0, y)
    want = jax.grad(reference_loss)(params, v, p0, y, "rnn", "relu", "cross_entropy")
    for name in params:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_loss_equals_forward_logits(cell):
    params = init_params(jax.random.key(4), NP, H, cell)
    v, p0, y = batch(5)
    _, logits = forward(params, v, p0, cell, "tanh")
    want = -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits, -1), -1))
    np.testing.assert_allclose(sequence_loss(params, v, p0, y, cell, "tanh"), want,
                               rtol=1e-5)


def test_bf16_matmuls_stay_close_to_fp32():
    params = init_params(jax.random.key(6), NP, H)
    v, p0, y = batch(7)
    g32 = jax.grad(sequence_loss)(params, v, p0, y)
    g16 = jax.grad(sequence_loss)(params, v, p0, y, matmul_dtype=jnp.bfloat16)
    for name in params:
        rel = float(jnp.linalg.norm(g16[name] - g32[name]) / jnp.linalg.norm(g32[name]))
        assert rel < 0.05, (name, rel)
        assert g16[name].dtype == jnp.float32


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_initialisations(cell):
    g = n_gates(cell)
    orth = init_params(jax.random.key(8), NP, H, cell, "orthogonal", 0.9)["w_rec"]
    ident = init_params(jax.random.key(8), NP, H, cell, "identity", 0.5)["w_rec"]
    uniform = init_params(jax.random.key(8), NP, H, cell)["w_rec"]
    assert orth.shape == ident.shape == uniform.shape == (H, g * H)
    for i in range(g):  # each gate block: gain times an orthogonal matrix / the identity
        block = np.asarray(orth[:, i * H:(i + 1) * H])
        np.testing.assert_allclose(block @ block.T, 0.81 * np.eye(H), atol=1e-5)
        np.testing.assert_array_equal(ident[:, i * H:(i + 1) * H], 0.5 * np.eye(H))
    if g > 1:  # the gate blocks are independent draws
        assert not np.allclose(orth[:, :H], orth[:, H:2 * H])
    assert np.abs(uniform).max() <= 1 / np.sqrt(H)


def test_identity_relu_rnn_integrates_from_step_zero():
    # with W_rec = I the ReLU state is a running sum of its (nonnegative) inputs
    params = init_params(jax.random.key(9), NP, H, "rnn", "identity")
    params["w_in"] = jnp.abs(params["w_in"])
    v, p0, _ = batch(10)
    v = jnp.abs(v)
    h, _ = forward(params, v, p0, "rnn", "relu")
    want = jnp.cumsum(v @ params["w_in"], axis=1)
    # after the first step (which may rectify a negative E p0) nothing is clipped again
    np.testing.assert_allclose(h[:, 1:] - h[:, :1], want[:, 1:] - want[:, :1], rtol=1e-5,
                               atol=1e-6)


def test_unknown_recurrent_init_is_refused():
    with pytest.raises(ValueError, match="recurrent_init must be one of"):
        init_params(jax.random.key(0), NP, H, "rnn", "eye")


def test_the_config_offers_exactly_the_models_choices():
    from typing import get_args

    from gridform.training.config import TrainConfig

    assert set(get_args(Activation)) == set(ACTIVATIONS)
    assert [n_gates(c) for c in get_args(Cell)] == [1, 4, 3]
    fields = TrainConfig.model_fields
    assert get_args(fields["activation"].annotation) == get_args(Activation)
    assert get_args(fields["cell"].annotation) == get_args(Cell)
