"""Sweeps of many trainings on Dask, and vmapped populations of small networks."""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

if TYPE_CHECKING:
    from gridform.experiments.sweep.engine import (
        SchedulerError,
        execute_run,
        run_sweep,
        write_results,
    )
    from gridform.experiments.sweep.population import train_population
    from gridform.experiments.sweep.spec import (
        DEFAULT_METRICS,
        RunSpec,
        SweepSpec,
        SweepSpecError,
        load_sweep,
        parse_sweep,
    )

__getattr__, __dir__ = exports(globals(), {
    "SchedulerError": "gridform.experiments.sweep.engine",
    "execute_run": "gridform.experiments.sweep.engine",
    "run_sweep": "gridform.experiments.sweep.engine",
    "write_results": "gridform.experiments.sweep.engine",
    "train_population": "gridform.experiments.sweep.population",
    "DEFAULT_METRICS": "gridform.experiments.sweep.spec",
    "RunSpec": "gridform.experiments.sweep.spec",
    "SweepSpec": "gridform.experiments.sweep.spec",
    "SweepSpecError": "gridform.experiments.sweep.spec",
    "load_sweep": "gridform.experiments.sweep.spec",
    "parse_sweep": "gridform.experiments.sweep.spec",
})

__all__ = [
    "DEFAULT_METRICS",
    "RunSpec",
    "SchedulerError",
    "SweepSpec",
    "SweepSpecError",
    "execute_run",
    "load_sweep",
    "parse_sweep",
    "run_sweep",
    "train_population",
    "write_results",
]
