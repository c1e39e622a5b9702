"""The claims table: a :class:`Claim` per row, ``claims.csv`` and the printed form."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from gridform._io import atomic_path


@dataclass(frozen=True)
class Claim:
    """One checked claim: a measurement, a threshold fixed in advance, and a control.

    ``passed`` says whether the measurement meets ``expected``. ``control`` names an input
    on which the paper predicts the opposite; it goes through the same check, and
    ``control_passes`` says whether it met it too (None: no control was run). A claim
    holds only when its measurement passes and its control fails: see :attr:`verdict`.
    ``n`` counts the seeds, maps or units measured; ``spread`` is their standard
    deviation or interval, as text with its unit.
    """

    target: str
    claim: str
    expected: str
    measured: str
    passed: bool
    source: str = ""
    n: int | None = None
    spread: str = ""
    control: str = ""
    control_measured: str = ""
    control_passes: bool | None = None
    comparable: bool = True

    @property
    def verdict(self) -> str:
        """``pass``, ``fail``, ``not comparable`` (an arm of a comparison does not do the
        task), ``does not discriminate`` (the control passes too) or ``no control``; only
        ``pass`` counts as holding."""
        if not self.comparable:
            return "not comparable"
        if not self.passed:
            return "fail"
        if self.control_passes is None:
            return "no control"
        return "does not discriminate" if self.control_passes else "pass"

    @property
    def holds(self) -> bool:
        return self.verdict == "pass"


CLAIM_COLUMNS = ("target", "claim", "source", "expected", "measured", "n", "spread",
                 "control", "control_measured", "control_passes", "pass", "verdict")


def _yes_no(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def _write_claims(path: Path, claims: list[Claim]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CLAIM_COLUMNS)
        for c in claims:
            w.writerow([c.target, c.claim, c.source, c.expected, c.measured,
                        "" if c.n is None else c.n, c.spread, c.control, c.control_measured,
                        _yes_no(c.control_passes), _yes_no(c.holds), c.verdict])


def read_claims(path: str | Path) -> list[Claim]:
    """The claims of a ``claims.csv``, including tables written before claims had
    controls (their rows read as ``no control``)."""
    def claim(r: dict) -> Claim:
        if "verdict" not in r:  # target, claim, expected, measured, pass
            return Claim(r["target"], r["claim"], r["expected"], r["measured"],
                         r["pass"] == "yes")
        cp = r["control_passes"]
        return Claim(r["target"], r["claim"], r["expected"], r["measured"],
                     r["verdict"] not in ("fail", "not comparable"), r["source"],
                     int(r["n"]) if r["n"] else None, r["spread"], r["control"],
                     r["control_measured"], None if cp == "" else cp == "yes",
                     r["verdict"] != "not comparable")

    with open(path, newline="") as f:
        return [claim(r) for r in csv.DictReader(f)]


def format_claims(claims: list[Claim]) -> str:
    """The printed table, one block per claim, nothing cut: the verdict, the claim, what
    was expected, what was measured (with n and spread) and what the control gave."""
    lines = []
    for c in claims:
        extra = ", ".join(x for x in ((f"n = {c.n}" if c.n else ""), c.spread) if x)
        lines.append(f"{c.verdict.upper():<22} [{c.target}] {c.claim}")
        lines.append(f"{'':<22} expected: {c.expected}")
        lines.append(f"{'':<22} measured: {c.measured}" + (f" ({extra})" if extra else ""))
        if c.control:
            verdict = {True: "passes too", False: "fails, as it should"}[bool(c.control_passes)]
            lines.append(f"{'':<22} control:  {c.control}: {c.control_measured} ({verdict})")
        else:
            lines.append(f"{'':<22} control:  none")
    return "\n".join(lines)
