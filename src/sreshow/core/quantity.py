"""Kubernetes resource quantities ("50m", "100Mi", "0.05", "1e3"), exactly."""

from __future__ import annotations

import math
import re
from fractions import Fraction

_QUANTITY = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?")
_SUFFIXES: dict[str, Fraction] = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    **{s: Fraction(10 ** (3 * (i + 1))) for i, s in enumerate("kMGTPE")},
    **{f"{s}i": Fraction(2 ** (10 * (i + 1))) for i, s in enumerate("KMGTPE")},
}


def parse_quantity(value: str | float) -> Fraction:
    """A Kubernetes quantity ("50m", "100Mi", "0.05", "1e3", 2), exactly."""
    match = _QUANTITY.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 50m, 0.5, 100Mi, 1G)")
    number, suffix = match.group(1), match.group(2) or ""
    if suffix[:1] in {"e", "E"} and len(suffix) > 1:
        return Fraction(number) * Fraction(10) ** int(suffix[1:])
    return Fraction(number) * _SUFFIXES[suffix]


def milli_value(value: str | float) -> int:
    """A quantity in milli-units, rounded up. upstream: Quantity.MilliValue."""
    return math.ceil(parse_quantity(value) * 1000)
