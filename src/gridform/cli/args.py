"""Argument types shared by the command-line modules: each refuses a bad value with a
message that names what was expected, before anything runs."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["above_minus_one", "count", "fraction_below_half", "non_negative", "positive",
           "probability"]


def positive(kind: type = float) -> Callable[[str], float]:
    """A finite number > 0 of ``kind`` (float or int)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive and finite, got {text!r}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def count(minimum: int = 0) -> Callable[[str], int]:
    """An integer >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def non_negative(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be finite and >= 0, got {text!r}")
    return value


def above_minus_one(text: str) -> float:
    """A finite number > -1 (a relative change)."""
    value = _number(text)
    if not math.isfinite(value) or value <= -1:
        raise argparse.ArgumentTypeError(f"must be finite and > -1, got {text!r}")
    return value


def probability(text: str) -> float:
    """A number strictly between 0 and 1."""
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text!r}")
    return value


def fraction_below_half(text: str) -> float:
    """A number in [0, 0.5): a fraction of the box left at each wall."""
    value = _number(text)
    if not 0 <= value < 0.5:
        raise argparse.ArgumentTypeError(f"must lie in [0, 0.5), got {text!r}")
    return value


def add_spacing_law_args(p: argparse.ArgumentParser, *, what: str) -> None:
    """``--step-cost``, ``--offset`` and ``--exponent``: the terms of the corrected spacing
    law (docs/spacing.md), shared by the commands that print a corrected spacing."""
    p.add_argument("--step-cost", type=non_negative, default=None, metavar="W",
                   help="weight of the path-integration step cost (k l)^p of the corrected "
                        f"law (docs/spacing.md); with it or --offset {what}")
    p.add_argument("--offset", type=above_minus_one, default=None, metavar="C",
                   help="the corrected law's speed-independent relative widening")
    p.add_argument("--exponent", type=positive(), default=4.0, metavar="P",
                   help="the step cost's power p")


def spacing_correction(args: argparse.Namespace):
    """The :class:`~gridform.theory.spectrum.SpacingCorrection` the arguments of
    :func:`add_spacing_law_args` name, or None when neither term is given."""
    if args.step_cost is None and args.offset is None:
        return None
    from gridform.theory.spectrum import SpacingCorrection

    return SpacingCorrection(args.step_cost or 0.0, args.offset or 0.0, args.exponent)
