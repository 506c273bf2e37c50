"""Prometheus-style durations (`1m30s`, `1500ms`) to milliseconds and back."""

from __future__ import annotations

import re

_UNITS_MS = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
# The grammar Prometheus and Alertmanager accept: units in this order, each at most once.
DURATION = r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?(?:\d+ms)?"
_DURATION_RE = re.compile(rf"^(?=\d)({DURATION})$")
_PART_RE = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
# Units used when writing a duration back: days and below, never weeks or years.
_WRITE_UNITS = (("d", _UNITS_MS["d"]), ("h", _UNITS_MS["h"]), ("m", _UNITS_MS["m"]), ("s", 1000))


def parse_duration(text: str) -> int:
    """Milliseconds in a Prometheus duration; ValueError if `text` is not one."""
    if not _DURATION_RE.match(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(number) * _UNITS_MS[unit] for number, unit in _PART_RE.findall(text))


def format_duration(milliseconds: int) -> str:
    """The shortest Prometheus duration for `milliseconds`: `1m30s`, `1500ms`, `0s`.

    Sub-second values are written whole in milliseconds (`1500ms`): promtool and
    amtool reject fractions such as `1.5s`.
    """
    if milliseconds < 0:
        raise ValueError(f"a duration cannot be negative: {milliseconds} ms")
    if milliseconds == 0:
        return "0s"
    if milliseconds % 1000:
        return f"{milliseconds}ms"
    parts = []
    rest = milliseconds
    for unit, size in _WRITE_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
