"""Checkpoints: safetensors for arrays, JSON for everything else. Never pickle.

A checkpoint is ``NAME.safetensors`` (parameters under ``params/``, optimiser state under
``opt/``) plus ``NAME.json`` (step, metrics, config hash and the SHA-256 of the tensors
file). The JSON is the commit point: new tensors are first written (atomically) beside the
old ones as ``NAME.safetensors.new``, then the JSON naming their hash, then the tensors are
renamed into place. A process killed between any two of these leaves a JSON whose hash
matches one of the two tensor files, and loading takes that one, so a reader sees either
the old checkpoint or the new one. Loading checks the hash, so corrupt or truncated
files are reported instead of silently used; ``safetensors`` itself refuses anything that
is not a safetensors file (a pickle is never executed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from gridform.core.io import atomic_path

__all__ = ["CheckpointError", "flatten", "load_checkpoint", "read_checkpoint", "save_checkpoint",
           "unflatten"]


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, truncated or not in safetensors format."""


def _key_name(path) -> str:
    parts = []
    for p in path:
        if isinstance(p, jax.tree_util.DictKey):
            parts.append(str(p.key))
        elif isinstance(p, jax.tree_util.SequenceKey):
            parts.append(str(p.idx))
        elif isinstance(p, jax.tree_util.GetAttrKey):
            parts.append(p.name)
        else:
            parts.append(str(p))
    return "/".join(parts)


def flatten(tree, prefix: str) -> dict[str, np.ndarray]:
    """Named numpy arrays of a pytree's leaves: ``prefix/path/to/leaf``."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {f"{prefix}/{_key_name(p)}": np.asarray(v) for p, v in leaves}


def unflatten(template, arrays: dict[str, np.ndarray], prefix: str):
    """Fill a pytree shaped like ``template`` from named arrays (shapes must agree)."""
    paths, treedef = jax.tree_util.tree_flatten_with_path(template)
    leaves = []
    for p, ref in paths:
        name = f"{prefix}/{_key_name(p)}"
        if name not in arrays:
            raise CheckpointError(f"checkpoint lacks the tensor {name!r}")
        a = arrays[name]
        if a.shape != np.shape(ref):
            raise CheckpointError(f"tensor {name!r} has shape {a.shape}, expected "
                                  f"{np.shape(ref)}")
        leaves.append(jax.numpy.asarray(a, dtype=np.asarray(ref).dtype))
    return jax.tree_util.tree_unflatten(treedef, [leaf for leaf in leaves])


def _atomic_write(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def save_tensors(path: Path, arrays: dict[str, np.ndarray]) -> str:
    """Write a safetensors file atomically and return its SHA-256."""
    # np.array keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d)
    data = st_save({k: np.array(v, order="C") for k, v in arrays.items()})
    _atomic_write(path, data)
    return hashlib.sha256(data).hexdigest()


def load_tensors(path: Path, sha256: str | None = None) -> dict[str, np.ndarray]:
    """Read a safetensors file, checking its SHA-256 when given."""
    if not path.exists():
        raise CheckpointError(f"missing tensors file {path}")
    data = path.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise CheckpointError(f"{path} is corrupt or truncated (its SHA-256 does not match "
                              "the one recorded when it was written)")
    try:
        return st_load(data)
    except (SafetensorError, ValueError, OSError) as err:
        raise CheckpointError(f"{path} is not a safetensors file ({err}); gridform never "
                              "loads pickles") from None


def save_checkpoint(run_dir: Path, name: str, params, opt_state, meta: dict[str, Any]) -> None:
    arrays = flatten(params, "params") | flatten(opt_state, "opt")
    staged = run_dir / f"{name}.safetensors.new"
    digest = save_tensors(staged, arrays)
    text = json.dumps(meta | {"sha256": digest}, indent=2, sort_keys=True)
    _atomic_write(run_dir / f"{name}.json", text.encode())
    os.replace(staged, run_dir / f"{name}.safetensors")


def _committed_tensors(run_dir: Path, name: str, sha256: str) -> dict[str, np.ndarray]:
    """The tensors the JSON committed: in place, or still staged if a kill came first."""
    staged = run_dir / f"{name}.safetensors.new"
    if staged.exists() and hashlib.sha256(staged.read_bytes()).hexdigest() == sha256:
        return load_tensors(staged, sha256)
    return load_tensors(run_dir / f"{name}.safetensors", sha256)


def read_checkpoint(run_dir: Path, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, named arrays) of a checkpoint, hash-checked."""
    meta_path = run_dir / f"{name}.json"
    if not meta_path.exists():
        raise CheckpointError(f"no checkpoint in {run_dir} (missing {meta_path.name})")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{meta_path} is not valid JSON ({err})") from None
    if not isinstance(meta, dict) or "sha256" not in meta or "step" not in meta:
        raise CheckpointError(f"{meta_path} lacks 'step' or 'sha256'")
    return meta, _committed_tensors(run_dir, name, meta["sha256"])


def load_checkpoint(run_dir: Path, name: str, params_template, opt_template
                    ) -> tuple[Any, Any, dict[str, Any]]:
    meta, arrays = read_checkpoint(run_dir, name)
    params = unflatten(params_template, arrays, "params")
    opt_state = unflatten(opt_template, arrays, "opt")
    return params, opt_state, meta
