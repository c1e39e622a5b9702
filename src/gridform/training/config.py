"""Typed, frozen training configuration with the ``paper`` and ``demo`` presets.

Every field is in SI units unless its name says otherwise. Unknown keys and wrong types
raise a ``pydantic.ValidationError`` naming the field. The resolved config is saved with
every run and hashed into its run id.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gridform.core.io import read_text
from gridform.core.reference import (
    BATCH_SIZE,
    BOX_WIDTH_M,
    DT_S,
    N_HIDDEN,
    N_PLACE_CELLS,
    SEQUENCE_LENGTH,
    SIGMA_M,
    SPEED_SCALE_M_S,
    SURROUND_SCALE,
    Activation,
    Boundary,
    Cell,
    HiddenNorm,
    PlaceCellKind,
    RecurrentInit,
)

REFERENCE_SPEED_SCALE = SPEED_SCALE_M_S

__all__ = ["PRESETS", "ConfigError", "TrainConfig", "load_config"]


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the field."""


# Fields added after runs were already being stored, with the value they had implicitly
# before: a config at that value hashes as it did then, so its run id (and the run
# directories of a sweep started earlier) stay the same.
_ADDED_FIELDS: dict[str, Any] = {"speed_scale": REFERENCE_SPEED_SCALE, "lr_warmup_steps": 0,
                                 "activity_l1": 0.0, "place_cell_layout": "random",
                                 "weight_decay_start": 0.0, "weight_decay_hold_steps": 0,
                                 "weight_decay_ramp_steps": 0, "hidden_norm": "none",
                                 "conformal_weight": 0.0, "conformal_scale": 7.0}


