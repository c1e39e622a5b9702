#!/usr/bin/env bash
# One device call: the demo-recipe search of benchmarks/gpu_demo_sweep.py on a lent GPU.
# Environment from gpu_env.sh (wheels from .whl/ when present). Writes into ${OUT:-gpu-out}.
#   bash benchmarks/gpu_demo_sweep.sh SETTING... (default: the candidate list below)
set -uo pipefail
source "$(dirname "$0")/gpu_env.sh"
if [ $# -eq 0 ]; then
  set -- "" "loss='mse'" "n_hidden=512" "weight_decay=3e-5" "surround_scale=4.0" \
    "steps=24000" "sequence_length=10,steps=24000" "learning_rate=5e-4,steps=24000" \
    "init_input_scale=128.0" "n_place_cells=1024"
fi
timeout "${SWEEP_TIMEOUT:-440}" python3 benchmarks/gpu_demo_sweep.py "$@" --seeds "${SEEDS:-3}" \
  --parallel "${PARALLEL:-10}" --out "$out/sweep" 2>&1 | tee "$out/sweep_log.txt"
