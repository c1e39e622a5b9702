"""Run directories as a type: :class:`RunDir` owns every file name of a training run, and
:class:`Summary` is what ``summary.json`` holds, with units in its attribute names.

A run directory::

    config.json               the resolved config, its hash and the run id (written first)
    checkpoint.json           the last checkpoint's step, loss and the tensors' sha256
    checkpoint.safetensors    its parameters and optimiser state
    metrics.jsonl             one line per logged step (loss, error_cm, steps_per_s)
    model.safetensors         the final parameters (written when training ends)
    ratemaps.npz              hidden-unit ratemaps (cell, y, x), from `evaluate`
    scores.csv                one row of grid scores per unit
    spectrum.npz              the place code's covariance spectrum and its ring k*
                              (:class:`CodeSpectrum`), from `evaluate`
    summary.json              the :class:`Summary` (written last)
    report.html               `gridform report`
    along-NAME/               `evaluate --trajectory NAME.npz`: ratemaps, scores, summary
    DONE.json / FAILED.json   a sweep's record of the run (sweeps only)

The file names and the JSON keys are a public format: directories written by any earlier
version load unchanged, and keys this version does not know are kept on rewrite.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gridform.core.io import (
    RATEMAPS_FILE,
    SCORES_FILE,
    SUMMARY_FILE,
    SUMMARY_JSON_KEYS,
    write_json,
)
from gridform.training.checkpoint import CheckpointError
from gridform.training.config import TrainConfig

__all__ = ["MSE_TARGETS_KEY", "CodeSpectrum", "RunDir", "Summary", "load_params",
           "read_run_config", "read_run_metadata", "run_metadata"]

# Written to every config.json since `loss='mse'` compares the readout with the place code
# times the number of cells (Task.loss_targets); an mse run without it used the raw code.
MSE_TARGETS_KEY = "mse_targets"


@dataclass(frozen=True)
class Summary:
    """One evaluation of a trained network, as ``summary.json`` stores it.

    Fractions are of the active units (those whose ratemap varies). ``None``: not computed
    (no active units, or a directory written before the value existed); NaN: computed but
    undefined (no unit above 0.8 to measure a spacing on), written as ``null``.

    The population's structure: ``orientation_spread_deg``, the circular standard
    deviation (period 60 degrees) of the lattice orientations of the active units above
    0.8; ``n_modules``, the modules their grid units form; ``torus``, whether they form
    exactly one module whose ratemaps lie on a torus, Betti (1, 2, 1)
    (:func:`gridform.analysis.topology.population_structure`; ``None`` without the
    ``topology`` extra).

    ``k_star`` (rad/m): the ring of the place code's covariance spectrum that
    ``predicted_spacing_m = 4 pi / (sqrt(3) k*)`` comes from, the analytic one for simulated
    place cells and the recorded code's own peak for recorded ones (NaN: no ring; ``None``
    in summaries written before it was kept).

    ``corrected_spacing_m``: the corrected spacing law's prediction for this run's code
    and step length, when the evaluation was given the law's terms, which
    ``spacing_correction`` records (``step_cost``, ``offset``, ``exponent``, ``step_m``).
    ``extra`` holds keys of the file that this class does not name, and writes them back.
    """

    error_cm: float
    n_units: int
    n_active: int
    predicted_spacing_m: float
    mean_pairwise_corr: float
    scorer_version: int | None = None
    decoder_floor_cm: float | None = None
    frac_above_0_3: float | None = None
    frac_above_0_8: float | None = None
    frac_above_0_3_minmax: float | None = None
    frac_above_0_8_minmax: float | None = None
    median_score_60: float | None = None
    median_spacing_m: float | None = None
    steps: int | None = None
    k_star: float | None = None
    orientation_spread_deg: float | None = None
    n_modules: int | None = None
    torus: bool | None = None
    corrected_spacing_m: float | None = None
    spacing_correction: Mapping[str, float] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """From the mapping of a ``summary.json`` (any version); raises ValueError naming
        the missing keys when it is not a run's summary."""
        by_key = {SUMMARY_JSON_KEYS.get(f.name, f.name): f.name for f in dataclasses.fields(cls)
                  if f.name != "extra"}
        required = [f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is
                    dataclasses.MISSING]
        missing = [n for n in required if n not in data]
        if missing:
            raise ValueError(f"not the summary of a trained network: no {', '.join(missing)}")
        # a key written as null held NaN (write_json writes NaN and inf as null): a number
        # that was computed but undefined, unlike a key that is absent (None)
        known = {by_key[k]: float("nan") if v is None else v for k, v in data.items()
                 if k in by_key}
        extra = {k: v for k, v in data.items() if k not in by_key}
        return cls(**known, extra=extra)

    def to_json(self) -> dict[str, Any]:
        """The mapping written to ``summary.json``: its historical keys, no ``None``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if value is not None:
                out[SUMMARY_JSON_KEYS.get(f.name, f.name)] = value
        return out | dict(self.extra)

    def replace(self, **changes: Any) -> Summary:
        return dataclasses.replace(self, **changes)

    def frac_above(self, threshold: float, variant: str = "mean") -> float | None:
        """The fraction of active units above 0.3 or 0.8, in the ``mean`` (``score_60``)
        or ``minmax`` (``score_60_minmax``) variant."""
        name = f"frac_above_{str(threshold).replace('.', '_')}"
        if variant == "minmax":
            name += "_minmax"
        elif variant != "mean":
            raise ValueError(f"variant must be 'mean' or 'minmax', got {variant!r}")
        if name not in SUMMARY_JSON_KEYS:
            raise ValueError(f"summaries hold the fractions above 0.3 and 0.8, not "
                             f"{threshold}")
        return getattr(self, name)

    def rows(self, names: tuple[str, ...] | None = None) -> list[tuple[str, Any]]:
        """``(label, value)`` pairs for tables and printed summaries, labelled with the
        file's keys, in reading order; values that were not computed are left out."""
        names = names or ("steps", "error_cm", "decoder_floor_cm", "n_active",
                          "frac_above_0_3", "frac_above_0_8", "frac_above_0_3_minmax",
                          "frac_above_0_8_minmax", "median_score_60", "mean_pairwise_corr",
                          "orientation_spread_deg", "n_modules", "torus",
                          "median_spacing_m", "predicted_spacing_m")
        return [(SUMMARY_JSON_KEYS.get(n, n), getattr(self, n)) for n in names
                if getattr(self, n) is not None]

    def population_line(self) -> str:
        """The population's structure in one line: the orientation spread of the units
        above 0.8, the number of modules and the torus verdict (or how to get them)."""
        spread = ("n/a" if self.orientation_spread_deg is None else
                  f"{self.orientation_spread_deg:.1f} deg")
        line = f"orientation spread (units > 0.8) {spread}; "
        if self.n_modules is None:
            return line + "modules not computed (pip install 'gridform[topology]')"
        return line + (f"{self.n_modules} module{'s' * (self.n_modules != 1)}; one module "
                       f"on a torus: {'yes' if self.torus else 'no'}")

    @property
    def corrected_ratio(self) -> float:
        """Measured over the corrected law's spacing (NaN where either is missing)."""
        return _ratio(self.median_spacing_m, self.corrected_spacing_m)

    @property
    def spacing_ratio(self) -> float:
        """Measured over predicted grid spacing (NaN where either is missing)."""
        return _ratio(self.median_spacing_m, self.predicted_spacing_m)


