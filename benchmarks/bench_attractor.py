"""The attractor sheet: gridform's FFT update against the same model with dense weights.

Times (1) 100,000 Euler steps of a 64 x 64 sheet in a fresh program, compilation
included (JAX's persistent cache off); (2) one step, steady state, of the FFT update and
of a dense ``N x N`` matrix-vector product of the same weights, at 64 x 64 (64 MiB of
weights) and 128 x 128 (1 GiB); (3) a vmapped population of sheets against one. Both
updates are checked to give the same input first. Run:

    python benchmarks/bench_attractor.py [--steps 100000] [--dense-steps 20]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_compilation_cache", False)

from _timing import best_time  # noqa: E402

from gridform.attractor.sheet import (  # noqa: E402
    DIRECTION_ANGLES,
    SheetParams,
    direction_index,
    kernel_hat,
    random_state,
    recurrent_input,
    settle,
    step,
)


def dense_weights(p: SheetParams) -> jax.Array:
    """(N, N) float32 weights W[i, j] = W0(x_i - x_j - l e_j), built in row blocks."""
    n = p.n
    d = direction_index(n).reshape(-1)
    rows, cols = np.divmod(np.arange(n * n), n)
    ex = jnp.asarray(np.cos(DIRECTION_ANGLES)[d], jnp.float32)
    ey = jnp.asarray(np.sin(DIRECTION_ANGLES)[d], jnp.float32)
    r, c = jnp.asarray(rows, jnp.float32), jnp.asarray(cols, jnp.float32)

    @jax.jit
    def block(ri, ci):
        dx = (ci[:, None] - c[None, :] - p.shift * ex[None, :] + n / 2) % n - n / 2
        dy = (ri[:, None] - r[None, :] - p.shift * ey[None, :] + n / 2) % n - n / 2
        r2 = dx**2 + dy**2
        return jnp.exp(-p.gamma * r2) - jnp.exp(-p.beta * r2)

    size = 1024
    return jnp.concatenate([block(r[i:i + size], c[i:i + size])
                            for i in range(0, n * n, size)])


def dense_runner(p: SheetParams, w: jax.Array, steps: int):
    e = np.stack([np.cos(DIRECTION_ANGLES)[direction_index(p.n)],
                  np.sin(DIRECTION_ANGLES)[direction_index(p.n)]]).reshape(2, -1)
    e = jnp.asarray(e, jnp.float32)

    @jax.jit
    def run(s, v):
        drive = 1.0 + p.velocity_gain * (e[0] * v[0] + e[1] * v[1])

        def body(_, s):
            return s + (p.dt / p.tau) * (jax.nn.relu(w @ s + drive) - s)

        return jax.lax.fori_loop(0, steps, body, s)

    return run


def fft_runner(p: SheetParams, steps: int):
    @jax.jit
    def run(s, v):
        hat = kernel_hat(p)
        return jax.lax.fori_loop(0, steps, lambda _, s: step(p, hat, s, v), s)

    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--dense-steps", type=int, default=20)
    ap.add_argument("--population", type=int, default=8)
    args = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}, "
          f"{jax.local_device_count()} device(s)")

    p = SheetParams()
    s0 = random_state(jax.random.key(0), p.n)
    t = time.perf_counter()
    settle(p, s0, args.steps).block_until_ready()
    cold = time.perf_counter() - t
    print(f"64 x 64 sheet, {args.steps:,} steps in a fresh program (compile included): "
          f"{cold:.2f} s")

    v = jnp.asarray([0.2, 0.1], jnp.float32)
    chunk = 1000
    for n in (64, 128):
        p = SheetParams(n=n)
        s = random_state(jax.random.key(1), n)
        fft = fft_runner(p, chunk)
        t_fft = best_time(lambda i, fft=fft, s=s: fft(s, v), 3,
                          sync=lambda o: o.block_until_ready()) / chunk
        t = time.perf_counter()
        w = dense_weights(p).block_until_ready()
        t_build = time.perf_counter() - t
        got = recurrent_input(p, s)
        want = (w @ s.reshape(-1)).reshape(n, n)
        err = float(jnp.abs(got - want).max() / jnp.abs(want).max())
        dense = dense_runner(p, w, args.dense_steps)
        flat = s.reshape(-1)
        t_dense = best_time(lambda i, dense=dense, flat=flat: dense(flat, v), 1, repeats=2,
                            warmup=1, sync=lambda o: o.block_until_ready()) / args.dense_steps
        print(f"{n} x {n}: FFT {1e3 * t_fft:.4f} ms/step, dense {1e3 * t_dense:.2f} ms/step "
              f"({w.nbytes / 2**20:.0f} MiB of weights, built in {t_build:.1f} s): "
              f"{t_dense / t_fft:.0f}x; inputs agree to {err:.1e}")
        del w

    p = SheetParams()
    k = args.population
    gains = jnp.linspace(0.05, 0.15, k)
    batch = SheetParams(p.n, *(jnp.full((k,), getattr(p, f)) for f in
                               ("period_neurons", "gamma_ratio", "shift")), gains,
                        *(jnp.full((k,), getattr(p, f)) for f in ("amplitude", "tau", "dt")))

    def one(params, s):
        hat = kernel_hat(params)
        return jax.lax.fori_loop(0, chunk, lambda _, x: step(params, hat, x, v), s)

    pop = jax.jit(jax.vmap(one, in_axes=(0, None)))
    single = jax.jit(one)
    s = random_state(jax.random.key(2), p.n)
    t_pop = best_time(lambda i: pop(batch, s), 3, sync=lambda o: o.block_until_ready())
    t_one = best_time(lambda i: single(p, s), 3, sync=lambda o: o.block_until_ready())
    print(f"vmapped population of {k} sheets: {1e3 * t_pop / chunk:.3f} ms/step for all, "
          f"{k * t_one / t_pop:.2f}x the throughput of one sheet at a time")


if __name__ == "__main__":
    main()
