"""Which lattice can the recurrent weights carry most cheaply? Freeze the readout and the
encoder at an ideal lattice of a chosen spacing and train only the recurrent weights.

A trained network's grid spacing sits above the theory's 4 pi / (sqrt 3 k*), and the
readout alone does not prefer the theory's lattice (examples/spacing_readout.py). This
asks the recurrent part: for each spacing a (the theory's and the trained network's), it
builds the same population of ideal hexagonal maps at that spacing (one per hidden unit:
the rectified sum of three plane waves; orientations and phases drawn once and shared by
every spacing, amplitude matched to the trained units), and then

- fits the readout to them (softmax cross-entropy against the place code over the whole
  box) and the encoder (least squares from the scaled place code to the maps), and
  freezes both;
- starts the recurrent and velocity weights at the trained network's, the velocity
  weights scaled by trained / a (a lattice a times finer must move that much faster),
  and trains only those two for ``--steps`` updates with the run's own optimiser
  settings and its final weight decay, on the same batches for every spacing.

It then reports, on fresh batches: the data loss; its *floor*, what the frozen readout
pays on the ideal maps at the true positions (a network that carried the lattice perfectly
along every path would pay that); the *path-integration excess*, data loss minus floor;
the weight cost (the final weight decay times the summed squared recurrent weights); the
total; and the spacing and gridness of the maps the network ends with (did the frozen
readout hold the lattice?).

The same is done with paths of one step (``--control``), where the network only has to
place the code it is given and move it once: there path integration cannot favour any
lattice, so the theory's lattice should not lose.

    python examples/spacing_freeze.py RUN_DIR [--steps 3000] [--seeds 0 1] [--control]

Cross-entropies are excess over the place code's own entropy (0 = a perfect readout).
"""

from __future__ import annotations

import argparse
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
from spacing_readout import fit_readout  # the sibling example (run as a script from here)

from gridform.analysis.scores import score_ratemaps
from gridform.core.models import sequence_loss_time_major
from gridform.training.evaluate import active_units, evaluate_params
from gridform.training.task import build_task
from gridform.training.trained import TrainedRun

BINS = 44


def ideal_maps(positions, spacing: float, angles, phases, peak: float):
    """(..., unit) rectified sums of three plane waves 60 degrees apart, scaled to peak at
    ``peak``: a hexagonal lattice of this spacing per unit, at its angle and phase
    (metres). Works on NumPy and JAX arrays of positions (..., 2)."""
    xp = jnp if isinstance(positions, jax.Array) else np
    k = 4 * np.pi / (np.sqrt(3) * spacing)
    out = 0.0
    for j in range(3):
        th = angles + j * np.pi / 3
        kv = k * np.stack([np.cos(th), np.sin(th)], 1)  # (unit, 2)
        out = out + xp.cos(positions @ kv.T - np.sum(kv * phases, 1))
    return xp.maximum(out, 0.0) * (peak / 3.0)  # the sum peaks at 3


