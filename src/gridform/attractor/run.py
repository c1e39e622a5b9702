"""An attractor experiment: settle the sheet, calibrate its drift, path-integrate a path,
and score the recorded neurons as any ratemaps are scored.

A directory written by :func:`run_attractor` (``gridform attractor --out DIR``) holds
:data:`ATTRACTOR_FILES`: the standard ``ratemaps.npz`` and ``scores.csv`` of the recorded
neurons, their activity along the path (``activity.npz``, what ``gridform topology DIR``
reads), the decoded path (``path_integration.csv``), the sheet's states (``sheet.npz``)
and ``summary.json``, written last.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gridform.attractor.sheet import SheetParams
from gridform.core.environment import Box
from gridform.core.io import RATEMAPS_FILE, SCORES_FILE, SUMMARY_FILE, atomic_path, write_json
from gridform.core.reference import (
    CAN_DT_S,
    CAN_GAMMA_RATIO,
    CAN_PERIOD_NEURONS,
    CAN_SHEET,
    CAN_SHIFT,
    CAN_TAU_S,
    CAN_VELOCITY_GAIN,
)

__all__ = ["ATTRACTOR_FILES", "AttractorConfig", "AttractorPath", "AttractorResult",
           "SavedAttractor", "is_attractor_dir", "read_activity", "read_attractor",
           "run_attractor", "simulate_attractor", "simulated_path"]

log = logging.getLogger(__name__)

ATTRACTOR_FILES = {"ratemaps": RATEMAPS_FILE, "scores": SCORES_FILE,
                   "activity": "activity.npz", "path": "path_integration.csv",
                   "sheet": "sheet.npz", "summary": SUMMARY_FILE}
# what marks a directory as an attractor run: its summary says so
KIND = "attractor"


@dataclass(frozen=True)
class AttractorConfig:
    """One attractor experiment (SI units; sheet lengths in neurons).

    The sheet's parameters are Burak & Fiete's (2009) but three
    (:class:`~gridform.attractor.sheet.SheetParams`, ``gridform.core.reference``). The
    simulated path is gridform's random walk slowed to a rat's foraging speed.
    """

    sheet: int = CAN_SHEET                        # neurons per side, n
    period_neurons: float = CAN_PERIOD_NEURONS    # lambda_net, neurons
    gamma_ratio: float = CAN_GAMMA_RATIO          # gamma / beta
    shift: float = CAN_SHIFT                      # l, neurons
    velocity_gain: float = CAN_VELOCITY_GAIN      # alpha, s/m
    duration: float = 300.0          # s of path (a given path is cut to it)
    speed: float = 0.25              # m/s, mean running speed of the simulated path
    width: float = 2.2               # m, side of the walled box of the simulated path
    record: int = 128                # neurons recorded, chosen at random
    bins: int = 20                   # ratemap bins per side
    seed: int = 0
    settle: float = 1.0              # s at zero velocity for the pattern to form
    anneal: float = 10.0             # s at most of straight running that removes defects
    sample_dt: float = 0.02          # s between path samples (a multiple of the sheet's dt)
    tau: float = CAN_TAU_S                        # s
    dt: float = CAN_DT_S                          # s, Euler step of the sheet

    def __post_init__(self) -> None:
        for name in ("duration", "speed", "width", "settle", "anneal", "sample_dt"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        for name, low in (("record", 1), ("bins", 8)):
            v = getattr(self, name)
            if not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        _ = self.params  # validates the sheet's own fields
        if self.record > self.sheet**2:
            raise ValueError(f"record = {self.record} is more than the sheet's "
                             f"{self.sheet**2} neurons")
        ratio = self.sample_dt / self.dt
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise ValueError(f"sample_dt = {self.sample_dt} s must be a whole number of "
                             f"sheet steps of dt = {self.dt} s")

    @property
    def params(self) -> SheetParams:
        return SheetParams(self.sheet, self.period_neurons, self.gamma_ratio, self.shift,
                           self.velocity_gain, 1.0, self.tau, self.dt)

    @property
    def substeps(self) -> int:
        return round(self.sample_dt / self.dt)

    @property
    def steps(self) -> int:
        """Euler steps of the sheet along the path."""
        return self.samples * self.substeps

    @property
    def samples(self) -> int:
        return max(2, round(self.duration / self.sample_dt))


@dataclass(frozen=True)
class AttractorPath:
    """A path sampled every ``dt`` seconds: ``positions[t]`` is where ``velocities[t]``
    (held for ``dt``) leads from ``start``.

    Attributes:
        start: (2,) position before the first sample, m.
        velocities: (samples, 2) m/s.
        positions: (samples, 2) m, inside ``box``.
        box: the arena.
        dt: s.
        source: where the path came from.
    """

    start: np.ndarray
    velocities: np.ndarray
    positions: np.ndarray
    box: Box
    dt: float
    source: str = "simulated"

    def __post_init__(self) -> None:
        v, p = np.asarray(self.velocities, float), np.asarray(self.positions, float)
        if v.ndim != 2 or v.shape[1] != 2 or p.shape != v.shape:
            raise ValueError(f"velocities and positions must both be (samples, 2), got "
                             f"{v.shape} and {p.shape}")
        if v.shape[0] < 2:
            raise ValueError("a path needs at least 2 samples")
        if not (np.all(np.isfinite(v)) and np.all(np.isfinite(p))):
            raise ValueError("the path holds NaN or infinite values")

    @property
    def speeds(self) -> np.ndarray:
        return np.hypot(self.velocities[:, 0], self.velocities[:, 1])

    def displacement(self) -> np.ndarray:
        """(samples, 2) displacement from ``start`` as walked (no torus wrap), m."""
        return np.cumsum(np.asarray(self.velocities, float) * self.dt, axis=0)

    def cut(self, samples: int) -> AttractorPath:
        return AttractorPath(self.start, self.velocities[:samples],
                             self.positions[:samples], self.box, self.dt, self.source)


def simulated_path(config: AttractorConfig) -> AttractorPath:
    """gridform's random walk (:func:`gridform.core.trajectories.simulate_trajectories`) in a
    walled box of side ``width``, its Rayleigh speed scaled to a mean of ``speed``."""
    import jax

    from gridform.core.trajectories import MotionModel, simulate_trajectories

    box = Box(config.width, config.width, "walls")
    ref = MotionModel()
    # the heading noise scaled by sqrt(speed) keeps the path's persistence length, and so
    # its shape per metre, that of the reference walk (v / D_theta, D_theta = h^2 dt / 2)
    motion = MotionModel(dt=config.sample_dt,
                         speed_scale=config.speed / math.sqrt(math.pi / 2),
                         heading_noise=ref.heading_noise * math.sqrt(
                             config.speed / ref.mean_speed * ref.dt / config.sample_dt))
    tr = simulate_trajectories(jax.random.key(config.seed + 1), box, 1, config.samples,
                               motion)
    return AttractorPath(np.asarray(tr.start_positions[0], float),
                         np.asarray(tr.velocities[0], float),
                         np.asarray(tr.positions[0], float), box, config.sample_dt)


@dataclass(frozen=True, eq=False)
class AttractorResult:
    """Everything an attractor experiment measured (see :func:`simulate_attractor`)."""

    config: AttractorConfig
    path: AttractorPath
    neurons: np.ndarray          # (record,) flat indices of the recorded neurons
    rates: np.ndarray            # (samples, record)
    settled: np.ndarray          # (n, n) state before the path
    final: np.ndarray            # (n, n) state after it
    pattern: object              # SheetPattern of the settled state
    theory: object               # SheetTheory of the parameters
    drift: object                # DriftCalibration
    decoded: np.ndarray          # (samples, 2) position the sheet codes, m
    seconds: float

    @property
    def error_m(self) -> np.ndarray:
        """(samples,) distance between the decoded and the true displacement, m."""
        true = self.path.displacement()
        return np.hypot(*(self.decoded - true).T)


def simulate_attractor(config: AttractorConfig, path: AttractorPath | None = None,
                       progress=None) -> AttractorResult:
    """Settle the sheet from noise, calibrate its drift, then path-integrate ``path``
    (default :func:`simulated_path`), recording ``config.record`` random neurons.
    ``progress(fraction)``, when given, is called as the path is integrated (ten
    times)."""
    import jax

    from gridform.attractor.decode import (
        calibrate_drift,
        decode_translation,
        mode_coefficients,
    )
    from gridform.attractor.sheet import random_state, run_sheet
    from gridform.attractor.theory import sheet_theory

    t0 = time.perf_counter()
    params = config.params
    if path is None:
        path = simulated_path(config)
    elif abs(path.dt - config.sample_dt) > 1e-9:
        raise ValueError(f"the path is sampled every {path.dt} s; resample it to "
                         f"{config.sample_dt} s")
    path = path.cut(config.samples)
    key = jax.random.key(config.seed)
    k_state, k_rec = jax.random.split(key)
    state, pattern = form_pattern(params, random_state(k_state, params.n), config.settle,
                                  config.anneal)
    drift = calibrate_drift(params, state, pattern.wavevectors,
                            speed=float(np.mean(path.speeds)) or 0.25)
    neurons = np.sort(np.asarray(jax.random.choice(k_rec, params.n**2, (config.record,),
                                                   replace=False)))
    rates, modes, s = [], [], state
    chunk = math.ceil(len(path.velocities) / 10)
    for start in range(0, len(path.velocities), chunk):
        rec = run_sheet(params, s, path.velocities[start:start + chunk], config.substeps,
                        neurons, pattern.wavevectors)
        s = rec.state
        rates.append(np.asarray(rec.rates, float))
        modes.append(np.asarray(rec.modes))
        if progress is not None:
            progress(min(1.0, (start + chunk) / len(path.velocities)))
    u = decode_translation(np.concatenate(modes), pattern.wavevectors,
                           mode_coefficients(state, pattern.wavevectors))
    return AttractorResult(config, path, neurons, np.concatenate(rates),
                           np.asarray(state), np.asarray(s), pattern,
                           sheet_theory(params), drift, drift.to_position(u),
                           time.perf_counter() - t0)


# a lattice with no defects holds about 80% of the sheet's variance in its three modes;
# one with a dislocation about 35%
CLEAN_PATTERN = 0.6
ANNEAL_SPEED = 0.3  # m/s
ANNEAL_CHUNK = 0.5  # s


def form_pattern(params: SheetParams, state, settle_s: float, anneal_s: float):
    """Let a pattern form from ``state`` at zero velocity for ``settle_s`` seconds, then
    run straight at 0.3 m/s (turning by a right angle every 0.5 s) until the lattice is
    clean (:data:`CLEAN_PATTERN` of the variance in its three modes) or ``anneal_s``
    seconds have passed, as Burak & Fiete initialise their sheet. Returns (state,
    :class:`~gridform.attractor.decode.SheetPattern`)."""
    from gridform.attractor.decode import sheet_pattern
    from gridform.attractor.sheet import run_sheet, settle

    dt = float(params.dt)
    state = settle(params, state, max(1, round(settle_s / dt)))
    pattern = sheet_pattern(state)
    substeps = round(0.01 / dt) or 1
    chunk = max(1, round(ANNEAL_CHUNK / (substeps * dt)))
    for i in range(math.ceil(anneal_s / ANNEAL_CHUNK)):
        if pattern.power_fraction >= CLEAN_PATTERN:
            break
        angle = i * math.pi / 2
        v = np.tile([ANNEAL_SPEED * math.cos(angle), ANNEAL_SPEED * math.sin(angle)],
                    (chunk, 1))
        state = run_sheet(params, state, v, substeps).state
        pattern = sheet_pattern(state)
    if pattern.power_fraction < CLEAN_PATTERN:
        log.warning("the sheet's lattice keeps a defect: %.0f%% of its variance in three "
                    "modes (a clean lattice holds about 80%%)", 100 * pattern.power_fraction)
    return state, pattern


def _population(maps, scores) -> dict:
    from gridform.analysis.topology import orientation_spread
    from gridform.core.errors import MissingExtraError

    spread, n_strong = orientation_spread(scores)
    out = {"orientation_spread_deg": spread, "n_strong": n_strong,
           "n_modules": None, "torus": None}
    try:
        from gridform.analysis.topology import population_structure

        ps = population_structure(maps, scores)
        out |= {"n_modules": ps.n_modules, "torus": ps.torus,
                "betti": None if ps.module is None else list(ps.module.betti)}
    except MissingExtraError as err:
        log.info("modules not computed: %s", err)
    return out


def summarise(result: AttractorResult, maps, scores) -> dict:
    """The ``summary.json`` of a result (keys in docs/attractor.md)."""
    from gridform.analysis.scores import SCORER_VERSION

    c, th, pat, drift = result.config, result.theory, result.pattern, result.drift
    s60 = np.nan_to_num(scores.score_60, nan=-np.inf)
    strong = s60 > 0.8
    spacing = float(np.median(scores.spacing_m[strong])) if strong.any() else math.nan
    # a pattern that does not drift with the animal codes no position: no spacing
    predicted = th.lattice_spacing_neurons / drift.neurons_per_metre \
        if drift.neurons_per_metre > 1e-6 else math.inf
    err = result.error_m
    summary = {
        "kind": KIND, "sheet": c.sheet, "period_neurons": c.period_neurons,
        "gamma_ratio": c.gamma_ratio, "shift": c.shift, "velocity_gain": c.velocity_gain,
        "effective_gain": th.gain, "forms_pattern": th.forms_pattern,
        "sheet_period_predicted": th.period_neurons,
        "sheet_period_measured": pat.period_neurons,
        "sheet_spacing_predicted": th.lattice_spacing_neurons,
        "sheet_spacing_measured": pat.lattice_spacing_neurons,
        "pattern_power_fraction": pat.power_fraction,
        "drift_neurons_per_m": drift.neurons_per_metre,
        "drift_anisotropy": drift.anisotropy,
        "drift_matrix": drift.matrix.tolist(),
        "spacing_predicted_m": predicted,
        "spacing_measured_m": spacing,
        "spacing_ratio": spacing / predicted,
        "frac_above_0.3": float(np.mean(s60 > 0.3)),
        "frac_above_0.8": float(np.mean(strong)),
        "median_score_60": float(np.median(np.nan_to_num(scores.score_60, nan=-9))),
        "n_recorded": int(result.neurons.size),
        "pi_error_median_m": float(np.median(err)),
        "pi_error_final_m": float(err[-1]),
        "pi_error_max_m": float(np.max(err)),
        "steps": c.steps, "dt": c.dt, "duration_s": c.samples * c.sample_dt,
        "mean_speed_m_s": float(np.mean(result.path.speeds)),
        "path_source": result.path.source, "bins": c.bins, "seed": c.seed,
        "seconds": result.seconds, "config": asdict(c),
        "scorer_version": SCORER_VERSION,
    }
    return summary | _population(maps, scores)


def _write_path_csv(path: Path, result: AttractorResult, every: int) -> None:
    true = result.path.displacement() + result.path.start
    dec = result.decoded + result.path.start
    err = result.error_m
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "x_m", "y_m", "decoded_x_m", "decoded_y_m", "error_m"])
        for i in range(every - 1, err.size, every):
            w.writerow([f"{(i + 1) * result.path.dt:.4f}", f"{true[i, 0]:.5f}",
                        f"{true[i, 1]:.5f}", f"{dec[i, 0]:.5f}", f"{dec[i, 1]:.5f}",
                        f"{err[i]:.5f}"])


def run_attractor(config: AttractorConfig, out: str | Path,
                  path: AttractorPath | None = None, progress=None) -> dict:
    """Simulate (:func:`simulate_attractor`), score and write :data:`ATTRACTOR_FILES`
    into ``out`` (the summary last); return the summary."""
    import warnings

    from gridform.analysis.scores import score_ratemaps
    from gridform.core import compile_cache
    from gridform.core.ratemaps import compute_ratemaps

    compile_cache.enable()
    result = simulate_attractor(config, path, progress)
    p = result.path
    maps = compute_ratemaps(p.positions, result.rates, p.box, config.bins)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unvisited bins of a short path
        scores = score_ratemaps(maps)
    summary = summarise(result, maps, scores)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    maps.save(out / ATTRACTOR_FILES["ratemaps"])
    scores.to_csv(out / ATTRACTOR_FILES["scores"])
    with atomic_path(out / ATTRACTOR_FILES["activity"]) as tmp, open(tmp, "wb") as f:
        np.savez(f, rates=result.rates.astype(np.float32), positions=p.positions,
                 speeds=p.speeds, neurons=result.neurons, dt=p.dt,
                 box=np.array([p.box.width, p.box.height]), boundary=p.box.boundary)
    with atomic_path(out / ATTRACTOR_FILES["sheet"]) as tmp, open(tmp, "wb") as f:
        np.savez(f, settled=result.settled.astype(np.float32),
                 final=result.final.astype(np.float32),
                 wavevectors=result.pattern.wavevectors)
    _write_path_csv(out / ATTRACTOR_FILES["path"], result, max(1, round(0.5 / p.dt)))
    write_json(out / ATTRACTOR_FILES["summary"], summary)
    return summary


@dataclass(frozen=True, eq=False)
class SavedAttractor:
    """What an attractor directory holds, read back (see :func:`read_attractor`)."""

    summary: dict
    config: AttractorConfig
    settled: np.ndarray          # (n, n) the sheet before the path
    times_s: np.ndarray          # (rows,) of path_integration.csv
    error_m: np.ndarray          # (rows,)


def read_attractor(directory: str | Path) -> SavedAttractor:
    """The summary, config, sheet and path-integration error of an attractor directory."""
    import json

    d = Path(directory)
    if not is_attractor_dir(d):
        raise FileNotFoundError(f"{d} holds no attractor run (gridform attractor)")
    summary = json.loads((d / ATTRACTOR_FILES["summary"]).read_text())
    # JSON has no NaN or infinity: they were written as null (a spacing that cannot be
    # predicted or measured); read them back as NaN
    summary = {k: (math.nan if v is None and k not in ("n_modules", "torus", "betti")
                   else v) for k, v in summary.items()}
    known = set(AttractorConfig.__dataclass_fields__)
    config = AttractorConfig(**{k: v for k, v in summary.get("config", {}).items()
                                if k in known})
    with np.load(d / ATTRACTOR_FILES["sheet"], allow_pickle=False) as z:
        settled = np.asarray(z["settled"])
    table = np.genfromtxt(d / ATTRACTOR_FILES["path"], delimiter=",", names=True, ndmin=1)
    return SavedAttractor(summary, config, settled, np.asarray(table["t_s"]),
                          np.asarray(table["error_m"]))


def is_attractor_dir(directory: str | Path) -> bool:
    """Whether ``directory`` holds a finished attractor run."""
    import json

    f = Path(directory) / ATTRACTOR_FILES["summary"]
    if not f.is_file() or not (Path(directory) / ATTRACTOR_FILES["activity"]).is_file():
        return False
    try:
        return json.loads(f.read_text()).get("kind") == KIND
    except (ValueError, OSError):
        return False


def read_activity(directory: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rates (samples, neurons), positions (samples, 2), speeds (samples,)) of an
    attractor directory's recorded neurons along its path."""
    with np.load(Path(directory) / ATTRACTOR_FILES["activity"], allow_pickle=False) as z:
        return np.asarray(z["rates"]), np.asarray(z["positions"]), np.asarray(z["speeds"])
