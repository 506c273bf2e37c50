"""One run's timeline of events, and the metrics derived from it.

Every observation of a run (a fault injected, a pod gone, an alert firing, a Slack
message delivered) is a `TimelineEvent`: `t` seconds since the run started (when it
happened), a `kind` (`EventKind`) and JSON-able details. Some events are seen after
they happened and dated back (an SLI change from the clients' answers, a notification
from its delivery, an autoscaler decision from its log): those also carry `seen_t`,
when the run saw them, which is the order a live view tells them in. `run_metrics()`
reads a run's events and says how fast the system noticed, told someone and healed.
Times are measured on the stack's own clock; `RunMetrics.real_time()` gives the
real-time equivalents.

Disruptions: `fault_injected`, `pod_killed`, `deployed`, and `scaled` to fewer
replicas than before. Remediations: `faults_cleared`, `rolled_back`, and `scaled` to
more replicas than before. Events are sorted by `t` first (stable, so events at the
same `t` keep their order). With `alerts` given, only those alerts count; otherwise
every alert does.

    disruption_at      `t` of the first disruption. Without one, the four time
                       metrics are None (nothing was disrupted).
    time_to_detect     first `alert_firing` at t >= disruption_at, minus
                       disruption_at. None: not detected.
    time_to_notify     first `notification_delivered` with status firing at
                       t >= disruption_at naming one of the alerts (any, when no
                       alerts are given), minus disruption_at. None: not notified.
    recovery_from      the first remediation at t >= disruption_at; without one,
                       disruption_at (the system healed itself, e.g. a killed pod
                       was replaced).
    recovered_at       the latest of: for every alert that fired at
                       t >= disruption_at, the first `alert_resolved` after its last
                       firing; if the service went unhealthy at t >= disruption_at,
                       the first `service_healthy` after the last
                       `service_unhealthy`; and, if the replicas went short at
                       t >= disruption_at, the first `replicas_whole` after the last
                       `replicas_short`. None if one is missing (not recovered) or
                       if no alert fired, the service never went unhealthy and the
                       replicas never went short (nothing to recover from).
    time_to_recover    max(0, recovered_at - recovery_from).
    rto                0.0 if the service never went unhealthy at
                       t >= disruption_at; otherwise the first `service_healthy`
                       after the last `service_unhealthy`, minus disruption_at.
                       None: never healthy again (or nothing was disrupted).
    error_budget_burned  see `sreshow.core.slo`; None without budget inputs or
                       without requests.

Why a metric is None is kept in `RunMetrics.reasons`, for reports to say so.
Events with missing or odd details are ignored where they cannot count; they never
make the metrics fail.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sreshow.core.slo import BudgetInputs, check_time_scale, error_budget_burned

NOT_AVAILABLE = "—"
LATE_SECONDS = 0.5  # an event seen later than this after it happened says when it happened


class EventKind(StrEnum):
    """Every kind of timeline event, with the details each carries."""

    # what the run did to the system
    FAULT_INJECTED = "fault_injected"  # pods, faults
    FAULTS_CLEARED = "faults_cleared"  # pods
    POD_KILLED = "pod_killed"  # pod, force
    DEPLOYED = "deployed"  # version, revision, broken
    ROLLED_BACK = "rolled_back"  # revision
    SCALED = "scaled"  # previous, replicas
    LOAD_STARTED = "load_started"  # rps, path
    LOAD_STOPPED = "load_stopped"
    REPLICAS_RESTORED = "replicas_restored"  # previous, replicas; tidying up, not a disruption
    LEFT_TO_AUTOSCALER = "left_to_autoscaler"  # replicas, to; it grew them, it scales them in
    # what the system did
    AUTOSCALED = "autoscaled"  # previous, desired
    POD_STARTED = "pod_started"  # pod, version
    POD_READY = "pod_ready"  # pod
    POD_UNREADY = "pod_unready"  # pod
    POD_GONE = "pod_gone"  # pod
    POD_RESTARTED = "pod_restarted"  # pod, restarts; its liveness probe failed too often
    REPLICAS_SHORT = "replicas_short"  # ready, desired; fewer ready than wanted
    REPLICAS_WHOLE = "replicas_whole"  # ready, desired; every wanted replica ready again
    EVICTION_REFUSED = "eviction_refused"  # pod, reason; the disruption budget said no
    ROLLOUT_COMPLETE = "rollout_complete"  # revision
    ROLLOUT_STALLED = "rollout_stalled"  # revision; no progress within the deadline
    ALERT_PENDING = "alert_pending"  # alert
    ALERT_FIRING = "alert_firing"  # alert
    ALERT_RESOLVED = "alert_resolved"  # alert; was firing, now inactive
    ALERT_INACTIVE = "alert_inactive"  # alert; was only pending
    NOTIFICATION_DELIVERED = "notification_delivered"  # status (firing|resolved), alerts
    SLI_BREACHED = "sli_breached"  # sli, value
    SLI_RECOVERED = "sli_recovered"  # sli, value
    SERVICE_UNHEALTHY = "service_unhealthy"  # reason
    SERVICE_HEALTHY = "service_healthy"
    # bookkeeping of the run itself; the metrics ignore these
    RUN_STARTED = "run_started"
    STEP_STARTED = "step_started"
    STEP_PASSED = "step_passed"
    STEP_FAILED = "step_failed"
    NARRATION = "narration"
    ROLLBACK_STARTED = "rollback_started"
    STEADY_STATE_CHECKED = "steady_state_checked"
    RUN_FINISHED = "run_finished"
    INTERRUPTED = "interrupted"
    RESTORE_FAILED = "restore_failed"  # action, reason
    OBSERVATION_FAILED = "observation_failed"  # reason


_RESERVED_KEYS = ("t", "kind", "seen_t")


@dataclass(frozen=True)
class TimelineEvent:
    """Something that happened `t` seconds after the run started (and was seen at
    `seen_t`, when known)."""

    t: float
    kind: EventKind
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-able values
    seen_t: float | None = None

    def __post_init__(self) -> None:
        _check_time("t", self.t)
        if self.seen_t is not None:
            _check_time("seen_t", self.seen_t)
        # mypy holds code to EventKind; a kind read from a file is checked here, and a
        # plain string of a known kind becomes its member (equal, and written the same).
        object.__setattr__(self, "kind", _event_kind(self.kind))
        clashing = [key for key in _RESERVED_KEYS if key in self.details]
        if clashing:
            raise ValueError(f"event details cannot be named {', '.join(clashing)}")
        # A read-only copy: the caller's dict may change, the event may not.
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @property
    def shown_t(self) -> float:
        """When the run saw it: where a live line puts it."""
        return self.t if self.seen_t is None else self.seen_t

    @property
    def dated_back(self) -> bool:
        """Seen more than `LATE_SECONDS` after it happened (its sentence says when)."""
        return self.shown_t - self.t > LATE_SECONDS

    def as_json(self) -> dict[str, Any]:
        """`{"t": <rounded to ms>, "kind": ..., **details}`, as the journal stores it,
        with `seen_t` too when it was dated back."""
        late = {"seen_t": round(self.shown_t, 3)} if self.dated_back else {}
        return {"t": round(self.t, 3), "kind": self.kind.value, **self.details, **late}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TimelineEvent:
        """The event `as_json()` wrote; ValueError if `t` or `kind` is missing or odd, or
        the kind is not an `EventKind`."""
        t, kind, seen_t = data.get("t"), data.get("kind"), data.get("seen_t")
        if isinstance(t, bool) or not isinstance(t, int | float) or not isinstance(kind, str):
            raise ValueError(
                f"a timeline event needs a number `t` and a string `kind`, got t={t!r}, "
                f"kind={kind!r}"
            )
        details = {key: value for key, value in data.items() if key not in _RESERVED_KEYS}
        return cls(float(t), _event_kind(kind), details, None if seen_t is None else float(seen_t))


def _event_kind(kind: str) -> EventKind:
    try:
        return EventKind(kind)
    except ValueError:
        raise ValueError(
            f"unknown timeline event kind {kind!r}; the kinds are sreshow.core.timeline.EventKind"
        ) from None


def _check_time(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a timeline event's {name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"a timeline event's {name} must be finite, not {value!r}")


@dataclass(frozen=True)
class RunMetrics:
    """What `run_metrics()` derived; None where it does not apply (see `reasons`)."""

    time_to_detect_s: float | None
    time_to_notify_s: float | None
    time_to_recover_s: float | None
    rto_s: float | None
    error_budget_burned: float | None
    # Why a metric is None, by its contract key: "not detected", "never recovered: ..."
    reasons: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, float | None]:
        """The five keys of the journal's `metrics` contract."""
        return {
            "time_to_detect_s": self.time_to_detect_s,
            "time_to_notify_s": self.time_to_notify_s,
            "time_to_recover_s": self.time_to_recover_s,
            "rto_s": self.rto_s,
            "error_budget_burned": self.error_budget_burned,
        }

    def real_time(self, time_scale: float) -> dict[str, float | None]:
        """`as_json()` with every duration in real-time seconds; the budget share as is."""
        check_time_scale(time_scale)
        values = self.as_json()
        return {
            key: value if value is None or key == "error_budget_burned" else value / time_scale
            for key, value in values.items()
        }


