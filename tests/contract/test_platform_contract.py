"""The contract of the `Platform` port (sreshow.ports), held against every implementation:
what a scenario observes and does means the same on the fake the runner's unit tests
use and on a real stack. Each test names the behaviour a user of `sreshow scenario`
would notice if a platform broke it.

Run per implementation by the `platform` fixture (conftest.py): the fake in the fast
tier, the local stack in the integration tier. Waits are bounded by `Subject.bounds`,
which derives them from the platform's time scale."""

from __future__ import annotations

import time

import pytest

from demo_app.faults import FaultPatch, Faults
from sreshow.core.notifications import Notification
from sreshow.errors import EvictionRefused, PlatformError
from sreshow.ports import Platform, Snapshot
from sreshow.scenarios.scaling import autoscaler_change
from tests.contract.conftest import steady, wait_for_snapshot
from tests.contract.subjects import Subject
from tests.unit.fakes import shipped_alert_names

ALERT_STATES = {"inactive", "pending", "firing"}


def two_replicas(platform: Platform) -> tuple[str, str]:
    """The names of the first two replicas (the stack runs two: the HPA's minimum)."""
    names = sorted(r.name for r in platform.snapshot().replicas)
    assert len(names) >= 2, f"the contract needs two replicas, the platform runs {names}"
    return names[0], names[1]


def replica_named(snapshot: Snapshot, name: str) -> bool:
    return any(r.name == name for r in snapshot.replicas)


# --- what a scenario observes ------------------------------------------------------------


def test_after_start_every_desired_replica_is_ready_on_the_current_revision(
    platform: Platform,
) -> None:
    snapshot = platform.snapshot()

    assert snapshot.desired >= 1
    assert snapshot.ready == snapshot.desired == len(snapshot.replicas)
    assert snapshot.rollout.state == "complete"
    assert {r.revision for r in snapshot.replicas} == {snapshot.revision}
    assert len({r.name for r in snapshot.replicas}) == len(snapshot.replicas)
    autoscaler = snapshot.autoscaler  # a platform may have none; if it has, it is sane
    if autoscaler is not None:
        assert autoscaler.min_replicas <= autoscaler.desired <= autoscaler.max_replicas


def test_alerts_are_every_shipped_alert_rule_each_in_a_known_state(platform: Platform) -> None:
    alerts = platform.alerts()

    assert sorted(a.name for a in alerts) == list(shipped_alert_names())
    assert {a.state for a in alerts} <= ALERT_STATES


def test_notifications_are_a_list_oldest_first(platform: Platform) -> None:
    notifications = platform.notifications()

    assert isinstance(notifications, list)
    assert all(isinstance(n, Notification) for n in notifications)
    received = [n.received_at for n in notifications]
    assert received == sorted(received)


def test_a_query_of_a_constant_is_its_value(platform: Platform) -> None:
    assert platform.query("1") == 1.0


# --- faults ------------------------------------------------------------------------------


def test_faults_set_on_one_replica_reach_that_replica_only(
    platform: Platform, subject: Subject
) -> None:
    target, other = two_replicas(platform)

    platform.set_faults([target], FaultPatch(error_rate=0.5, latency_seconds=0.05))

    assert subject.faults(platform, target) == Faults(error_rate=0.5, latency_seconds=0.05)
    assert subject.faults(platform, other) == Faults()


def test_a_patch_keeps_the_faults_it_does_not_set(platform: Platform, subject: Subject) -> None:
    target, _ = two_replicas(platform)
    platform.set_faults([target], FaultPatch(error_rate=0.5))

    platform.set_faults([target], FaultPatch(latency_seconds=0.05))

    assert subject.faults(platform, target) == Faults(error_rate=0.5, latency_seconds=0.05)


def test_clear_faults_resets_every_fault_of_the_replicas_named_only(
    platform: Platform, subject: Subject
) -> None:
    target, other = two_replicas(platform)
    platform.set_faults([target, other], FaultPatch(error_rate=0.5, latency_seconds=0.05))

    platform.clear_faults([target])

    assert subject.faults(platform, target) == Faults()
    assert subject.faults(platform, other) == Faults(error_rate=0.5, latency_seconds=0.05)


def test_faults_for_a_replica_that_does_not_exist_are_refused_naming_it(
    platform: Platform,
) -> None:
    with pytest.raises(PlatformError, match="sre-app-no-such-pod"):
        platform.set_faults(["sre-app-no-such-pod"], FaultPatch(error_rate=0.5))


# --- replicas ----------------------------------------------------------------------------


@pytest.mark.parametrize("force", [True, False], ids=["killed", "evicted"])
def test_a_replica_that_goes_is_replaced_by_a_ready_one(
    platform: Platform, subject: Subject, force: bool
) -> None:
    bounds = subject.bounds(platform)
    victim, _ = two_replicas(platform)
    desired = platform.snapshot().desired

    platform.kill(victim, force=force)

    after = wait_for_snapshot(
        platform,
        lambda s: not replica_named(s, victim) and steady(s),
        within=bounds.ready,
        waiting_for=f"{victim} gone and a ready replacement",
    )
    assert (after.desired, after.ready) == (desired, desired)


