"""The hand-written gradients of the recurrent core and the fused readout equal autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gridform.models import ACTIVATIONS, forward, init_params, sequence_loss

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
