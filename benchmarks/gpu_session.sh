#!/usr/bin/env bash
# The whole device check in one call (about 9 minutes): gpu_check.sh's steps/s of the paper
# preset in fp32 and bf16, then gpu_session.py (paper-scale training + evaluation, vmapped
# population throughput, the demo preset). Writes into ${OUT:-gpu-out}.
# Extra wheels (pydantic and its needs, which the GPU image lacks) are installed from .whl/
# when that folder exists: see the device notes in benchmarks/README or docs.
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
wheels=${WHEELS:-.whl}
if [ -d "$wheels" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$wheels"/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src
fi
export PYTHONUNBUFFERED=1
nvidia-smi -L 2>/dev/null || true
python3 -c "import jax, optax; print('jax', jax.__version__, 'optax', optax.__version__, jax.devices())"
OUT="$out" timeout "${CHECK_TIMEOUT:-130}" bash benchmarks/gpu_check.sh "${CHECK_STEPS:-300}"
timeout "${SESSION_TIMEOUT:-380}" python3 benchmarks/gpu_session.py --out "$out" \
  --budget "${BUDGET:-350}" --train-seconds "${TRAIN_SECONDS:-190}" "$@" 2>&1 | tee "$out/session_log.txt"
