"""Fitting the corrected spacing law of :func:`gridform.theory.spectrum.predict` to
measured spacings (docs/spacing.md).

The law, as :func:`gridform.theory.spectrum.corrected_spacing` computes it: the ring of the
place-cell code, pulled in by the cost of updating the pattern along the path in discrete
steps.

The plain theory picks the wavenumber ``k*`` where the code's tuning spectrum ``P(k)``
peaks. A recurrent network must also move its pattern by ``v dt`` every step. An update
that is linear in the velocity carries out the first-order part of that translation:
for a plane wave ``exp(i k.x)`` it writes ``1 + i k.v dt`` where the exact shift is
``exp(i k.v dt)``. What it misses has squared size ``(k.v dt)^4 / 4`` to leading order,
so the pattern's objective per unit power becomes

    E(k) = P(k) / P(k*) - weight * (k l)^4,

with ``l = <|v dt|^4>^(1/4)`` the step length that enters a quartic cost (for Rayleigh
speeds of scale ``b``: ``<v^4> = 8 b^4``, so ``l = 8^(1/4) b dt``; the direction
average ``<cos^4> = 3/8`` and the ``1/4`` go into ``weight``). The corrected ring
``k_c`` maximises ``E``; ``k_c = k*`` when ``weight = 0`` or ``l = 0``, and ``k_c < k*``
otherwise, so the corrected spacing is wider.

``offset`` is a second, phenomenological term: a speed-independent relative widening,
``spacing = grid_spacing(k_c) * (1 + offset)``. It has no derivation; it measures how
much of the gap the step cost leaves unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize as opt

from gridform.theory.spectrum import SpacingCorrection, corrected_spacing


@dataclass(frozen=True)
class LawFit:
    """A law fitted on some rows: the correction and the relative errors it leaves."""

    correction: SpacingCorrection
    relative_errors: np.ndarray  # (corrected - measured) / measured on the fitted rows
    free: tuple[str, ...]


def fit_spacing_law(sigma, surround_scale, step_m, measured, free=("weight", "offset"),
                    kind: str = "dos", exponent: float = 4.0) -> LawFit:
    """Fit the free terms of :class:`SpacingCorrection` (any of ``weight``, ``offset``,
    ``exponent``) to measured spacings (m) by least squares on the relative error; weight
    and offset not in ``free`` stay 0, and the exponent stays ``exponent``."""
    sigma, s, step, meas = (np.asarray(a, float) for a in (sigma, surround_scale, step_m,
                                                            measured))
    if not (sigma.shape == s.shape == step.shape == meas.shape) or sigma.ndim != 1:
        raise ValueError("sigma, surround_scale, step_m and measured must be 1-D and of "
                         "one length")
    ok = np.isfinite(meas)
    if ok.sum() < len(free) + 1:
        raise ValueError(f"{int(ok.sum())} measured spacings cannot fit {len(free)} free "
                         "terms: more rows are needed")
    unknown = set(free) - {"weight", "offset", "exponent"}
    if unknown:
        raise ValueError(f"unknown free term(s) {sorted(unknown)}; use weight, offset and "
                         "exponent")

    def correction(x) -> SpacingCorrection:
        d = dict(zip(free, x, strict=True))
        # the weight is fitted on a log scale: it spans decades and must stay >= 0
        return SpacingCorrection(weight=float(np.exp(d["weight"])) if "weight" in d else 0.0,
                                 offset=float(d.get("offset", 0.0)),
                                 exponent=float(d.get("exponent", exponent)))

    def residuals(x):
        c = correction(x)
        pred = np.array([corrected_spacing(kind, a, b, c_, c) for a, b, c_ in
                         zip(sigma[ok], s[ok], step[ok], strict=True)])
        return pred / meas[ok] - 1

    bounds = {"weight": (-25.0, 25.0), "offset": (-0.9, 9.0), "exponent": (0.5, 8.0)}
    lo, hi = zip(*(bounds[f] for f in free), strict=True)
    best = None
    for w0 in (-4.0, 0.0, 4.0, 8.0):  # the cost's scale is unknown: start at several
        x0 = [{"weight": w0, "offset": 0.0, "exponent": exponent}[f] for f in free]
        r = opt.least_squares(residuals, x0, bounds=(lo, hi), method="trf", diff_step=1e-4)
        if best is None or r.cost < best.cost:
            best = r
    return LawFit(correction(best.x), residuals(best.x), tuple(free))
