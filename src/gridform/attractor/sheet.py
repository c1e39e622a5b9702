"""The continuous-attractor grid network of Burak & Fiete (2009) on a periodic sheet (JAX).

An ``n x n`` sheet of rate neurons on a torus. Each neuron has one of four preferred
directions ``theta`` (east, north, west, south), laid out on 2 x 2 blocks. Neuron ``j``
drives neuron ``i`` through a centre-surround kernel shifted by ``l`` along ``j``'s
direction, and receives a velocity input tuned to its own direction:

    tau ds_i/dt = -s_i + relu( sum_j W0(x_i - x_j - l e_j) s_j + B_i )        (B&F eq. 1)
    W0(x) = a exp(-gamma |x|^2) - exp(-beta |x|^2),  beta = 3 / lambda_net^2   (B&F eq. 3)
    B_i = 1 + alpha e_i . v                                                    (B&F eq. 4)

The kernel is applied by FFT: the input is ``sum_d K_d * (s m_d)`` with ``K_d`` the kernel
shifted along direction ``d`` and ``m_d`` the mask of direction ``d``'s neurons. Because
the masks are 2 x 2-periodic, the FFT of ``s m_d`` is a signed sum of the FFT of ``s`` and
its three copies shifted by half the sheet (aliasing), so one real FFT and one inverse
FFT serve all four directions: ``O(n^2 log n)`` a step and no ``n^2 x n^2`` matrix.

Shapes: the state is ``(n, n)`` with rows along y and columns along x; velocities are
``(steps, 2)`` in m/s. Every function is pure and jit-compatible, and
:class:`SheetParams` is a pytree, so ``jax.vmap`` runs many parameter sets at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.reference import (
    CAN_DT_S,
    CAN_GAMMA_RATIO,
    CAN_PERIOD_NEURONS,
    CAN_SHEET,
    CAN_SHIFT,
    CAN_TAU_S,
    CAN_VELOCITY_GAIN,
)

__all__ = ["DIRECTION_ANGLES", "SheetParams", "direction_index", "kernel",
           "kernel_hat", "random_state", "recurrent_input", "recurrent_input_direct",
           "run_sheet", "settle", "step", "weights_between"]

# east, north, west, south; neuron (row i, column j) takes direction 2 (i % 2) + (j % 2)
DIRECTION_ANGLES = np.array([0.0, 0.5, 1.0, 1.5]) * np.pi


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


@partial(jax.tree_util.register_dataclass,
         data_fields=["period_neurons", "gamma_ratio", "shift", "velocity_gain",
                      "amplitude", "tau", "dt"],
         meta_fields=["n"])
@dataclass(frozen=True)
class SheetParams:
    """Parameters of the sheet (Burak & Fiete 2009, periodic network; SI units). The
    defaults are theirs but three (``gridform.core.reference``, docs/attractor.md).

    Attributes:
        n: neurons per side of the periodic sheet (even: the directions tile 2 x 2 blocks;
            B&F: 128, here 64).
        period_neurons: ``lambda_net``, neurons; sets ``beta = 3 / lambda_net^2``
            (B&F: 13, here 12, which a 64-neuron torus admits with little strain).
        gamma_ratio: ``gamma / beta``, the width ratio of the kernel's two Gaussians.
            B&F state 1.05; with the four shifted directions that leaves the uniform state
            stable (effective gain 0.98 < 1, :func:`gridform.attractor.theory.sheet_theory`),
            so the default is 1.1, which forms the pattern (docs/attractor.md).
        shift: ``l``, neurons; the outgoing weights of a neuron are shifted by ``l`` along
            its preferred direction (B&F: 2).
        velocity_gain: ``alpha``, s/m; the velocity input is ``1 + alpha e . v``
            (B&F: 0.10315).
        amplitude: ``a``, the excitatory Gaussian's weight (B&F periodic network: 1, so
            the kernel is purely inhibitory).
        tau: neural time constant, s (B&F: 0.01).
        dt: integration step, s (B&F: 0.0005).
    """

    n: int = CAN_SHEET
    period_neurons: float = CAN_PERIOD_NEURONS
    gamma_ratio: float = CAN_GAMMA_RATIO
    shift: float = CAN_SHIFT
    velocity_gain: float = CAN_VELOCITY_GAIN
    amplitude: float = 1.0
    tau: float = CAN_TAU_S
    dt: float = CAN_DT_S

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 4 \
                or self.n % 2:
            raise ValueError(f"n (neurons per side) must be an even integer >= 4, got "
                             f"{self.n!r}")
        checks = {"period_neurons": (0, False), "gamma_ratio": (1, False),
                  "shift": (0, True), "velocity_gain": (None, True),
                  "amplitude": (0, True), "tau": (0, False), "dt": (0, False)}
        for name, (low, inclusive) in checks.items():
            v = getattr(self, name)
            if not _is_number(v):
                continue  # a traced or batched value inside jit/vmap: checked at the boundary
            if not math.isfinite(v):
                raise ValueError(f"{name} must be finite, got {v!r}")
            if low is not None and (v < low or (v == low and not inclusive)):
                raise ValueError(f"{name} must be {'>=' if inclusive else '>'} {low}, "
                                 f"got {v!r}")
        if _is_number(self.dt) and _is_number(self.tau) and self.dt > self.tau / 2:
            raise ValueError(f"dt = {self.dt} s is too coarse for tau = {self.tau} s; "
                             "Euler steps need dt <= tau / 2")

    @property
    def beta(self):
        """``beta = 3 / lambda_net^2``, 1/neuron^2."""
        return 3.0 / self.period_neurons**2

    @property
    def gamma(self):
        """``gamma = gamma_ratio * beta``, 1/neuron^2."""
        return self.gamma_ratio * self.beta


def direction_index(n: int) -> np.ndarray:
    """(n, n) direction of each neuron: 0 east, 1 north, 2 west, 3 south."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return 2 * (i % 2) + (j % 2)


