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
    targets: tuple[str, ...] = ()  # the targets of this call, to train ahead for them
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


# Quick mode trains every network of the trained-network claims (``rnn``, ``mechanism``,
# ``topology``, the controls and the seeds of ``conditions``) for half the demo preset's
# steps: nine networks of 6000 steps are 20 minutes of training on two cores, the whole
# budget of `reproduce all --quick`. A run that short would end inside the preset's phase
# of strong early weight decay, before it path-integrates (19.7 cm at 3000 steps), so quick
# mode turns that phase off, as docs/training.md prescribes for short runs: a ReLU DoS
# network then decodes to 5.5 cm at 3000 steps with 48% / 20% of its units above 0.3 / 0.8.
QUICK_STEPS = 3000
QUICK_BASE = {"steps": QUICK_STEPS, "weight_decay_start": 0.0}

# The arms every mode trains: the network under test and the two variants the paper says
# lose its grid cells (a nonlinearity that is not nonnegative; a code without a ring).
ARMS: dict[str, dict[str, Any]] = {"ReLU, DoS": {}, "tanh, DoS": {"activation": "tanh"},
                                   "ReLU, Gaussian": {"place_cell_kind": "gaussian"}}
# the arms that control the rnn network, and the names their runs take in OUT/runs
CONTROL_RUNS = {"tanh, DoS": "rnn-tanh", "ReLU, Gaussian": "rnn-gaussian"}


def network_recipe(ctx: _Context) -> tuple[str, dict[str, Any]]:
    """(preset, fields) of every trained network of a mode: the demo preset cut to
    :data:`QUICK_BASE` in quick mode, the paper preset for 20,000 steps without it."""
    return ("demo", dict(QUICK_BASE)) if ctx.quick else ("paper", {"steps": 20_000})


def arm_seeds(ctx: _Context) -> list[int]:
    """The seeds of every arm: 3 in quick mode, 5 in full, from ``ctx.seed`` on."""
    return [ctx.seed + i for i in range(3 if ctx.quick else 5)]


def _train_or_reuse(ctx: _Context, name: str, preset: str, **fields):
    """A finished run of the preset with ``fields``: ``OUT/runs/NAME``, or any other run
    in ``OUT/runs`` or ``OUT/sweeps`` with the same config; trained into ``OUT/runs/NAME``
    (on every core of this process) if none."""
    from gridform.training.config import load_config

    return _train_config(ctx, name, load_config(preset, **fields))


def _train_config(ctx: _Context, name: str, config):
    """:func:`_train_or_reuse` for a config (:class:`~gridform.training.config.TrainConfig`)."""
    from gridform.training.evaluate import evaluate_run
    from gridform.training.loop import train

    run = ctx.out / "runs" / name
    found = _find_run(ctx, config, prefer=run)
    if found is not None:
        return found
    print(f"      training {name}: {config.n_hidden} units, {config.activation}, "
          f"{config.place_cell_kind} targets, {config.steps} steps", flush=True)
    train(config, run, force=True, progress=ctx.progress)
    return run, evaluate_run(run).summary


def _train_arms(ctx: _Context, preset: str, seeds, arms: dict[str, dict], **base
                ) -> dict[str, list[tuple]]:
    """(run, summary) of each seed of each arm (name -> config fields): finished runs with
    the same config are reused (in ``OUT/runs`` or a sweep of ``OUT/sweeps``); all the
    others go through the sweep engine (Dask) together, as one sweep ``OUT/sweeps/
    conditions``: on a CPU as separate runs filling the cores, on a GPU as vmapped
    populations. A run that failed is left out."""
    from gridform.experiments.sweep.engine import run_sweep
    from gridform.experiments.sweep.spec import parse_sweep
    from gridform.training.config import load_config

    def find_all():
        return {name: [_find_run(ctx, load_config(preset, seed=s, **base, **f))
                       for s in seeds] for name, f in arms.items()}

    found = find_all()
    missing = [(name, s) for name, runs in found.items()
               for s, run in zip(seeds, runs, strict=True) if run is None]
    if missing:
        c = load_config(preset, **base)
        print(f"      training {len(missing)} networks through the sweep engine "
              f"({'; '.join(f'{n} seed {s}' for n, s in missing)}): {c.n_hidden} units, "
              f"{c.steps} steps", flush=True)
        spec = parse_sweep({"base": {"preset": preset, "set": dict(base)},
                            "points": [arms[n] | {"seed": s} for n, s in missing]},
                           name="conditions")
        run_sweep(spec, ctx.out / "sweeps" / "conditions")
        found = find_all()  # the sweep's finished runs are found like any others
    return {name: [r for r in runs if r is not None] for name, runs in found.items()}


