"""Evaluation of a trained network: decoding error, ratemaps, grid scores vs theory.

Grid cells only count together with a low decoding error and diverse units: a network
stuck at chance can collapse all its units onto one shared map that scores well
(docs/theory.md section 6), so the summary always carries ``error_cm`` and
``mean_pairwise_corr`` beside the score fractions.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gridform.analysis.scores import SCORER_VERSION, GridScores, score_ratemaps
from gridform.analysis.topology import orientation_spread
from gridform.core import compile_cache
from gridform.core.place_cells import PlaceCells
from gridform.core.ratemaps import RatemapAccumulator, Ratemaps
from gridform.theory.spectrum import (
    SpacingCorrection,
    TheoryPrediction,
    grid_spacing,
    predict,
    step_length_m,
)
from gridform.training.runs import CodeSpectrum, RunDir, Summary

log = logging.getLogger(__name__)

__all__ = [
    "Evaluation",
    "active_units",
    "code_ring",
    "code_spectrum",
    "corrected_spacing_fields",
    "evaluate_params",
    "evaluate_run",
    "hidden_activity",
    "largest_rate_matched_subset",
    "matched_ablation",
    "mean_pairwise_correlation",
    "rate_matched_units",
    "summarise",
    "with_population_structure",
]


@dataclass(frozen=True, eq=False)
class Evaluation:
    ratemaps: Ratemaps
    scores: GridScores | None  # None when no unit is active
    active: np.ndarray  # (cell,) bool
    summary: Summary
    spectrum: CodeSpectrum | None = None  # the place code's, where the evaluation made it

    def write(self, directory: Path, **extra: Any) -> None:
        """The ratemaps, scores, code spectrum and summary (plus ``extra`` keys) into
        ``directory`` laid out as a run (:class:`RunDir`), each atomically, the summary
        last. Scores an earlier evaluation left there are removed when there are none
        now (no active unit), so a reader never finds another network's scores."""
        run = RunDir(directory)
        run.path.mkdir(parents=True, exist_ok=True)
        self.ratemaps.save(run.ratemaps_path)
        if self.scores is not None:
            self.scores.to_csv(run.scores_path)
        elif run.scores_path.exists():
            run.scores_path.unlink()
        if self.spectrum is not None:
            self.spectrum.save(run.spectrum_path)
        run.write_summary(self.summary, **extra)


