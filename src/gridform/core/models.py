"""Path-integrating recurrent networks (Sorscher et al. 2019, docs/theory.md section 1), in JAX.

The network sees velocities ``v`` (batch, time, 2) and the place-cell code ``p0`` at the
start position. Its initial state is a linear map of ``p0``; a recurrent cell integrates
the velocity; a linear readout of the hidden state gives place-cell logits:

    h_0 = E p0,        h_t = f(W_in v_t + W_rec h_{t-1}),        logits_t = D h_t

with no biases (vanilla RNN; LSTM and GRU cells replace the update). With
``hidden_norm="unit"`` (vanilla RNN only) every state, ``h_0`` included, is divided by its
L2 norm after the activation, ``h_t = f(u_t) / |f(u_t)|`` (Pettersen et al. 2024's
normalised ReLU). Parameters are a
flat dict of named arrays: ``encoder`` (n_place, n_hidden), ``w_in`` (2, G*n_hidden),
``w_rec`` (n_hidden, G*n_hidden), ``decoder`` (n_hidden, n_place), with ``G`` = 1 (RNN),
4 (LSTM, plus ``encoder_c`` for the initial cell state) or 3 (GRU).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Literal, get_args

import jax
import jax.numpy as jnp

from gridform.core.reference import Activation, Cell, HiddenNorm, RecurrentInit

__all__ = ["ACTIVATIONS", "HIDDEN_NORMS", "RECURRENT_INITS", "Activation", "Cell", "HiddenNorm",
           "RecurrentInit", "conformal_isometry_loss", "forward", "hidden_states_time_major",
           "init_params", "n_gates", "readout_cross_entropy", "readout_loss", "sequence_loss",
           "sequence_loss_time_major", "unit_norm"]

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "linear": lambda x: x,
}
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def n_gates(cell: str) -> int:
    return _GATES[cell]


RECURRENT_INITS = get_args(RecurrentInit)
HIDDEN_NORMS = get_args(HiddenNorm)


def init_params(key: jax.Array, n_place: int, n_hidden: int,
                cell: Literal["rnn", "lstm", "gru"] = "rnn",
                recurrent_init: RecurrentInit = "uniform",
                recurrent_gain: float = 1.0, w_rec: jax.Array | None = None
                ) -> dict[str, jax.Array]:
    """Initial parameters.

    Every matrix is Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default, except
    the recurrent one when ``recurrent_init`` says otherwise: ``"orthogonal"`` (a random
    orthogonal matrix, as Keras' recurrent default) or ``"identity"`` (the IRNN of Le,
    Jaitly & Hinton 2015: the state is carried over unchanged, an integrator from step
    0). Both are scaled by ``recurrent_gain`` and built per gate block of an LSTM/GRU.
    ``"attractor"`` takes the (n_hidden, n_hidden) matrix ``w_rec`` the caller built
    (``gridform.training.inits`` lays it out from the continuous-attractor sheet, a layer
    above this one); the other matrices are drawn from ``key`` exactly as for the others.
    """
    if recurrent_init not in RECURRENT_INITS:
        raise ValueError(f"recurrent_init must be one of {RECURRENT_INITS}, "
                         f"got {recurrent_init!r}")
    if (recurrent_init == "attractor") != (w_rec is not None):
        raise ValueError("w_rec: give the recurrent matrix exactly when recurrent_init is "
                         f"'attractor' (got recurrent_init={recurrent_init!r} and "
                         f"{'a' if w_rec is not None else 'no'} w_rec)")
    g = n_gates(cell)
    keys = jax.random.split(key, 5)

    def uni(k, shape, fan_in):
        b = 1 / math.sqrt(fan_in)
        return jax.random.uniform(k, shape, jnp.float32, -b, b)

    if recurrent_init == "attractor":
        if cell != "rnn" or w_rec.shape != (n_hidden, n_hidden):
            raise ValueError(f"w_rec: an attractor init is one (n_hidden, n_hidden) = "
                             f"({n_hidden}, {n_hidden}) matrix of a vanilla RNN; got "
                             f"{tuple(w_rec.shape)} for cell {cell!r}")
        w_rec = jnp.asarray(w_rec, jnp.float32)
    elif recurrent_init == "uniform":
        w_rec = uni(keys[2], (n_hidden, g * n_hidden), n_hidden)
    elif recurrent_init == "identity":
        w_rec = recurrent_gain * jnp.tile(jnp.eye(n_hidden, dtype=jnp.float32), (1, g))
    else:
        blocks = jax.vmap(lambda k: jax.random.orthogonal(k, n_hidden))(
            jax.random.split(keys[2], g))  # (g, n_hidden, n_hidden)
        w_rec = recurrent_gain * jnp.hstack(blocks).astype(jnp.float32)
    params = {
        "encoder": uni(keys[0], (n_place, n_hidden), n_place),
        "w_in": uni(keys[1], (2, g * n_hidden), n_hidden),
        "w_rec": w_rec,
        "decoder": uni(keys[3], (n_hidden, n_place), n_hidden),
    }
    if cell == "lstm":
        params["encoder_c"] = uni(keys[4], (n_place, n_hidden), n_place)
    return params


def _mm(a, b, dtype):
    if dtype == jnp.float32:
        return a @ b
    return jnp.matmul(a.astype(dtype), b.astype(dtype), preferred_element_type=jnp.float32)


def _transposed(a):
    """``a.T`` (2-D) as a row-major array in memory, not a relabelled view.

    XLA's CPU backend serves a product with a transposed operand by marking the operand's
    layout column-major; its fp32 kernels take that in their stride, but its bf16 kernels
    then run at half speed. Passing the transpose through a flat (layout-free) vector
    forces the copy; it costs one pass over the matrix.
    """
    return jax.lax.optimization_barrier(a.T.reshape(-1)).reshape(a.shape[1], a.shape[0])


def _mm_tn(a, b, dtype):
    """``a^T b`` contracting the leading (sample) axis of two (N, .) matrices."""
    if dtype != jnp.float32:
        return jnp.matmul(_transposed(a.astype(dtype)), b.astype(dtype),
                          preferred_element_type=jnp.float32)
    return jax.lax.dot_general(a, b, (((0,), (0,)), ((), ())),
                               preferred_element_type=jnp.float32)


def _mm_nt(a, b, dtype):
    """``a b^T``: in bf16 through a row-major copy of ``b^T`` (see :func:`_transposed`)."""
    if dtype != jnp.float32:
        return jnp.matmul(a.astype(dtype), _transposed(b.astype(dtype)),
                          preferred_element_type=jnp.float32)
    return a @ b.T


# Derivative of each activation written in terms of its output, so the backward pass of
# the recurrent core needs only the stored hidden states.
_DERIVATIVE_FROM_OUTPUT = {
    "relu": lambda h: (h > 0).astype(h.dtype),
    "tanh": lambda h: 1 - h * h,
    "sigmoid": lambda h: h * (1 - h),
    "linear": lambda h: jnp.ones_like(h),
}


def _rnn_core(x, h0, w_rec, activation: str, dtype, unroll: int):
    """Hidden states (T, B, H) of h_t = f(x_t + h_{t-1} W), time-major.

    Differentiated by hand (:func:`jax.custom_vjp`): the backward scan carries only the
    error ``d_t = (g_t + d_{t+1} W^T) f'(h_t)`` and the weight gradient is then one
    (T*B)-row matrix product, instead of T small products inside the loop. This is what
    makes small networks as fast as PyTorch's fused RNN on a CPU (benchmarks/bench_train.py).
    """
    act = ACTIVATIONS[activation]

    @jax.custom_vjp
    def core(x, h0, w_rec):
        def step(h, xt):
            h = act(xt + _mm(h, w_rec, dtype))
            return h, h
        return jax.lax.scan(step, h0, x, unroll=unroll)[1]

    def core_fwd(x, h0, w_rec):
        hs = core(x, h0, w_rec)
        return hs, (hs, h0, w_rec)

    def core_bwd(res, g):
        hs, h0, w_rec = res
        deriv = _DERIVATIVE_FROM_OUTPUT[activation]
        w_t = w_rec.T if dtype == jnp.float32 else _transposed(w_rec.astype(dtype))

        def step(carry, inp):
            g_t, h_t = inp
            d = (g_t + carry) * deriv(h_t)
            return _mm(d, w_t, dtype), d
        dh0, d = jax.lax.scan(step, jnp.zeros_like(h0), (g, hs), reverse=True,
                              unroll=unroll)
        n = d.shape[-1]
        t, b = d.shape[0], d.shape[1]
        dw = _mm_tn(h0, d[0], dtype)
        if t > 1:
            dw = dw + _mm_tn(hs[:-1].reshape((t - 1) * b, n),
                             d[1:].reshape((t - 1) * b, n), dtype)
        return d, dh0, dw

    core.defvjp(core_fwd, core_bwd)
    return core(x, h0, w_rec)


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def readout_cross_entropy(hidden: jax.Array, decoder: jax.Array, targets: jax.Array,
                          matmul_dtype=jnp.float32) -> jax.Array:
    """Summed softmax cross-entropy of the logits ``hidden @ decoder`` against ``targets``.

    ``hidden`` (N, H), ``targets`` (N, n_place). Fused and differentiated by hand: the
    gradient of the logits, ``softmax * sum(targets) - targets``, is formed once in row
    order and feeds two matrix products. Left to autodiff, XLA recomputes the softmax
    inside a transposing copy, which cost a third of a 256-unit training step.
    """
    return _cross_entropy(_mm(hidden, decoder, matmul_dtype), targets)


def _cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
    return -jnp.sum(targets * jax.nn.log_softmax(logits, axis=-1))


def _readout_ce_fwd(hidden, decoder, targets, matmul_dtype):
    log_p = jax.nn.log_softmax(_mm(hidden, decoder, matmul_dtype), axis=-1)
    return -jnp.sum(targets * log_p), (hidden, decoder, targets, log_p)


def _readout_ce_bwd(matmul_dtype, res, g):
    hidden, decoder, targets, log_p = res
    mass = jnp.sum(targets, axis=-1, keepdims=True)
    d_logits = jax.lax.optimization_barrier(g * (jnp.exp(log_p) * mass - targets))
    d_hidden = _mm_nt(d_logits, decoder, matmul_dtype)
    d_decoder = _mm_tn(hidden, d_logits, matmul_dtype)
    return d_hidden, d_decoder, -g * log_p


readout_cross_entropy.defvjp(_readout_ce_fwd, _readout_ce_bwd)


def readout_loss(hidden: jax.Array, targets: jax.Array, loss: str = "cross_entropy",
                 activity_l1: float = 0.0, *, logits: jax.Array | None = None,
                 decoder: jax.Array | None = None, matmul_dtype=jnp.float32) -> jax.Array:
    """The data term summed over samples: the loss of the readout against ``targets``
    (softmax cross-entropy or squared error) plus ``activity_l1`` times the summed
    |hidden activity|.

    Give either the ``logits`` already computed (evaluation, which also decodes them) or
    the ``decoder`` (training: the cross-entropy then runs fused,
    :func:`readout_cross_entropy`). ``hidden`` (..., H), ``targets`` (..., n_place).
    """
    if (logits is None) == (decoder is None):
        raise ValueError("readout_loss needs exactly one of logits or decoder")
    if loss == "cross_entropy":
        data = (readout_cross_entropy(hidden, decoder, targets, matmul_dtype)
                if logits is None else _cross_entropy(logits, targets))
    elif loss == "mse":
        if logits is None:
            logits = _mm(hidden, decoder, matmul_dtype)
        data = jnp.sum((targets - logits) ** 2)
    else:
        raise ValueError(f"unknown loss {loss!r}; choose cross_entropy or mse")
    if activity_l1:
        data = data + activity_l1 * jnp.sum(jnp.abs(hidden))
    return data


def unit_norm(h: jax.Array, eps: float = 1e-13) -> jax.Array:
    """``h / max(|h|, eps)`` along the last axis (Pettersen et al. 2024's normalisation;
    their floor ``eps`` keeps an all-zero state at zero instead of NaN)."""
    norm = jnp.sqrt(jnp.sum(h * h, axis=-1, keepdims=True))
    return h / jnp.maximum(norm, eps)


def hidden_states_time_major(params: dict[str, jax.Array], velocity_tm: jax.Array,
                             p0: jax.Array, cell: str = "rnn", activation: str = "relu",
                             matmul_dtype=jnp.float32, unroll: int = 1,
                             hidden_norm: HiddenNorm = "none") -> jax.Array:
    """Hidden states (time, batch, n_hidden) from time-major velocities (time, batch, 2).

    ``hidden_norm="unit"`` (vanilla RNN): ``h_0 = n(f(E p0))`` and ``h_t = n(f(x_t + h_{t-1}
    W))`` with ``n`` = :func:`unit_norm`, so every state lies on the unit sphere (and, for
    a ReLU, in its positive orthant): Pettersen et al. (2024), ``RNNGC.norm_relu``.
    """
    if hidden_norm not in HIDDEN_NORMS:
        raise ValueError(f"hidden_norm must be one of {HIDDEN_NORMS}, got {hidden_norm!r}")
    if hidden_norm == "unit" and cell != "rnn":
        raise ValueError(f"hidden_norm='unit' is defined for the vanilla RNN, not {cell!r}")
    act = ACTIVATIONS[activation]
    n_hidden = params["w_rec"].shape[0]
    t, b = velocity_tm.shape[:2]
    x = _mm(velocity_tm.reshape(t * b, 2), params["w_in"], matmul_dtype).reshape(t, b, -1)
    h0 = _mm(p0, params["encoder"], matmul_dtype)
    w_rec = params["w_rec"]

    if cell == "rnn" and hidden_norm == "unit":
        # autodiff through the scan: the hand-written backward pass of _rnn_core assumes
        # h_t = f(u_t), which the normalisation breaks
        def step(h, xt):
            h = unit_norm(act(xt + _mm(h, w_rec, matmul_dtype)))
            return h, h
        return jax.lax.scan(step, unit_norm(act(h0)), x, unroll=unroll)[1]
    if cell == "rnn":
        return _rnn_core(x, h0, w_rec, activation, matmul_dtype, unroll)
    if cell == "gru":
        def step(h, xt):
            rec = _mm(h, w_rec[:, : 2 * n_hidden], matmul_dtype)
            z = jax.nn.sigmoid(xt[:, :n_hidden] + rec[:, :n_hidden])
            r = jax.nn.sigmoid(xt[:, n_hidden:2 * n_hidden] + rec[:, n_hidden:])
            n = act(xt[:, 2 * n_hidden:] + _mm(r * h, w_rec[:, 2 * n_hidden:], matmul_dtype))
            h = (1 - z) * n + z * h
            return h, h
        carry = h0
    elif cell == "lstm":
        def step(hc, xt):
            h, c = hc
            gates = xt + _mm(h, w_rec, matmul_dtype)
            i, f, o, u = jnp.split(gates, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * act(u)
            h = jax.nn.sigmoid(o) * act(c)
            return (h, c), h
        carry = (h0, _mm(p0, params["encoder_c"], matmul_dtype))
    else:
        raise ValueError(f"unknown cell {cell!r}; choose rnn, lstm or gru")
    return jax.lax.scan(step, carry, x, unroll=unroll)[1]


def forward(params: dict[str, jax.Array], velocity: jax.Array, p0: jax.Array,
            cell: str = "rnn", activation: str = "relu", matmul_dtype=jnp.float32,
            unroll: int = 1, hidden_norm: HiddenNorm = "none"
            ) -> tuple[jax.Array, jax.Array]:
    """Hidden states (batch, time, n_hidden) and logits (batch, time, n_place).

    ``velocity`` (batch, time, 2) is the network's input (its units are the caller's
    choice); ``p0`` (batch, n_place) the code at the start. ``matmul_dtype=bfloat16`` runs
    the matrix products in bf16 with fp32 accumulation; parameters stay fp32.
    ``hidden_norm`` as in :func:`hidden_states_time_major`.
    """
    hs = hidden_states_time_major(params, jnp.swapaxes(velocity, 0, 1), p0, cell,
                                  activation, matmul_dtype, unroll, hidden_norm)
    hs = jnp.swapaxes(hs, 0, 1)
    logits = _mm(hs, params["decoder"], matmul_dtype)
    return hs, logits


def conformal_isometry_loss(hidden_tm: jax.Array, displacement_tm: jax.Array,
                            scale: float) -> jax.Array:
    """Mean over consecutive steps of ``(|h_t - h_{t-1}| - s |dx_t|)^2``.

    The conformal-isometry term of Xu, Gao, Zhang, Wei & Wu ("On conformal isometry of
    grid cells: learning distance-preserving position embedding", ICLR 2025; code
    DehongXu/grid-cell-conformal-isometry): a small displacement ``dx`` moves the
    population state by ``s |dx|`` whatever its direction and place, so the code is
    locally a scaled isometry of the plane. ``hidden_tm`` (time, batch, H) are the
    states after each step, ``displacement_tm`` (time, batch, 2) the step that led to
    each, metres; ``scale`` ``s`` is in hidden-state units per metre. The T - 1 pairs
    (h_{t-1}, h_t), t >= 1, of every trajectory enter; the norm is taken as 0 with a
    zero gradient where two states coincide (a plain norm has a NaN gradient there).
    """
    if hidden_tm.shape[:2] != displacement_tm.shape[:2] or displacement_tm.shape[-1] != 2:
        raise ValueError(f"hidden_tm (time, batch, H) and displacement_tm (time, batch, 2) "
                         f"disagree: {hidden_tm.shape} and {displacement_tm.shape}")
    if hidden_tm.shape[0] < 2:
        raise ValueError("conformal_isometry_loss needs at least 2 steps per trajectory")
    dh2 = jnp.sum((hidden_tm[1:] - hidden_tm[:-1]) ** 2, axis=-1)
    moved = dh2 > 0
    dh = jnp.where(moved, jnp.sqrt(jnp.where(moved, dh2, 1.0)), 0.0)
    dx = jnp.linalg.norm(displacement_tm[1:], axis=-1)
    return jnp.mean((dh - scale * dx) ** 2)


def sequence_loss(params: dict[str, jax.Array], velocity: jax.Array, p0: jax.Array,
                  targets: jax.Array, cell: str = "rnn", activation: str = "relu",
                  loss: str = "cross_entropy", matmul_dtype=jnp.float32,
                  unroll: int = 1, activity_l1: float = 0.0, *,
                  hidden_norm: HiddenNorm = "none", conformal_weight: float = 0.0,
                  conformal_scale: float = 1.0,
                  displacement: jax.Array | None = None) -> jax.Array:
    """Mean per-step loss of a batch: one forward pass.

    ``velocity`` (batch, time, 2), ``targets`` (batch, time, n_place): the same batch-first
    arrays as :func:`forward`; the loss equals the one computed from its logits.
    ``activity_l1`` adds that multiple of the summed |hidden activity| per step;
    ``conformal_weight`` that multiple of :func:`conformal_isometry_loss` with scale
    ``conformal_scale`` (per metre) on the steps ``displacement`` (batch, time, 2), m.
    """
    disp = None if displacement is None else jnp.swapaxes(displacement, 0, 1)
    return sequence_loss_time_major(params, jnp.swapaxes(velocity, 0, 1), p0,
                                    jnp.swapaxes(targets, 0, 1), cell, activation, loss,
                                    matmul_dtype, unroll, activity_l1,
                                    hidden_norm=hidden_norm,
                                    conformal_weight=conformal_weight,
                                    conformal_scale=conformal_scale, displacement_tm=disp)


def sequence_loss_time_major(params: dict[str, jax.Array], velocity_tm: jax.Array,
                             p0: jax.Array, targets_tm: jax.Array, cell: str = "rnn",
                             activation: str = "relu", loss: str = "cross_entropy",
                             matmul_dtype=jnp.float32, unroll: int = 1,
                             activity_l1: float = 0.0, *, hidden_norm: HiddenNorm = "none",
                             conformal_weight: float = 0.0, conformal_scale: float = 1.0,
                             displacement_tm: jax.Array | None = None) -> jax.Array:
    """:func:`sequence_loss` on time-major arrays (time, batch, .), as the trainer uses."""
    t, b = velocity_tm.shape[:2]
    hs = hidden_states_time_major(params, velocity_tm, p0, cell, activation, matmul_dtype,
                                  unroll, hidden_norm)
    data = readout_loss(hs.reshape(t * b, -1), targets_tm.reshape(t * b, -1), loss,
                        activity_l1, decoder=params["decoder"], matmul_dtype=matmul_dtype)
    data = data / (t * b)
    if conformal_weight:
        if displacement_tm is None:
            raise ValueError("conformal_weight needs the steps' displacement_tm")
        data = data + conformal_weight * conformal_isometry_loss(hs, displacement_tm,
                                                                 conformal_scale)
    return data
