#!/usr/bin/env bash
# One call on a lent GPU for the scale checks (about 9 minutes of device time), in order of
# value, each phase under a deadline (benchmarks/gpu_paper.py):
#   1. the paper preset (4096 units, with the levers that leave the plateau on a CPU) trained
#      for TRAIN_SECONDS, evaluated at 20 and 44 bins in both score variants and compared
#      with the Neuron 2023 level (>= 50% of units above 0.3 and >= 20% above 0.8);
#   2. vmapped populations of 1, 8 and 64 demo networks: network-steps/s.
# Writes into ${OUT:-gpu-out}; summaries, ratemaps and the log come back with the call.
#
#   bash benchmarks/gpu_session.sh             # on the GPU machine
#   bash benchmarks/gpu_session.sh --dry-run   # every phase shrunk, on this CPU (~2 min)
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--dry-run" ]; then
  shift
  export JAX_PLATFORMS=cpu PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
  out=${OUT:-gpu-dry-run}
  mkdir -p "$out"
  set -- --small --budget "${BUDGET:-200}" --train-seconds "${TRAIN_SECONDS:-20}" "$@"
else
  source benchmarks/gpu_env.sh
  nvidia-smi -L 2>/dev/null || true
  set -- --budget "${BUDGET:-540}" --train-seconds "${TRAIN_SECONDS:-300}" "$@"
fi
python3 -c "import jax, optax; print('jax', jax.__version__, 'optax', optax.__version__, jax.devices())"
timeout "${SESSION_TIMEOUT:-570}" python3 benchmarks/gpu_paper.py --out "$out" \
  --phases paper,population "$@" 2>&1 | tee "$out/session_log.txt"
