"""The claims table: a :class:`Claim` per row, ``claims.csv`` and the printed form."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from gridform.core.io import atomic_path

VERDICTS = ("pass", "fail", "indeterminate", "not measured", "control not measured",
            "does not discriminate", "no control", "not comparable")
"""Every verdict a claim can get; only ``pass`` counts as holding."""


def is_measured(*values: float | None) -> bool:
    """True when every value is a finite number: a measurement that could be made."""
    return all(v is not None and math.isfinite(v) for v in values)


@dataclass(frozen=True)
class Claim:
    """One checked claim: a measurement, a threshold fixed in advance, and a control.

    ``passed`` says whether the measurement meets ``expected``. ``control`` names an input
    on which the paper predicts the opposite; it goes through the same check, and
    ``control_passes`` says whether it met it too (None: no control was run). A claim
    holds only when its measurement passes and its control was measured and fails: see
    :attr:`verdict`. ``n`` counts the seeds, maps or units measured; ``spread`` is their
    standard deviation or interval, as text with its unit.

    ``measurable`` is False when the measurement could not be made (a missing optional
    extra, too few grid units); ``control_measurable`` is False when the control could
    not (its value is NaN, or it could not be run). ``value``, ``bar`` and ``sd`` are the
    measurement, its threshold and one seed standard deviation (or the spread across
    seeds) as numbers, where a row has them: a ``value`` that is NaN is not measured, and
    one within ``sd`` of ``bar`` is ``indeterminate``.
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
    measurable: bool = True
    control_measurable: bool = True
    value: float | None = None
    bar: float | None = None
    sd: float | None = None

    @property
    def indeterminate(self) -> bool:
        """The measurement lies within one standard deviation of its bar:
        ``|value - bar| <= sd``."""
        return (is_measured(self.value, self.bar, self.sd)
                and abs(self.value - self.bar) <= self.sd)

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`, the first that applies:

        - ``not measured``: the measurement could not be made (``measurable`` False, or a
          ``value`` that is NaN);
        - ``not comparable``: an arm of a comparison does not do the task;
        - ``indeterminate``: the measurement is within one ``sd`` of its ``bar``;
        - ``fail``: the measurement misses its bar;
        - ``control not measured``: it passes, but its control could not be measured;
        - ``no control``: it passes and no control was run;
        - ``does not discriminate``: it passes and so does its control;
        - ``pass``: it passes and its control fails. Only ``pass`` counts as holding.
        """
        if not self.measurable or (self.value is not None and not is_measured(self.value)):
            return "not measured"
        if not self.comparable:
            return "not comparable"
        if self.indeterminate:
            return "indeterminate"
        if not self.passed:
            return "fail"
        if not self.control_measurable:
            return "control not measured"
        if self.control_passes is None:
            return "no control"
        return "does not discriminate" if self.control_passes else "pass"

    @property
    def holds(self) -> bool:
        return self.verdict == "pass"


CLAIM_COLUMNS = ("target", "claim", "source", "expected", "measured", "n", "spread",
                 "control", "control_measured", "control_passes", "pass", "verdict",
                 "measurement_passes", "value", "bar", "sd")
"""The columns of ``claims.csv``. ``pass`` is whether the claim holds (its verdict is
``pass``); ``measurement_passes`` whether the measurement alone meets its bar;
``control_passes`` is ``yes``, ``no``, ``not measured`` or empty (no control)."""


def _yes_no(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def _number(v: float | None) -> str:
    return "" if v is None else repr(float(v))


def _write_claims(path: Path, claims: list[Claim]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CLAIM_COLUMNS)
        for c in claims:
            cp = "not measured" if not c.control_measurable else _yes_no(c.control_passes)
            w.writerow([c.target, c.claim, c.source, c.expected, c.measured,
                        "" if c.n is None else c.n, c.spread, c.control, c.control_measured,
                        cp, _yes_no(c.holds), c.verdict, _yes_no(c.passed),
                        _number(c.value), _number(c.bar), _number(c.sd)])


def read_claims(path: str | Path) -> list[Claim]:
    """The claims of a ``claims.csv``, including tables written before claims had
    controls (their rows read as ``no control``) and before the columns
    ``measurement_passes``, ``value``, ``bar`` and ``sd``."""
    def number(r: dict, key: str) -> float | None:
        return float(r[key]) if r.get(key) else None

    def claim(r: dict) -> Claim:
        if "verdict" not in r:  # target, claim, expected, measured, pass
            return Claim(r["target"], r["claim"], r["expected"], r["measured"],
                         r["pass"] == "yes")
        cp, verdict = r["control_passes"], r["verdict"]
        if r.get("measurement_passes"):
            passed = r["measurement_passes"] == "yes"
        else:
            passed = verdict not in ("fail", "not comparable", "not measured")
        return Claim(r["target"], r["claim"], r["expected"], r["measured"], passed,
                     r["source"], int(r["n"]) if r["n"] else None, r["spread"],
                     r["control"], r["control_measured"],
                     None if cp == "" else cp == "yes", verdict != "not comparable",
                     verdict != "not measured", cp != "not measured",
                     number(r, "value"), number(r, "bar"), number(r, "sd"))

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
        if c.indeterminate:
            lines.append(f"{'':<22} band:     {c.value:.3g} is within one sd ({c.sd:.3g}) "
                         f"of the bar {c.bar:.3g}")
        if c.control:
            if not c.control_measurable:
                verdict = "not measured"
            else:
                verdict = {True: "passes too", False: "fails, as it should"}[
                    bool(c.control_passes)]
            lines.append(f"{'':<22} control:  {c.control}: {c.control_measured} ({verdict})")
        else:
            lines.append(f"{'':<22} control:  none")
    return "\n".join(lines)
