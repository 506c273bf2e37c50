"""What each step kind does to the platform, and how each wait decides it is done.

A step either acts (and records what it did on the timeline) or waits for something
the observer sees. Every wait has a bound: the duration the file gives, scaled by the
stack's time scale, plus what the platform's own clocks add whatever the scale
(`Platform.unscaled_wait_seconds`), but never less than `MIN_WAIT_SECONDS` — a process
start, a scrape or a rule evaluation takes real time whatever the scale. A wait's note
says how long it took, and at a time scale other than 1 what that is in real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel

from sreshow.core.timeline import EventKind, format_seconds
from sreshow.errors import EvictionRefused, ExitCode, PlatformError, SreshowError
from sreshow.ports import Load, Platform, Snapshot
from sreshow.scenarios import spec as s
from sreshow.scenarios.observer import Observer, RunView
from sreshow.scenarios.plan import RunClock, describe_check

MIN_WAIT_SECONDS = 10.0
WAIT_POLL_SECONDS = 0.2


class StepFailed(SreshowError):
    """A step could not do what it says (a wait ran out, an action was refused)."""

    exit_code = ExitCode.VERDICT_FAILED


@dataclass
class Changes:
    """What the run changed, so that cleanup restores exactly that."""

    initial_desired: int
    initial_revision: int
    faulted: set[str] = field(default_factory=set)  # faults are not in a Snapshot
    scaled: bool = False  # the run set the replica count by hand


@dataclass
class StepContext:
    platform: Platform
    load: Load
    observer: Observer
    changes: Changes
    ask: Callable[[str], None] | None = None  # blocks until the presenter goes on

    @property
    def time_scale(self) -> float:
        return self.platform.time_scale

    @property
    def clock(self) -> RunClock:
        return RunClock(self.time_scale, MIN_WAIT_SECONDS, self.platform.unscaled_wait_seconds)

    def scaled(self, seconds: float) -> float:
        return self.clock.scaled(seconds)

    def bound(self, seconds: float) -> float:
        """How long a wait written as `seconds` may take here."""
        return self.clock.bound(seconds)

    def measured_text(self, seconds: float) -> str:
        """`10.6 s`, and at a time scale other than 1 `10.6 s (1m 46s real time)`."""
        if self.time_scale == 1:
            return f"{seconds:.1f} s"
        return f"{seconds:.1f} s ({format_seconds(seconds / self.time_scale)} real time)"


def run_step(step: BaseModel, ctx: StepContext) -> str:
    """Do one step; a short note of what happened. StepFailed when it cannot."""
    kind, body = s.step_kind(step), s.step_body(step)
    action = _ACTIONS[kind]
    return action(body, ctx)


# --- actions ----------------------------------------------------------------------


def _inject(body: s.Inject, ctx: StepContext) -> str:
    snapshot = ctx.platform.snapshot()
    pods = _pick(snapshot, body.targets.pick(snapshot.ready))
    if not pods:
        raise StepFailed("no ready replica to inject a fault into")
    patch = body.patch()
    ctx.changes.faulted.update(pods)  # before the call: a half-done injection is cleared too
    ctx.platform.set_faults(pods, patch)
    faults = patch.changes()
    ctx.observer.record(EventKind.FAULT_INJECTED, pods=pods, faults=faults)
    return f"{_faults_text(faults)} on {len(pods)} of {snapshot.ready} replicas"


def _clear_faults(_: s.ClearFaults, ctx: StepContext) -> str:
    pods = [r.name for r in ctx.platform.snapshot().replicas]
    ctx.platform.clear_faults(pods)
    ctx.changes.faulted.clear()
    ctx.observer.record(EventKind.FAULTS_CLEARED, pods=pods)
    return f"cleared on {len(pods)} replicas"


def _load(body: s.Load, ctx: StepContext) -> str:
    duration = None if body.duration is None else ctx.scaled(body.duration)
    ctx.load.start(ctx.platform.app_url, body.rps, body.path, duration)
    ctx.observer.record(EventKind.LOAD_STARTED, rps=body.rps, path=body.path)
    return f"{body.rps:g} requests/s to {body.path}"


def _stop_load(_: s.StopLoad, ctx: StepContext) -> str:
    if ctx.load.running:
        ctx.load.stop()
        ctx.observer.record(EventKind.LOAD_STOPPED)
        return "stopped"
    return "no load was running"


def _kill(body: s.Kill, ctx: StepContext) -> str:
    snapshot = ctx.platform.snapshot()
    pods = _pick(snapshot, body.targets().pick(snapshot.ready))
    if not pods:
        raise StepFailed("no ready replica to kill")
    refused = []
    for pod in pods:
        try:
            ctx.platform.kill(pod, force=body.force)
        except EvictionRefused:
            refused.append(pod)
            ctx.observer.record(EventKind.EVICTION_REFUSED, pod=pod, reason="disruption budget")
            continue
        ctx.observer.record(EventKind.POD_KILLED, pod=pod, force=body.force)
    done = len(pods) - len(refused)
    note = f"{'killed' if body.force else 'evicted'} {done} of {snapshot.ready} replicas"
    return note + (f"; the disruption budget refused {len(refused)}" if refused else "")


def _deploy(body: s.Deploy, ctx: StepContext) -> str:
    revision = ctx.platform.deploy(body.version, body.broken)
    ctx.observer.record(
        EventKind.DEPLOYED, version=body.version, revision=revision, broken=body.broken
    )
    return f"version {body.version} as revision {revision}" + (
        f" (a bad release: {body.broken})" if body.broken else ""
    )


def _rollback(body: s.Rollback, ctx: StepContext) -> str:
    revision = ctx.platform.rollback(body.revision)
    ctx.observer.record(EventKind.ROLLED_BACK, revision=revision)
    return f"to revision {revision}"


def _scale(body: s.Scale, ctx: StepContext) -> str:
    previous = ctx.platform.snapshot().desired
    ctx.changes.scaled = True
    ctx.platform.scale(body.replicas)
    ctx.observer.record(EventKind.SCALED, previous=previous, replicas=body.replicas)
    return f"{previous} → {body.replicas} replicas"


def _sleep(seconds: float, ctx: StepContext) -> str:
    time.sleep(ctx.scaled(seconds))
    return f"waited {ctx.measured_text(ctx.scaled(seconds))}"


def _narrate(text: str, ctx: StepContext) -> str:
    ctx.observer.record(EventKind.NARRATION, text=text)
    return text


def _pause(body: s.Pause, ctx: StepContext) -> str:
    if ctx.ask is None:
        return "skipped (--auto or no terminal)"
    ctx.ask(body.prompt)
    return "the presenter went on"


# --- waits ------------------------------------------------------------------------


def _wait_for_alert(body: s.WaitForAlert, ctx: StepContext) -> str:
    def reached(view: RunView) -> bool:
        state = view.alerts.get(body.alert, "inactive")
        if body.state == "firing":
            return state == "firing"
        if body.state == "pending":
            return state in ("pending", "firing") or _seen(ctx, "alert_pending", body.alert)
        return state == "inactive" and _seen(ctx, "alert_firing", body.alert)

    def why_not() -> str:
        if body.state == "resolved" and not _seen(ctx, "alert_firing", body.alert):
            return " (it never fired)"
        return f" (it is {ctx.observer.view().alerts.get(body.alert, 'inactive')})"

    took = wait_until(ctx, ctx.bound(body.within), reached, f"{body.alert} {body.state}", why_not)
    return f"{body.alert} {body.state} after {ctx.measured_text(took)}"


def _wait_for_notification(body: s.WaitForNotification, ctx: StepContext) -> str:
    def reached(_: RunView) -> bool:
        return any(
            e.details.get("status") == body.status and body.alert in e.details.get("alerts", ())
            for e in ctx.observer.events()
            if e.kind == "notification_delivered"
        )

    took = wait_until(
        ctx, ctx.bound(body.within), reached, f"a {body.status} notification about {body.alert}"
    )
    return f"delivered after {ctx.measured_text(took)}"


def _wait_for(body: s.WaitFor, ctx: StepContext) -> str:
    took = wait_until(
        ctx,
        ctx.bound(body.within),
        lambda view: condition_holds(body, view, ctx.platform),
        describe_check(body),
        lambda: f" ({observed_condition(body, ctx.observer.view())})",
    )
    return f"{describe_check(body)} after {ctx.measured_text(took)}"


def condition_holds(condition: s.Condition, view: RunView, platform: Platform) -> bool:
    """Whether one condition holds in what the observer last saw (PromQL: asked now)."""
    if condition.promql is not None:
        value = platform.query(condition.promql)
        return value is not None and value != 0
    snapshot = view.snapshot
    if snapshot is None:
        return False
    if condition.service is not None:
        return view.healthy
    if condition.replicas_ready is not None:
        wanted = snapshot.desired if condition.replicas_ready == "all" else condition.replicas_ready
        return snapshot.ready >= max(wanted, 1 if condition.replicas_ready == "all" else 0)
    if condition.autoscaler_desired_at_least is not None:
        return _autoscaler_desired(snapshot) >= condition.autoscaler_desired_at_least
    return snapshot.rollout.state == condition.rollout


def observed_condition(condition: s.Condition, view: RunView) -> str:
    """What the observer sees of a condition that does not hold yet."""
    snapshot = view.snapshot
    if snapshot is None or condition.promql is not None:
        return "not true yet"
    if condition.service is not None:
        return f"the service is {'healthy' if view.healthy else view.health_reason}"
    if condition.replicas_ready is not None:
        return f"{snapshot.ready}/{snapshot.desired} ready"
    if condition.autoscaler_desired_at_least is not None:
        return f"the autoscaler wants {_autoscaler_desired(snapshot)}"
    return f"the rollout is {snapshot.rollout.state}"


def _autoscaler_desired(snapshot: Snapshot) -> int:
    return snapshot.autoscaler.desired if snapshot.autoscaler else snapshot.desired


def wait_until(
    ctx: StepContext,
    within: float,
    reached: Callable[[RunView], bool],
    what: str,
    why_not: Callable[[], str] = lambda: "",
) -> float:
    """Poll the observer's view until `reached`; seconds it took. StepFailed after `within`."""
    started = time.monotonic()
    while True:
        if ctx.observer.failure:
            raise PlatformError(ctx.observer.failure)
        view = ctx.observer.view()
        # Only a look taken after the wait began counts: an older one predates the
        # step before (a pod just killed would still look ready).
        if view.observed_from >= started and reached(view):
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise StepFailed(f"{what} did not happen within {within:.1f} s{why_not()}")
        time.sleep(WAIT_POLL_SECONDS)


