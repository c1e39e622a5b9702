#!/usr/bin/env bash
# One short check for a lent GPU: train the paper preset for a fixed number of steps and
# print steps/s and the loss. Usage: bash benchmarks/gpu_check.sh [STEPS]
# Needs jax with CUDA (the GPU image ships it) and this package: pip install -e . --no-deps
set -euo pipefail
steps=${1:-300}
${PYTHON:-python3} - "$steps" <<'PY'
import sys, time, jax, jax.numpy as jnp
from gridform.training import build_task, load_config
steps = int(sys.argv[1])
print("devices:", jax.devices())
for dtype in ("float32", "bfloat16"):
    task = build_task(load_config("paper", overrides=[f"matmul_dtype='{dtype}'"]))
    params, opt = task.init()
    step, error = task.make_step(), task.make_error()
    params, opt, loss = step(params, opt, jnp.asarray(0))
    loss.block_until_ready()
    t = time.perf_counter()
    for i in range(1, steps + 1):
        params, opt, loss = step(params, opt, jnp.asarray(i))
    loss.block_until_ready()
    dt = time.perf_counter() - t
    err = error(params, jnp.asarray(steps + 1))
    print(f"paper preset ({dtype} matmuls, 4096 units, batch 200): {steps / dt:.1f} steps/s, "
          f"loss {float(loss):.4f}, decoding error {100 * float(err):.1f} cm after {steps} steps")
PY
