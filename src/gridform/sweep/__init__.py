"""Sweeps of many trainings on Dask, and vmapped populations of small networks."""

from typing import TYPE_CHECKING

from gridform._lazy import exports

if TYPE_CHECKING:
    from gridform.sweep.engine import SchedulerError, execute_run, run_sweep, write_results
    from gridform.sweep.population import train_population
    from gridform.sweep.spec import (
        DEFAULT_METRICS,
        RunSpec,
        SweepSpec,
        SweepSpecError,
        load_sweep,
        parse_sweep,
    )

__getattr__, __dir__ = exports(globals(), {
    "SchedulerError": "gridform.sweep.engine",
    "execute_run": "gridform.sweep.engine",
    "run_sweep": "gridform.sweep.engine",
    "write_results": "gridform.sweep.engine",
    "train_population": "gridform.sweep.population",
    "DEFAULT_METRICS": "gridform.sweep.spec",
    "RunSpec": "gridform.sweep.spec",
    "SweepSpec": "gridform.sweep.spec",
    "SweepSpecError": "gridform.sweep.spec",
    "load_sweep": "gridform.sweep.spec",
    "parse_sweep": "gridform.sweep.spec",
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
