"""Timeline events as sentences: one line each, for the live view, plain output and
reports.

A line is placed at the time the run saw its event, so lines read in the order they
came; an event dated back (seen more than half a second after it happened) says when
it happened: `clients: availability SLI recovered (1.0), since 9.0 s`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sreshow.core.timeline import TimelineEvent


def _pods(details: Mapping[str, Any]) -> str:
    pods = details.get("pods") or []
    return ", ".join(pods) if len(pods) <= 3 else f"{len(pods)} replicas"


def _faults(details: Mapping[str, Any]) -> str:
    faults = details.get("faults") or {}
    return ", ".join(
        kind if value is True else f"{kind} {value:g}"
        for kind, value in faults.items()
        if value is not False
    )


_SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "run_started": lambda d: (
        f"scenario {d.get('scenario')} starts on {d.get('platform')} "
        f"(time scale {d.get('time_scale')})"
    ),
    "run_finished": lambda _: "the run is over",
    "interrupted": lambda d: (
        "interrupted during the cleanup: it was finished first"
        if d.get("during") == "cleanup"
        else "interrupted: cleaning up"
    ),
    "step_started": lambda d: (
        f"{'rollback ' if d.get('phase') == 'rollback' else ''}"
        f"step {d.get('index')}: {d.get('step')}"
    ),
    "step_passed": lambda d: f"  done: {d.get('detail')}",
    "step_failed": lambda d: f"  FAILED: {d.get('detail')}",
    "narration": lambda d: f"» {d.get('text')}",
    "fault_injected": lambda d: f"fault injected: {_faults(d)} on {_pods(d)}",
    "faults_cleared": lambda d: f"faults cleared on {_pods(d)}",
    "load_started": lambda d: f"load started: {d.get('rps')} requests/s to {d.get('path')}",
    "load_stopped": lambda _: "load stopped",
    "pod_killed": lambda d: f"pod {d.get('pod')} {'killed' if d.get('force') else 'evicted'}",
    "eviction_refused": lambda d: f"eviction of {d.get('pod')} refused by the disruption budget",
    "pod_started": lambda d: f"pod {d.get('pod')} started (version {d.get('version')})",
    "pod_ready": lambda d: f"pod {d.get('pod')} is ready",
    "pod_unready": lambda d: f"pod {d.get('pod')} is not ready",
    "pod_gone": lambda d: f"pod {d.get('pod')} is gone",
    "pod_restarted": lambda d: (
        f"pod {d.get('pod')} restarted by its liveness probe (restart {d.get('restarts')})"
    ),
    "replicas_short": lambda d: (
        f"capacity short: {d.get('ready')} of {d.get('desired')} replicas ready"
    ),
    "replicas_whole": lambda d: (
        f"capacity whole again: {d.get('ready')} of {d.get('desired')} replicas ready"
    ),
    "deployed": lambda d: (
        f"deployed version {d.get('version')} (revision {d.get('revision')})"
        + (f", a bad release ({d.get('broken')})" if d.get("broken") else "")
    ),
    "rolled_back": lambda d: f"rolled back to revision {d.get('revision')}",
    "rollout_complete": lambda d: f"rollout of revision {d.get('revision')} complete",
    "rollout_stalled": lambda d: (
        f"rollout of revision {d.get('revision')} stalled (no progress within its deadline)"
    ),
    "scaled": lambda d: f"scaled by hand: {d.get('previous')} → {d.get('replicas')} replicas",
    "replicas_restored": lambda d: (
        f"replica count restored: {d.get('previous')} → {d.get('replicas')}"
    ),
    "left_to_autoscaler": lambda d: (
        f"{d.get('replicas')} replicas left to the autoscaler, which scales them in to "
        f"{d.get('to')} once its scale-down stabilisation window has passed"
    ),
    "autoscaled": lambda d: (
        f"autoscaler: {d.get('previous')} → {d.get('desired')} replicas ({d.get('reason')})"
    ),
    "alert_pending": lambda d: f"alert {d.get('alert')} pending",
    "alert_firing": lambda d: f"alert {d.get('alert')} FIRING",
    "alert_resolved": lambda d: f"alert {d.get('alert')} resolved",
    "alert_inactive": lambda d: f"alert {d.get('alert')} back to inactive (never fired)",
    "notification_delivered": lambda d: (
        f"notification delivered: {d.get('status')} "
        f"{', '.join(d.get('alerts') or []) or '(unrecognised message)'}"
    ),
    "sli_breached": lambda d: f"clients: {d.get('sli')} SLI breached ({d.get('value')})",
    "sli_recovered": lambda d: f"clients: {d.get('sli')} SLI recovered ({d.get('value')})",
    "service_unhealthy": lambda d: f"service unhealthy: {d.get('reason')}",
    "service_healthy": lambda _: "service healthy again",
    "steady_state_checked": lambda d: (
        f"steady state {d.get('when')} the steps: "
        + ("holds" if d.get("holds") else f"does NOT hold ({', '.join(d.get('failing') or [])})")
    ),
    "rollback_started": lambda d: (
        "rollback block" + (" (after an interrupt: actions only)" if d.get("interrupted") else "")
    ),
    "restore_failed": lambda d: f"cleanup could not {d.get('action')}: {d.get('reason')}",
    "observation_failed": lambda d: f"lost sight of the platform: {d.get('reason')}",
}


# Events that begin a state: dated back, they hold "since" then; others happened "at".
_STATES = frozenset(
    {
        "sli_breached",
        "sli_recovered",
        "service_unhealthy",
        "service_healthy",
        "replicas_short",
        "replicas_whole",
    }
)


def describe_event(event: TimelineEvent) -> str:
    """One sentence for one event (unknown kinds: the kind and its details), and when it
    happened if it was seen late."""
    sentence = _SENTENCES.get(event.kind)
    if sentence is None:
        details = " ".join(f"{k}={v}" for k, v in event.details.items())
        text = f"{event.kind} {details}".strip()
    else:
        text = sentence(event.details)
    if event.dated_back:
        text += f", {'since' if event.kind in _STATES else 'at'} {event.t:.1f} s"
    return text


def event_line(event: TimelineEvent) -> str:
    """`[  12.3s] alert HighErrorRate FIRING`: what a pipe or a log gets per event, at
    the time the run saw it."""
    return f"[{event.shown_t:7.1f}s] {describe_event(event)}"