def fit_encoder(code: np.ndarray, hidden: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """E minimising |code @ E - hidden|^2 + ridge |E|^2 (the initial state is linear in
    the scaled place code)."""
    a = code.T @ code
    return np.linalg.solve(a + ridge * np.trace(a) / a.shape[0] * np.eye(a.shape[0]),
                           code.T @ hidden).astype(np.float32)


def train_core(task, params: dict, steps: int, seed: int) -> dict:
    """Train only w_rec and w_in with the run's optimiser and its final weight decay
    (``task.objective`` without a step); the batches depend only on ``seed``, so every
    spacing sees the same."""
    frozen = {k: params[k] for k in ("encoder", "decoder")}
    trainable = {k: params[k] for k in ("w_rec", "w_in")}
    tx = task.optimizer
    state = tx.init(trainable)
    key = jax.random.key(10_000 + seed)

    @jax.jit
    def step(tr, state, i):
        batch = task.training_batch(jax.random.fold_in(key, i))
        loss, g = jax.value_and_grad(lambda tr: task.objective(tr | frozen, batch))(tr)
        upd, state = tx.update(g, state, tr)
        return optax.apply_updates(tr, upd), state, loss

    for i in range(steps):
        trainable, state, _ = step(trainable, state, i)
    return trainable | frozen


def held_out_losses(task, params: dict, maps_fn, n_batches: int = 20
                    ) -> tuple[float, float, float]:
    """On fresh batches: (the data cross-entropy, the floor: the same readout's
    cross-entropy on the ideal maps at the true positions, the weight cost). Both
    cross-entropies are minus the targets' entropy."""
    c = task.config

    @jax.jit
    def one(k):
        v, p0, targets, positions = task.batch(k)
        data = sequence_loss_time_major(params, jnp.swapaxes(v, 0, 1), p0,
                                        jnp.swapaxes(targets, 0, 1), c.cell, c.activation,
                                        c.loss, task.matmul_dtype, task.unroll)
        logits = maps_fn(positions) @ params["decoder"]
        floor = -jnp.mean(jnp.sum(targets * jax.nn.log_softmax(logits, -1), -1))
        ent = -jnp.mean(jnp.sum(targets * jnp.log(jnp.clip(targets, 1e-30)), -1))
        return data - ent, floor - ent

    key = jax.random.key(20_000)
    out = np.array([[float(x) for x in one(jax.random.fold_in(key, b))]
                    for b in range(n_batches)])
    data, floor = out.mean(0)
    return float(data), float(floor), float(task.weight_decay_at() *
                                            jnp.sum(params["w_rec"] ** 2))


def lattice_of(task, params: dict) -> tuple[float, float, int]:
    """(median spacing and median score_60 of the units above 0.8, their count)."""
    maps = evaluate_params(task, params, n_batches=50, bins=20).ratemaps
    s = score_ratemaps(maps)
    grid = active_units(maps) & (np.nan_to_num(s.score_60, nan=-9) > 0.8)
    if grid.sum() == 0:
        return float("nan"), float("nan"), 0
    return (float(np.nanmedian(s.spacing_m[grid])), float(np.median(s.score_60[grid])),
            int(grid.sum()))


def _population(seed: int, n: int, box) -> tuple[np.ndarray, np.ndarray]:
    """Orientations (uniform over 60 degrees) and phases (uniform over the box) of the
    ideal units, the same for every spacing."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, np.pi / 3, n),
            rng.uniform([0, 0], [box.width, box.height], (n, 2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--trained-spacing", type=float, default=None, metavar="M",
                    help="the trained lattice's spacing (m); default: the median of the "
                    "run's units above 0.8")
    ap.add_argument("--floor-scan", type=float, nargs="+", default=None, metavar="A",
                    help="only fit the readout to the ideal maps at these spacings (m) and "
                    "print its loss: where the readout alone wants an ideal lattice")
    ap.add_argument("--control", action="store_true",
                    help="also run every spacing with paths of one step")
    args = ap.parse_args()

    trained = TrainedRun.load(args.run)
    config, task, trained_params = trained.config, trained.task, trained.params
    ev = trained.evaluate(n_batches=100, bins=BINS)
    maps = ev.ratemaps
    scores = score_ratemaps(maps)
    act = active_units(maps)
    grid = act & (np.nan_to_num(scores.score_60, nan=-9) > 0.8)
    if args.trained_spacing is None and not grid.any():
        raise SystemExit(f"{args.run} has no unit above 0.8; give --trained-spacing")
    trained = args.trained_spacing or float(np.nanmedian(scores.spacing_m[grid]))
    predicted = float(ev.summary.predicted_spacing_m)
    # the ideal units' peak rate: the trained grid units' median peak
    peak = float(np.median(np.nanmax(maps.rates[grid if grid.any() else act], axis=(1, 2))))
    pos = np.asarray(task.box.grid(BINS, BINS), np.float64)
    code = np.asarray(task.place_cells.encode(jnp.asarray(pos, jnp.float32)), np.float64)
    scaled_code = code * config.init_input_scale
    if args.floor_scan:
        for seed in args.seeds:
            angles, phases = _population(seed, config.n_hidden, task.box)
            for a in args.floor_scan:
                loss = fit_readout(ideal_maps(pos, a, angles, phases, peak), code)[1]
                print(json.dumps({"seed": seed, "spacing_m": a, "readout_fit": loss}),
                      flush=True)
        return
    arms = [("theory", predicted), ("trained", trained)]
    lengths = [config.sequence_length] + ([1] if args.control else [])
    rows = []
    for seed in args.seeds:
        angles, phases = _population(seed, config.n_hidden, task.box)
        for name, spacing in arms:
            h = ideal_maps(pos, spacing, angles, phases, peak)  # (bins^2, unit)
            decoder, fit_loss = fit_readout(h, code)
            encoder = fit_encoder(scaled_code, h)

            maps_fn = functools.partial(ideal_maps, spacing=spacing, angles=angles,
                                        phases=phases, peak=peak)

            for length in lengths:
                t = build_task(config.model_copy(update={"sequence_length": length}))
                start = {"encoder": jnp.asarray(encoder), "decoder": jnp.asarray(decoder),
                         "w_rec": trained_params["w_rec"],
                         "w_in": trained_params["w_in"] * (trained / spacing)}
                params = train_core(t, start, args.steps, seed)
                data, floor, weight = held_out_losses(t, params, maps_fn)
                got, score, n_grid = lattice_of(t, params)
                row = {"seed": seed, "lattice": name, "spacing_m": spacing,
                       "sequence_length": length, "readout_fit": fit_loss, "floor": floor,
                       "data": data,
                       "path_integration": data - floor, "weight_cost": weight,
                       "total": data + weight, "learned_spacing_m": got,
                       "learned_median_score_60": score, "learned_grid_units": n_grid}
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(json.dumps({"run": args.run, "trained_spacing_m": trained,
                      "predicted_spacing_m": predicted, "steps": args.steps,
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