def _displacements(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, n) periodic displacements (x along columns, y along rows), in neurons."""
    c = np.fft.fftfreq(n) * n  # 0, 1, ..., n/2 - 1, -n/2, ..., -1
    x, y = np.meshgrid(c, c)
    return x, y


def kernel(params: SheetParams) -> jax.Array:
    """(4, n, n) shifted kernels ``K_d(x) = W0(x - l e_d)`` on the periodic sheet, indexed
    by the displacement ``x`` (FFT order: entry ``[d, 0, 0]`` is ``x = 0``)."""
    n = params.n
    x, y = _displacements(n)
    ex, ey = np.cos(DIRECTION_ANGLES), np.sin(DIRECTION_ANGLES)

    def wrap(u):
        return (u + n / 2) % n - n / 2

    dx = wrap(jnp.asarray(x)[None] - params.shift * ex[:, None, None])
    dy = wrap(jnp.asarray(y)[None] - params.shift * ey[:, None, None])
    r2 = dx**2 + dy**2
    return params.amplitude * jnp.exp(-params.gamma * r2) - jnp.exp(-params.beta * r2)


def kernel_hat(params: SheetParams) -> jax.Array:
    """(4, n, n // 2 + 1) operator of the aliased FFT update, complex64.

    Entry ``[q]`` for ``q = 2 q_y + q_x`` multiplies the FFT of the state shifted by
    ``(q_y, q_x) * n / 2``: ``A_q = 1/4 sum_d (-1)^(a_d q_y + b_d q_x) FFT(K_d)``, where
    ``(a_d, b_d)`` is the (row, column) parity of direction ``d``'s neurons.
    """
    kh = jnp.fft.rfft2(kernel(params))  # (4, n, n/2 + 1)
    parity = [(d // 2, d % 2) for d in range(4)]
    ops = []
    for qy in (0, 1):
        for qx in (0, 1):
            signs = jnp.asarray([(-1.0) ** (a * qy + b * qx) for a, b in parity])
            ops.append(0.25 * jnp.tensordot(signs, kh, axes=1))
    return jnp.stack(ops).astype(jnp.complex64)


def _aliased(r: jax.Array, n: int) -> jax.Array:
    """(4, n, n/2 + 1): the rfft ``r`` of a real (n, n) array at ``k + (q_y, q_x) n / 2``.

    A shift along the halved (x) axis is read from the Hermitian half:
    ``S[ky, kx + n/2] = conj(S[-ky - ..., n/2 - kx])``.
    """
    h = n // 2
    r_y = jnp.roll(r, -h, axis=0)  # S[ky + n/2, kx]
    # conj(S[-k_y, n/2 - k_x]): flip the rows about 0 (FFT order) and the columns
    flip = jnp.conj(jnp.roll(jnp.flip(r, axis=0), 1, axis=0)[:, ::-1])
    flip_y = jnp.roll(flip, -h, axis=0)  # conj(S[-(ky + n/2), n/2 - kx])
    return jnp.stack([r, flip, r_y, flip_y])  # order q = 2 q_y + q_x: 00, 01, 10, 11


def recurrent_input(params_or_hat, s: jax.Array) -> jax.Array:
    """``(W s)_i = sum_j W0(x_i - x_j - l e_j) s_j`` for an (n, n) state ``s``, by one
    real FFT and one inverse (see the module docstring). ``params_or_hat`` is a
    :class:`SheetParams` or its precomputed :func:`kernel_hat`."""
    hat = kernel_hat(params_or_hat) if isinstance(params_or_hat, SheetParams) \
        else params_or_hat
    n = s.shape[-1]
    r = jnp.fft.rfft2(s)
    return jnp.fft.irfft2(jnp.sum(hat * _aliased(r, n), axis=0), s=(n, n))


def recurrent_input_direct(params: SheetParams, s: jax.Array) -> jax.Array:
    """The same input with one FFT per direction: ``sum_d K_d * (s m_d)``. A reference for
    tests and benchmarks (four FFTs where :func:`recurrent_input` needs one)."""
    n = params.n
    masks = jnp.asarray(np.stack([direction_index(n) == d for d in range(4)]), s.dtype)
    kh = jnp.fft.rfft2(kernel(params))
    return jnp.fft.irfft2(jnp.sum(kh * jnp.fft.rfft2(s[None] * masks), axis=0), s=(n, n))


def weights_between(params: SheetParams, neurons) -> np.ndarray:
    """(k, k) weights among the neurons with flat indices ``neurons``: entry ``[a, b]`` is
    the weight from neuron ``b`` onto neuron ``a``, ``W0(x_a - x_b - l e_b)`` (the dense
    matrix the FFT update never builds; for analysis of a subset)."""
    n = params.n
    idx = np.asarray(neurons, dtype=np.int64)
    rows, cols = np.divmod(idx, n)
    d = direction_index(n).reshape(-1)[idx]
    ex, ey = np.cos(DIRECTION_ANGLES)[d], np.sin(DIRECTION_ANGLES)[d]
    sh = float(params.shift)
    dx = (cols[:, None] - cols[None, :] - sh * ex[None, :] + n / 2) % n - n / 2
    dy = (rows[:, None] - rows[None, :] - sh * ey[None, :] + n / 2) % n - n / 2
    r2 = dx**2 + dy**2
    return float(params.amplitude) * np.exp(-float(params.gamma) * r2) \
        - np.exp(-float(params.beta) * r2)


def _direction_vectors(n: int) -> np.ndarray:
    """(2, n, n) unit vector of each neuron's preferred direction."""
    d = direction_index(n)
    return np.stack([np.cos(DIRECTION_ANGLES)[d], np.sin(DIRECTION_ANGLES)[d]]
                    ).astype(np.float32)


def step(params: SheetParams, hat: jax.Array, s: jax.Array, velocity: jax.Array
         ) -> jax.Array:
    """One Euler step of ``tau ds/dt = -s + relu(W s + 1 + alpha e . v)``; ``velocity``
    is (2,) in m/s. Returns the new (n, n) state."""
    e = jnp.asarray(_direction_vectors(params.n))
    drive = 1.0 + params.velocity_gain * (e[0] * velocity[0] + e[1] * velocity[1])
    rate = jax.nn.relu(recurrent_input(hat, s) + drive)
    return s + (params.dt / params.tau) * (rate - s)


def random_state(key: jax.Array, n: int, scale: float = 0.1) -> jax.Array:
    """(n, n) uniform random rates in [0, scale): the noise a pattern forms from."""
    return scale * jax.random.uniform(key, (n, n), jnp.float32)


@partial(jax.jit, static_argnames=("steps",))
def settle(params: SheetParams, s: jax.Array, steps: int) -> jax.Array:
    """Run ``steps`` Euler steps at zero velocity; return the (n, n) state."""
    hat = kernel_hat(params)
    zero = jnp.zeros(2, jnp.float32)

    def body(_, s):
        return step(params, hat, s, zero)

    return jax.lax.fori_loop(0, steps, body, s)


@dataclass(frozen=True)
class SheetRecording:
    """What :func:`run_sheet` records at the end of each velocity sample.

    Attributes:
        state: (n, n) final state.
        rates: (samples, k) rates of the recorded neurons.
        modes: (samples, m) complex Fourier coefficients of the state at the tracked wave
            vectors (their phases follow the pattern's translation).
    """

    state: jax.Array
    rates: jax.Array
    modes: jax.Array = field(repr=False)


@partial(jax.jit, static_argnames=("substeps",))
def _run(params, s, velocities, substeps, record, phasors):
    hat = kernel_hat(params)

    def sample(s, v):
        s = jax.lax.fori_loop(0, substeps, lambda _, s: step(params, hat, s, v), s)
        flat = s.reshape(-1)
        return s, (flat[record], phasors @ flat.astype(phasors.dtype))

    s, (rates, modes) = jax.lax.scan(sample, s, velocities)
    return s, rates, modes


def run_sheet(params: SheetParams, s: jax.Array, velocities, substeps: int,
              record=None, wavevectors=None) -> SheetRecording:
    """Path-integrate a velocity sequence.

    Each of the (samples, 2) velocities (m/s) is held for ``substeps`` Euler steps
    (a trajectory sampled every ``substeps * dt`` seconds); after each sample the rates
    of the neurons ``record`` (flat indices, default none) and the Fourier coefficients
    of the state at ``wavevectors`` ((m, 2) in rad/neuron, (k_x, k_y); default none) are
    kept. Returns a :class:`SheetRecording`.
    """
    n = params.n
    if substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    v = jnp.asarray(velocities, jnp.float32)
    if v.ndim != 2 or v.shape[1] != 2:
        raise ValueError(f"velocities must have shape (samples, 2), got {v.shape}")
    rec = jnp.asarray(np.zeros(0, np.int32) if record is None else record, jnp.int32)
    k = np.zeros((0, 2)) if wavevectors is None else np.asarray(wavevectors, float)
    x, y = np.meshgrid(np.arange(n), np.arange(n))
    phasors = np.exp(-1j * (k[:, 0, None] * x.reshape(-1) + k[:, 1, None] * y.reshape(-1)))
    s, rates, modes = _run(params, jnp.asarray(s, jnp.float32), v, substeps, rec,
                           jnp.asarray(phasors, jnp.complex64))
    return SheetRecording(s, rates, modes)
