#!/usr/bin/env bash
# One device call: the demo-recipe search of benchmarks/gpu_demo_sweep.py on a lent GPU.
# Same setup as gpu_session.sh (wheels from .whl/ when present). Writes into ${OUT:-gpu-out}.
#   bash benchmarks/gpu_demo_sweep.sh SETTING... (default: the candidate list below)
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
if [ $# -eq 0 ]; then
  set -- "" "loss='mse'" "n_hidden=512" "weight_decay=3e-5" "surround_scale=4.0" \
    "steps=24000" "sequence_length=10,steps=24000" "learning_rate=5e-4,steps=24000" \
    "init_input_scale=128.0" "n_place_cells=1024"
fi
timeout "${SWEEP_TIMEOUT:-440}" python3 benchmarks/gpu_demo_sweep.py "$@" --seeds "${SEEDS:-3}" \
  --parallel "${PARALLEL:-10}" --out "$out/sweep" 2>&1 | tee "$out/sweep_log.txt"
