"""Sweep specifications: a TOML file expanded into a manifest of validated run configs.

```toml
[base]                     # what every run shares
preset = "demo"            # a training preset (gridform.training.PRESETS)
set = { steps = 2000 }     # config fields on top of it

[axes]                     # varied together as a grid product ...
place_cell_kind = ["dos", "gaussian"]
activation = ["relu", "tanh"]

[[points]]                 # ... crossed with listed settings (each may pin its seed) ...
activation = "tanh"
[[points]]
place_cell_kind = "gaussian"

[random]                   # ... or, instead of / besides the grid, random draws
draws = 8                  # number of random points
sigma = { low = 0.08, high = 0.2 }          # uniform in a range
weight_decay = { values = [0.0, 1e-4] }     # uniform choice from a list

[sweep]
seeds = [0, 1, 2]          # every point is trained once per seed
metrics = ["error_cm", "frac_above_0.3"]    # columns of results.csv (defaults: all)
sample_seed = 0            # seed of the random draws

[quick]                    # applied by --quick: a CPU-sized version of the same sweep
set = { n_hidden = 64, steps = 300 }
seeds = [0]
axes = { activation = ["relu"] }  # replaces [axes] when given
```

Every run is validated by :class:`gridform.training.TrainConfig` while the manifest is
built, so an unknown parameter or a bad value fails before anything is trained. A run's
id is :meth:`TrainConfig.run_id` (the hash of its resolved config): the same run has the
same id in every sweep, which is how finished runs are recognised and skipped.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gridform.core.io import read_text
from gridform.training.config import PRESETS, ConfigError, TrainConfig, load_config
from gridform.training.runs import RunDir

__all__ = ["DEFAULT_METRICS", "RunSpec", "SweepSpec", "SweepSpecError", "load_sweep"]

DEFAULT_METRICS = ("steps", "error_cm", "frac_above_0.3", "frac_above_0.8",
                   "frac_above_0.3_minmax", "frac_above_0.8_minmax", "median_score_60",
                   "mean_pairwise_corr", "median_spacing_m", "predicted_spacing_m",
                   "orientation_spread_deg", "n_modules", "torus")

_SECTIONS = {"base", "axes", "points", "random", "sweep", "quick"}


class SweepSpecError(ValueError):
    """A sweep specification that cannot be run; the message names the problem."""


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its id, its full config and the parameters the sweep varied."""

    run_id: str
    config: TrainConfig
    varied: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "config": self.config.resolved(), "varied": self.varied}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        return cls(d["run_id"], TrainConfig(**d["config"]), dict(d["varied"]))

    def run_dir(self, sweep_dir: str | Path) -> RunDir:
        """This run's directory in a sweep: ``SWEEP_DIR/runs/RUN_ID``."""
        return RunDir(Path(sweep_dir) / "runs" / self.run_id)


@dataclass(frozen=True)
class SweepSpec:
    name: str
    preset: str
    base: dict[str, Any]
    axes: dict[str, list]
    random: dict[str, dict]
    draws: int
    seeds: list[int]
    metrics: list[str]
    sample_seed: int
    points: tuple[dict[str, Any], ...] = ()

    def manifest(self) -> list[RunSpec]:
        """Every run: grid points x listed points x random draws x seeds (a listed point
        with its own seed runs with that seed only), validated, ids unique."""
        points: list[dict[str, Any]] = [{}]
        if self.axes:
            names = list(self.axes)
            points = [dict(zip(names, combo, strict=True))
                      for combo in itertools.product(*(self.axes[n] for n in names))]
        if self.points:
            points = [p | dict(q) for p in points for q in self.points]
        if self.random:
            rng = np.random.default_rng(self.sample_seed)
            draws = []
            for _ in range(self.draws):
                d = {}
                for name, dist in self.random.items():
                    if "values" in dist:
                        d[name] = dist["values"][int(rng.integers(len(dist["values"])))]
                    else:
                        d[name] = float(rng.uniform(dist["low"], dist["high"]))
                draws.append(d)
            points = [p | d for p in points for d in draws]
        runs, seen = [], {}
        for point in points:
            for seed in [point["seed"]] if "seed" in point else self.seeds:
                varied = point | {"seed": seed}
                fields = self.base | varied
                try:
                    config = load_config(self.preset, **fields)
                except ConfigError as err:
                    raise SweepSpecError(f"run {varied} is not a valid config: {err}") from None
                rid = config.run_id()
                if rid in seen:
                    continue  # two points that resolve to the same config train once
                seen[rid] = True
                runs.append(RunSpec(rid, config, varied))
        return runs