def _ratio(m: float | None, p: float | None) -> float:
    """``m / p``, NaN where either is missing or not finite, or ``p`` is 0."""
    if m is None or p is None or not (math.isfinite(m) and math.isfinite(p)) or p == 0:
        return float("nan")
    return m / p


@dataclass(frozen=True, eq=False)
class CodeSpectrum:
    """The radially averaged covariance spectrum of a run's place code, which the theory
    reads its prediction from (``spectrum.npz``).

    ``k`` (n,) rad/m and ``power`` (n,): :meth:`CovarianceKernel.radial_spectrum` of the
    code on the box (:func:`gridform.theory.spectrum.spatial_covariance` for simulated
    place cells, :func:`gridform.data.assumptions.covariance_spectrum` for recorded ones);
    ``k_star`` (rad/m) the ring the prediction uses (NaN: the code has no ring);
    ``recorded``: whether the code was recorded (its ring is then its own peak) rather than
    simulated (the analytic ``k*``).
    """

    k: np.ndarray
    power: np.ndarray
    k_star: float
    recorded: bool

    def __post_init__(self):
        k, p = np.asarray(self.k, float), np.asarray(self.power, float)
        if k.ndim != 1 or k.shape != p.shape:
            raise ValueError(f"k and power must be 1-D arrays of one length, got shapes "
                             f"{k.shape} and {p.shape}")
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "power", p)
        object.__setattr__(self, "k_star", float(self.k_star))
        object.__setattr__(self, "recorded", bool(self.recorded))

    def save(self, path: str | Path) -> None:
        """Write ``k``, ``power``, ``k_star`` and ``recorded`` to an ``.npz``, atomically."""
        from gridform.core.io import atomic_path

        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as f:
            np.savez(f, k=self.k, power=self.power, k_star=self.k_star,
                     recorded=self.recorded)

    @classmethod
    def load(cls, path: str | Path) -> CodeSpectrum:
        try:
            with np.load(path) as z:
                return cls(z["k"], z["power"], float(z["k_star"]), bool(z["recorded"]))
        except (KeyError, ValueError, OSError) as err:
            raise ValueError(f"{path} is not a code spectrum ({err})") from None


