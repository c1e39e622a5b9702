"""What the targets share: the context, the trained runs they reuse, the tolerances."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gridform.core.reference import SIGMA_M

log = logging.getLogger(__name__)


@dataclass
class _Context:
    out: Path
    quick: bool
    run_dir: Path | None
    seed: int = 0
    progress: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    figure_data: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def figures(self) -> Path:
        return self.out / "figures"


def _fmt(v: float, spec: str = ".3f") -> str:
    return "nan" if v is None or not math.isfinite(v) else format(v, spec)


def _pattern(kind: str, nonlinearity: str, n_cells: int, steps: int, seed: int,
             width: float = 3.3, bins: int = 60, cells: str = "single", sigma: float = SIGMA_M,
             surround_scale: float = 2.0):
    from gridform.theory.dynamics import simulate_place_cell_pattern

    return simulate_place_cell_pattern(seed, width, "periodic", bins, 512, kind, sigma,
                                       surround_scale, n_cells, steps, nonlinearity, 0.5,
                                       cells)


def _scores(maps):
    from gridform.analysis.scores import score_ratemaps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return score_ratemaps(maps)


def _median(a) -> float:
    a = np.asarray(a, float)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def _find_run(ctx: _Context, config, prefer: Path | None = None):
    """(run, summary) of a finished run with this config in ``OUT/runs`` or in a sweep's
    ``OUT/sweeps/NAME/runs``, or None.
    ``prefer`` is tried first; an unreadable config there is an error, elsewhere it only
    means the run is not this one."""
    from gridform.training.runs import RunDir, read_run_config

    others = sorted(p for p in [*(ctx.out / "runs").glob("*"),
                                *(ctx.out / "sweeps").glob("*/runs/*")] if RunDir(p).has_run())
    first = [] if prefer is None else [prefer]
    for candidate in first + [p for p in others if p != prefer]:
        run = RunDir(candidate)
        finished = run.has_run() and run.model_path.exists() and run.summary_path.exists()
        try:
            same = finished and read_run_config(candidate) == config
        except (ValueError, KeyError) as err:  # another run's unreadable config: not ours
            if candidate == prefer:
                raise
            log.info("not reusing %s: %s", candidate, err)
            continue
        if same:
            log.info("reusing %s", candidate)
            return candidate, _current_summary(candidate)
    return None


def _current_summary(run: Path):
    """The run's :class:`Summary`; when an older scorer wrote it (its ``scorer_version``
    is not today's), the saved ratemaps are rescored (in memory; the file is kept) and
    only the decoding errors and the step count are taken from it."""
    from gridform.analysis.scores import SCORER_VERSION
    from gridform.core.ratemaps import load_ratemaps
    from gridform.training.evaluate import summarise
    from gridform.training.runs import RunDir
    from gridform.training.task import build_task

    rd = RunDir(run)
    summary = rd.read_summary()
    if summary.scorer_version == SCORER_VERSION or not rd.ratemaps_path.exists():
        return summary
    log.info("rescoring %s: its summary is from scorer version %s", run,
             summary.scorer_version or "1 or older")
    floor = summary.decoder_floor_cm
    fresh = summarise(build_task(rd.read_config()), load_ratemaps(rd.ratemaps_path),
                      summary.error_cm / 100, None if floor is None else floor / 100)
    return fresh.summary.replace(steps=summary.steps)


def _train_or_reuse(ctx: _Context, name: str, preset: str, **fields):
    """A finished run of the preset with ``fields``: ``OUT/runs/NAME``, or any other run
    in ``OUT/runs`` with the same config (the ``rnn`` target's network is the first ReLU/DoS
    network of ``conditions`` in quick mode); trained into ``OUT/runs/NAME`` if none."""
    from gridform.training.config import load_config
    from gridform.training.evaluate import evaluate_run
    from gridform.training.loop import train

    config = load_config(preset, **fields)
    run = ctx.out / "runs" / name
    found = _find_run(ctx, config, prefer=run)
    if found is not None:
        return found
    print(f"      training {name}: {config.n_hidden} units, {config.activation}, "
          f"{config.place_cell_kind} targets, {config.steps} steps", flush=True)
    train(config, run, force=True, progress=ctx.progress)
    return run, evaluate_run(run).summary


def _rnn_run(ctx: _Context) -> tuple:
    """The network of the ``rnn`` and ``mechanism`` targets (given, reused or trained)."""
    if "rnn_run" in ctx.details:
        return ctx.details["rnn_run"]
    if ctx.run_dir is not None:
        from gridform.training.evaluate import evaluate_run
        from gridform.training.runs import RunDir

        run = ctx.run_dir
        if RunDir(run).ratemaps_path.exists() and RunDir(run).summary_path.exists():
            summary = _current_summary(run)
        else:
            summary = evaluate_run(run).summary
        result = (run, summary)
    else:
        result = _train_or_reuse(ctx, "rnn", "demo" if ctx.quick else "paper")
    ctx.details["rnn_run"] = result
    return result


def _rnn_maps(ctx: _Context):
    """(run, summary, ratemaps, scores, active units) of the ``rnn`` network, cached."""
    if "rnn_maps" not in ctx.details:
        from gridform.core.ratemaps import load_ratemaps
        from gridform.training.evaluate import active_units
        from gridform.training.runs import RunDir

        run, summary = _rnn_run(ctx)
        maps = load_ratemaps(RunDir(run).ratemaps_path)
        ctx.details["rnn_maps"] = (run, summary, maps, _scores(maps), active_units(maps))
    return ctx.details["rnn_maps"]


def _rnn_trained(ctx: _Context):
    """The ``rnn`` network read back once (config, task, weights): a
    :class:`~gridform.training.trained.TrainedRun`, cached."""
    if "rnn_trained" not in ctx.details:
        from gridform.training.trained import TrainedRun

        run, _ = _rnn_run(ctx)
        ctx.details["rnn_trained"] = TrainedRun.load(run)
    return ctx.details["rnn_trained"]


def _untrained(ctx: _Context):
    """The ``rnn`` network's architecture and task at its initial weights, evaluated:
    the negative control of the trained network's claims (cached)."""
    if "untrained" not in ctx.details:
        from gridform.training.evaluate import evaluate_params

        task = _rnn_trained(ctx).task
        params, _ = task.init()
        ctx.details["untrained"] = evaluate_params(task, params,
                                                   n_batches=20 if ctx.quick else 100)
    return ctx.details["untrained"]


