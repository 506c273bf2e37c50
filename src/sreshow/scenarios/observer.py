"""Watch the platform during a run and turn every change into a timeline event.

One background thread polls the platform (the deployment every `POLL_SECONDS`, alerts
and notifications every `ALERT_POLL_SECONDS`) and the load generator's clients, and
records what changed: pods started, ready, restarted, gone; capacity short and whole
again; the autoscaler's decisions; alerts pending, firing, resolved; notifications
delivered; the clients' SLIs breached and recovered; the service unhealthy and healthy
again. The runner records its own actions on the same timeline. The live view and the
runner's waits read the same `RunView`, so what the audience sees is what the runner
decides on.

Every event is stamped with the time the run saw it (`seen_t`), one event at a time,
and handed to the listener in that order: a piped log reads in time order even when
an event is dated back to when it happened (`t`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sreshow.core.sli import SliPolicy, SliTracker
from sreshow.core.timeline import EventKind, TimelineEvent, is_remediation
from sreshow.errors import PlatformError
from sreshow.ports import AlertState, Load, LoadStats, LoadWindow, Platform, Snapshot
from sreshow.scenarios.capacity import CapacityWatch
from sreshow.scenarios.scaling import autoscaler_change

POLL_SECONDS = 0.25
ALERT_POLL_SECONDS = 0.5
LATENCY_THRESHOLD_SECONDS = 1.0  # HighLatency's threshold: the latency SLI's too
RECENT_EVENTS = 40


@dataclass(frozen=True)
class RunView:
    """Everything the live view shows, as of `t` seconds into the run."""

    t: float = 0.0
    observed_from: float = 0.0  # (monotonic) when the poll behind this view began
    step: str = ""
    snapshot: Snapshot | None = None
    alerts: Mapping[str, AlertState] = field(default_factory=dict)
    load_running: bool = False
    load_stats: LoadStats = field(default_factory=LoadStats)
    load_window: LoadWindow | None = None
    healthy: bool = True
    health_reason: str = ""
    narration: tuple[str, ...] = ()
    recent: tuple[TimelineEvent, ...] = ()
    problem: str = ""


class Observer:
    """The run's timeline and its watcher thread; a context manager."""

    def __init__(
        self,
        platform: Platform,
        load: Load,
        *,
        objective: float,
        on_event: Callable[[TimelineEvent], None] | None = None,
    ) -> None:
        self.platform = platform
        self.load = load
        self.objective = objective
        self.started = time.monotonic()
        self.started_at = time.time()
        self._on_event = on_event
        self._events: list[TimelineEvent] = []
        self._lock = threading.Lock()
        # Held while an event is stamped and told, so listeners get events in the order
        # they were seen; reentrant, so code holding it may record.
        self._telling = threading.RLock()
        self._view = RunView()
        self._alerts: dict[str, AlertState] = {}
        self._rollout_told: tuple[int, str] | None = None  # (revision, state) told last
        self._notifications_seen = 0
        self._sli_tracker = SliTracker(SliPolicy(objective, LATENCY_THRESHOLD_SECONDS))
        self._answers_seen = 0  # the load's answers the SLIs have counted
        self._sli_changed_at = 0.0  # (run time) when an SLI last changed
        self._capacity = CapacityWatch()
        self._serving = True
        self._serving_changed_at = 0.0  # (run time) when replicas last started/stopped serving
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_alert_poll = 0.0
        self.failure: str = ""  # set when the platform went away: waits end at once

    def __enter__(self) -> Observer:
        self.poll()  # the baseline, before anything happens
        self._thread = threading.Thread(target=self._watch, name="observer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # --- the timeline ---------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self.started

    def record(self, kind: EventKind, t: float | None = None, **details: Any) -> TimelineEvent:
        """Add an event that happened now (or at `t`, if earlier) and tell the listener."""
        with self._telling:
            seen = self.now()
            event = TimelineEvent(seen if t is None else min(t, seen), kind, details, seen)
            if kind == EventKind.SCALED:
                self._capacity.run_scaled(details.get("previous", 0), details.get("replicas", 0))
            with self._lock:
                self._events.append(event)
                recent = (*self._view.recent, event)[-RECENT_EVENTS:]
                narration = self._view.narration
                if kind == "narration":
                    narration = (*narration, str(details.get("text", "")))[-3:]
                self._view = replace(self._view, recent=recent, narration=narration)
            if self._on_event is not None:
                self._on_event(event)
        return event

    def events(self) -> list[TimelineEvent]:
        """Every event so far, in the order they happened."""
        with self._lock:
            return sorted(self._events, key=lambda e: e.t)

    def view(self) -> RunView:
        with self._lock:
            return replace(self._view, t=self.now())

    def set_step(self, text: str) -> None:
        with self._lock:
            self._view = replace(self._view, step=text)

    # --- watching ---------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.poll()

    def poll(self) -> None:
        """Look once at everything; record what changed."""
        began = time.monotonic()
        try:
            snapshot = self.platform.snapshot()
        except PlatformError as e:
            self._fail(str(e))
            return
        previous = self._view.snapshot
        self._pods(previous, snapshot)
        with self._telling:  # the runner's own scale step tells the watch under it too
            capacity = self._capacity.update(previous, snapshot)
            if capacity is not None:
                kind = EventKind(capacity.kind)
                self.record(kind, ready=capacity.ready, desired=capacity.desired)
        change = autoscaler_change(previous, snapshot)
        if change is not None and change.at >= self.started_at:
            self.record(
                EventKind.AUTOSCALED,
                t=change.at - self.started_at,
                previous=change.previous,
                desired=change.desired,
                reason=change.reason,
            )
        if time.monotonic() >= self._next_alert_poll:
            self._next_alert_poll = time.monotonic() + ALERT_POLL_SECONDS
            try:
                self._alert_changes()
                self._new_notifications()
            except PlatformError as e:
                with self._lock:
                    self._view = replace(self._view, problem=str(e))
        window = self.load.window()
        self._slis(window)
        healthy, reason = self._health(snapshot)
        if healthy != self._view.healthy:
            # Dated when it happened: an SLI change is dated from the answers (it is
            # seen only once enough of them are in); a change of replicas, now.
            at = max(self._sli_changed_at, self._serving_changed_at)
            if healthy:
                self.record(EventKind.SERVICE_HEALTHY, t=at)
            else:
                self.record(EventKind.SERVICE_UNHEALTHY, t=at, reason=reason)
        with self._lock:
            self._view = replace(
                self._view,
                observed_from=began,
                snapshot=snapshot,
                alerts=dict(self._alerts),
                load_running=self.load.running,
                load_stats=self.load.stats(),
                load_window=window,
                healthy=healthy,
                health_reason=reason,
            )

    def _fail(self, why: str) -> None:
        if not self.failure:
            self.failure = why
            self.record(EventKind.OBSERVATION_FAILED, reason=why)

    def _pods(self, previous: Snapshot | None, current: Snapshot) -> None:
        if previous is None:
            self._rollout_told = (current.revision, current.rollout.state)
            return
        before = {r.name: r for r in previous.replicas}
        after = {r.name: r for r in current.replicas}
        for name, replica in after.items():
            old = before.get(name)
            if old is None:
                self.record(EventKind.POD_STARTED, pod=name, version=replica.version)
            if old is not None and replica.restarts > old.restarts:
                self.record(EventKind.POD_RESTARTED, pod=name, restarts=replica.restarts)
            if replica.ready and (old is None or not old.ready):
                self.record(EventKind.POD_READY, pod=name)
            elif old is not None and old.ready and not replica.ready:
                self.record(EventKind.POD_UNREADY, pod=name)
        for name in before.keys() - after.keys():
            self.record(EventKind.POD_GONE, pod=name)
        # Told once per rollout: a completed one that waits for a restarted replica and
        # is whole again did not roll anything out.
        state = current.rollout.state
        told = (current.revision, state)
        if state not in (previous.rollout.state, "progressing") and told != self._rollout_told:
            self._rollout_told = told
            self.record(EventKind(f"rollout_{state}"), revision=current.revision)

    def _alert_changes(self) -> None:
        for alert in self.platform.alerts():
            before = self._alerts.get(alert.name, "inactive")
            self._alerts[alert.name] = alert.state
            if alert.state == before:
                continue
            if alert.state == "inactive":
                kind = EventKind.ALERT_RESOLVED if before == "firing" else EventKind.ALERT_INACTIVE
            else:
                kind = EventKind(f"alert_{alert.state}")
                if before == "firing":  # Prometheus never takes a firing alert back to
                    # pending: that one resolved, and another of the name (other labels)
                    # is pending between two looks
                    self.record(EventKind.ALERT_RESOLVED, alert=alert.name)
            self.record(kind, alert=alert.name)

    def _new_notifications(self) -> None:
        notifications = self.platform.notifications()
        for notification in notifications[self._notifications_seen :]:
            if notification.received_at >= self.started_at:
                self.record(
                    EventKind.NOTIFICATION_DELIVERED,
                    t=max(0.0, notification.received_at - self.started_at),
                    status=notification.status,
                    alerts=list(notification.alerts),
                )
        self._notifications_seen = len(notifications)

    def _slis(self, window: LoadWindow) -> None:
        new, self._answers_seen = window.received - self._answers_seen, window.received
        for change in self._sli_tracker.update(window.answers, new):
            at = max(0.0, change.at - self.started)
            if not change.breached:
                # The run of good answers may have begun before the fix that ended the
                # incident (at 20% errors a few good answers in a row are common): the
                # clients were not served well before the fix.
                at = max(at, self._last_remediation())
            self._sli_changed_at = at
            kind = EventKind.SLI_BREACHED if change.breached else EventKind.SLI_RECOVERED
            self.record(kind, t=at, sli=change.sli, value=round(change.value, 4))

    def _last_remediation(self) -> float:
        """`t` of the latest fault cleared, rollback or scale-up so far (0 if none)."""
        with self._lock:
            return max((e.t for e in self._events if is_remediation(e)), default=0.0)

    def _health(self, snapshot: Snapshot) -> tuple[bool, str]:
        """What users feel: some replica serving, and no client SLI breached. Fewer ready
        replicas than desired (a pod replaced, the autoscaler adding some) is capacity
        (`replicas_short`, `replicas_whole`), not an outage."""
        serving = snapshot.desired > 0 and snapshot.ready > 0
        if serving != self._serving:
            self._serving, self._serving_changed_at = serving, self.now()
        if not serving:
            return False, f"no replica ready ({snapshot.ready}/{snapshot.desired})"
        if self._sli_tracker.breached:
            breached = " and ".join(sorted(self._sli_tracker.breached))
            return False, f"clients see {breached} breached"
        return True, ""
