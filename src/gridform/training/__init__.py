"""Training path-integrating networks: configs, loop, checkpoints, evaluation."""

from gridform.training.config import PRESETS, ConfigError, TrainConfig, load_config
from gridform.training.evaluate import Evaluation, evaluate_params, evaluate_run
from gridform.training.loop import (
    RunExistsError,
    TrainingDiverged,
    TrainingInterrupted,
    build_task,
    train,
)

__all__ = ["PRESETS", "ConfigError", "Evaluation", "RunExistsError", "TrainConfig",
           "TrainingDiverged", "TrainingInterrupted", "build_task", "evaluate_params",
           "evaluate_run", "load_config", "train"]