def test_an_eviction_the_disruption_budget_forbids_is_refused_and_the_replica_stays(
    platform: Platform, subject: Subject
) -> None:
    # The budget (minAvailable 1, manifests/app/pdb.yaml) forbids evicting the last
    # ready replica: make the other one unready first.
    bounds = subject.bounds(platform)
    victim, other = two_replicas(platform)
    platform.set_faults([other], FaultPatch(unready=True))
    wait_for_snapshot(
        platform,
        lambda s: s.ready == 1 and not next(r for r in s.replicas if r.name == other).ready,
        within=bounds.unready,
        waiting_for=f"{other} unready",
    )

    with pytest.raises(EvictionRefused, match="disruption budget") as refused:
        platform.kill(victim, force=False)

    assert victim in str(refused.value)
    after = platform.snapshot()
    assert [r.name for r in after.replicas if r.ready] == [victim]


def test_killing_a_replica_that_does_not_exist_is_refused_naming_it(platform: Platform) -> None:
    with pytest.raises(PlatformError, match="sre-app-no-such-pod"):
        platform.kill("sre-app-no-such-pod", force=True)


def test_scale_sets_the_desired_count_and_is_not_told_as_the_autoscaler(
    platform: Platform,
) -> None:
    before = platform.snapshot()

    platform.scale(before.desired + 1)

    after = platform.snapshot()
    # Only the autoscaler may have changed it since, and then it says so (an HPA sets a
    # count below what it wants back at once, as on Kubernetes).
    change = autoscaler_change(before, after)
    assert after.desired == before.desired + 1 or change is not None, after
    if after.desired == before.desired + 1:
        assert change is None, "a scale by hand was told as the autoscaler's"


# --- rollouts ----------------------------------------------------------------------------


def test_a_deploy_rolls_out_a_new_revision_and_a_rollback_returns_to_the_previous(
    platform: Platform, subject: Subject
) -> None:
    bounds = subject.bounds(platform)
    before = platform.snapshot()
    old_version = before.replicas[0].version

    deployed = platform.deploy("9.9.9-contract", None)

    assert deployed != before.revision
    assert platform.snapshot().revision == deployed
    rolled_out = wait_for_snapshot(
        platform,
        lambda s: steady(s) and s.revision == deployed,
        within=bounds.rollout(before.desired),
        waiting_for=f"revision {deployed} rolled out",
    )
    assert {r.version for r in rolled_out.replicas} == {"9.9.9-contract"}

    assert platform.rollback(None) == before.revision

    back = wait_for_snapshot(
        platform,
        lambda s: steady(s) and s.revision == before.revision,
        within=bounds.rollout(before.desired),
        waiting_for=f"revision {before.revision} rolled out again",
    )
    assert {r.version for r in back.replicas} == {old_version}


def test_a_release_that_never_gets_ready_stalls_while_the_old_replicas_serve(
    platform: Platform, subject: Subject
) -> None:
    bounds = subject.bounds(platform)
    before = platform.snapshot()

    broken = platform.deploy("9.9.9-unready", "unready")

    stalled = wait_for_snapshot(
        platform,
        lambda s: s.rollout.state == "stalled",
        within=bounds.stalled,
        waiting_for=f"the rollout of revision {broken} stalled",
    )
    assert stalled.revision == broken
    serving = [r for r in stalled.replicas if r.ready]
    assert len(serving) == before.desired  # maxUnavailable 25% of 2: none may go
    assert {r.revision for r in serving} == {before.revision}
    assert f"revision {broken}" in stalled.rollout.message  # what `status` tells

    assert platform.rollback(None) == before.revision
    wait_for_snapshot(
        platform,
        lambda s: steady(s) and s.revision == before.revision,
        within=bounds.ready,
        waiting_for="the broken release's replicas gone after the rollback",
    )


def test_a_completed_rollout_that_loses_a_replica_waits_for_it_and_never_stalls(
    platform: Platform, subject: Subject
) -> None:
    # As on Kubernetes: the progress deadline is for a rollout under way; a replica that
    # goes unready later (a liveness restart, a failing dependency) stalls nothing.
    bounds = subject.bounds(platform)
    _, other = two_replicas(platform)
    platform.set_faults([other], FaultPatch(unready=True))
    wait_for_snapshot(
        platform, lambda s: s.ready == 1, within=bounds.unready, waiting_for=f"{other} unready"
    )

    states = set()
    deadline = time.monotonic() + bounds.stalled
    while time.monotonic() < deadline:
        states.add(platform.snapshot().rollout.state)
        time.sleep(0.2)

    assert states == {"progressing"}
    platform.clear_faults([other])
    whole = wait_for_snapshot(
        platform, steady, within=bounds.ready, waiting_for=f"{other} ready again"
    )
    assert whole.rollout.state == "complete"


def test_a_rollback_to_a_revision_that_does_not_exist_is_refused_and_changes_nothing(
    platform: Platform,
) -> None:
    before = platform.snapshot()

    with pytest.raises(PlatformError, match="no revision 999"):
        platform.rollback(999)

    assert platform.snapshot().revision == before.revision


# --- the connection ----------------------------------------------------------------------


def test_the_platform_is_a_context_manager_that_closes_and_close_is_safe_twice(
    subject: Subject,
) -> None:
    platform = subject.connect()

    with platform as entered:
        assert entered is platform
        assert entered.snapshot().desired >= 1

    assert subject.closed(platform)
    platform.close()  # a second close is no error
    assert subject.closed(platform)
