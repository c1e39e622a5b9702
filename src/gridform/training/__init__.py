"""Training path-integrating networks: configs, loop, checkpoints, evaluation."""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

if TYPE_CHECKING:
    from gridform.training.config import PRESETS, ConfigError, TrainConfig, load_config
    from gridform.training.evaluate import Evaluation, evaluate_params, evaluate_run
    from gridform.training.loop import (
        RunExistsError,
        TrainingDiverged,
        TrainingInterrupted,
        build_task,
        train,
    )
    from gridform.training.trained import TrainedRun

__getattr__, __dir__ = exports(globals(), {
    "PRESETS": "gridform.training.config",
    "ConfigError": "gridform.training.config",
    "TrainConfig": "gridform.training.config",
    "load_config": "gridform.training.config",
    "Evaluation": "gridform.training.evaluate",
    "evaluate_params": "gridform.training.evaluate",
    "evaluate_run": "gridform.training.evaluate",
    "RunExistsError": "gridform.training.loop",
    "TrainingDiverged": "gridform.training.loop",
    "TrainingInterrupted": "gridform.training.loop",
    "build_task": "gridform.training.loop",
    "train": "gridform.training.loop",
    "TrainedRun": "gridform.training.trained",
})

__all__ = ["PRESETS", "ConfigError", "Evaluation", "RunExistsError", "TrainConfig", "TrainedRun",
           "TrainingDiverged", "TrainingInterrupted", "build_task", "evaluate_params",
           "evaluate_run", "load_config", "train"]