class _RunFile:
    """A read-only attribute of RunDir: the path of the file named by one of its constants."""

    def __init__(self, constant: str):
        self.constant = constant

    def __get__(self, run: RunDir | None, owner: type) -> Path:
        if run is None:
            raise AttributeError(f"the path of {self.constant} belongs to a RunDir instance")
        return run.path / getattr(owner, self.constant)


class RunDir:
    """A training run's directory: every file name, and reading and writing its files."""

    CONFIG = "config.json"
    CHECKPOINT = "checkpoint"  # checkpoint.json + checkpoint.safetensors (+ .new, staged)
    METRICS = "metrics.jsonl"
    MODEL = "model.safetensors"
    RATEMAPS = RATEMAPS_FILE  # "ratemaps.npz", as in every directory of scored ratemaps
    SCORES = SCORES_FILE  # "scores.csv"
    SPECTRUM = "spectrum.npz"
    SUMMARY = SUMMARY_FILE  # "summary.json"
    REPORT = "report.html"
    DONE = "DONE.json"
    FAILED = "FAILED.json"
    TOPOLOGY = "topology.json"
    ALONG = "along-"  # prefix of the folder of an evaluation along a recorded path

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # -- paths ------------------------------------------------------------------------
    config_path = _RunFile("CONFIG")
    metrics_path = _RunFile("METRICS")
    model_path = _RunFile("MODEL")
    ratemaps_path = _RunFile("RATEMAPS")
    scores_path = _RunFile("SCORES")
    spectrum_path = _RunFile("SPECTRUM")
    summary_path = _RunFile("SUMMARY")
    report_path = _RunFile("REPORT")
    done_path = _RunFile("DONE")
    failed_path = _RunFile("FAILED")
    topology_path = _RunFile("TOPOLOGY")

    @property
    def checkpoint_meta_path(self) -> Path:
        return self.path / f"{self.CHECKPOINT}.json"

    def along_path(self, trajectory: str | Path) -> Path:
        """Where ``evaluate --trajectory PATH`` writes by default: ``along-STEM``."""
        return self.path / f"{self.ALONG}{Path(trajectory).stem}"

    def along_evaluations(self) -> list[Path]:
        """The folders of evaluations along recorded paths (those holding a summary)."""
        return sorted(p for p in self.path.glob(f"{self.ALONG}*")
                      if p.is_dir() and (p / self.SUMMARY).exists())

    # -- state ------------------------------------------------------------------------
    def has_run(self) -> bool:
        """Whether a run was started here (its config.json exists)."""
        return self.config_path.exists()

    def has_checkpoint(self) -> bool:
        return self.checkpoint_meta_path.exists()

    def is_done(self) -> bool:
        """Whether a sweep finished this run (DONE.json exists)."""
        return self.done_path.exists()

    def clear(self) -> None:
        """Delete every file a run writes here, and its evaluations along recorded paths
        (``train --force``); other files in the directory are left alone."""
        names = (self.CONFIG, f"{self.CHECKPOINT}.json", f"{self.CHECKPOINT}.safetensors",
                 f"{self.CHECKPOINT}.safetensors.new", self.METRICS, self.MODEL,
                 self.RATEMAPS, self.SCORES, self.SPECTRUM, self.SUMMARY, self.REPORT, self.DONE,
                 self.FAILED, self.TOPOLOGY)
        for name in names:
            p = self.path / name
            if p.exists():
                p.unlink()
        for along in self.along_evaluations():
            shutil.rmtree(along)

    # -- config -----------------------------------------------------------------------
    def read_metadata(self) -> dict[str, Any]:
        """The parsed ``config.json`` (:func:`run_metadata`)."""
        path = self.config_path
        if not path.exists():
            raise FileNotFoundError(f"{self.path} holds no run (missing {self.CONFIG})")
        try:
            meta = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a text file") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
            raise ValueError(f"{path} is not the config of a gridform run (it has no "
                             "'config' table); choose another directory")
        return meta

    def read_config(self) -> TrainConfig:
        return TrainConfig(**self.read_metadata()["config"])

    def write_config(self, config: TrainConfig) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.config_path, run_metadata(config))

    # -- parameters -------------------------------------------------------------------
    def load_params(self) -> dict[str, jax.Array]:
        """The final parameters (model.safetensors), else those of the last checkpoint."""
        from gridform.training.checkpoint import load_tensors, read_checkpoint

        if self.model_path.exists():
            return {k: jnp.asarray(v) for k, v in load_tensors(self.model_path).items()}
        if self.has_checkpoint():
            _, arrays = read_checkpoint(self.path, self.CHECKPOINT)
            return {k.removeprefix("params/"): jnp.asarray(v) for k, v in arrays.items()
                    if k.startswith("params/")}
        raise CheckpointError(f"{self.path} holds no trained parameters (no {self.MODEL} "
                              "and no checkpoint)")

    def save_params(self, params: Mapping[str, Any]) -> None:
        import numpy as np

        from gridform.training.checkpoint import save_tensors

        save_tensors(self.model_path, {k: np.asarray(v) for k, v in params.items()})

    def checkpoint_step(self) -> int | None:
        """The step of the last checkpoint, or None without one."""
        if not self.has_checkpoint():
            return None
        return int(json.loads(self.checkpoint_meta_path.read_text()).get("step", 0))

    # -- summary ----------------------------------------------------------------------
    def evaluated(self, path: Path) -> Path:
        """``path``, a file ``gridform evaluate`` writes here; ``FileNotFoundError`` that
        names the command when it is missing."""
        if not path.exists():
            raise FileNotFoundError(f"{self.path} has not been evaluated (no {path.name}; "
                                    f"run gridform evaluate {self.path})")
        return path

    def read_summary(self) -> Summary:
        path = self.evaluated(self.summary_path)
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is not valid JSON ({err})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path} is not a summary (not a JSON object)")
        try:
            return Summary.from_json(data)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None

    def write_summary(self, summary: Summary, **extra: Any) -> None:
        write_json(self.summary_path, summary.to_json() | extra)


def run_metadata(config: TrainConfig) -> dict[str, Any]:
    """What a run directory's ``config.json`` holds."""
    return {"config": config.resolved(), "config_hash": config.config_hash(),
            "run_id": config.run_id(), MSE_TARGETS_KEY: "place code x n_place_cells"}


def read_run_metadata(run_dir: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a run directory (:meth:`RunDir.read_metadata`)."""
    return RunDir(run_dir).read_metadata()


def read_run_config(run_dir: str | Path) -> TrainConfig:
    return RunDir(run_dir).read_config()


def load_params(run_dir: str | Path) -> dict[str, jax.Array]:
    """The final parameters of a run (:meth:`RunDir.load_params`)."""
    return RunDir(run_dir).load_params()
