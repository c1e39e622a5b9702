"""Path-integrating recurrent networks (Sorscher et al. 2019, THEORY.md section 1), in JAX.

The network sees velocities ``v`` (batch, time, 2) and the place-cell code ``p0`` at the
start position. Its initial state is a linear map of ``p0``; a recurrent cell integrates
the velocity; a linear readout of the hidden state gives place-cell logits:

    h_0 = E p0,        h_t = f(W_in v_t + W_rec h_{t-1}),        logits_t = D h_t

with no biases (vanilla RNN; LSTM and GRU cells replace the update). Parameters are a
flat dict of named arrays: ``encoder`` (n_place, n_hidden), ``w_in`` (2, G*n_hidden),
``w_rec`` (n_hidden, G*n_hidden), ``decoder`` (n_hidden, n_place), with ``G`` = 1 (RNN),
4 (LSTM, plus ``encoder_c`` for the initial cell state) or 3 (GRU).
"""

from __future__ import annotations

import math
from typing import Literal

import jax
import jax.numpy as jnp

__all__ = ["ACTIVATIONS", "forward", "init_params", "n_gates"]

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "linear": lambda x: x,
}


def n_gates(cell: str) -> int:
    return {"rnn": 1, "lstm": 4, "gru": 3}[cell]


def init_params(key: jax.Array, n_place: int, n_hidden: int,
                cell: Literal["rnn", "lstm", "gru"] = "rnn") -> dict[str, jax.Array]:
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights, as PyTorch's defaults."""
    g = n_gates(cell)
    keys = jax.random.split(key, 5)

    def uni(k, shape, fan_in):
        b = 1 / math.sqrt(fan_in)
        return jax.random.uniform(k, shape, jnp.float32, -b, b)

    params = {
        "encoder": uni(keys[0], (n_place, n_hidden), n_place),
        "w_in": uni(keys[1], (2, g * n_hidden), n_hidden),
        "w_rec": uni(keys[2], (n_hidden, g * n_hidden), n_hidden),
        "decoder": uni(keys[3], (n_hidden, n_place), n_hidden),
    }
    if cell == "lstm":
        params["encoder_c"] = uni(keys[4], (n_place, n_hidden), n_place)
    return params


def _mm(a, b, dtype):
    if dtype == jnp.float32:
        return a @ b
    return jnp.matmul(a.astype(dtype), b.astype(dtype), preferred_element_type=jnp.float32)


def forward(params: dict[str, jax.Array], velocity: jax.Array, p0: jax.Array,
            cell: str = "rnn", activation: str = "relu", matmul_dtype=jnp.float32,
            unroll: int = 1) -> tuple[jax.Array, jax.Array]:
    """Hidden states (batch, time, n_hidden) and logits (batch, time, n_place).

    ``velocity`` (batch, time, 2) is the network's input (its units are the caller's
    choice); ``p0`` (batch, n_place) the code at the start. ``matmul_dtype=bfloat16`` runs
    the matrix products in bf16 with fp32 accumulation; parameters stay fp32.
    """
    act = ACTIVATIONS[activation]
    n_hidden = params["w_rec"].shape[0]
    x = _mm(velocity, params["w_in"], matmul_dtype)  # (B, T, G*H) all steps at once
    x = jnp.swapaxes(x, 0, 1)
    h0 = _mm(p0, params["encoder"], matmul_dtype)
    w_rec = params["w_rec"]

    if cell == "rnn":
        def step(h, xt):
            h = act(xt + _mm(h, w_rec, matmul_dtype))
            return h, h
        carry = h0
    elif cell == "gru":
        def step(h, xt):
            rec = _mm(h, w_rec[:, : 2 * n_hidden], matmul_dtype)
            z = jax.nn.sigmoid(xt[:, :n_hidden] + rec[:, :n_hidden])
            r = jax.nn.sigmoid(xt[:, n_hidden:2 * n_hidden] + rec[:, n_hidden:])
            n = act(xt[:, 2 * n_hidden:] + _mm(r * h, w_rec[:, 2 * n_hidden:], matmul_dtype))
            h = (1 - z) * n + z * h
            return h, h
        carry = h0
    else:
        def step(hc, xt):
            h, c = hc
            gates = xt + _mm(h, w_rec, matmul_dtype)
            i, f, o, u = jnp.split(gates, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * act(u)
            h = jax.nn.sigmoid(o) * act(c)
            return (h, c), h
        carry = (h0, _mm(p0, params["encoder_c"], matmul_dtype))

    _, hs = jax.lax.scan(step, carry, x, unroll=unroll)
    hs = jnp.swapaxes(hs, 0, 1)
    logits = _mm(hs, params["decoder"], matmul_dtype)
    return hs, logits
