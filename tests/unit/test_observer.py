"""The observer on an in-memory platform: events told in the order the run saw them,
the dated-back ones saying when they happened; capacity short and whole again; a pod
restarted by its liveness probe."""

from __future__ import annotations

import time

from sreshow.core.notifications import Notification
from sreshow.core.revisions import RolloutState
from sreshow.core.sli import Answer
from sreshow.core.timeline import TimelineEvent
from sreshow.ports import LoadWindow, ReplicaView, RolloutStatus, Snapshot
from sreshow.report.narrative import describe_event, event_line
from sreshow.scenarios.capacity import CapacityChange, CapacityWatch
from sreshow.scenarios.observer import Observer
from tests.unit.fakes import FakeLoad, FakePlatform


def watching(platform: FakePlatform) -> tuple[Observer, list[TimelineEvent]]:
    """An observer (no thread: the test polls) whose run began 10 s ago, and what it told."""
    told: list[TimelineEvent] = []
    observer = Observer(platform, FakeLoad(platform), objective=0.999, on_event=told.append)
    observer.started -= 10
    observer.started_at -= 10
    observer.poll()  # the baseline
    return observer, told


def test_events_dated_back_are_told_when_seen_and_say_when_they_happened() -> None:
    platform = FakePlatform()
    observer, told = watching(platform)
    observer.record("load_started", rps=5, path="/api/data")
    delivered = time.time() - 3  # the sink received it 3 s before this poll
    platform.delivered.append(Notification(delivered, "firing", ("HighErrorRate",), "", None))
    platform.autoscale(3, "cpu 90% of 50%", at=time.time() - 2)
    time.sleep(0.5)  # alerts and notifications are looked at every 0.5 s
    observer.poll()
    observer.record("sli_recovered", t=observer.now() - 4.2, sli="availability", value=1.0)

    kinds = [event.kind for event in told]
    assert kinds == ["load_started", "autoscaled", "notification_delivered", "sli_recovered"]
    seen = [event.shown_t for event in told]
    assert seen == sorted(seen)  # told in the order seen, though dated back
    late = told[-1]
    assert late.seen_t is not None
    assert late.seen_t - late.t > 4
    assert (
        describe_event(late) == f"clients: availability SLI recovered (1.0), since {late.t:.1f} s"
    )
    assert event_line(late).startswith(f"[{late.seen_t:7.1f}s] ")
    notification = told[2]
    assert describe_event(notification) == (
        f"notification delivered: firing HighErrorRate, at {notification.t:.1f} s"
    )
    assert describe_event(told[0]) == "load started: 5 requests/s to /api/data"  # on time
    # The timeline keeps them in the order they happened; the journal says when seen.
    assert [e.kind for e in observer.events()] == [
        "sli_recovered",
        "notification_delivered",
        "autoscaled",
        "load_started",
    ]
    assert late.as_json()["seen_t"] == round(late.seen_t, 3)
    assert "seen_t" not in told[0].as_json()


def test_a_killed_pod_makes_capacity_short_until_its_replacement_is_ready() -> None:
    platform = FakePlatform(start_seconds=0.5)
    observer, told = watching(platform)

    platform.kill("sre-app-0", force=True)
    observer.poll()
    time.sleep(0.55)
    observer.poll()

    capacity = [(e.kind, dict(e.details)) for e in told if e.kind.startswith("replicas_")]
    assert capacity == [
        ("replicas_short", {"ready": 1, "desired": 2}),
        ("replicas_whole", {"ready": 2, "desired": 2}),
    ]


def test_the_autoscaler_asking_for_more_is_growth_not_a_shortfall() -> None:
    platform = FakePlatform(start_seconds=0.5)
    observer, told = watching(platform)

    platform.scale(4)  # as the autoscaler does: the run did not ask
    observer.poll()
    time.sleep(0.55)
    observer.poll()

    assert not [e for e in told if e.kind.startswith("replicas_")]


def test_a_scale_up_by_the_run_leaves_capacity_short_until_the_new_replicas_are_ready() -> None:
    platform = FakePlatform(start_seconds=0.5)
    observer, told = watching(platform)

    platform.scale(3)
    observer.poll()  # seen before the run said it scaled: not yet counted
    observer.record("scaled", previous=2, replicas=3)
    observer.poll()
    time.sleep(0.55)
    observer.poll()

    capacity = [(e.kind, dict(e.details)) for e in told if e.kind.startswith("replicas_")]
    assert capacity == [
        ("replicas_short", {"ready": 2, "desired": 3}),
        ("replicas_whole", {"ready": 3, "desired": 3}),
    ]