# --- helpers ------------------------------------------------------------------------


def _pick(snapshot: Snapshot, count: int) -> list[str]:
    """The first `count` ready replicas by name: the same choice for the same stack."""
    return sorted(r.name for r in snapshot.replicas if r.ready)[:count]


def _seen(ctx: StepContext, kind: str, alert: str) -> bool:
    return any(e.kind == kind and e.details.get("alert") == alert for e in ctx.observer.events())


def _faults_text(faults: dict[str, float | bool]) -> str:
    parts: Iterable[str] = (
        f"{kind}={value:g}" if not isinstance(value, bool) else kind
        for kind, value in faults.items()
        if value is not False
    )
    return ", ".join(parts) or "faults off"


_ACTIONS: dict[str, Callable[..., str]] = {
    "inject": _inject,
    "clear_faults": _clear_faults,
    "load": _load,
    "stop_load": _stop_load,
    "kill": _kill,
    "deploy": _deploy,
    "rollback": _rollback,
    "scale": _scale,
    "wait_for_alert": _wait_for_alert,
    "wait_for_notification": _wait_for_notification,
    "wait_for": _wait_for,
    "sleep": _sleep,
    "narrate": _narrate,
    "pause": _pause,
}
WAIT_KINDS = frozenset({"wait_for_alert", "wait_for_notification", "wait_for", "sleep", "pause"})