def active_units(maps: Ratemaps, rel_tol: float = 1e-6) -> np.ndarray:
    """Units whose ratemap varies over space (dead or constant units are inactive)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanmax(maps.rates, axis=(1, 2)) - np.nanmin(maps.rates, axis=(1, 2))
    scale = np.nanmax(np.abs(maps.rates)) if np.isfinite(maps.rates).any() else 0.0
    return np.nan_to_num(spread) > rel_tol * max(scale, 1e-30)


def mean_pairwise_correlation(maps: Ratemaps) -> float:
    """Mean Pearson correlation over all pairs of maps (bins valid in every map)."""
    flat = maps.rates.reshape(maps.n_cells, -1)
    ok = np.all(np.isfinite(flat), axis=0)
    if maps.n_cells < 2 or ok.sum() < 3:
        return float("nan")
    c = np.corrcoef(flat[:, ok])
    iu = np.triu_indices(maps.n_cells, 1)
    return float(np.nanmean(c[iu]))


def evaluate_params(task, params, n_batches: int = 100, bins: int = 20,
                    key: jax.Array | None = None, spectrum: CodeSpectrum | None = None
                    ) -> Evaluation:
    """Ratemaps of every hidden unit over ``n_batches`` fresh batches, scored
    (``spectrum``: the code's, when the caller has it; see :func:`summarise`)."""
    c = task.config
    key = task.eval_key if key is None else key

    # params, centres and widths are arguments, not constants: one compiled program
    # serves every network of this shape (and the persistent compilation cache finds it)
    @jax.jit
    def run(params, k, centers, tuning):
        v, p0, targets, positions = task.batch(k, centers=centers, tuning=tuning)
        hs, logits = task.apply(params, v, p0)
        return (hs, positions, jnp.mean(task.decoding_errors(logits, positions, centers)),
                jnp.mean(task.decoding_errors(targets, positions, centers)))

    acc = RatemapAccumulator(task.box, c.n_hidden, bins)
    errs, floors = [], []
    for b in range(n_batches):
        hs, pos, err, floor = run(params, jax.random.fold_in(key, b), task.centers,
                                  task.tuning)
        acc.add(np.asarray(pos), np.asarray(hs, dtype=np.float32))
        errs.append(float(err))
        floors.append(float(floor))
    return summarise(task, acc.result(), float(np.mean(errs)), float(np.mean(floors)),
                     spectrum)


def error_without_velocity(task, params, n_batches: int = 20,
                           key: jax.Array | None = None) -> float:
    """:func:`decoding_error` on the same batches with the network's velocity input set to
    zero: it is told where each path starts and nothing about the path. Its readout can
    then only hold the start, so this is the error of a network that does not integrate
    velocity (about 20 cm on the demo task's 20-step paths, against a few cm for one that
    does)."""
    return decoding_error(task, params, n_batches, key, zero_velocity=True)


def code_spectrum(task, prediction: TheoryPrediction | None = None, bins: int = 44
                  ) -> CodeSpectrum:
    """The covariance spectrum of the task's place code and the ring the theory reads
    from it: the analytic ``k*`` (:func:`gridform.theory.spectrum.predict`) for simulated
    place cells, the code's own peak for recorded ones (NaN without a ring).

    ``prediction``: the analytic prediction for this code, when the caller has made it
    (it must be of the config's kind, sigma and surround scale); ``bins`` per axis of the
    grid the simulated code is sampled on."""
    pc = task.place_cells
    if not isinstance(pc, PlaceCells):
        k, power, k_star = _recorded_spectrum(task)
        return CodeSpectrum(k, power, k_star, recorded=True)
    from gridform.theory.spectrum import spatial_covariance

    if prediction is None:
        prediction = predict(pc.kind, pc.sigma, pc.surround_scale)
    code = (pc.kind, float(pc.sigma), float(pc.surround_scale))
    given = (prediction.kind, prediction.sigma, prediction.surround_scale)
    if given != code:
        raise ValueError(f"prediction is for the code {given}, but the task's is {code} "
                         "(kind, sigma, surround_scale)")
    k, power = spatial_covariance(pc, bins).radial_spectrum()
    return CodeSpectrum(k, power, prediction.k_star, recorded=False)


def _recorded_spectrum(task) -> tuple[np.ndarray, np.ndarray, float]:
    """(k, radial power, k* or NaN) of a recorded code, from its own covariance."""
    from gridform.data.assumptions import covariance_spectrum

    spec = covariance_spectrum(task.place_cells.maps, task.box.periodic)
    return spec["k"], spec["power"], float("nan") if spec["k_star"] is None else spec["k_star"]


def code_ring(task) -> float:
    """The ring ``k*`` (rad/m) of the task's place code, NaN where it has none: the
    theory's analytic ring for simulated place cells, the peak of the covariance spectrum
    for recorded ones."""
    pc = task.place_cells
    if isinstance(pc, PlaceCells):
        return predict(pc.kind, pc.sigma, pc.surround_scale).k_star
    return _recorded_spectrum(task)[2]


def summarise(task, maps: Ratemaps, error_m: float,
              decoder_floor_m: float | None = None, spectrum: CodeSpectrum | None = None
              ) -> Evaluation:
    """Score the units' ratemaps and summarise them beside the decoding error (m).

    The predicted spacing is ``4 pi / (sqrt(3) k*)`` of the code's ring ``k*``, read from
    ``spectrum`` (:func:`code_spectrum`) when given and kept with the evaluation, else
    computed here: analytically for simulated place cells, from their covariance for
    recorded ones.

    ``decoder_floor_m``, when given, is the error of the same decoder (mean centre of the
    three most active place cells) applied to the true place code at the same positions:
    the part of ``error_cm`` that the readout of positions costs, however well the network
    predicts the code. It depends on the place-cell layout (about 4 cm for 512 random
    centres in the 2.2 m box, 2 cm on a lattice)."""
    active = active_units(maps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = score_ratemaps(maps) if active.any() else None
    k_star = spectrum.k_star if spectrum is not None else code_ring(task)
    predicted = grid_spacing(k_star) if math.isfinite(k_star) else None
    fields: dict[str, Any] = {}
    if scores is not None:
        sub = {k: getattr(scores, k)[active] for k in ("score_60", "score_60_minmax",
                                                        "spacing_m")}
        for t in ("0_3", "0_8"):
            for variant, key in (("", "score_60"), ("_minmax", "score_60_minmax")):
                above = np.nan_to_num(sub[key], nan=-9) > float(t.replace("_", "."))
                fields[f"frac_above_{t}{variant}"] = float(np.mean(above))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fields["median_score_60"] = float(np.nanmedian(sub["score_60"]))
            grid = sub["spacing_m"][np.nan_to_num(sub["score_60"], nan=-9) > 0.8]
            fields["median_spacing_m"] = float(np.nanmedian(grid)) if grid.size else \
                float("nan")
        fields["orientation_spread_deg"] = orientation_spread(scores, active)[0]
    summary = Summary(
        scorer_version=SCORER_VERSION,
        error_cm=100 * error_m,
        decoder_floor_cm=None if decoder_floor_m is None else 100 * decoder_floor_m,
        n_units=task.config.n_hidden,
        n_active=int(active.sum()),
        predicted_spacing_m=predicted,
        k_star=k_star,
        mean_pairwise_corr=mean_pairwise_correlation(maps.select(active))
        if active.sum() > 1 else float("nan"),
        **fields)
    return Evaluation(maps, scores, active, summary, spectrum)


def evaluate_run(run_dir: str | Path, n_batches: int | None = None, bins: int = 20,
                 write: bool = True, modules: bool = True,
                 correction: SpacingCorrection | None = None, task=None,
                 spectrum: CodeSpectrum | None = None) -> Evaluation:
    """Evaluate a run directory; with ``write``, save ratemaps, scores, the code's
    spectrum (:func:`code_spectrum`) and the summary.

    With ``modules`` (and the ``topology`` extra installed) the summary also says how many
    modules the grid units form and whether they form one on a torus
    (:func:`with_population_structure`). With ``correction``, the terms of the corrected
    spacing law (docs/spacing.md), it also holds that law's spacing for the run's code and
    step length, ``corrected_spacing_m``.

    ``task`` and ``spectrum``: the run's task and its code's spectrum, when the caller has
    already built them from this run's config (a task of another config raises
    ValueError); by default both are made here."""
    from gridform.training.task import build_task

    run = RunDir(run_dir)
    if not run.path.is_dir():
        raise FileNotFoundError(f"run directory not found: {run.path}")
    compile_cache.enable()
    config = run.read_config()
    # before the evaluation: a law that does not apply to this run fails at once
    corrected = {} if correction is None else corrected_spacing_fields(config, correction)
    params = run.load_params()
    if task is None:
        task = build_task(config)
    elif task.config.resolved() != config.resolved():
        raise ValueError(f"task was built from another config than the run's in {run.path}")
    spectrum = code_spectrum(task) if spectrum is None else spectrum
    steps = run.checkpoint_step()
    ev = evaluate_params(task, params, n_batches or config.eval_batches, bins,
                         spectrum=spectrum)
    ev = dataclasses.replace(ev, summary=ev.summary.replace(
        steps=config.steps if steps is None else steps))
    if modules:
        ev = with_population_structure(ev)
    if corrected:
        ev = dataclasses.replace(ev, summary=ev.summary.replace(**corrected))
    if write:
        ev.write(run.path)
    return ev


def corrected_spacing_fields(config, correction: SpacingCorrection) -> dict[str, Any]:
    """``corrected_spacing_m`` and the ``spacing_correction`` it used, for a run of
    ``config``: the law's spacing for its code at its step length
    (:func:`gridform.theory.spectrum.step_length_m` of its speed scale and time step)."""
    if config.place_cell_file is not None:
        raise ValueError("the corrected spacing law is stated for simulated place-cell codes; "
                         "this run was trained on recorded targets")
    step = step_length_m(config.speed_scale, config.dt)
    pred = predict(config.place_cell_kind, config.sigma, config.surround_scale,
                   correction=correction, step_m=step)
    return {"corrected_spacing_m": pred.corrected_spacing_m,
            "spacing_correction": {"step_cost": correction.weight,
                                   "offset": correction.offset,
                                   "exponent": correction.exponent, "step_m": step}}


def with_population_structure(ev: Evaluation, seed: int = 0) -> Evaluation:
    """``ev`` with ``n_modules`` and ``torus`` in its summary, from its active units'
    ratemaps (:func:`gridform.analysis.topology.population_structure`); unchanged, with a
    logged note, when the ``topology`` extra is not installed."""
    from gridform.analysis.topology import population_structure
    from gridform.core.errors import MissingExtraError

    if ev.scores is None:  # no active unit: no grid unit, no module
        return dataclasses.replace(ev, summary=ev.summary.replace(n_modules=0, torus=False))
    try:
        ps = population_structure(ev.ratemaps, ev.scores, units=ev.active, seed=seed)
    except MissingExtraError as err:
        log.info("modules not computed: %s", err)
        return ev
    return dataclasses.replace(ev, summary=ev.summary.replace(n_modules=ps.n_modules,
                                                              torus=ps.torus))


def hidden_activity(task, params, n_batches: int = 10, key: jax.Array | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hidden activity along ``n_batches`` fresh batches of simulated trajectories.

    Returns ``(activity (sample, unit), positions (sample, 2) m, speeds (sample,) m/s)``,
    the samples of each trajectory consecutive (batch-major, then time). The key defaults
    to one derived from the evaluation key, so these trajectories are not the ones the
    ratemaps were averaged over.
    """
    c = task.config
    key = jax.random.fold_in(task.eval_key, 7919) if key is None else key
    per_step = c.dt if c.velocity_units == "m_per_step" else 1.0

    @jax.jit
    def run(params, k, centers, tuning):
        v, p0, _, positions = task.batch(k, centers=centers, tuning=tuning)
        hs, _ = task.apply(params, v, p0)
        return hs, positions, jnp.linalg.norm(v, axis=-1) / per_step

    acts, poss, speeds = [], [], []
    for b in range(n_batches):
        hs, pos, sp = run(params, jax.random.fold_in(key, b), task.centers, task.tuning)
        acts.append(np.asarray(hs, np.float32).reshape(-1, c.n_hidden))
        poss.append(np.asarray(pos, np.float64).reshape(-1, 2))
        speeds.append(np.asarray(sp, np.float64).reshape(-1))
    return np.concatenate(acts), np.concatenate(poss), np.concatenate(speeds)


def decoding_error(task, params, n_batches: int = 20, key: jax.Array | None = None,
                   zero_velocity: bool = False) -> float:
    """Mean decoding error (m) over ``n_batches`` evaluation batches; with
    ``zero_velocity`` the network gets each batch with its velocities set to zero."""
    key = task.eval_key if key is None else key

    def batch(k, centers, tuning):
        v, *rest = task.batch(k, centers=centers, tuning=tuning)
        return (jnp.zeros_like(v) if zero_velocity else v, *rest)

    run = jax.jit(lambda p, k, centers, tuning: task.loss(p, batch(k, centers, tuning),
                                                          centers)[1])
    return float(np.mean([float(run(params, jax.random.fold_in(key, b), task.centers,
                                    task.tuning)) for b in range(n_batches)]))


def ablation(task, params, scores: np.ndarray, active: np.ndarray, n_units: int,
             n_batches: int = 20) -> dict[str, Any]:
    """Decoding error after silencing the ``n_units`` most grid-like active units, and
    after silencing the ``n_units`` least grid-like ones (same batches).

    ``scores`` (n_hidden,) grid scores (NaN counts as lowest), ``active`` (n_hidden,) bool.
    Returns the errors in cm, the units silenced and the two increases.
    """
    from gridform.analysis.mechanism import silence_units

    scores = np.nan_to_num(np.asarray(scores, float), nan=-np.inf)
    idx = np.flatnonzero(active)
    if n_units < 1 or 2 * n_units > idx.size:
        raise ValueError(f"n_units must lie in [1, {idx.size // 2}] (half the {idx.size} "
                         f"active units), got {n_units}")
    order = idx[np.argsort(-scores[idx], kind="stable")]
    top, bottom = order[:n_units], order[::-1][:n_units]
    base = decoding_error(task, params, n_batches)
    e_top = decoding_error(task, silence_units(params, top), n_batches)
    e_bottom = decoding_error(task, silence_units(params, bottom), n_batches)
    return {"error_cm": 100 * base, "error_cm_without_grid": 100 * e_top,
            "error_cm_without_low_score": 100 * e_bottom,
            "increase_grid_cm": 100 * (e_top - base),
            "increase_low_score_cm": 100 * (e_bottom - base),
            "grid_units": top.tolist(), "low_score_units": bottom.tolist()}


def _feasible(mean_rate: np.ndarray, targets: np.ndarray, candidates: np.ndarray,
              rtol: float) -> np.ndarray:
    r = np.asarray(mean_rate, float)
    return np.abs(r[candidates][None, :] - r[targets][:, None]) <= rtol * np.abs(
        r[targets])[:, None]


def rate_matched_units(mean_rate: np.ndarray, targets, candidates, rng: np.random.Generator,
                       rtol: float = 0.1) -> np.ndarray:
    """For each target unit, a different candidate whose mean rate is within ``rtol`` of
    the target's: a random one-to-one matching (an assignment with random costs over
    the pairs that match), in the order of ``targets``.

    Raises ValueError when no such matching covers every target.
    """
    from scipy.optimize import linear_sum_assignment

    targets, candidates = np.asarray(targets, int), np.asarray(candidates, int)
    ok = _feasible(mean_rate, targets, candidates, rtol)
    cost = np.where(ok, rng.random(ok.shape), 1e6)
    rows, cols = linear_sum_assignment(cost)
    if rows.size < targets.size or not ok[rows, cols].all():
        bad = targets[rows[~ok[rows, cols]]] if rows.size else targets
        raise ValueError(f"no one-to-one matching of the units within {rtol:.0%} of their "
                         f"mean rate: unit(s) {bad.tolist()} are left without a partner")
    out = np.empty(targets.size, int)
    out[rows] = candidates[cols]
    return out


def largest_rate_matched_subset(mean_rate: np.ndarray, targets, candidates,
                                rtol: float = 0.1) -> np.ndarray:
    """The largest subset of ``targets`` that a one-to-one matching within ``rtol`` of
    mean rate can cover (a maximum bipartite matching)."""
    from scipy.optimize import linear_sum_assignment

    targets, candidates = np.asarray(targets, int), np.asarray(candidates, int)
    ok = _feasible(mean_rate, targets, candidates, rtol)
    rows, cols = linear_sum_assignment(np.where(ok, 0.0, 1.0))
    return np.sort(targets[rows[ok[rows, cols]]]) if rows.size else targets[:0]


def matched_ablation(task, params, scores: np.ndarray, active: np.ndarray,
                     mean_rate: np.ndarray, n_units: int, n_draws: int = 10,
                     n_batches: int = 10, seed: int = 0, low_score: float = 0.3
                     ) -> dict[str, Any]:
    """Silencing the ``n_units`` most grid-like units against silencing as many low-score
    units matched to them on mean rate, over ``n_draws`` random matched sets.

    Low-score units are the active units scoring below ``low_score``. Grid units that no
    one-to-one matching within 10% of mean rate can cover (the most active ones,
    typically) are left out of both sides, so every comparison is between rate-matched
    pairs; their number is ``n_units``, of the ``n_requested``. Returns the
    increases of the decoding error in cm: ``increase_grid_cm``, ``increase_matched_cm``
    (one per draw) with its 2.5-97.5 percentile interval, and ``increase_control_cm``, one
    more matched set silenced in place of the grid units (a control that should not exceed
    the interval).
    """
    from gridform.analysis.mechanism import silence_units

    rng = np.random.default_rng(seed)
    s = np.nan_to_num(np.asarray(scores, float), nan=-np.inf)
    idx = np.flatnonzero(active)
    top = idx[np.argsort(-s[idx], kind="stable")][:n_units]
    low = idx[s[idx] < low_score]
    top = largest_rate_matched_subset(mean_rate, top, low)
    if top.size < max(1, n_units // 2):
        raise ValueError(f"only {top.size} of the {n_units} grid units can be matched one to "
                         "one with low-score units within 10% of their mean rate")
    base = decoding_error(task, params, n_batches)
    grid = decoding_error(task, silence_units(params, top), n_batches) - base
    increases = []
    for _ in range(n_draws + 1):
        units = rate_matched_units(mean_rate, top, low, rng)
        increases.append(decoding_error(task, silence_units(params, units), n_batches) - base)
    control, matched = 100 * increases[-1], 100 * np.asarray(increases[:-1])
    return {"error_cm": 100 * base, "increase_grid_cm": 100 * grid,
            "increase_matched_cm": matched.tolist(),
            "matched_interval_cm": [float(np.percentile(matched, 2.5)),
                                    float(np.percentile(matched, 97.5))],
            "increase_control_cm": float(control), "n_units": int(top.size),
            "n_requested": int(n_units),
            "grid_units": top.tolist()}
