"""Does the loss set the grid spacing? A one-layer nonnegative readout model, CE vs MSE.

Trained RNNs put their grid spacing 20-25% above the theory's 4 pi / (sqrt(3) k*)
(docs/demo-recipe.md). The theory is derived for a squared-error readout; the networks
are trained with softmax cross-entropy. This example removes the recurrence and keeps the
rest: ``n`` nonnegative spatial maps ``G = relu(A)`` (each scaled to unit RMS), a free
linear readout ``W`` to the place-cell code ``P`` of the demo (512 random DoS cells,
sigma 0.12 m, s = 2, 2.2 m walled box, 32 x 32 bins), both fitted by Adam, once with
softmax cross-entropy against ``P`` and once with squared error against the centred code.

    python examples/one_layer_loss.py [--steps 3000] [--units 32] [--seed 0]

It prints, for each loss, the median grid score and the median spacing of the maps.
"""

from __future__ import annotations

import argparse
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

import gridform as gf
from gridform.theory import predict
from gridform.theory.one_layer import place_code_matrix


def fit(P: jax.Array, loss: str, units: int, steps: int, key: jax.Array) -> np.ndarray:
    """Maps (positions, units) of the one-layer model fitted with ``loss``."""
    ka, kw = jax.random.split(key)
    params = {"A": jax.random.uniform(ka, (P.shape[0], units)),
              "W": 0.01 * jax.random.normal(kw, (units, P.shape[1]))}
    target = (P - P.mean(0, keepdims=True)) * P.shape[1]  # centred, entries of order 1

    def maps(p):
        g = jax.nn.relu(p["A"])
        return g / (jnp.sqrt(jnp.mean(g**2, 0, keepdims=True)) + 1e-9)

    def objective(p):
        z = maps(p) @ p["W"]
        if loss == "cross_entropy":
            return -jnp.mean(jnp.sum(P * jax.nn.log_softmax(z, -1), -1))
        return jnp.mean(jnp.sum((target - z) ** 2, -1))

    opt = optax.adam(3e-3)

    @jax.jit
    def step(p, s):
        g = jax.grad(objective)(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    state = opt.init(params)
    for _ in range(steps):
        params, state = step(params, state)
    return np.asarray(maps(params))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--units", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    box, bins = gf.Box(2.2, 2.2, "walls"), 32
    pc = gf.PlaceCells.random(jax.random.key(a.seed), 512, box, kind="dos", sigma=0.12,
                              surround_scale=2.0)
    P = jnp.asarray(place_code_matrix(pc, bins), jnp.float32)
    x, y = box.bin_centers(bins, bins)
    print(f"predicted spacing {predict('dos', 0.12, 2.0).grid_spacing_m:.3f} m")
    for loss in ("cross_entropy", "mse"):
        G = fit(P, loss, a.units, a.steps, jax.random.key(a.seed + 1))
        maps = gf.Ratemaps(G.T.reshape(-1, bins, bins), np.ones((bins, bins)), x, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = gf.score_ratemaps(maps)
        print(f"{loss:>13}: median score_60 {np.nanmedian(s.score_60):.2f}, "
              f"{np.mean(s.score_60 > 0.3):.0%} above 0.3, median spacing "
              f"{np.nanmedian(s.spacing_m):.3f} m")


if __name__ == "__main__":
    main()
