"""Where does the readout alone want the lattice? Dilate a trained network's hidden maps
and refit only its readout.

A trained network's grid spacing sits above the theory's 4 pi / (sqrt 3 k*). The theory
asks only that the hidden maps be decodable into the place code; the recurrent weights
must also carry the pattern along the path. This separates the two: it takes the trained
hidden maps h(x), scales them about the box centre by a factor f (h_f(x) = h(c + (x - c)/f),
so every lattice spacing becomes f times the trained one), refits the linear readout from
scratch for each f (softmax cross-entropy against the run's own place code, as in
training; no recurrence involved), and reports the loss the best readout reaches.

If the loss is lowest near f = predicted / trained spacing, the readout alone prefers the
theory's lattice and the widening comes from path integration; if it is lowest at f = 1,
the readout itself prefers the trained lattice.

    python examples/spacing_readout.py RUN_DIR [--bins 44] [--factors 0.8 0.85 ...]
        [--units active|grid]

Only the central square where every factor's source point lies inside the box is scored,
so no factor is judged on extrapolated maps.
"""

from __future__ import annotations

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np
import scipy.ndimage as ndi
import scipy.optimize as opt

from gridform.analysis.scores import score_ratemaps
from gridform.training.evaluate import active_units
from gridform.training.trained import TrainedRun


def dilate(rates: np.ndarray, f: float) -> np.ndarray:
    """(cell, y, x) maps scaled by ``f`` about the centre (bilinear, edges held)."""
    n_y, n_x = rates.shape[1:]
    y, x = np.meshgrid(np.arange(n_y), np.arange(n_x), indexing="ij")
    cy, cx = (n_y - 1) / 2, (n_x - 1) / 2
    coords = [cy + (y - cy) / f, cx + (x - cx) / f]
    return np.stack([ndi.map_coordinates(r, coords, order=1, mode="nearest") for r in rates])


def fit_readout(hidden: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, float]:
    """The readout D minimising the mean softmax cross-entropy of hidden @ D against
    targets, and that minimum minus the targets' own entropy (0 = a perfect readout)."""
    h, t = jnp.asarray(hidden, jnp.float32), jnp.asarray(targets, jnp.float32)
    shape = (h.shape[1], t.shape[1])

    @jax.jit
    def value_grad(d):
        def loss(d):
            return -jnp.mean(jnp.sum(t * jax.nn.log_softmax(h @ d.reshape(shape), -1), -1))
        v, g = jax.value_and_grad(loss)(d)
        return v, g

    def fun(d):
        v, g = value_grad(jnp.asarray(d, jnp.float32))
        return float(v), np.asarray(g, np.float64)

    res = opt.minimize(fun, np.zeros(shape[0] * shape[1]), jac=True, method="L-BFGS-B",
                       options={"maxiter": 3000})
    entropy = -np.mean(np.sum(targets * np.log(np.clip(targets, 1e-30, None)), -1))
    return res.x.reshape(shape).astype(np.float32), float(res.fun - entropy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--bins", type=int, default=44)
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--factors", type=float, nargs="+",
                    default=[0.80, 0.85, 0.90, 0.95, 1.00, 1.05, 1.10])
    ap.add_argument("--units", choices=["active", "grid"], default="active",
                    help="read out every active unit, or only those with score_60 > 0.8")
    args = ap.parse_args()

    trained = TrainedRun.load(args.run)
    task = trained.task
    ev = trained.evaluate(n_batches=args.batches, bins=args.bins)
    maps = ev.ratemaps
    act = active_units(maps)
    scores = score_ratemaps(maps)
    grid = act & (np.nan_to_num(scores.score_60, nan=-9) > 0.8) & np.isfinite(scores.spacing_m)
    rates = np.nan_to_num(maps.rates[grid if args.units == "grid" else act])
    trained = float(np.median(scores.spacing_m[grid]))
    predicted = ev.summary.predicted_spacing_m
    pos = task.box.grid(args.bins, args.bins)  # (bins * bins, 2), rows y-major
    targets = np.asarray(task.place_cells.encode(pos), np.float64)
    # the central square where c + (x - c)/f stays inside the box for every factor
    n = args.bins
    half = (n - 1) / 2 * min(1.0, min(args.factors))
    idx = np.arange(n)
    inside = np.abs(idx - (n - 1) / 2) <= half
    keep = (inside[:, None] & inside[None, :]).ravel()
    rows = []
    for f in args.factors:
        h = dilate(rates, f).reshape(rates.shape[0], -1).T[keep]
        loss = fit_readout(h, targets[keep])[1]
        rows.append({"factor": f, "spacing_m": f * trained, "excess_ce": loss})
        print(f"f = {f:.2f}: lattice {f * trained:.3f} m, best readout's excess "
              f"cross-entropy {loss:.4f} nats", flush=True)
    best = min(rows, key=lambda r: r["excess_ce"])
    print(json.dumps({"run": args.run, "trained_spacing_m": trained,
                      "predicted_spacing_m": predicted, "theory_factor": predicted / trained,
                      "best_factor": best["factor"], "units": args.units,
                      "n_units": int(rates.shape[0]),
                      "n_grid_units": int(grid.sum()), "scored_bins": int(keep.sum()),
                      "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
