"""Where one fp32 training step goes: the readout, the recurrent core and bare GEMMs.

Times, jitted and in isolation, the two hand-differentiated pieces of a gridform step
(:func:`gridform.core.models.readout_cross_entropy` and the recurrent core) forward and
forward + backward, and the matrix products they are made of, including the products
with a transposed operand that the weight gradients need, in the layouts XLA offers.
Batch 200, 20 steps, 512 place cells, as ``bench_train.py``. Run:

    python benchmarks/bench_step_parts.py [--sizes 256 512]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from _timing import best_time

from gridform.core.models import _rnn_core, _transposed, readout_cross_entropy

B, T, NP = 200, 20, 512


def ms(f, *args, reps: int = 30) -> float:
    """Milliseconds per call of ``jit(f)(*args)`` (:func:`_timing.best_time`)."""
    f = jax.jit(f)
    return 1e3 * best_time(lambda i: f(*args), reps, sync=jax.block_until_ready)


def parts(n: int) -> None:
    k = jax.random.split(jax.random.key(0), 6)
    hs = jax.nn.relu(jax.random.normal(k[0], (T * B, n)))
    dec = jax.random.normal(k[1], (n, NP)) * 0.05
    y = jax.nn.softmax(jax.random.normal(k[2], (T * B, NP)))
    x = jax.random.normal(k[3], (T, B, n)) * 0.1
    h0 = jax.nn.relu(jax.random.normal(k[4], (B, n)))
    w = jax.random.normal(k[5], (n, n)) / np.sqrt(n)

    def ce(h, d):
        return readout_cross_entropy(h, d, y)

    def core(x, h0, w):
        return jnp.sum(_rnn_core(x, h0, w, "relu", jnp.float32, T) * 0.01)

    rows = [("readout forward", ms(ce, hs, dec), 2 * T * B * n * NP),
            ("readout forward + backward", ms(jax.grad(ce, (0, 1)), hs, dec),
             6 * T * B * n * NP),
            ("core forward", ms(core, x, h0, w), 2 * T * B * n * n),
            ("core forward + backward", ms(jax.grad(core, (0, 1, 2)), x, h0, w),
             6 * T * B * n * n)]
    a, b = hs, jnp.ones((T * B, NP))
    tn = (((0,), (0,)), ((), ()))
    rows += [(f"GEMM ({B}, {n}) @ ({n}, {n}): one recurrent step",
              ms(lambda p, q: p @ q, h0, w), 2 * B * n * n),
             (f"GEMM ({T * B}, {n}) @ ({n}, {NP}): logits", ms(lambda p, q: p @ q, a, dec),
              2 * T * B * n * NP),
             (f"GEMM ({n}, {T * B}) @ ({T * B}, {NP}): the same, untransposed",
              ms(lambda p, q: p @ q, jnp.ones((n, T * B)), b), 2 * T * B * n * NP),
             ("  decoder gradient h^T g: dot_general on axis 0",
              ms(lambda p, q: jax.lax.dot_general(p, q, tn), a, b), 2 * T * B * n * NP),
             ("  same, row-major copy of h^T first",
              ms(lambda p, q: _transposed(p) @ q, a, b), 2 * T * B * n * NP),
             ("  same, as 20 per-step products",
              ms(lambda p, q: sum(p[i * B:(i + 1) * B].T @ q[i * B:(i + 1) * B]
                                  for i in range(T)), a, b), 2 * T * B * n * NP)]
    print(f"\n{n} units")
    for name, t, flops in rows:
        print(f"  {name:<58} {t:7.2f} ms {flops / t / 1e6:6.0f} GFLOP/s")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    for n in p.parse_args().sizes:
        parts(n)


if __name__ == "__main__":
    main()
