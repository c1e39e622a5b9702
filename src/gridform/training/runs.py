"""Run directories: what a training run's ``config.json`` holds, and reading it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from gridform.training.checkpoint import CheckpointError
from gridform.training.config import TrainConfig

__all__ = ["MSE_TARGETS_KEY", "load_params", "read_run_config", "read_run_metadata", "run_metadata"]

# Written to every config.json since `loss='mse'` compares the readout with the place code
# times the number of cells (Task.loss_targets); an mse run without it used the raw code.
MSE_TARGETS_KEY = "mse_targets"


def run_metadata(config: TrainConfig) -> dict[str, Any]:
    """What a run directory's ``config.json`` holds."""
    return {"config": config.resolved(), "config_hash": config.config_hash(),
            "run_id": config.run_id(), MSE_TARGETS_KEY: "place code x n_place_cells"}


def read_run_metadata(run_dir: Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a run directory (:func:`run_metadata`)."""
    path = run_dir / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} holds no run (missing config.json)")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text file") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ValueError(f"{path} is not the config of a gridform run (it has no 'config' "
                         "table); choose another directory")
    return meta


def read_run_config(run_dir: Path) -> TrainConfig:
    return TrainConfig(**read_run_metadata(run_dir)["config"])


def load_params(run_dir: Path) -> dict[str, jax.Array]:
    """The final parameters of a run (model.safetensors), else its last checkpoint."""
    from gridform.training.checkpoint import load_tensors, read_checkpoint

    model = run_dir / "model.safetensors"
    if model.exists():
        arrays = load_tensors(model)
        return {k: jnp.asarray(v) for k, v in arrays.items()}
    if (run_dir / "checkpoint.json").exists():
        _, arrays = read_checkpoint(run_dir, "checkpoint")
        return {k.removeprefix("params/"): jnp.asarray(v) for k, v in arrays.items()
                if k.startswith("params/")}
    raise CheckpointError(f"{run_dir} holds no trained parameters (no model.safetensors "
                          "and no checkpoint)")