class TrainConfig(BaseModel):
    """Everything that determines a training run (with ``seed``, every batch too)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    # arena and motion (Sorscher et al. 2019 reference)
    box_width: float = Field(BOX_WIDTH_M, gt=0, description="m")
    box_height: float = Field(2.2, gt=0, description="m")
    boundary: Boundary = "walls"
    dt: float = Field(DT_S, gt=0, description="s, time step")
    speed_scale: float = Field(
        REFERENCE_SPEED_SCALE, gt=0, description="m/s, Rayleigh scale b of the running speed "
        "(reference 0.817 m/s: mean speed b sqrt(pi/2) = 1.02 m/s); a simulated path moves "
        "about 1.25 b dt per step")
    sequence_length: int = Field(SEQUENCE_LENGTH, gt=0, description="steps per trajectory")
    batch_size: int = Field(BATCH_SIZE, gt=0)
    # place cells
    n_place_cells: int = Field(N_PLACE_CELLS, gt=0)
    place_cell_kind: PlaceCellKind = "dos"
    sigma: float = Field(SIGMA_M, gt=0, description="m, place-cell width sigma1")
    surround_scale: float = Field(SURROUND_SCALE, gt=1, description="sigma2^2/sigma1^2")
    place_cell_layout: Literal["random", "lattice"] = Field(
        "random", description="centres drawn uniformly over the box from the seed (the "
        "reference), or on a regular lattice of bin centres: no density fluctuations, so "
        "the code's covariance is translation invariant up to the walls; n_place_cells "
        "must then make a lattice of the box's shape (e.g. 484 or 529 in a square)")
    place_cell_file: str | None = Field(
        None, description="ratemaps (.npz, or .nwb with units and positions) of recorded "
        "place cells used as the targets instead of simulated ones; n_place_cells must "
        "equal its number of cells (the CLI's --targets sets both)")
    trajectory_file: str | None = Field(
        None, description="a gridform trajectory .npz (gridform import-trajectory): "
        "training windows are drawn from it instead of the simulated random walk")
    # network
    cell: Cell = "rnn"
    activation: Activation = "relu"
    n_hidden: int = Field(N_HIDDEN, gt=0)
    recurrent_init: RecurrentInit = Field(
        "uniform", description="W_rec at step 0: PyTorch's uniform, a random orthogonal "
        "matrix, or the identity (IRNN), the last two times recurrent_gain; or "
        "'attractor': Burak & Fiete's shifted centre-surround kernel with the units laid "
        "on a sqrt(n_hidden)-sided periodic sheet (n_hidden an even square, rnn cell), "
        "scaled to a spectral radius of recurrent_gain / sqrt(3), the uniform init's")
    recurrent_gain: float = Field(1.0, gt=0, description="scale of an orthogonal, "
                                  "identity or attractor W_rec at step 0")
    hidden_norm: HiddenNorm = Field(
        "none", description="'unit': every hidden state (the initial one too) divided by "
        "its L2 norm after the activation, Pettersen et al. 2024's normalised ReLU (rnn "
        "cell)")
    velocity_units: Literal["m_per_step", "m_per_s"] = "m_per_step"
    init_input_scale: float = Field(
        1.0, gt=0, description="multiplies the place code fed to the initial state; "
        "'n_place_cells' scaling (mean entry 1) is what leaves the plateau on a CPU")
    # objective and optimiser
    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    weight_decay: float = Field(1e-4, ge=0, description="L2 on the recurrent weights (from "
                                "the end of the weight_decay_start schedule, if any)")
    weight_decay_start: float = Field(
        0.0, ge=0, description="L2 on the recurrent weights at the start of training: used "
        "through update weight_decay_hold_steps (counting from 0), then moved geometrically "
        "to weight_decay, which it reaches at update weight_decay_hold_steps + "
        "weight_decay_ramp_steps; 0: weight_decay throughout (hold and ramp unused). A "
        "strong start lets the pattern form at the theory's spacing before the network "
        "learns to path-integrate")
    weight_decay_hold_steps: int = Field(0, ge=0, description="see weight_decay_start")
    weight_decay_ramp_steps: int = Field(0, ge=0, description="see weight_decay_start")
    activity_l1: float = Field(
        0.0, ge=0, description="L1 on the hidden activity: this multiple of the summed "
        "|h| over units, averaged over samples and steps, joins the loss (a metabolic "
        "cost; 0: none, as the paper)")
    conformal_weight: float = Field(
        0.0, ge=0, description="weight of the conformal-isometry term, the mean over "
        "consecutive steps of (|h_t - h_{t-1}| - conformal_scale |dx_t|)^2 (Xu et al., "
        "ICLR 2025), added to the per-step loss; 0: none")
    conformal_scale: float = Field(
        7.0, gt=0, description="s, hidden-state units per metre: the distance the state "
        "moves per metre run, in the conformal-isometry term. A unit-norm code whose power "
        "lies on one hexagon of wave number k moves by k |dx| / sqrt(2), so s = k / "
        "sqrt(2); 7.0 is the theory's ring, k* = 9.8 rad/m (spacing 0.74 m)")
    optimizer: Literal["adam", "rmsprop"] = "adam"
    learning_rate: float = Field(1e-4, gt=0)
    lr_schedule: Literal["constant", "cosine"] = "constant"
    lr_warmup_steps: int = Field(
        0, ge=0, description="the learning rate ramps linearly from learning_rate / "
        "lr_warmup_steps at step 0 to the schedule's value at step lr_warmup_steps - 1; "
        "0: no ramp")
    grad_clip: float = Field(0.0, ge=0, description="global gradient-norm clip; 0: off")
    steps: int = Field(100_000, gt=0)
    seed: int = 0
    matmul_dtype: Literal["float32", "bfloat16"] = "float32"
    # bookkeeping
    checkpoint_every: int = Field(1000, gt=0)
    eval_every: int = Field(0, ge=0, description="0: only at the end")
    eval_batches: int = Field(50, gt=0, description="batches of the periodic evaluation")

    @field_validator("init_input_scale", "recurrent_gain", "learning_rate", "sigma", "dt",
                     "speed_scale", "activity_l1", "weight_decay", "weight_decay_start",
                     "conformal_weight", "conformal_scale", mode="after")
    @classmethod
    def _finite(cls, v: float) -> float:
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError("must be finite")
        return v

    @model_validator(mode="after")
    def _recorded_cells_have_their_centres(self) -> TrainConfig:
        if self.place_cell_file is not None and self.place_cell_layout != "random":
            raise ValueError("place_cell_layout: recorded place cells (place_cell_file) "
                             "bring their own centres; leave the layout at 'random'")
        return self

    @model_validator(mode="after")
    def _options_of_the_vanilla_rnn(self) -> TrainConfig:
        if self.recurrent_init == "attractor":
            side = math.isqrt(self.n_hidden)
            if self.cell != "rnn":
                raise ValueError(f"recurrent_init: 'attractor' lays out one rnn's units on "
                                 f"a sheet; cell {self.cell!r} has gate blocks")
            if side * side != self.n_hidden or side % 2 or side < 4:
                raise ValueError(f"n_hidden: recurrent_init='attractor' lays the units on "
                                 f"a square sheet with an even side >= 4 (16, 64, 144, "
                                 f"256, ...); {self.n_hidden} is not the square of one")
        if self.hidden_norm != "none" and self.cell != "rnn":
            raise ValueError(f"hidden_norm: {self.hidden_norm!r} is defined for the rnn "
                             f"cell, not {self.cell!r}")
        if self.conformal_weight > 0 and self.sequence_length < 2:
            raise ValueError("conformal_weight: the term compares consecutive states, so "
                             "sequence_length must be at least 2")
        return self

    @model_validator(mode="after")
    def _weight_decay_schedule(self) -> TrainConfig:
        if self.weight_decay_start == 0:
            return self  # off: the hold and ramp are unused (a preset's schedule is undone
            #              by weight_decay_start=0 alone)
        if self.weight_decay == 0:
            raise ValueError("weight_decay_start: the schedule moves geometrically to "
                             "weight_decay, which must then be > 0")
        if self.weight_decay_ramp_steps < 1:
            raise ValueError("weight_decay_ramp_steps: must be at least 1 when "
                             "weight_decay_start is set (1: a step change)")
        return self

    @model_validator(mode="after")
    def _warmup_within_run(self) -> TrainConfig:
        if self.lr_warmup_steps >= self.steps:
            raise ValueError(f"lr_warmup_steps ({self.lr_warmup_steps}) must be less than "
                             f"steps ({self.steps})")
        return self

    def resolved(self) -> dict[str, Any]:
        return self.model_dump()

    def config_hash(self) -> str:
        """12 hex digits of the resolved config; stable across releases that add fields
        (a field in ``_ADDED_FIELDS`` is left out while it holds its original default)."""
        values = {k: v for k, v in self.resolved().items()
                  if not (k in _ADDED_FIELDS and v == _ADDED_FIELDS[k])}
        text = json.dumps(values, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def run_id(self) -> str:
        return f"{self.cell}-{self.activation}-{self.n_hidden}-{self.place_cell_kind}-" \
               f"s{self.seed}-{self.config_hash()}"

    def same_run(self, other: TrainConfig) -> bool:
        """Equal up to the number of steps and bookkeeping (what a resume may change)."""
        skip = {"steps", "checkpoint_every", "eval_every", "eval_batches"}
        a = {k: v for k, v in self.resolved().items() if k not in skip}
        b = {k: v for k, v in other.resolved().items() if k not in skip}
        return a == b


PRESETS: dict[str, dict[str, Any]] = {
    # docs/theory.md section 1: the public code of Sorscher et al. (2019), meant for a GPU
    "paper": {},
    # the fastest configuration found to give grid cells on a 2-core CPU
    # (docs/demo-recipe.md records what was tried)
    "demo": {
        "n_hidden": 256,
        "batch_size": 100,  # twice the steps of batch 200 in the same minutes: more grids
        "init_input_scale": 512.0,
        # SI velocity input: 50 / 45 / 51% > 0.3 and 23 / 25 / 21% > 0.8 (seeds 0-2)
        # against 48 / 46 / 46% and 22 / 23 / 16% in m/step
        "velocity_units": "m_per_s",
        # constant, as the paper (in m/step it lifted seeds 0-1 from 17% > 0.8 to 22-23%)
        "learning_rate": 1e-3,
        "grad_clip": 1.0,
        # ten times the weight decay for the first 1,500 updates, back to 1e-4 over the next
        # 1,500: the pattern forms at the theory's spacing first, and path integration then
        # widens it less (+17-19% at 6,000 steps over seeds 0-4, against +22-28% at
        # 12,000 steps without), at the same fractions and half the steps
        "weight_decay_start": 1e-3,
        "weight_decay_hold_steps": 1500,
        "weight_decay_ramp_steps": 1500,
        "steps": 6000,
        "checkpoint_every": 2000,
        "eval_batches": 200,  # 400,000 evaluation samples, as before
    },
}


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _format_error(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "config"
        parts.append(f"{loc}: {e['msg']}" + (f" (got {e['input']!r})"
                                              if e.get("type") != "missing" else ""))
    return "invalid training config: " + "; ".join(parts)


def load_config(preset: str = "demo", file: str | Path | None = None,
                overrides: list[str] | None = None, **fields: Any) -> TrainConfig:
    """Preset, then TOML file, then ``key=value`` overrides, then keyword fields."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    values: dict[str, Any] = dict(PRESETS[preset])
    if file is not None:
        path = Path(file)
        if not path.exists():
            raise FileNotFoundError(f"config file not found: {path}")
        try:
            data = tomllib.loads(read_text(path))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path} is not valid TOML: {err}") from None
        values.update(data.get("train", data))
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, _, text = item.partition("=")
        values[key.strip()] = _parse_value(text.strip())
    values.update({k: v for k, v in fields.items() if v is not None})
    try:
        return TrainConfig(**values)
    except ValidationError as err:
        raise ConfigError(_format_error(err)) from None