def _check_names(names, where: str) -> None:
    known = set(TrainConfig.model_fields)
    unknown = sorted(set(names) - known)
    if unknown:
        raise SweepSpecError(f"unknown parameter(s) {unknown} in [{where}]; config fields "
                             f"are {sorted(known)}")


def load_sweep(path: str | Path, quick: bool = False) -> SweepSpec:
    """Parse and check a sweep TOML file (``quick``: apply its ``[quick]`` section)."""
    path = Path(path)
    if not path.is_file():
        raise SweepSpecError(f"sweep file not found: {path}")
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as err:
        raise SweepSpecError(f"{path} is not valid TOML: {err}") from None
    return parse_sweep(data, name=path.stem, quick=quick)


def parse_sweep(data: dict[str, Any], name: str = "sweep", quick: bool = False) -> SweepSpec:
    extra = sorted(set(data) - _SECTIONS)
    if extra:
        raise SweepSpecError(f"unknown section(s) {extra}; a sweep has {sorted(_SECTIONS)}")
    base = dict(data.get("base", {}))
    preset = base.pop("preset", "demo")
    if preset not in PRESETS:
        raise SweepSpecError(f"unknown preset {preset!r} in [base]; choose one of "
                             f"{sorted(PRESETS)}")
    fields = dict(base.pop("set", {}))
    if base:
        raise SweepSpecError(f"unknown key(s) {sorted(base)} in [base]; use preset and set")
    sweep = dict(data.get("sweep", {}))
    seeds = sweep.pop("seeds", [0])
    metrics = sweep.pop("metrics", list(DEFAULT_METRICS))
    sample_seed = sweep.pop("sample_seed", 0)
    if sweep:
        raise SweepSpecError(f"unknown key(s) {sorted(sweep)} in [sweep]")
    axes = dict(data.get("axes", {}))
    points = data.get("points", [])
    if not isinstance(points, list) or not all(isinstance(q, dict) for q in points):
        raise SweepSpecError("points must be a list of tables ([[points]] in TOML), got "
                             f"{points!r}")
    for q in points:
        _check_names(q, "points")
        if "seed" in q and not isinstance(q["seed"], int):
            raise SweepSpecError(f"a point's seed must be an integer, got {q['seed']!r}")
    if quick:
        q = dict(data.get("quick", {}))
        fields |= q.pop("set", {})
        seeds = q.pop("seeds", seeds)
        axes = dict(q.pop("axes", axes))
        if q:
            raise SweepSpecError(f"unknown key(s) {sorted(q)} in [quick]; use set, seeds "
                                 "and axes")
    _check_names(fields, "base.set" if not quick else "base.set / quick.set")

    _check_names(axes, "axes")
    for k, v in axes.items():
        if not isinstance(v, list) or not v:
            raise SweepSpecError(f"axis {k!r} must be a non-empty list, got {v!r}")
    random = dict(data.get("random", {}))
    draws = random.pop("draws", None)
    if random:
        if not isinstance(draws, int) or draws < 1:
            raise SweepSpecError(f"[random] needs draws = a positive integer, got {draws!r}")
        _check_names(random, "random")
        for k, dist in random.items():
            ok = isinstance(dist, dict) and (
                (set(dist) == {"values"} and isinstance(dist["values"], list)
                 and dist["values"])
                or (set(dist) == {"low", "high"} and dist["low"] < dist["high"]))
            if not ok:
                raise SweepSpecError(f"random parameter {k!r} must be {{ low = a, high = b }} "
                                     f"with a < b or {{ values = [non-empty list] }}, got "
                                     f"{dist!r}")
        overlap = sorted(set(random) & set(axes))
        if overlap:
            raise SweepSpecError(f"parameter(s) {overlap} are both an axis and random")
    elif draws is not None:
        raise SweepSpecError("[random] has draws but no parameters to draw")
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise SweepSpecError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    if "seed" in axes or "seed" in random:
        raise SweepSpecError("vary seeds with [sweep] seeds, not as an axis")
    overlap = sorted({k for q in points for k in q} & (set(axes) | set(random)))
    if overlap:
        raise SweepSpecError(f"parameter(s) {overlap} are both an axis or random and set by "
                             "a point")
    bad = sorted(set(metrics) - set(DEFAULT_METRICS))
    if bad:
        raise SweepSpecError(f"unknown metric(s) {bad}; choose from {list(DEFAULT_METRICS)}")
    spec = SweepSpec(name, preset, fields, axes, random, draws or 0, list(seeds),
                     list(metrics), int(sample_seed), tuple(dict(q) for q in points))
    spec.manifest()  # validates every run now, before anything is trained
    return spec
