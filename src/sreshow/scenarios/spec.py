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

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from demo_app.faults import FAULT_KINDS, FaultPatch
from sreshow.scenarios.values import (
    ALERT_NAMES,
    MAX_REPLICAS,
    AlertName,
    Fraction,
    Model,
    Seconds,
    Targets,
    TargetsField,
)

__all__ = ["ALERT_NAMES", "MAX_REPLICAS", "AlertName", "Targets"]

MAX_INJECTED_LATENCY_SECONDS = 30.0

# --- steps -------------------------------------------------------------------------


class Inject(FaultPatch):
    """Faults to set through the admin API of the targeted replicas: the app's own
    `FaultPatch`, plus which replicas take it."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False, allow_inf_nan=False)

    # Tighter than the app allows: longer, and the clients' own timeouts answer instead.
    latency_seconds: Annotated[float, Field(ge=0, le=MAX_INJECTED_LATENCY_SECONDS)] | None = None
    targets: TargetsField = Targets(all=True)

    @model_validator(mode="after")
    def _some_fault(self) -> Inject:
        if not self.changes():
            raise ValueError(f"no fault given (set at least one of {', '.join(FAULT_KINDS)})")
        return self

    def patch(self) -> FaultPatch:
        """The faults alone, as the platform sets them."""
        return FaultPatch.model_validate(self.changes())


class ClearFaults(Model):
    """Clear every fault on every replica."""


class Load(Model):
    """Start steady load through the Service (replacing load already running)."""

    rps: float = Field(gt=0, le=500)
    path: str = Field(default="/api/data", pattern=r"^/[A-Za-z0-9/_.-]*$")
    duration: Seconds | None = None  # default: until stop_load or the end of the run


class StopLoad(Model):
    """Stop the load."""


class Kill(Model):
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


class Deploy(Model):
    """Roll out a version; `broken` makes it a bad release."""

    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._+-]+$")
    broken: Literal["crash", "unready", "errors"] | None = None


class Rollback(Model):
    """Roll back to the previous revision, or to `revision`."""

    revision: int | None = Field(default=None, ge=1)


class Scale(Model):
    """Set the replica count by hand (0 takes the service down)."""

    replicas: int = Field(ge=0, le=MAX_REPLICAS)


class WaitForAlert(Model):
    """Wait until an alert is pending, firing or resolved (fired, then inactive)."""

    alert: AlertName
    state: Literal["pending", "firing", "resolved"]
    within: Seconds


class WaitForNotification(Model):
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


class Condition(Model):
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


class Pause(Model):
    """Wait for the presenter to press Enter (skipped with --auto or without a terminal)."""

    prompt: str = Field(default="Press Enter to go on", max_length=500)


def _step_kind(value: object) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value)))
    if isinstance(value, BaseModel):
        return step_kind(value)
    return None


Narration = Annotated[str, Field(min_length=1, max_length=500)]


class InjectStep(Model):
    """Inject faults."""

    inject: Inject


class ClearFaultsStep(Model):
    """Clear every fault."""

    clear_faults: ClearFaults


class LoadStep(Model):
    """Start load."""

    load: Load


class StopLoadStep(Model):
    """Stop the load."""

    stop_load: StopLoad


class KillStep(Model):
    """Kill replicas."""

    kill: Kill


class DeployStep(Model):
    """Deploy a version."""

    deploy: Deploy


class RollbackStep(Model):
    """Roll back."""

    rollback: Rollback


class ScaleStep(Model):
    """Scale by hand."""

    scale: Scale


class WaitForAlertStep(Model):
    """Wait for an alert state."""

    wait_for_alert: WaitForAlert


class WaitForNotificationStep(Model):
    """Wait for a notification."""

    wait_for_notification: WaitForNotification


class WaitForStep(Model):
    """Wait for a condition."""

    wait_for: WaitFor


class SleepStep(Model):
    """Wait a fixed time (scaled)."""

    sleep: Seconds


class NarrateStep(Model):
    """Say something to the audience."""

    narrate: Narration


class PauseStep(Model):
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


class SteadyState(Model):
    """Checks that must hold before the steps and again after the rollback."""

    within: Seconds = 60.0  # how long to wait for them to hold (scaled)
    checks: tuple[Condition | AlertsInactive, ...] = ()


class AlertsInactive(Model):
    alerts_inactive: Annotated[
        tuple[AlertName, ...] | Literal["all"], BeforeValidator(_alerts_or_all)
    ]


class AlertExpectation(Model):
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


class BudgetExpectation(Model):
    max_error_budget_burn: Fraction = Field(ge=0)


class RecoveryExpectation(Model):
    recovered_within: Seconds


class RtoExpectation(Model):
    rto_within: Seconds


Expectation = AlertExpectation | BudgetExpectation | RecoveryExpectation | RtoExpectation


class Slo(Model):
    """The objective the error budget is measured against."""

    objective: Fraction = Field(default=0.999, gt=0, lt=1)
    window: Seconds = 30 * 24 * 3600.0


class ScenarioSpec(Model):
    """One scenario file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    summary: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    slo: Slo = Slo()
    steady_state: SteadyState = SteadyState()
    steps: tuple[Step, ...] = Field(min_length=1, max_length=200)
    expectations: tuple[Expectation, ...] = ()
    rollback: tuple[Step, ...] = Field(default=(), max_length=200)
