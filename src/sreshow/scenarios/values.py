"""The value types of scenario files: durations, shares, alert names, replica targets.

Each parses what a person writes (`30s`, `5%`, `all`, `50%`) and refuses anything
else with a message that says what to write instead; each also gives the JSON Schema
editors check against.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from sreshow.core.durations import DURATION, parse_duration

ALERT_NAMES = ("HighErrorRate", "HighLatency", "PodsDown", "HealthCheckFailing")
MAX_REPLICAS = 10
_PERCENT_RE = re.compile(r"^(\d+(?:\.\d+)?)%$")


def _seconds(value: object) -> float:
    """`30s` → 30.0; anything else is refused with the fix."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f"{value!r} is a bare number, not a duration (write it with its unit, like {value}s)"
        )
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration (write it like 30s, 2m or 1m30s)")
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(f"{text!r} is negative (write a positive duration like 30s or 2m)")
    try:
        milliseconds = parse_duration(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a duration (write a whole number and a unit: ms, s, m, h or d, "
            "like 30s, 2m or 1m30s)"
        ) from None
    if milliseconds == 0:
        raise ValueError(f"{text!r} is no time at all (write a duration longer than 0s, like 30s)")
    return milliseconds / 1000


def _fraction(value: object) -> float:
    """`5%` or 0.05 → 0.05."""
    if isinstance(value, str):
        match = _PERCENT_RE.match(value.strip())
        if match:
            return float(match[1]) / 100
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"{value!r} is not a percentage (write it like 5% or 0.05)")


Seconds = Annotated[
    float,
    BeforeValidator(_seconds),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{DURATION}$", "examples": ["30s", "2m", "1m30s"]}
    ),
]
Fraction = Annotated[
    float,
    BeforeValidator(_fraction),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\d+(\.\d+)?%$"},
                {"type": "number", "minimum": 0, "maximum": 1},
            ],
            "examples": ["5%", 0.05],
        }
    ),
]
AlertName = Literal["HighErrorRate", "HighLatency", "PodsDown", "HealthCheckFailing"]


class Model(BaseModel):
    """Every scenario model: frozen, and no key it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Targets(Model):
    """Which replicas a step touches: all of them, a count, or a share of them."""

    all: bool = False
    count: int | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    percent: float | None = Field(default=None, gt=0, le=100)

    def pick(self, replicas: int) -> int:
        """How many of `replicas` to touch (at least one when there is one)."""
        if self.all:
            return replicas
        if self.count is not None:
            return min(self.count, replicas)
        share = (self.percent or 100) / 100
        return min(replicas, max(1, round(replicas * share))) if replicas else 0

    def describe(self) -> str:
        if self.all:
            return "every replica"
        if self.count is not None:
            return f"{self.count} replica{'s' if self.count != 1 else ''}"
        return f"{self.percent:g}% of the replicas"


def _targets(value: object) -> object:
    """`all`, `2` or `50%` in the file → Targets."""
    if isinstance(value, Targets | dict):
        return value
    if value == "all":
        return {"all": True}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"count": value}
    if isinstance(value, str) and (match := _PERCENT_RE.match(value.strip())):
        return {"percent": float(match[1])}
    raise ValueError(
        f"{value!r} is not a target (write all, a replica count like 1, or a share like 50%)"
    )


TargetsField = Annotated[
    Targets,
    BeforeValidator(_targets),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "all"},
                {"type": "integer", "minimum": 1, "maximum": MAX_REPLICAS},
                {"type": "string", "pattern": r"^\d+(\.\d+)?%$"},
            ]
        }
    ),
]
