"""Multi-cell (Sanger) pattern dynamics: hexagonal maps at several scales."""

from __future__ import annotations

import itertools

import numpy as np

from gridform.reproduce._common import (
    PAPER,
    TOLERANCE,
    _Context,
    _hexagonal,
    _pattern,
    _scores,
)
from gridform.reproduce.claims import Claim


def target_multicell(ctx: _Context) -> list[Claim]:
    """Multi-cell (Sanger) dynamics: a hierarchy of hexagonal maps at several scales."""
    from gridform.theory.spectrum import grid_spacing

    n = 32 if ctx.quick else 64
    steps = 1500 if ctx.quick else 3000
    where = f"2.2 m torus, 44 bins, {n} cells, {steps} steps"

    def scales(nonlinearity: str):
        res = _pattern("dos", nonlinearity, n, steps, ctx.seed, width=2.2, bins=44,
                       cells="multi")
        hexa = _hexagonal(_scores(res.ratemaps)) & np.isfinite(res.dominant_k)
        k = np.sort(res.dominant_k[hexa])
        distinct: list[float] = []
        for v in k:  # spacings more than the 10% tolerance apart are distinct
            if not distinct or v > distinct[-1] * (1 + TOLERANCE):
                distinct.append(float(v))
        return res, sorted((grid_spacing(v) for v in distinct if v > 0), reverse=True), \
            int(hexa.sum())

    res, spacings, n_hex = scales("relu")
    _, lin_spacings, lin_hex = scales("linear")
    ratios = [a / b for a, b in itertools.pairwise(spacings)]
    claims = [Claim(
        "multicell", f"the multi-cell ReLU dynamics form hexagonal maps at several scales "
        f"({where})", f">= 3 spacings more than {TOLERANCE:.0%} apart among maps with "
        "score_60 > 0.8", f"{len(spacings)} ({', '.join(f'{s:.2f}' for s in spacings[:6])} m) "
        f"among {n_hex} hexagonal maps", len(spacings) >= 3,
        PAPER + ", multiple modules", n, "ratios " + ", ".join(f"{r:.2f}" for r in ratios[:5]),
        "linear multi-cell dynamics", f"{len(lin_spacings)} among {lin_hex} hexagonal maps",
        len(lin_spacings) >= 3)]
    sc = _scores(res.ratemaps)
    ctx.figure_data["multicell"] = dict(sc=sc, res=res, n=n, ratios=ratios)
    ctx.details["multicell"] = {"spacings_m": spacings, "ratios": ratios}
    return claims
