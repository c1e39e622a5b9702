# Sourced by the gpu_*.sh scripts: the environment of a lent GPU machine.
# The GPU image ships jax and optax but not pydantic and its needs; those travel as wheels
# in .whl/ (or $WHEELS) and are installed into /tmp/site when that folder exists.
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
