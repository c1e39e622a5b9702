"""Training step rate: gridform (JAX) vs a single-forward PyTorch nn.RNN, and FLOP rates.

Same model (ReLU RNN, no biases, 512 place cells, batch 200, 20 steps, softmax
cross-entropy + L2 on the recurrent weights, Adam), same shapes. Both are timed on the same
kind of precomputed batch (gridform: `Task.objective` + Adam, jitted, on a fixed batch;
torch: one forward, backward and Adam step). The `+data` column is gridform's real training
step, which also simulates its trajectories and encodes the place cells inside the
program. torch is needed here only: `pip install torch==2.13.0`. Run:

    python benchmarks/bench_train.py [--sizes 256 512 1024 4096] [--steps 20] [--trials 1]

With ``--trials N`` the fp32 and torch timings alternate N times per size and the table
shows their medians, so a burst of load on a shared machine does not decide the ratio.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax
from _timing import best_time

from gridform.training import build_task, load_config

B, T, NP = 200, 20, 512


def model_flops(n_hidden: int) -> float:
    """Matmul FLOPs of one training step (forward + backward = 3x forward)."""
    fwd = 2 * B * (NP * n_hidden + T * (2 * n_hidden + n_hidden * n_hidden + n_hidden * NP))
    return 3 * fwd


def gemm_rate(dtype, n: int = 2048, reps: int = 5) -> float:
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda x: jnp.matmul(x, x, preferred_element_type=jnp.float32))
    return 2 * n**3 / best_time(lambda i: f(a), reps, sync=jax.block_until_ready)


def _timed(fn, state, steps: int) -> float:
    """Seconds per step of ``state = fn(state, i)`` (:func:`_timing.best_time`)."""
    def call(i):
        nonlocal state
        state = fn(state, i)
        return state
    return best_time(call, steps, sync=jax.block_until_ready)


def time_gridform(n_hidden: int, steps: int, dtype: str) -> tuple[float, float]:
    """Seconds per step: (model step on a fixed batch, full step with data generation)."""
    config = load_config("paper", overrides=[f"n_hidden={n_hidden}",
                                             f"matmul_dtype='{dtype}'"])
    task = build_task(config)
    batch = jax.jit(task.training_batch)(task.data_key)

    @jax.jit
    def model_step(params, opt_state, batch):
        loss, grads = jax.value_and_grad(task.objective)(params, batch)
        updates, opt_state = task.optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    full_step = task.make_step()
    model = _timed(lambda s, i: model_step(*s[:2], batch), (*task.init(), None), steps)
    full = _timed(lambda s, i: full_step(*s[:2], jnp.asarray(i)), (*task.init(), None), steps)
    return model, full


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

    return best_time(lambda i: one(), steps)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 4096])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--trials", type=int, default=1,
                   help="alternate gridform fp32 and torch this many times per size and "
                        "report the median of each (a noisy shared machine)")
    p.add_argument("--no-torch", action="store_true",
                   help="time gridform only (the torch columns read nan)")
    args = p.parse_args()
    if not args.no_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            p.exit(2, "bench_train.py: torch is not installed; it is the competitor here "
                      "(pip install torch==2.13.0, a CPU wheel), or pass --no-torch\n")
    fp32, bf16 = gemm_rate(jnp.float32), gemm_rate(jnp.bfloat16)
    print(f"JAX GEMM 2048^3: fp32 {fp32 / 1e9:.0f} GFLOP/s, bf16 {bf16 / 1e9:.0f} GFLOP/s")
    print(f"{'units':>6} {'fp32':>9} {'fp32+data':>10} {'bf16':>9} {'torch fp32':>11} "
          f"{'fp32 ratio':>10} {'bf16 ratio':>10} {'fp32 %GEMM':>10} {'bf16 %GEMM':>10}")
    for n in args.sizes:
        steps = max(2, args.steps // (8 if n >= 4096 else 1))
        g32s, fulls, tts = [], [], []
        for _ in range(args.trials):
            g32, g32_full = time_gridform(n, steps, "float32")
            g32s.append(g32)
            fulls.append(g32_full)
            tts.append(float("nan") if args.no_torch else time_torch(n, steps))
        g32, g32_full, tt = (float(np.median(x)) for x in (g32s, fulls, tts))
        if args.trials > 1:
            print(f"{n:>6} trials: fp32 {' '.join(f'{1e3 * x:.0f}' for x in g32s)} ms, torch "
                  f"{' '.join(f'{1e3 * x:.0f}' for x in tts)} ms (medians below)")
        g16, _ = time_gridform(n, steps, "bfloat16")
        print(f"{n:>6} {1e3 * g32:>6.0f} ms {1e3 * g32_full:>7.0f} ms {1e3 * g16:>6.0f} ms "
              f"{1e3 * tt:>8.0f} ms {tt / g32:>10.2f} {tt / g16:>10.2f} "
              f"{model_flops(n) / g32 / fp32:>10.0%} {model_flops(n) / g16 / bf16:>10.0%}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
