"""The supervisor's controllers on the real local stack at time scale 0.1: the HPA scaling
out on CPU burn and back in after stabilisation, and rollouts of broken releases that
stall without dropping below the disruption budget, then roll back.

The scaled HPA (manifests/app/hpa.yaml x 0.1): sync every 1.5 s, scale-up +50% per 6 s,
scale-down 1 pod per 6 s after a 30 s stabilisation window, min 2, max 10."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from sreshow.adapters.local.autoscaler import MIN_WINDOW_SECONDS as CPU_WINDOW_SECONDS
from sreshow.adapters.local.supervisor import REPLICA_GRACE_SECONDS
from sreshow.errors import PlatformError
from tests.integration.localstack import LocalStack, running_stack, wait_until, watching_service

pytestmark = pytest.mark.integration

MIN_REPLICAS, MAX_REPLICAS = 2, 10
SCALE_UP_PERIOD = 6.0  # 60 s x 0.1: at most +50% within it
SCALE_DOWN_PERIOD = 6.0  # 60 s x 0.1: at most one pod fewer within it
STABILISATION = 30.0  # 300 s x 0.1
SYNC = 1.5  # 15 s x 0.1
CLOCK_SLACK = 0.5  # the events' wall clock against the supervisor's monotonic one


def autoscaled(stack: LocalStack, *, up: bool) -> list[dict[str, Any]]:
    events = stack.events("autoscaled")
    return [e for e in events if (e["desired"] > e["previous"]) == up]


def assert_scale_up_rate(events: list[dict[str, Any]]) -> None:
    """Each step keeps the count within +50% of what it was at the start of the period."""
    for i, event in enumerate(events):
        within = [e for e in events[:i] if e["t"] > event["t"] - SCALE_UP_PERIOD + CLOCK_SLACK]
        start = event["previous"] - sum(e["desired"] - e["previous"] for e in within)
        assert event["desired"] <= math.ceil(start * 1.5), (event, within)
        assert event["desired"] <= MAX_REPLICAS, event


def test_cpu_burn_scales_out_per_the_hpa_and_back_in_after_stabilisation(
    tmp_path: Path,
) -> None:
    with running_stack(tmp_path) as stack:
        first = stack.state()["replicas"]
        assert len(first) == MIN_REPLICAS
        for replica in first:
            stack.patch_faults(replica["url"], {"cpu_burn": 0.6})

        most = 0

        def at_max() -> bool:
            nonlocal most
            state = stack.state()
            most = max(most, len(state["replicas"]), state["desired_replicas"])
            return bool(state["desired_replicas"] == MAX_REPLICAS)

        # 2 → 3 → 5 → 8 → 10: four steps, one scaled period apart, after the first CPU
        # window (5 s) since the replicas became ready.
        wait_until(
            at_max,
            within=CPU_WINDOW_SECONDS + 4 * SCALE_UP_PERIOD + 4 * SYNC + 5,
            waiting_for="10 replicas",
        )
        ups = autoscaled(stack, up=True)
        assert ups[0]["previous"] == MIN_REPLICAS
        assert_scale_up_rate(ups)
        assert len(ups) >= 3, ups  # no single jump: +50% per period cannot reach 10 sooner
        autoscaler = stack.status()["autoscaler"]
        assert autoscaler["max_replicas"] == MAX_REPLICAS
        assert autoscaler["targets"]["cpu"] == 10
        assert autoscaler["utilization"]["cpu"] > 10 * 1.1, autoscaler
        wait_until(
            lambda: sum(r["ready"] for r in stack.state()["replicas"]) == MAX_REPLICAS,
            within=30,
            waiting_for="ten ready replicas",
        )

        for replica in first:
            stack.clear_faults(replica["url"])
        cleared = time.time()

        def two_steps_down() -> bool:
            nonlocal most
            state = stack.state()
            most = max(most, len(state["replicas"]), state["desired_replicas"])
            return len(autoscaled(stack, up=False)) >= 2

        wait_until(
            two_steps_down,
            within=STABILISATION + 2 * SCALE_DOWN_PERIOD + 4 * SYNC + 5,
            waiting_for="two scale-in steps",
        )
        assert most <= MAX_REPLICAS
        downs = autoscaled(stack, up=False)
        # Held by the stabilisation window: the recommendations of the burn's last
        # sync (at most one sync before the faults were cleared) count for 30 s.
        assert downs[0]["t"] >= cleared + STABILISATION - SYNC - CLOCK_SLACK, (cleared, downs)
        assert downs[0]["previous"] == MAX_REPLICAS
        for before, after in itertools.pairwise(downs):
            assert after["t"] - before["t"] >= SCALE_DOWN_PERIOD - CLOCK_SLACK, downs
        assert all(e["previous"] - e["desired"] == 1 for e in downs), downs
        assert all(e["desired"] >= MIN_REPLICAS for e in downs), downs
        # The full descent to 2 takes 8 more periods (~50 s); two steps show its rule.
        wait_until(
            lambda: len(stack.state()["replicas"]) == downs[-1]["desired"],
            within=10,
            waiting_for="the replicas to follow the scale-in",
        )


# --- rollouts ------------------------------------------------------------------------


def by_revision(state: dict[str, Any], revision: int) -> list[dict[str, Any]]:
    return [r for r in state["replicas"] if r["revision"] == revision]


def restored_to_first_revision(stack: LocalStack) -> dict[str, Any] | None:
    state = stack.state()
    replicas = state["replicas"]
    if state["rollout"] != "complete" or len(replicas) != MIN_REPLICAS:
        return None
    if all(r["ready"] and r["version"] == "1.0.0" and r["revision"] == 1 for r in replicas):
        return state
    return None


def stopped(stack: LocalStack, replica: dict[str, Any]) -> bool:
    """The supervisor says it stopped `replica`, and its process is gone."""
    said = any(e["pod"] == replica["name"] for e in stack.events("replica_stopped"))
    try:
        gone = psutil.Process(replica["pid"]).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        gone = True
    return said and gone


def hold_steady(
    stack: LocalStack, seconds: float, new_revision: int, keep: set[str]
) -> list[dict[str, Any]]:
    """Poll for `seconds`: the replicas named `keep` stay ready, the new revision is
    never ready and the rollout never completes. Every new-revision replica seen."""
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = stack.state()
        ready = {r["name"] for r in state["replicas"] if r["ready"]}
        assert keep <= ready, state["replicas"]
        for replica in by_revision(state, new_revision):
            assert not replica["ready"], replica
            seen[replica["name"]] = replica
        assert state["rollout"] != "complete", state
        time.sleep(0.2)
    return list(seen.values())


def test_broken_releases_stall_within_the_budget_and_roll_back(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        original = {r["name"] for r in stack.state()["replicas"]}
        app = stack.state()["endpoints"]["app"]
        # A gentle client (4 requests/s): the HPA's 10% CPU target is low on purpose, and
        # 20 requests/s are enough to make it add a replica in the middle of the test.
        with watching_service(app, at_most_seconds=90, every=0.25) as service:
            # A release that never passes /ready: one surge replica, and there it stays.
            assert stack.command("POST", "/deploy", {"version": "2.0.0", "broken": "unready"}) == {
                "revision": 2
            }
            stalled = hold_steady(stack, 8, new_revision=2, keep=original)
            assert len(stalled) == 1, stalled  # maxSurge 25% of 2 → 1, maxUnavailable 0
            assert stalled[0]["version"] == "2.0.0"
            status = stack.status()
            assert status["revision"] == 2
            assert status["rollout"].startswith("progressing to revision 2"), status["rollout"]
            assert {r["name"] for r in status["replicas"] if r["ready"]} == original

            assert stack.command("POST", "/rollback") == {"revision": 1}
            wait_until(
                lambda: restored_to_first_revision(stack),
                within=10,
                waiting_for="the rollback to revision 1",
            )
            wait_until(
                lambda: stopped(stack, stalled[0]),
                within=REPLICA_GRACE_SECONDS + 2,
                waiting_for=f"{stalled[0]['name']} to stop",
            )

            # A release that exits at start-up: a crash loop, with a growing back-off.
            assert stack.command("POST", "/deploy", {"version": "2.0.0", "broken": "crash"}) == {
                "revision": 3
            }

            def crashes() -> list[tuple[float, float]]:
                """(exit, next start) of the crashing replicas, in order."""
                started = [e for e in stack.events("replica_started") if e["revision"] == 3]
                pods = {e["pod"] for e in started}
                exits = [e for e in stack.events("replica_exited") if e["pod"] in pods]
                return [(x["t"], s["t"]) for x, s in zip(exits, started[1:], strict=False)]

            deadline = time.monotonic() + 20  # restarts after 1 s and 2 s of back-off
            while len(crashes()) < 2:  # never below 2 ready replicas meanwhile
                assert time.monotonic() < deadline, f"no crash loop: {crashes()}"
                hold_steady(stack, 0.5, new_revision=3, keep=original)
            (exit1, start2), (exit2, start3) = crashes()[:2]
            assert start3 - exit2 > start2 - exit1 + 0.5, crashes()  # the back-off grows
            assert stack.state()["rollout"].startswith("progressing to revision 3")

            with pytest.raises(PlatformError, match="there is no revision 9 to roll back to"):
                stack.command("POST", "/rollback", {"revision": 9})
            # Back to what ran before the crashing release: revision 1, not the broken 2.
            assert stack.command("POST", "/rollback") == {"revision": 1}
            wait_until(
                lambda: restored_to_first_revision(stack),
                within=10,
                waiting_for="the rollback to revision 1",
            )
            time.sleep(1)  # the Service sees the last change
        assert service.answered > 40
        assert service.failures == [], service.failures
