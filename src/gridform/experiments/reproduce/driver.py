"""Runs the targets and writes ``claims.csv``, ``reproduce.json`` and the figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gridform.experiments.reproduce._common import _Context
from gridform.experiments.reproduce.attractor import target_attractor
from gridform.experiments.reproduce.claims import Claim, _write_claims
from gridform.experiments.reproduce.conditions import target_conditions
from gridform.experiments.reproduce.mechanism import target_mechanism
from gridform.experiments.reproduce.multicell import target_multicell
from gridform.experiments.reproduce.one_layer import target_one_layer
from gridform.experiments.reproduce.pattern import target_pattern
from gridform.experiments.reproduce.rnn import target_rnn
from gridform.experiments.reproduce.spacing_distance import target_spacing_distance
from gridform.experiments.reproduce.spacing_law import target_spacing_law
from gridform.experiments.reproduce.spectrum import target_spectrum
from gridform.experiments.reproduce.topology import target_topology

TARGETS = ("spectrum", "pattern", "multicell", "one-layer", "rnn", "conditions", "mechanism",
           "topology", "attractor")

# targets that run only when named: each trains a sweep of its own
EXTRA_TARGETS = ("spacing-law", "spacing-distance")


TARGET_FUNCTIONS: dict[str, Callable[[_Context], list[Claim]]] = {
    "spectrum": target_spectrum,
    "pattern": target_pattern,
    "multicell": target_multicell,
    "one-layer": target_one_layer,
    "rnn": target_rnn,
    "conditions": target_conditions,
    "mechanism": target_mechanism,
    "topology": target_topology,
    "attractor": target_attractor,
    "spacing-law": target_spacing_law,
    "spacing-distance": target_spacing_distance,
}


def resolve_targets(names: list[str] | None) -> list[str]:
    """Targets in their canonical order; ``all`` (or nothing) means every target of
    :data:`TARGETS`; those of :data:`EXTRA_TARGETS` run only when named."""
    names = list(names or ["all"])
    known = (*TARGETS, *EXTRA_TARGETS)
    unknown = [n for n in names if n != "all" and n not in known]
    if unknown:
        raise ValueError(f"unknown target(s) {unknown}; choose from {list(known)} or all")
    # rnn first: the spacing-vs-sigma panel of spectrum then shows the trained network
    order = ("rnn", *tuple(t for t in TARGETS if t != "rnn"))
    return ([t for t in order if "all" in names or t in names]
            + [t for t in EXTRA_TARGETS if t in names])


def reproduce(targets: list[str] | None, out: str | Path, quick: bool = True,
              run_dir: str | Path | None = None, seed: int = 0,
              progress: bool = False,
              draw: Callable[[str, dict[str, Any], Path], None] | None = None) -> list[Claim]:
    """Run the targets; write ``OUT/claims.csv`` and ``OUT/reproduce.json``.

    The targets compute; they draw nothing. ``draw(name, data, OUT/figures)``, when given,
    receives each target's figure data as soon as the target is done
    (:func:`gridform.presentation.figures.save_target_figure` writes the figures; the command
    line passes it).
    """
    from gridform.core.io import write_json
    from gridform.training.runs import RunDir

    names = resolve_targets(targets)
    run = None if run_dir is None else Path(run_dir)
    if run is not None and not RunDir(run).has_run():
        raise FileNotFoundError(f"--run {run} holds no training run (no {RunDir.CONFIG})")
    ctx = _Context(Path(out), quick, run, seed, progress, targets=tuple(names))
    ctx.out.mkdir(parents=True, exist_ok=True)
    claims: list[Claim] = []
    timings = {}
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name}", flush=True)
        t = time.perf_counter()
        claims.extend(TARGET_FUNCTIONS[name](ctx))
        timings[name] = time.perf_counter() - t
        if draw is not None and name in ctx.figure_data:
            draw(name, ctx.figure_data.pop(name), ctx.figures)
        _write_claims(ctx.out / "claims.csv", claims)
    write_json(ctx.out / "reproduce.json", {
        "targets": names, "quick": quick, "seed": seed, "seconds": timings,
        "run": None if "rnn_run" not in ctx.details else str(ctx.details["rnn_run"][0]),
        "details": {k: v for k, v in ctx.details.items()
                    if k not in ("rnn_run", "rnn_maps", "rnn_trained", "control_runs",
                                 "attractor_runs")},
        "claims": [asdict(c) | {"verdict": c.verdict} for c in claims]})
    return claims