def _rnn_run(ctx: _Context) -> tuple:
    """The network of the ``rnn``, ``mechanism`` and ``topology`` targets: the run given
    by ``--run``, or the first seed of the ReLU/DoS arm of ``conditions`` (reused or
    trained)."""
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
        preset, base = network_recipe(ctx)
        result = _train_or_reuse(ctx, "rnn", preset, seed=ctx.seed, **base)
    ctx.details["rnn_run"] = result
    return result


def _control_runs(ctx: _Context) -> dict[str, tuple]:
    """(run, summary) of the ``rnn`` network's two trained controls, the arms of
    :data:`ARMS` other than its own: the same config with a tanh nonlinearity, and with
    Gaussian place cells (reused, e.g. from ``conditions``, or trained into
    ``OUT/runs/rnn-tanh`` and ``OUT/runs/rnn-gaussian``). With ``--run`` they are that
    run's config with the one field changed."""
    if "control_runs" not in ctx.details:
        from gridform.training.config import TrainConfig, load_config
        from gridform.training.runs import read_run_config

        run, _ = _rnn_run(ctx)
        preset, base = network_recipe(ctx)
        out = {}
        if ctx.run_dir is None and "conditions" in ctx.targets:
            # every seed of every arm in one sweep: on a CPU the cores stay full; the
            # controls are then found below by their config (a failed run is not)
            _train_arms(ctx, preset, arm_seeds(ctx), ARMS, **base)
        for arm, name in CONTROL_RUNS.items():
            fields = ARMS[arm]
            if ctx.run_dir is None:
                config = load_config(preset, seed=ctx.seed, **base, **fields)
            else:
                config = TrainConfig(**(read_run_config(run).model_dump() | fields))
            out[arm] = _train_config(ctx, name, config)
        ctx.details["control_runs"] = out
    return ctx.details["control_runs"]


def _rnn_maps(ctx: _Context):
    """(run, summary, ratemaps, scores, active units) of the ``rnn`` network, cached."""
    if "rnn_maps" not in ctx.details:
        ctx.details["rnn_maps"] = _run_maps(*_rnn_run(ctx))
    return ctx.details["rnn_maps"]


def _run_maps(run: Path, summary):
    """(run, summary, ratemaps, scores, active units) of a finished, evaluated run: the
    scores its evaluation saved, or the maps rescored where an older scorer wrote them."""
    from gridform.analysis.scores import SCORER_VERSION, GridScores
    from gridform.core.ratemaps import load_ratemaps
    from gridform.training.evaluate import active_units
    from gridform.training.runs import RunDir

    rd = RunDir(run)
    maps = load_ratemaps(rd.ratemaps_path)
    current = (rd.scores_path.exists() and rd.summary_path.exists()
               and rd.read_summary().scorer_version == SCORER_VERSION)  # the file's own
    scores = GridScores.load(rd.scores_path) if current else _scores(maps)
    return run, summary, maps, scores, active_units(maps)


def null_fraction(maps, scores, active, seed: int) -> tuple[float, Any]:
    """(fraction, null) of the ``active`` units whose score_60 lies above the 95th
    percentile of a null of noise with those units' own power spectrum
    (:func:`~gridform.analysis.scores.spectral_null`, 300 maps): the null puts about 5%
    above it. (NaN, None) with fewer than 2 active units."""
    from gridform.analysis.scores import spectral_null

    units = np.flatnonzero(active)
    if units.size < 2:
        return float("nan"), None
    null = spectral_null(maps.select(units), 300, seed)
    if not math.isfinite(null.threshold(95)):  # no null map could be scored
        return float("nan"), None
    return scores.fraction_above(null.threshold(95), units=units), null


def _rnn_trained(ctx: _Context):
    """The ``rnn`` network read back once (config, task, weights): a
    :class:`~gridform.training.trained.TrainedRun`, cached."""
    if "rnn_trained" not in ctx.details:
        from gridform.training.trained import TrainedRun

        run, _ = _rnn_run(ctx)
        ctx.details["rnn_trained"] = TrainedRun.load(run)
    return ctx.details["rnn_trained"]


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
