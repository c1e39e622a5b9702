"""Single-cell pattern-forming dynamics and the energies of candidate patterns."""

from __future__ import annotations

import math

import numpy as np

from gridform.reference import SIGMA_M, SURROUND_SCALE
from gridform.reproduce._common import (
    PAPER,
    TOLERANCE,
    TORUS_M,
    _Context,
    _fmt,
    _hexagonal,
    _median,
    _pattern,
    _scores,
    _shell_resolution,
    _spaced_hexagonal,
)
from gridform.reproduce.claims import Claim


def target_pattern(ctx: _Context) -> list[Claim]:
    """Single-cell dynamics: hexagons under ReLU only, three plane waves whose phases sum
    to zero, and Gaussian targets that follow the box."""
    from gridform.theory.spectrum import predict

    n = 12 if ctx.quick else 32
    steps = 1000 if ctx.quick else 2000
    width, bins = TORUS_M, 60
    where = f"{width} m torus, 60 bins, {n} cells, {steps} steps"
    pred = predict("dos", SIGMA_M, SURROUND_SCALE)
    results = {}
    for nl in ("relu", "tanh", "linear", "nonneg"):
        res = _pattern("dos", nl, n, steps, ctx.seed)
        results[nl] = (res, _scores(res.ratemaps))
    gauss = _pattern("gaussian", "relu", n, steps, ctx.seed, width=width)
    gauss_s = _scores(gauss.ratemaps)
    claims = [*_selection_claims(results, n, where),
              *_geometry_claims(results, gauss_s, pred, ctx.seed, n, where, width, bins),
              *_gaussian_claims(results, gauss, gauss_s, n, where, width)]
    ctx.figure_data["pattern"] = dict(gauss_s=gauss_s, results=results, gauss=gauss, width=width,
                                  steps=steps, n=n)
    return claims


def _selection_claims(results: dict, n: int, where: str) -> list[Claim]:
    """Which dynamics form hexagons, and the hexagon's energy against other patterns."""
    from gridform.theory.energy import pattern_energies

    claims = []

    def frac_hex(sc) -> float:
        return float(np.mean(_hexagonal(sc)))

    frac, f_tanh, f_lin = (frac_hex(results[nl][1]) for nl in ("relu", "tanh", "linear"))
    claims.append(Claim(
        "pattern", f"ReLU (nonnegative) dynamics form hexagonal grids ({where})",
        ">= 80% of maps with score_60 > 0.8", f"{frac:.0%}", frac >= 0.8,
        PAPER + ", nonnegativity selects hexagons", n, "",
        "tanh and linear dynamics (no nonnegativity)", f"tanh {f_tanh:.0%}, linear {f_lin:.0%}",
        f_tanh >= 0.8 or f_lin >= 0.8))

    f_nonneg = frac_hex(results["nonneg"][1])
    claims.append(Claim(
        "pattern", f"the constrained single-cell model (g >= 0, |g| = 1) forms hexagonal "
        f"grids ({where})", ">= 80% of maps with score_60 > 0.8", f"{f_nonneg:.0%}",
        f_nonneg >= 0.8, PAPER + ", the single-cell Lagrangian", n, "",
        "the same model without the constraint (linear dynamics)", f"{f_lin:.0%}",
        f_lin >= 0.8))

    def hexagon_margin(nl: str) -> tuple[float, str]:
        e = pattern_energies(nl)
        best_other = max(v for k_, v in e.energies.items() if k_ != "hexagons")
        return e.energies["hexagons"] - best_other, e.ranking[0]

    margin, first = hexagon_margin("relu")
    margin_t, first_t = hexagon_margin("tanh")
    claims.append(Claim(
        "pattern", "under a ReLU the hexagon is the best of stripes, squares, hexagons and "
        "random ring patterns (the Lagrangian's value, normalised patterns)",
        "hexagons first, by a margin > 0", f"{first} first, margin {margin:+.3f}",
        first == "hexagons" and margin > 0, PAPER + ", pattern selection", 4, "",
        "the same energies under tanh", f"{first_t} first, hexagon margin {margin_t:+.3f}",
        first_t == "hexagons" and margin_t > 0))
    return claims


