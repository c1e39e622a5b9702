"""One-layer models of the place code: nonnegative (NMF) against PCA."""

from __future__ import annotations

import math

from gridform.reference import SIGMA_M, SURROUND_SCALE
from gridform.reproduce._common import (
    PAPER,
    TOLERANCE,
    _Context,
    _fmt,
    _median,
    _scores,
    _spaced_hexagonal,
)
from gridform.reproduce.claims import Claim, is_measured


def target_one_layer(ctx: _Context) -> list[Claim]:
    """One-layer models of the place code: nonnegative (NMF) against PCA."""
    import jax

    from gridform.environment import Box
    from gridform.place_cells import PlaceCells
    from gridform.theory.one_layer import nmf_maps, pca_maps
    from gridform.theory.spectrum import predict

    # centres on a lattice: the even coverage the theory's translation-invariant Sigma
    # assumes (random centres pin nonnegative maps to their clumps; see one_layer)
    box = Box(2.2, 2.2, "walls")
    k, bins = 16, 32

    def compare(kind: str):
        pc = PlaceCells.lattice(576, box, kind=kind, sigma=SIGMA_M, surround_scale=SURROUND_SCALE)
        pca = pca_maps(pc, k, bins)
        nmf = nmf_maps(pc, jax.random.key(ctx.seed + 1), k, bins, 1000)
        s_pca, s_nmf = _scores(pca), _scores(nmf)
        return pc, pca, nmf, s_pca, s_nmf, _median(s_nmf.score_60), _median(s_pca.score_60)

    pc, pca, nmf, s_pca, s_nmf, m_nmf, m_pca = compare("dos")
    *_, g_nmf, g_pca = compare("gaussian")
    pred_sp = predict("dos", SIGMA_M, SURROUND_SCALE).grid_spacing_m
    g_sc = _scores(nmf_maps(PlaceCells.lattice(576, box, kind="gaussian", sigma=SIGMA_M),
                            jax.random.key(ctx.seed + 1), k, bins, 1000))

    def nmf_spacing(sc) -> tuple[float, int]:
        good = _spaced_hexagonal(sc, 0.3)
        return _median(sc.spacing_m[good]), int(good.sum())

    sp_nmf, n_sp = nmf_spacing(s_nmf)
    sp_g, n_g = nmf_spacing(g_sc)
    rel = abs(sp_nmf / pred_sp - 1) if math.isfinite(sp_nmf) else float("nan")
    rel_g = abs(sp_g / pred_sp - 1) if math.isfinite(sp_g) else float("nan")
    spacing_claim = Claim(
        "one-layer", f"NMF maps have the theory's spacing (576 lattice DoS cells, 2.2 m "
        f"walled box, {k} components, {bins} bins)", f"median spacing of maps with "
        f"score_60 > 0.3 within {TOLERANCE:.0%} of {pred_sp:.3f} m",
        f"{_fmt(sp_nmf)} m ({_fmt(100 * rel, '.1f')}%, {n_sp} maps)", bool(rel < TOLERANCE),
        "Dordek et al. 2016; " + PAPER, n_sp, "", "NMF of Gaussian cells",
        f"{_fmt(sp_g)} m ({_fmt(100 * rel_g, '.0f')}%, {n_g} maps)", bool(rel_g < TOLERANCE),
        measurable=n_sp >= 3, control_measurable=n_g >= 3)
    claims = [Claim("one-layer", "a nonnegative one-layer model (NMF) is more hexagonal "
                    f"than PCA (576 lattice DoS cells, 2.2 m walled box, {k} components, "
                    f"{bins} bins)", "median score_60 of NMF >= PCA's + 0.3",
                    f"NMF {m_nmf:.2f} vs PCA {m_pca:.2f}", m_nmf >= m_pca + 0.3,
                    "Dordek et al. 2016; " + PAPER, k, "", "Gaussian cells (no ring), same "
                    "models", f"NMF {g_nmf:.2f} vs PCA {g_pca:.2f}", g_nmf >= g_pca + 0.3,
                    measurable=is_measured(m_nmf, m_pca),
                    control_measurable=is_measured(g_nmf, g_pca)),
              spacing_claim]
    ctx.figure_data["one-layer"] = dict(nmf=nmf, s_nmf=s_nmf, pca=pca, s_pca=s_pca, k=k, pc=pc)
    return claims
