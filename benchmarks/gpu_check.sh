#!/usr/bin/env bash
# One short check for a lent GPU: train the paper preset (4096 units, batch 200) for a fixed
# number of steps in fp32 and in bf16 matmuls, and print steps/s, the loss and the decoding
# error. Usage: bash benchmarks/gpu_check.sh [STEPS]   (writes ${OUT:-gpu-out}/gpu_check.txt)
# Needs jax with CUDA (the GPU image ships it) and this package on PYTHONPATH (or installed).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-out}
mkdir -p "$out"
${PYTHON:-python3} benchmarks/gpu_paper.py --phases check --check-steps "${1:-300}" --out "$out"
