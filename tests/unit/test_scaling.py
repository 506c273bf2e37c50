"""The autoscaler's decisions as successive snapshots tell them."""

from __future__ import annotations

from sreshow.core.revisions import RolloutState, RolloutStatus
from sreshow.ports import Snapshot
from sreshow.scenarios.scaling import autoscaler_change
from sreshow.stack_status import AutoscalerStatus


def snapshot(deployment_wants: int, hpa_wants: int, last_scale_at: float | None) -> Snapshot:
    return Snapshot(
        replicas=(),
        desired=deployment_wants,
        revision=1,
        rollout=RolloutStatus(RolloutState.COMPLETE, "complete"),
        autoscaler=AutoscalerStatus(
            current=2,
            desired=hpa_wants,
            min_replicas=2,
            max_replicas=10,
            last_scale_at=last_scale_at,
        ),
    )


def test_a_scaling_is_told_from_the_autoscalers_count_before_it() -> None:
    # An HPA scales the Deployment first and writes its own status after: a snapshot in
    # between shows the Deployment at 3 while the HPA still says 2.
    before = snapshot(deployment_wants=3, hpa_wants=2, last_scale_at=100.0)
    after = snapshot(deployment_wants=3, hpa_wants=3, last_scale_at=160.0)

    change = autoscaler_change(before, after)

    assert change is not None
    assert (change.previous, change.desired, change.at) == (2, 3, 160.0)


def test_a_scale_by_hand_is_not_the_autoscalers() -> None:
    before = snapshot(deployment_wants=2, hpa_wants=2, last_scale_at=100.0)
    after = snapshot(deployment_wants=3, hpa_wants=2, last_scale_at=100.0)

    assert autoscaler_change(before, after) is None