def _geometry_claims(results: dict, gauss_s, pred, seed: int, n: int, where: str,
                     width: float, bins: int) -> list[Claim]:
    """The hexagons' spacing against the theory, and their triad of plane waves."""
    from gridform.analysis.scores import phase_randomised, triad_phase_sum

    claims = []
    relu_s = results["relu"][1]
    def spacing_error(sc) -> tuple[float, np.ndarray]:
        good = _spaced_hexagonal(sc)
        sp = sc.spacing_m[good]
        return (abs(_median(sp) / pred.grid_spacing_m - 1) if sp.size else float("nan")), sp

    rel, sp = spacing_error(relu_s)
    rel_g, sp_g = spacing_error(gauss_s)
    if not sp_g.size:  # the control's maps are not hexagonal: use all of them
        sp_g = gauss_s.spacing_m[np.isfinite(gauss_s.spacing_m)]
        rel_g = abs(_median(sp_g) / pred.grid_spacing_m - 1) if sp_g.size else float("nan")
    resolution = _shell_resolution(pred.k_star, bins, width)
    claims.append(Claim(
        "pattern", f"their spacing is the theory's 4 pi / (sqrt 3 k*) ({where})",
        f"median within {TOLERANCE:.0%} of {pred.grid_spacing_m:.3f} m; shell resolution "
        f"{100 * resolution:.1f}%", f"{_fmt(_median(sp))} m ({_fmt(100 * rel, '.1f')}%)",
        bool(rel < TOLERANCE) and resolution < TOLERANCE, PAPER + ", grid spacing",
        int(sp.size), f"{_fmt(np.std(sp) if sp.size else float('nan'))} m sd",
        "Gaussian targets, same dynamics", f"{_fmt(_median(sp_g))} m "
        f"({_fmt(100 * rel_g, '.0f')}%)", bool(rel_g < TOLERANCE)))

    hexa = results["relu"][0].ratemaps.rates[_hexagonal(relu_s)]
    triad = np.abs(triad_phase_sum(hexa)) if hexa.size else np.array([np.nan])
    shuffled = np.abs(triad_phase_sum(phase_randomised(hexa, np.random.default_rng(seed)))
                      ) if hexa.size else np.array([np.nan])
    bar = math.pi / 4
    claims.append(Claim(
        "pattern", "a hexagonal map is three plane waves whose phases sum to zero "
        f"(ReLU maps with score_60 > 0.8, {where})",
        f"median |phi1 + phi2 + phi3| < pi/4 ({bar:.2f} rad)",
        f"{_fmt(_median(triad), '.2f')} rad", bool(_median(triad) < bar),
        "Sorscher et al. 2023, phase of the hexagonal triad", int(np.isfinite(triad).sum()),
        f"max {_fmt(np.nanmax(triad), '.2f')} rad", "the same maps with random Fourier phases",
        f"{_fmt(_median(shuffled), '.2f')} rad", bool(_median(shuffled) < bar)))
    return claims


def _gaussian_claims(results: dict, gauss, gauss_s, n: int, where: str,
                     width: float) -> list[Claim]:
    """Gaussian targets: no ring, so the box sets the scale, and squares."""
    claims = []
    relu_s = results["relu"][1]
    k_box = 2 * math.pi / width
    kd, kd_dos = _median(gauss.dominant_k), _median(results["relu"][0].dominant_k)
    claims.append(Claim(
        "pattern", f"Gaussian targets (no ring): the box sets the scale ({where})",
        f"median dominant k within 5% of 2 pi / L = {k_box:.2f} rad/m", f"{kd:.2f} rad/m",
        abs(kd / k_box - 1) < 0.05, PAPER + ", Gaussian targets", n, "",
        "DoS targets, same dynamics", f"{kd_dos:.2f} rad/m", abs(kd_dos / k_box - 1) < 0.05))

    def square_margin(sc) -> float:
        return _median(sc.score_90 - sc.score_60)

    sq, sq_dos = square_margin(gauss_s), square_margin(relu_s)
    claims.append(Claim(
        "pattern", f"Gaussian targets give square patterns ({where})",
        "median score_90 - score_60 > 0", f"{_fmt(sq, '+.2f')}", bool(sq > 0),
        "Sorscher et al. 2023, Gaussian targets", n, "", "DoS targets, same dynamics",
        f"{_fmt(sq_dos, '+.2f')}", bool(sq_dos > 0)))
    return claims