def test_a_restart_is_told_and_is_a_shortfall_while_the_pod_is_unready() -> None:
    platform = FakePlatform(start_seconds=0.5)
    observer, told = watching(platform)

    platform.restart("sre-app-1")
    observer.poll()
    time.sleep(0.55)
    observer.poll()

    kinds = [e.kind for e in told]
    assert kinds == [
        "pod_restarted",
        "pod_unready",
        "replicas_short",
        "pod_ready",
        "replicas_whole",
    ]
    restarted = told[0]
    assert dict(restarted.details) == {"pod": "sre-app-1", "restarts": 1}
    assert describe_event(restarted) == "pod sre-app-1 restarted by its liveness probe (restart 1)"


def snapshot(ready: int, desired: int) -> Snapshot:
    replicas = tuple(ReplicaView(f"p{i}", "1", 1, i < ready) for i in range(max(ready, desired)))
    return Snapshot(replicas, desired, 1, RolloutStatus(RolloutState.COMPLETE, "complete"), None)


def test_capacity_counts_nothing_before_the_deployment_was_whole_once() -> None:
    watch = CapacityWatch()

    assert watch.update(None, snapshot(1, 2)) is None
    assert watch.update(snapshot(1, 2), snapshot(0, 2)) is None  # began short: not ours
    assert watch.update(snapshot(0, 2), snapshot(2, 2)) is None
    assert watch.update(snapshot(2, 2), snapshot(1, 2)) == CapacityChange("replicas_short", 1, 2)
    assert watch.update(snapshot(1, 2), snapshot(0, 2)) is None  # still short
    assert watch.update(snapshot(0, 2), snapshot(2, 2)) == CapacityChange("replicas_whole", 2, 2)


def test_a_scale_down_by_the_run_is_not_a_shortfall() -> None:
    watch = CapacityWatch()
    watch.update(None, snapshot(2, 2))
    watch.run_scaled(2, 0)

    assert watch.update(snapshot(2, 2), snapshot(2, 0)) is None
    assert watch.update(snapshot(2, 0), snapshot(0, 0)) is None


class ScriptedLoad(FakeLoad):
    """The answers a test gives, as the load generator's window."""

    def __init__(self, platform: FakePlatform) -> None:
        super().__init__(platform)
        self.answers: list[Answer] = []

    def window(self) -> LoadWindow:
        return LoadWindow(60.0, tuple(self.answers), len(self.answers))


def test_a_recovery_is_not_dated_before_the_fix_that_ended_the_incident() -> None:
    # 20% errors at 5 requests/s: a few good answers in a row are common, so the run that
    # ends the breach may begin before the faults are cleared. Clients were not served
    # well until the fix: the recovery is dated at it.
    platform = FakePlatform()
    load = ScriptedLoad(platform)
    observer = Observer(platform, load, objective=0.999)
    observer.started -= 80  # the run began 80 s ago: every answer below is in the past
    started = observer.started
    load.answers = [Answer(started + i * 0.2, i % 5 == 0, 0.01) for i in range(50)]  # 0-9.8 s
    observer.poll()
    fixed_at = 10.5
    observer.record("faults_cleared", t=fixed_at, pods=["sre-app-0"])
    load.answers += [Answer(started + 9.8 + i * 0.2, False, 0.01) for i in range(1, 300)]
    observer.poll()

    breached = [e for e in observer.events() if e.kind == "sli_breached"]
    recovered = [e for e in observer.events() if e.kind == "sli_recovered"]
    assert [e.t for e in breached] == [0.0]
    assert len(recovered) == 1
    assert recovered[0].t == fixed_at  # the good run began at 10.0 s, before the fix


def test_firing_then_pending_is_told_as_resolved_then_pending() -> None:
    platform = FakePlatform()
    observer, told = watching(platform)
    for state in ("pending", "firing", "pending", "inactive"):
        platform.alert_states["HighErrorRate"] = state
        time.sleep(0.5)  # alerts are looked at every 0.5 s
        observer.poll()

    kinds = [e.kind for e in told if e.details.get("alert") == "HighErrorRate"]

    assert kinds == [
        "alert_pending",
        "alert_firing",
        "alert_resolved",
        "alert_pending",
        "alert_inactive",
    ]