PAPER = "Sorscher et al. 2019"


TORUS_M = 3.3  # the box of every pattern claim: a 3.3 m torus


TOLERANCE = 0.10  # a spacing or wavenumber "matches" within 10%


ALPHA = 0.05  # one-sided Welch test of every comparison of trained networks


PATH_INTEGRATES_CM = 15.0  # an arm with a larger decoding error does not do the task


def _hexagonal(scores, bar: float = 0.8) -> np.ndarray:
    return np.nan_to_num(scores.score_60, nan=-9) > bar


def _spaced_hexagonal(scores, bar: float = 0.8) -> np.ndarray:
    """Maps above ``bar`` on score_60 whose lattice spacing was measured: the maps every
    spacing claim takes its median over."""
    return _hexagonal(scores, bar) & np.isfinite(scores.spacing_m)


def _shells(n: int, width: float) -> np.ndarray:
    """The distinct wavenumbers |k| (rad/m) of an n x n grid on a width x width torus."""
    f = 2 * np.pi * np.fft.fftfreq(n, d=width / n)
    return np.unique(np.round(np.hypot(*np.meshgrid(f, f)), 9))


def _shell_resolution(k: float, n: int, width: float) -> float:
    """Half the widest gap between the torus's Fourier shells that cover [0.9 k, 1.1 k],
    relative to ``k``: how far a measured wavenumber can sit from the true one because
    the torus allows only these shells."""
    shells = _shells(n, width)
    below, above = shells[shells <= 0.9 * k], shells[shells >= 1.1 * k]
    if below.size == 0 or above.size == 0:
        return 1.0
    cover = shells[(shells >= below.max()) & (shells <= above.min())]
    return float(0.5 * np.diff(cover).max() / k)
