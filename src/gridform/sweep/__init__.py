"""Sweeps of many trainings on Dask, and vmapped populations of small networks."""

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
