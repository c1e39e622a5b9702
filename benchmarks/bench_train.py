"""Training step rate: gridform (JAX) vs a single-forward PyTorch nn.RNN, and FLOP rates.

Same model (ReLU RNN, no biases, 512 place cells, batch 200, 20 steps, softmax
cross-entropy + L2 on the recurrent weights, Adam), same shapes, fresh batches each step
(gridform simulates its batches inside the jitted step; the torch version is timed on
precomputed tensors, so its figure excludes data generation). torch is needed here only:
`pip install torch==2.13.0`. Run:

    python benchmarks/bench_train.py [--sizes 256 512 1024 4096] [--steps 20]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from gridform.training import build_task, load_config

B, T, NP = 200, 20, 512


def model_flops(n_hidden: int) -> float:
    """Matmul FLOPs of one training step (forward + backward = 3x forward)."""
    fwd = 2 * B * (NP * n_hidden + T * (2 * n_hidden + n_hidden * n_hidden + n_hidden * NP))
    return 3 * fwd


def gemm_rate(dtype, n: int = 2048, reps: int = 5) -> float:
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda x: jnp.matmul(x, x, preferred_element_type=jnp.float32))
    f(a).block_until_ready()
    t = time.perf_counter()
    for _ in range(reps):
        f(a).block_until_ready()
    return 2 * n**3 * reps / (time.perf_counter() - t)


def time_gridform(n_hidden: int, steps: int, dtype: str) -> float:
    config = load_config("paper", overrides=[f"n_hidden={n_hidden}",
                                             f"matmul_dtype='{dtype}'"])
    task = build_task(config)
    params, opt = task.init()
    step = task.make_step()
    for i in range(2):
        params, opt, loss, _ = step(params, opt, jnp.asarray(i))
    loss.block_until_ready()
    t = time.perf_counter()
    for i in range(steps):
        params, opt, loss, _ = step(params, opt, jnp.asarray(i + 2))
    loss.block_until_ready()
    return (time.perf_counter() - t) / steps


def time_torch(n_hidden: int, steps: int) -> float:
    import torch

    torch.manual_seed(0)
    enc = torch.nn.Linear(NP, n_hidden, bias=False)
    rnn = torch.nn.RNN(2, n_hidden, nonlinearity="relu", bias=False, batch_first=True)
    dec = torch.nn.Linear(n_hidden, NP, bias=False)
    params = [*enc.parameters(), *rnn.parameters(), *dec.parameters()]
    opt = torch.optim.Adam(params, lr=1e-4)
    v = torch.randn(B, T, 2) * 0.02
    p0 = torch.rand(B, NP)
    y = torch.softmax(torch.randn(B, T, NP), -1)

    def one():
        h, _ = rnn(v, enc(p0)[None])
        logits = dec(h)
        loss = -(y * torch.log_softmax(logits, -1)).sum(-1).mean() + \
            1e-4 * (rnn.weight_hh_l0 ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        one()
    t = time.perf_counter()
    for _ in range(steps):
        one()
    return (time.perf_counter() - t) / steps


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 4096])
    p.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    fp32, bf16 = gemm_rate(jnp.float32), gemm_rate(jnp.bfloat16)
    print(f"JAX GEMM 2048^3: fp32 {fp32 / 1e9:.0f} GFLOP/s, bf16 {bf16 / 1e9:.0f} GFLOP/s")
    print(f"{'units':>6} {'gridform fp32':>14} {'gridform bf16':>14} {'torch fp32':>11} "
          f"{'fp32 ratio':>10} {'bf16 ratio':>10} {'fp32 %GEMM':>10}")
    for n in args.sizes:
        steps = max(3, args.steps // (8 if n >= 4096 else 1))
        g32 = time_gridform(n, steps, "float32")
        g16 = time_gridform(n, steps, "bfloat16")
        try:
            tt = time_torch(n, steps)
        except ImportError:
            tt = float("nan")
        print(f"{n:>6} {1e3 * g32:>11.0f} ms {1e3 * g16:>11.0f} ms {1e3 * tt:>8.0f} ms "
              f"{tt / g32:>10.2f} {tt / g16:>10.2f} {model_flops(n) / g32 / fp32:>10.0%}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