def sort_events(events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
    """The events in time order; events at the same `t` keep their given order."""
    return sorted(events, key=lambda event: event.t)


def is_disruption(event: TimelineEvent) -> bool:
    """A fault injected, a pod killed, a version deployed, or a scale-down."""
    if event.kind in (EventKind.FAULT_INJECTED, EventKind.POD_KILLED, EventKind.DEPLOYED):
        return True
    change = _scale_change(event)
    return change is not None and change < 0


def is_remediation(event: TimelineEvent) -> bool:
    """Faults cleared, a rollback, or a scale-up."""
    if event.kind in (EventKind.FAULTS_CLEARED, EventKind.ROLLED_BACK):
        return True
    change = _scale_change(event)
    return change is not None and change > 0


def alert_name(event: TimelineEvent) -> str | None:
    """The `alert` an alert event is about; None if it names none."""
    name = event.details.get("alert")
    return name if isinstance(name, str) and name else None


def notified_alerts(event: TimelineEvent) -> tuple[str, ...]:
    """The alert names a `notification_delivered` event lists (a lone string counts)."""
    names = event.details.get("alerts")
    if isinstance(names, str):
        return (names,) if names else ()
    if isinstance(names, list | tuple):
        return tuple(name for name in names if isinstance(name, str) and name)
    return ()


def is_firing_notification(event: TimelineEvent) -> bool:
    """A `notification_delivered` event with status firing."""
    return (
        event.kind == EventKind.NOTIFICATION_DELIVERED and event.details.get("status") == "firing"
    )


def first_disruption(events: Sequence[TimelineEvent]) -> float | None:
    """`t` of the earliest disruption, or None."""
    times = [event.t for event in events if is_disruption(event)]
    return min(times) if times else None


def run_metrics(
    events: Sequence[TimelineEvent],
    *,
    alerts: Collection[str] = (),
    budget: BudgetInputs | None = None,
) -> RunMetrics:
    """Detect, notify, recover, RTO and budget burned for one run; see the module doc."""
    reasons: dict[str, str] = {}
    burned = error_budget_burned(budget) if budget is not None else None
    if burned is None:
        reasons["error_budget_burned"] = (
            "nothing was measured: no request counts"
            if budget is None
            else "nothing was measured: no requests"
        )

    ordered = sort_events(events)
    disruption_at = first_disruption(ordered)
    if disruption_at is None:
        for key in ("time_to_detect_s", "time_to_notify_s", "time_to_recover_s", "rto_s"):
            reasons[key] = "nothing was disrupted"
        return RunMetrics(None, None, None, None, burned, MappingProxyType(reasons))

    after = [event for event in ordered if event.t >= disruption_at]
    wanted = frozenset(alerts)

    detect = _since(
        disruption_at,
        next((e for e in after if _firing_alert(e, wanted) is not None), None),
    )
    if detect is None:
        reasons["time_to_detect_s"] = "not detected: " + _no_alert_fired(wanted)

    notify = _since(
        disruption_at,
        next(
            (
                e
                for e in after
                if is_firing_notification(e)
                and (not wanted or wanted.intersection(notified_alerts(e)))
            ),
            None,
        ),
    )
    if notify is None:
        reasons["time_to_notify_s"] = "not notified: no firing notification was delivered"

    recovered_at, not_recovered = _recovered_at(after, wanted)
    if recovered_at is None:
        reasons["time_to_recover_s"] = not_recovered
        recover = None
    else:
        remediation = next((e for e in after if is_remediation(e)), None)
        recovery_from = remediation.t if remediation is not None else disruption_at
        recover = max(0.0, recovered_at - recovery_from)

    rto = _rto(after, disruption_at)
    if rto is None:
        reasons["rto_s"] = "the service never became healthy again"

    return RunMetrics(detect, notify, recover, rto, burned, MappingProxyType(reasons))


def real_time_equivalent(seconds: float, time_scale: float) -> float:
    """`seconds` on a stack running at `time_scale` as real-time seconds."""
    check_time_scale(time_scale)
    return seconds / time_scale


def format_band(earliest_s: float | None, latest_s: float | None) -> str:
    """A span for people: `11.6 s to 15.6 s`, `1m 05s to 1m 34s`; a missing end as `—`."""
    return f"{format_seconds(earliest_s)} to {format_seconds(latest_s)}"


def format_seconds(seconds: float | None) -> str:
    """A duration for people: `10.9 s`, `18 s`, `3m`, `2m 05s`, `1h 00m 05s`; None → `—`.

    Under a minute: tenths of a second (a whole number without `.0`); from a minute
    on: whole seconds, trailing zero parts left out.
    """
    if seconds is None or not math.isfinite(seconds):
        return NOT_AVAILABLE
    sign = "-" if seconds < 0 else ""
    size = abs(seconds)
    tenths = math.floor(size * 10 + 0.5)  # half up: 0.05 s reads 0.1 s, not 0 s
    if tenths < 600:
        if tenths == 0:
            return "0 s"
        whole, tenth = divmod(tenths, 10)
        return f"{sign}{whole}{f'.{tenth}' if tenth else ''} s"
    hours, rest = divmod(math.floor(size + 0.5), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    while parts[-1][0] == 0:
        parts.pop()
    if hours == 0:
        parts = parts[1:]
    text = " ".join(
        f"{count}{unit}" if index == 0 else f"{count:02d}{unit}"
        for index, (count, unit) in enumerate(parts)
    )
    return sign + text


def _since(start: float, event: TimelineEvent | None) -> float | None:
    return None if event is None else event.t - start


def _scale_change(event: TimelineEvent) -> float | None:
    if event.kind != EventKind.SCALED:
        return None
    previous = _number(event.details.get("previous"))
    replicas = _number(event.details.get("replicas"))
    if previous is None or replicas is None:
        return None
    return replicas - previous


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _no_alert_fired(wanted: Collection[str]) -> str:
    if not wanted:
        return "no alert fired"
    return f"{', '.join(sorted(wanted))} never fired"


def _firing_alert(event: TimelineEvent, wanted: Collection[str]) -> str | None:
    """The alert an `alert_firing` event names, if it is one that counts."""
    name = alert_name(event) if event.kind == EventKind.ALERT_FIRING else None
    return name if name is not None and (not wanted or name in wanted) else None


def _recovered_at(
    after: Sequence[TimelineEvent], wanted: Collection[str]
) -> tuple[float | None, str]:
    """When every alert that fired had resolved and the service was healthy, or why not."""
    last_firing: dict[str, int] = {}
    for index, event in enumerate(after):
        name = _firing_alert(event, wanted)
        if name is not None:
            last_firing[name] = index
    unhealthy = [i for i, e in enumerate(after) if e.kind == EventKind.SERVICE_UNHEALTHY]
    short = [i for i, e in enumerate(after) if e.kind == EventKind.REPLICAS_SHORT]
    if not last_firing and not unhealthy and not short:
        return None, (
            "nothing to recover from: no alert fired, the service stayed healthy "
            "and every replica stayed ready"
        )

    ends: list[float] = []
    still_firing: list[str] = []
    for name, index in last_firing.items():
        resolved = next(
            (
                e
                for e in after[index + 1 :]
                if e.kind == EventKind.ALERT_RESOLVED and alert_name(e) == name
            ),
            None,
        )
        if resolved is None:
            still_firing.append(name)
        else:
            ends.append(resolved.t)
    if still_firing:
        return None, f"never recovered: {', '.join(sorted(still_firing))} never resolved"
    if unhealthy:
        healthy = _healthy_after(after, unhealthy[-1])
        if healthy is None:
            return None, "never recovered: the service never became healthy again"
        ends.append(healthy.t)
    if short:
        whole = _first_after(after, short[-1], EventKind.REPLICAS_WHOLE)
        if whole is None:
            return None, "never recovered: the replicas were never all ready again"
        ends.append(whole.t)
    return max(ends), ""


def _healthy_after(after: Sequence[TimelineEvent], index: int) -> TimelineEvent | None:
    return _first_after(after, index, EventKind.SERVICE_HEALTHY)


def _first_after(
    after: Sequence[TimelineEvent], index: int, kind: EventKind
) -> TimelineEvent | None:
    return next((e for e in after[index + 1 :] if e.kind == kind), None)


def _rto(after: Sequence[TimelineEvent], disruption_at: float) -> float | None:
    unhealthy = [i for i, e in enumerate(after) if e.kind == EventKind.SERVICE_UNHEALTHY]
    if not unhealthy:
        return 0.0
    healthy = _healthy_after(after, unhealthy[-1])
    return None if healthy is None else healthy.t - disruption_at
