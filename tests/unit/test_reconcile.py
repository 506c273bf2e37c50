"""ReplicaSet and Deployment decisions: replace, scale, roll out, stall, roll back, evict."""

from __future__ import annotations

import random

import pytest

from sreshow.core.reconcile import (
    Replica,
    StartReplica,
    StopReplica,
    eviction_allowed,
    reconcile,
    replica_name,
    rolling_update_limits,
    rollout_complete,
    template_hash,
)


def r(name: str, revision: int = 1, *, ready: bool = True, created_at: float = 0) -> Replica:
    return Replica(name, revision, ready, created_at)


def starts(actions: list[StartReplica | StopReplica]) -> int:
    return sum(isinstance(a, StartReplica) for a in actions)


def stopped(actions: list[StartReplica | StopReplica]) -> list[str]:
    return [a.name for a in actions if isinstance(a, StopReplica)]


def test_a_dead_replica_is_replaced() -> None:
    actions = reconcile(2, 1, [r("a")])
    assert actions == [StartReplica(1, "fewer replicas than desired")]


def test_surplus_goes_unready_first_then_newest() -> None:
    replicas = [r("old", created_at=1), r("new", created_at=5), r("sick", ready=False)]
    assert stopped(reconcile(1, 1, replicas)) == ["sick", "new"]


@pytest.mark.parametrize(
    ("replicas", "limits"), [(1, (1, 0)), (2, (1, 0)), (4, (1, 1)), (10, (3, 2)), (0, (0, 1))]
)
def test_rolling_limits_round_surge_up_and_unavailable_down(
    replicas: int, limits: tuple[int, int]
) -> None:
    assert rolling_update_limits(replicas) == limits


def run_rollout(
    desired: int, ready_when_started: bool, steps: int = 20
) -> tuple[list[Replica], list[int]]:
    """Simulate the supervisor: apply actions; started replicas become ready a step later."""
    replicas = [r(f"v1-{i}") for i in range(desired)]
    ready_counts, counter = [], 0
    for _ in range(steps):
        # replicas started in the previous step finish starting now
        replicas = [
            Replica(x.name, x.revision, x.ready or (x.revision == 2 and ready_when_started), 0)
            for x in replicas
        ]
        for action in reconcile(desired, 2, replicas):
            if isinstance(action, StartReplica):
                counter += 1
                replicas.append(Replica(f"v2-{counter}", 2, False, counter))
            else:
                replicas = [x for x in replicas if x.name != action.name]
        ready_counts.append(sum(x.ready for x in replicas))
        assert len(replicas) <= desired + rolling_update_limits(desired)[0]
    return replicas, ready_counts


@pytest.mark.parametrize("desired", [1, 2, 4, 10])
def test_a_good_release_rolls_out_without_dropping_below_max_unavailable(desired: int) -> None:
    replicas, ready_counts = run_rollout(desired, ready_when_started=True)
    assert rollout_complete(desired, 2, replicas)
    unavailable = rolling_update_limits(desired)[1]
    assert min(ready_counts) >= desired - unavailable


@pytest.mark.parametrize("desired", [2, 4, 10])
def test_a_release_that_never_gets_ready_stalls_with_the_old_replicas_serving(
    desired: int,
) -> None:
    replicas, ready_counts = run_rollout(desired, ready_when_started=False)
    surge, unavailable = rolling_update_limits(desired)
    assert not rollout_complete(desired, 2, replicas)
    assert min(ready_counts) >= desired - unavailable
    assert sum(x.revision == 2 for x in replicas) <= surge + unavailable


def test_rolling_back_removes_the_broken_replicas_first() -> None:
    # Revision 2 never got ready; pointing the Deployment back at revision 1 keeps the
    # serving replicas and stops the broken one.
    replicas = [r("v1-a"), r("v1-b"), r("v2-a", 2, ready=False)]
    assert reconcile(2, 1, replicas) == [StopReplica("v2-a", "old revision, not ready")]


def test_scaling_to_zero_stops_everything_and_back_starts_again() -> None:
    assert stopped(reconcile(0, 1, [r("a"), r("b")])) == ["a", "b"]
    assert starts(reconcile(2, 1, [])) == 2


def test_the_disruption_budget_guards_voluntary_evictions() -> None:
    two_ready = [r("a"), r("b")]
    assert eviction_allowed(two_ready, "a", min_available=1)
    assert not eviction_allowed([r("a"), r("b", ready=False)], "a", min_available=1)
    assert eviction_allowed([r("a"), r("b", ready=False)], "b", min_available=1)
    assert not eviction_allowed([r("a")], "a", min_available=1)
    assert not eviction_allowed(two_ready, "nobody", min_available=1)


def test_names_look_like_kubernetes_pod_names() -> None:
    rng = random.Random(7)
    template = template_hash("1.0.0")
    name = replica_name("sre-app", template, rng)
    assert name.startswith(f"sre-app-{template}-")
    assert len(template) == 5
    assert len(name.rsplit("-", 1)[1]) == 5
    assert template_hash("1.0.0") == template
    assert template_hash("1.0.1") != template
    assert template_hash("1.0.0", "unready") != template
    assert replica_name("sre-app", template, rng) != name
