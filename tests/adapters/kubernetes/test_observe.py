"""A cluster's Deployment, ReplicaSets, pods and HPA read as the Snapshot every platform
reports: what `sreshow status` and the scenario timeline tell on Kubernetes."""

from __future__ import annotations

import pytest

from sreshow.adapters.kubernetes.observe import parse_time, snapshot
from sreshow.adapters.kubernetes.platform import rollback_target
from sreshow.errors import PlatformError
from tests.adapters.kubernetes.objects import deployment, hpa, pod, replica_set, rescale_event


def test_replicas_are_the_deployments_pods_not_terminating_with_their_revision_and_version() -> (
    None
):
    old, new = replica_set("aaa", 1), replica_set("bbb", 2)
    pods = [
        pod("sre-app-aaa-1", "aaa", version="1.0.0", ready=True, restarts=2),
        pod("sre-app-bbb-1", "bbb", version="2.0.0", ready=False),
        pod("sre-app-aaa-2", "aaa", terminating=True),
    ]

    seen = snapshot(deployment(revision=2, updated=1), [old, new], pods, None, [])

    assert [(r.name, r.revision, r.version, r.ready, r.restarts) for r in seen.replicas] == [
        ("sre-app-aaa-1", 1, "1.0.0", True, 2),
        ("sre-app-bbb-1", 2, "2.0.0", False, 0),
    ]
    assert (seen.revision, seen.desired, seen.autoscaler) == (2, 2, None)


def test_a_rolled_back_replica_set_keeps_the_number_it_was_first_rolled_out_as() -> None:
    # Revision 1 rolled back to after 2: Kubernetes renumbers it 3 (history "1").
    back, broken = replica_set("aaa", 3, history="1"), replica_set("bbb", 2)

    seen = snapshot(deployment(revision=3), [back, broken], [pod("p", "aaa")], None, [])

    assert seen.revision == 1
    assert seen.replicas[0].revision == 1


@pytest.mark.parametrize(
    ("state", "expected", "told"),
    [
        ({}, "complete", "complete"),
        ({"generation": 2, "observed": 1}, "progressing", "waiting for the rollout to start"),
        ({"updated": 1}, "progressing", "1 of 2 replicas updated"),
        ({"total": 3}, "progressing", "1 old replicas terminating"),
        ({"available": 1}, "progressing", "1 of 2 replicas available"),
        (
            {"progressing_reason": "ProgressDeadlineExceeded", "updated": 1},
            "stalled",
            "revision 2 made no progress within 12 s",
        ),
    ],
)
def test_the_rollout_reads_as_kubectl_rollout_status_tells(
    state: dict[str, object], expected: str, told: str
) -> None:
    seen = snapshot(
        deployment(revision=2, **state),
        [replica_set("bbb", 2)],
        [pod("p1", "bbb"), pod("p2", "bbb")],
        None,
        [],
    )  # type: ignore[arg-type]

    assert seen.rollout.state == expected
    assert told in seen.rollout.message


def test_the_autoscaler_is_the_hpas_status_and_its_last_rescale_event() -> None:
    events = [
        rescale_event(
            "New size: 3; reason: cpu resource utilization (percentage of request) above target",
            "2026-12-04T10:00:00Z",
        ),
        rescale_event(
            "New size: 4; reason: cpu resource utilization (percentage of request) above target",
            "2026-12-04T10:01:00Z",
        ),
    ]

    seen = snapshot(
        deployment(revision=1),
        [replica_set("aaa", 1)],
        [],
        hpa(desired=4, last_scale="2026-12-04T10:01:00Z"),
        events,
    ).autoscaler

    assert seen is not None
    assert (seen.min_replicas, seen.desired, seen.max_replicas) == (2, 4, 10)
    assert seen.targets == {"cpu": 10.0, "memory": 80.0}
    assert seen.utilization == {"cpu": 7, "memory": None}
    assert seen.last_event == "scaled to 4"
    assert seen.last_event_reason == "cpu resource utilization (percentage of request) above target"
    assert seen.last_scale_at == parse_time("2026-12-04T10:01:00Z")


def test_an_hpa_without_metrics_says_why_it_cannot_scale() -> None:
    seen = snapshot(deployment(revision=1), [], [], hpa(scaling_active=False), []).autoscaler

    assert seen is not None
    assert "FailedGetResourceMetric" in seen.note


def test_a_rollback_goes_to_the_revision_before_the_current_one_or_the_one_named() -> None:
    first, second, third = replica_set("aaa", 1), replica_set("bbb", 2), replica_set("ccc", 3)
    current = deployment(revision=3)

    assert rollback_target(current, [first, second, third], None) is second
    assert rollback_target(current, [first, second, third], 1) is first
    with pytest.raises(PlatformError, match=r"no revision 9 .*revisions: 1, 2, 3"):
        rollback_target(current, [first, second, third], 9)
    with pytest.raises(PlatformError, match="no earlier revision"):
        rollback_target(deployment(revision=1), [first], None)


def test_an_hpa_that_has_decided_nothing_yet_wants_what_runs_within_its_bounds() -> None:
    fresh = hpa()
    del fresh["status"]["desiredReplicas"], fresh["status"]["currentReplicas"]
    one = [pod("p", "aaa")]

    seen = snapshot(deployment(revision=1, replicas=1), [replica_set("aaa", 1)], one, fresh, [])

    assert seen.autoscaler is not None
    assert (seen.autoscaler.current, seen.autoscaler.desired) == (1, 2)  # its minimum


def test_a_pod_gone_unready_before_the_deployment_counts_it_makes_the_rollout_progressing() -> None:
    # The Deployment's status still says 2 available; the pod already says not ready.
    pods = [pod("a", "aaa"), pod("b", "aaa", ready=False)]

    seen = snapshot(deployment(revision=1), [replica_set("aaa", 1)], pods, None, [])

    assert seen.rollout.state == "progressing"
    assert "1 of 2 replicas ready" in seen.rollout.message
