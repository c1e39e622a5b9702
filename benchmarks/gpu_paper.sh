#!/usr/bin/env bash
# The whole device check in one call (about 9 minutes): gpu_check.sh's steps/s of the paper
# preset in fp32 and bf16, then gpu_paper.py (paper-scale training + evaluation, vmapped
# population throughput, the demo preset). Writes into ${OUT:-gpu-out}.
# Extra wheels come from .whl/ when it exists (benchmarks/gpu_env.sh).
set -uo pipefail
source "$(dirname "$0")/gpu_env.sh"
nvidia-smi -L 2>/dev/null || true
python3 -c "import jax, optax; print('jax', jax.__version__, 'optax', optax.__version__, jax.devices())"
OUT="$out" timeout "${CHECK_TIMEOUT:-130}" bash benchmarks/gpu_check.sh "${CHECK_STEPS:-300}"
timeout "${GPU_TIMEOUT:-380}" python3 benchmarks/gpu_paper.py --out "$out" \
  --budget "${BUDGET:-350}" --train-seconds "${TRAIN_SECONDS:-190}" "$@" 2>&1 | tee "$out/session_log.txt"
