"""The scenario file format: frozen pydantic models of `scenarios/*.yaml`.

A scenario is a story told to an audience and measured: the steady state that must
hold before and after, the steps that break something and watch the system react,
the expectations that give the verdict, and the rollback block that always runs.
Every step is a mapping with exactly one key, its kind:

    - inject: {error_rate: 0.2, targets: all}
    - wait_for_alert: {alert: HighErrorRate, state: firing, within: 3m}

Durations are Prometheus-style strings (`30s`, `1m30s`, `500ms`) written in real
time; the runner scales them by the running stack's time scale. `docs/scenarios.md`
is the authoring guide; `sreshow scenario schema` prints the JSON Schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    model_validator,
)

from sreshow.core.durations import DURATION, parse_duration

ALERT_NAMES = ("HighErrorRate", "HighLatency", "PodsDown", "HealthCheckFailing")
FAULT_KINDS = ("error_rate", "latency_seconds", "cpu_burn", "unhealthy", "unready")
BROKEN_RELEASES = ("crash", "unready", "errors")
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


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Targets(_Model):
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


# --- steps -------------------------------------------------------------------------


class Inject(_Model):
    """Faults to set through the admin API of the targeted replicas."""

    error_rate: float | None = Field(default=None, ge=0, le=1)
    latency_seconds: float | None = Field(default=None, ge=0, le=30)
    cpu_burn: float | None = Field(default=None, ge=0, le=1)
    unhealthy: bool | None = None
    unready: bool | None = None
    targets: TargetsField = Targets(all=True)

    @model_validator(mode="after")
    def _some_fault(self) -> Inject:
        if not self.faults():
            raise ValueError(f"no fault given (set at least one of {', '.join(FAULT_KINDS)})")
        return self

    def faults(self) -> dict[str, float | bool]:
        """The fault settings as the admin API takes them."""
        values = {kind: getattr(self, kind) for kind in FAULT_KINDS}
        return {kind: value for kind, value in values.items() if value is not None}


class ClearFaults(_Model):
    """Clear every fault on every replica."""


class Load(_Model):
    """Start steady load through the Service (replacing load already running)."""

    rps: float = Field(gt=0, le=500)
    path: str = Field(default="/api/data", pattern=r"^/[A-Za-z0-9/_.-]*$")
    duration: Seconds | None = None  # default: until stop_load or the end of the run


class StopLoad(_Model):
    """Stop the load."""


class Kill(_Model):
    """Kill replicas: through the disruption budget (an eviction), or `force`d."""

    count: int | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    percent: float | None = Field(default=None, gt=0, le=100)
    force: bool = False

    @model_validator(mode="after")
    def _count_or_percent(self) -> Kill:
        if (self.count is None) == (self.percent is None):
            given = (
                "both count and percent" if self.count is not None else "neither count nor percent"
            )
            raise ValueError(f"{given} given (give either count, like 1, or percent, like 50)")
        return self

    def targets(self) -> Targets:
        return Targets(count=self.count, percent=self.percent)


class Deploy(_Model):
    """Roll out a version; `broken` makes it a bad release."""

    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")
    broken: Literal["crash", "unready", "errors"] | None = None


class Rollback(_Model):
    """Roll back to the previous revision, or to `revision`."""

    revision: int | None = Field(default=None, ge=1)


class Scale(_Model):
    """Set the replica count by hand (0 takes the service down)."""

    replicas: int = Field(ge=0, le=MAX_REPLICAS)


class WaitForAlert(_Model):
    """Wait until an alert is pending, firing or resolved (fired, then inactive)."""

    alert: AlertName
    state: Literal["pending", "firing", "resolved"]
    within: Seconds


class WaitForNotification(_Model):
    """Wait until a notification about an alert is delivered (to Slack or the sink)."""

    alert: AlertName
    status: Literal["firing", "resolved"] = "firing"
    within: Seconds


CONDITIONS = ("replicas_ready", "autoscaler_desired_at_least", "rollout", "service", "promql")


def _replicas_or_all(value: object) -> object:
    """`all` or a replica count, refused in one message rather than one per union branch."""
    if value is None or value == "all":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_REPLICAS:
        return value
    raise ValueError(
        f"{value!r} is not a replica count (write a number from 0 to {MAX_REPLICAS}, or all)"
    )


def _alerts_or_all(value: object) -> object:
    """`all` or a list of alert names, refused in one message rather than one per branch."""
    if value == "all":
        return value
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(
            f"{value!r} is not a list of alerts (write all, or a list like [HighErrorRate])"
        )
    for name in value:
        if name not in ALERT_NAMES:
            raise ValueError(f"unknown alert {name!r} (use all, or {', '.join(ALERT_NAMES)})")
    return value


class Condition(_Model):
    """Exactly one observable condition."""

    replicas_ready: Annotated[int | Literal["all"] | None, BeforeValidator(_replicas_or_all)] = None
    autoscaler_desired_at_least: int | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    rollout: Literal["complete", "progressing", "stalled"] | None = None
    service: Literal["healthy"] | None = None  # as clients see it (see docs/scenarios.md)
    promql: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name in CONDITIONS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"{len(given)} conditions given{': ' if given else ''}{', '.join(given)} "
                f"(name exactly one of {', '.join(CONDITIONS)})"
            )
        return self


class WaitFor(Condition):
    """Wait until a condition holds."""

    within: Seconds


class Pause(_Model):
    """Wait for the presenter to press Enter (skipped with --auto or without a terminal)."""

    prompt: str = Field(default="Press Enter to go on", max_length=500)


def _step_kind(value: object) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    if isinstance(value, BaseModel):
        return step_kind(value)
    return None


Narration = Annotated[str, Field(min_length=1, max_length=500)]


class InjectStep(_Model):
    """Inject faults."""

    inject: Inject


class ClearFaultsStep(_Model):
    """Clear every fault."""

    clear_faults: ClearFaults


class LoadStep(_Model):
    """Start load."""

    load: Load


class StopLoadStep(_Model):
    """Stop the load."""

    stop_load: StopLoad


class KillStep(_Model):
    """Kill replicas."""

    kill: Kill


class DeployStep(_Model):
    """Deploy a version."""

    deploy: Deploy


class RollbackStep(_Model):
    """Roll back."""

    rollback: Rollback


class ScaleStep(_Model):
    """Scale by hand."""

    scale: Scale


class WaitForAlertStep(_Model):
    """Wait for an alert state."""

    wait_for_alert: WaitForAlert


class WaitForNotificationStep(_Model):
    """Wait for a notification."""

    wait_for_notification: WaitForNotification


class WaitForStep(_Model):
    """Wait for a condition."""

    wait_for: WaitFor


class SleepStep(_Model):
    """Wait a fixed time (scaled)."""

    sleep: Seconds


class NarrateStep(_Model):
    """Say something to the audience."""

    narrate: Narration


class PauseStep(_Model):
    """Wait for the presenter."""

    pause: Pause


STEP_KINDS = (
    "inject",
    "clear_faults",
    "load",
    "stop_load",
    "kill",
    "deploy",
    "rollback",
    "scale",
    "wait_for_alert",
    "wait_for_notification",
    "wait_for",
    "sleep",
    "narrate",
    "pause",
)

Step = Annotated[
    Annotated[InjectStep, Tag("inject")]
    | Annotated[ClearFaultsStep, Tag("clear_faults")]
    | Annotated[LoadStep, Tag("load")]
    | Annotated[StopLoadStep, Tag("stop_load")]
    | Annotated[KillStep, Tag("kill")]
    | Annotated[DeployStep, Tag("deploy")]
    | Annotated[RollbackStep, Tag("rollback")]
    | Annotated[ScaleStep, Tag("scale")]
    | Annotated[WaitForAlertStep, Tag("wait_for_alert")]
    | Annotated[WaitForNotificationStep, Tag("wait_for_notification")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[SleepStep, Tag("sleep")]
    | Annotated[NarrateStep, Tag("narrate")]
    | Annotated[PauseStep, Tag("pause")],
    Discriminator(
        _step_kind,
        custom_error_type="unknown_step",
        custom_error_message=f"a step is a mapping with one key, its kind: {', '.join(STEP_KINDS)}",
    ),
]


def step_kind(step: BaseModel) -> str:
    """The kind of a parsed step (its one field's name)."""
    return next(iter(type(step).model_fields))


def step_body(step: BaseModel) -> Any:
    """What a parsed step holds (its one field's value)."""
    return getattr(step, step_kind(step))


# --- steady state and expectations ---------------------------------------------------


class SteadyState(_Model):
    """Checks that must hold before the steps and again after the rollback."""

    within: Seconds = 60.0  # how long to wait for them to hold (scaled)
    checks: tuple[Condition | AlertsInactive, ...] = ()


class AlertsInactive(_Model):
    alerts_inactive: Annotated[
        tuple[AlertName, ...] | Literal["all"], BeforeValidator(_alerts_or_all)
    ]


class AlertExpectation(_Model):
    """What one alert must do: fire (and be delivered, and resolve) in time, or never."""

    alert: AlertName
    firing_within: Seconds | None = None
    notified_within: Seconds | None = None
    resolved_within: Seconds | None = None
    never_fires: bool = False

    @model_validator(mode="after")
    def _something_to_check(self) -> AlertExpectation:
        timed = (self.firing_within, self.notified_within, self.resolved_within)
        if self.never_fires and any(t is not None for t in timed):
            raise ValueError(
                "never_fires goes with no timings (remove never_fires, or firing_within, "
                "notified_within and resolved_within)"
            )
        if not self.never_fires and all(t is None for t in timed):
            raise ValueError(
                "nothing to check (say what the alert must do: firing_within, notified_within, "
                "resolved_within or never_fires: true)"
            )
        return self


class BudgetExpectation(_Model):
    max_error_budget_burn: Fraction = Field(ge=0)


class RecoveryExpectation(_Model):
    recovered_within: Seconds


class RtoExpectation(_Model):
    rto_within: Seconds


Expectation = AlertExpectation | BudgetExpectation | RecoveryExpectation | RtoExpectation


class Slo(_Model):
    """The objective the error budget is measured against."""

    objective: Fraction = Field(default=0.999, gt=0, lt=1)
    window: Seconds = 30 * 24 * 3600.0


class ScenarioSpec(_Model):
    """One scenario file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    summary: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    slo: Slo = Slo()
    steady_state: SteadyState = SteadyState()
    steps: tuple[Step, ...] = Field(min_length=1, max_length=200)
    expectations: tuple[Expectation, ...] = ()
    rollback: tuple[Step, ...] = Field(default=(), max_length=200)
