"""The trained network's modules and the torus of a module's activity."""

from __future__ import annotations

import numpy as np

from gridform.experiments.reproduce._common import _Context, _fmt, _rnn_maps
from gridform.experiments.reproduce.claims import Claim

MIN_GRID_UNITS = 3  # fewer grid units than this: the row is not measured


def target_topology(ctx: _Context) -> list[Claim]:
    """The trained network's grid units: modules, and the torus of a module's activity."""
    from gridform.analysis.scores import null_model
    from gridform.analysis.topology import population_topology, rotated_maps
    from gridform.core.errors import MissingExtraError, require
    from gridform.core.io import write_json
    from gridform.training.runs import RunDir

    try:
        require("ripser", "topology")
        require("sklearn", "topology")
    except MissingExtraError as err:
        return [Claim("topology", "a trained module's activity is a torus",
                      "Betti (1, 2, 1) above a 20-shuffle null", f"not measured: {err}",
                      False, measurable=False)]
    run, _, maps, scores, _ = _rnn_maps(ctx)
    thr = null_model(maps.shape, maps.bin_size, n_maps=300, seed=ctx.seed).threshold(95)
    kw = {"threshold": thr, "n_shuffles": 20, "seed": ctx.seed}
    topo = population_topology(maps, scores=scores, source=str(run), **kw)
    control = population_topology(rotated_maps(maps, np.random.default_rng(ctx.seed)),
                                  phases=False, **kw)
    ctx.figures.mkdir(parents=True, exist_ok=True)
    write_json(ctx.figures / RunDir.TOPOLOGY, topo.to_json())
    ctx.figure_data["topology"] = {"topo": topo}

    def verdict(t) -> str:
        betti = ", ".join(str(tuple(m.betti)) for m in t.modules) or "none"
        return (f"{t.n_modules} module(s) of {len(t.grid_units)} grid units, Betti {betti}, "
                f"orientation sd {_fmt(t.orientation_spread_deg, '.1f')} deg")

    found = any(m.torus for m in topo.modules)
    control_found = any(m.torus for m in control.modules)
    ctx.details["topology"] = {"n_modules": topo.n_modules, "torus": found,
                               "orientation_spread_deg": topo.orientation_spread_deg,
                               "control_torus": control_found}
    def largest_share(t) -> float:
        sizes = [len(m.units) for m in t.modules]
        return max(sizes) / len(t.grid_units) if sizes and len(t.grid_units) else 0.0

    share, share_ctl = largest_share(topo), largest_share(control)
    one_module = Claim(
        "topology", "the grid units form one module (one spacing and orientation)",
        ">= 80% of grid units in the largest module", f"{share:.0%} of "
        f"{len(topo.grid_units)} ({topo.n_modules} modules)", share >= 0.8,
        "Sorscher et al. 2023; Gardner et al. 2022", len(topo.grid_units), "one seed",
        "every map rotated by its own random angle", f"{share_ctl:.0%} of "
        f"{len(control.grid_units)} ({control.n_modules} modules)", share_ctl >= 0.8,
        measurable=len(topo.grid_units) >= MIN_GRID_UNITS,
        control_measurable=len(control.grid_units) >= MIN_GRID_UNITS)
    return [one_module, Claim(
        "topology", "a trained module's activity is a torus",
        f"a module of >= 10 units above the null's 95th percentile ({thr:.2f}) with Betti "
        f"(1, 2, 1) above a 20-shuffle roll null ({maps.shape[0]} x {maps.shape[1]} bins)",
        verdict(topo), found, "Gardner et al. 2022; Sorscher et al. 2023",
        len(topo.grid_units), "one seed", "every map rotated by its own random angle",
        verdict(control), control_found, measurable=len(topo.grid_units) >= MIN_GRID_UNITS,
        control_measurable=len(control.grid_units) >= MIN_GRID_UNITS)]
