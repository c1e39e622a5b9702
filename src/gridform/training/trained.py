"""A trained run read back from its directory: config, task, parameters and results.

``TrainedRun.load(run_dir)`` replaces the pair ``build_task(read_run_config(run)),
load_params(run)`` wherever a trained network is analysed: the task is built once, from the
config the run was trained with, and the saved evaluation is read, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridform.training.runs import RunDir

if TYPE_CHECKING:
    import jax

    from gridform.analysis.scores import GridScores
    from gridform.core.ratemaps import Ratemaps
    from gridform.training.config import TrainConfig
    from gridform.training.evaluate import Evaluation
    from gridform.training.runs import Summary
    from gridform.training.task import Task

__all__ = ["TrainedRun"]


@dataclass(frozen=True, eq=False)
class TrainedRun:
    """A run directory's network: its ``config``, the ``task`` built from it and its
    trained ``params`` (the final weights, else the last checkpoint's).

    What ``gridform evaluate`` saved is read on demand: :meth:`summary`, :meth:`ratemaps`,
    :meth:`scores`; each raises ``FileNotFoundError`` naming the command when the run has
    not been evaluated."""

    path: Path
    config: TrainConfig
    params: dict[str, jax.Array]

    @classmethod
    def load(cls, run_dir: str | Path) -> TrainedRun:
        """Read ``run_dir``; ``FileNotFoundError`` if it is not there or holds no run,
        ``ValueError`` if its config is unreadable, ``CheckpointError`` without weights."""
        run = RunDir(run_dir)
        if not run.path.is_dir():
            raise FileNotFoundError(f"run directory not found: {run.path}")
        return cls(run.path, run.read_config(), run.load_params())

    @property
    def dir(self) -> RunDir:
        return RunDir(self.path)

    @cached_property
    def task(self) -> Task:
        """The task of the run's config (arena, place cells, jitted functions), built once."""
        from gridform.training.task import build_task

        return build_task(self.config)

    def summary(self) -> Summary:
        return self.dir.read_summary()

    def ratemaps(self) -> Ratemaps:
        from gridform.core.ratemaps import load_ratemaps

        return load_ratemaps(self.dir.evaluated(self.dir.ratemaps_path))

    def scores(self) -> GridScores:
        from gridform.analysis.scores import GridScores

        return GridScores.load(self.dir.evaluated(self.dir.scores_path))

    def evaluate(self, n_batches: int | None = None, bins: int = 20, **kwargs: Any
                 ) -> Evaluation:
        """A fresh evaluation of the trained weights (nothing is written):
        :func:`~gridform.training.evaluate.evaluate_params` on the run's own task, with
        the config's ``eval_batches`` unless ``n_batches`` is given."""
        from gridform.training.evaluate import evaluate_params

        return evaluate_params(self.task, self.params, n_batches or self.config.eval_batches,
                               bins, **kwargs)
