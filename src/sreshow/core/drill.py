"""An RTO drill's phases and verdict, read from what the drill measured.

A drill breaks the service on purpose, restores it, and says how long the outage
lasted (the RTO, from the break until the clients see a healthy service again) and
where that time went. For `app` and `config`, the phases come from the run's timeline:

    detect    the break (the first disruption) → the drill's alert firing after it
    respond   that alert → the remediation (a rollback, a scale-up, faults cleared)
    restore   the remediation → the service healthy again as clients see it (or, if
              they never saw it unhealthy, every replica ready again)

A `full` drill times its teardown and rebuild directly and hands them in as phases.
A drill passes when the RTO is at most the target scaled by the stack's time scale
(the same rule as a scenario's `rto_within`); when it misses, the slowest phase is
the one to name: it is where the time went.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sreshow.core.timeline import (
    EventKind,
    TimelineEvent,
    alert_name,
    format_seconds,
    is_disruption,
    is_remediation,
    sort_events,
)

_TOLERANCE = 1e-9  # as in the verdict: a measurement a hair over its float limit passes


@dataclass(frozen=True)
class Phase:
    """One part of the outage: `name`, from `started_s` to `ended_s` (None: never ended)."""

    name: str
    what: str  # "HighErrorRate fired", "rolled back to revision 1"
    started_s: float
    ended_s: float | None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_s is None else max(0.0, self.ended_s - self.started_s)

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.name,
            "what": self.what,
            "started_s": round(self.started_s, 3),
            "ended_s": None if self.ended_s is None else round(self.ended_s, 3),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class DrillVerdict:
    """The RTO against the target, and the phase the time went to."""

    rto_s: float | None
    target_s: float  # real time, as given
    time_scale: float
    slowest: Phase | None

    @property
    def limit_s(self) -> float:
        return self.target_s * self.time_scale

    @property
    def passed(self) -> bool:
        return self.rto_s is not None and self.rto_s <= self.limit_s + _TOLERANCE

    def describe(self) -> str:
        """`RTO 21.6 s missed the target of 30 s (3 s at time scale 0.1); slowest phase:
        detect, 15.2 s (HighErrorRate fired)`."""
        target = format_seconds(self.target_s)
        if self.time_scale != 1:
            target += f" ({format_seconds(self.limit_s)} at time scale {self.time_scale:g})"
        if self.rto_s is None:
            head = f"the service was never healthy again: no RTO, target {target}"
        elif self.passed:
            return f"RTO {format_seconds(self.rto_s)} met the target of {target}"
        else:
            head = f"RTO {format_seconds(self.rto_s)} missed the target of {target}"
        if self.slowest is None:
            return head
        return f"{head}; slowest phase: {describe_phase(self.slowest)}"


def describe_phase(phase: Phase) -> str:
    """`detect, 15.2 s (HighErrorRate fired)`; an unfinished phase says so."""
    if phase.duration_s is None:
        return f"{phase.name}, never finished (waiting for: {phase.what})"
    return f"{phase.name}, {format_seconds(phase.duration_s)} ({phase.what})"


def timeline_phases(events: Sequence[TimelineEvent], alert: str) -> tuple[Phase, ...]:
    """detect (by `alert`), respond and restore, as far as the run got; () without a
    disruption."""
    ordered = sort_events(events)
    broke = next((e for e in ordered if is_disruption(e)), None)
    if broke is None:
        return ()
    after = [e for e in ordered if e.t >= broke.t]
    fired = next(
        (e for e in after if e.kind == EventKind.ALERT_FIRING and alert_name(e) == alert), None
    )
    remedied = next((e for e in after if is_remediation(e)), None)
    phases = [
        Phase(
            "detect",
            f"{alert} fired" if fired else f"{alert} to fire",
            broke.t,
            fired.t if fired else None,
        )
    ]
    if fired is None:
        return tuple(phases)
    respond_end = remedied.t if remedied is not None and remedied.t >= fired.t else None
    phases.append(
        Phase(
            "respond",
            _remedy_text(remedied) if remedied else "a remediation",
            fired.t,
            respond_end,
        )
    )
    if respond_end is None or remedied is None:
        return tuple(phases)
    healthy = _healthy_again(after)
    phases.append(
        Phase(
            "restore",
            "the service healthy again" if healthy is not None else "the service to be healthy",
            remedied.t,
            None if healthy is None else max(healthy, remedied.t),
        )
    )
    return tuple(phases)


def slowest_phase(phases: Sequence[Phase]) -> Phase | None:
    """The phase the outage waited on: an unfinished one, else the longest."""
    unfinished = [phase for phase in phases if phase.ended_s is None]
    if unfinished:
        return unfinished[0]
    return max(phases, key=lambda phase: phase.duration_s or 0.0, default=None)


def drill_verdict(
    rto_s: float | None, phases: Sequence[Phase], *, target_s: float, time_scale: float
) -> DrillVerdict:
    """The verdict of a drill whose outage lasted `rto_s` (None: never over)."""
    if target_s <= 0:
        raise ValueError(f"the target must be positive, not {target_s!r}")
    if time_scale <= 0:
        raise ValueError(f"the time scale must be positive, not {time_scale!r}")
    return DrillVerdict(rto_s, target_s, time_scale, slowest_phase(phases))


def _remedy_text(event: TimelineEvent) -> str:
    if event.kind == EventKind.ROLLED_BACK:
        return f"rolled back to revision {event.details.get('revision', '?')}"
    if event.kind == EventKind.FAULTS_CLEARED:
        return "faults cleared"
    return f"scaled to {event.details.get('replicas', '?')} replicas"


def _healthy_again(after: Sequence[TimelineEvent]) -> float | None:
    """When the clients saw the service healthy after its last unhealthy spell; or, if
    they never saw it unhealthy, when the replicas were whole after their last shortage."""
    for bad, good in (
        (EventKind.SERVICE_UNHEALTHY, EventKind.SERVICE_HEALTHY),
        (EventKind.REPLICAS_SHORT, EventKind.REPLICAS_WHOLE),
    ):
        last_bad = max((i for i, e in enumerate(after) if e.kind == bad), default=None)
        if last_bad is not None:
            return next((e.t for e in after[last_bad + 1 :] if e.kind == good), None)
    return None


def drill_record(level: str, phases: Sequence[Phase], verdict: DrillVerdict) -> dict[str, Any]:
    """The journal's `drill` section."""
    return {
        "level": level,
        "target_s": verdict.target_s,
        "rto_s": verdict.rto_s,
        "passed": verdict.passed,
        "slowest_phase": None if verdict.slowest is None else verdict.slowest.name,
        "phases": [phase.as_json() for phase in phases],
    }
