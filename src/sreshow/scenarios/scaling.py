"""The autoscaler's decisions, read from successive snapshots as any platform reports
them: its desired count and the time it last scaled (an HPA's
`status.lastScaleTime`), never from a platform's own event log."""

from __future__ import annotations

from dataclasses import dataclass

from sreshow.ports import Snapshot


@dataclass(frozen=True)
class AutoscalerChange:
    """The autoscaler changed the desired count (not a change made by hand)."""

    at: float  # Unix time
    previous: int
    desired: int
    reason: str


def autoscaler_change(previous: Snapshot | None, current: Snapshot) -> AutoscalerChange | None:
    """The scaling between two snapshots, if the autoscaler scaled in between.

    A scale by hand changes the desired count but not the time the autoscaler last
    scaled, so it is not one. Two scalings between the same two snapshots are told as
    one, from the count before the first to the count after the last."""
    after = current.autoscaler
    if previous is None or after is None or after.last_scale_at is None:
        return None
    before = previous.autoscaler
    if before is not None and before.last_scale_at == after.last_scale_at:
        return None
    return AutoscalerChange(
        at=after.last_scale_at,
        # The autoscaler's own count before: on a cluster the Deployment may already show
        # the new one (the HPA scales it, then writes its status).
        previous=before.desired if before is not None else previous.desired,
        desired=after.desired,
        reason=after.last_event_reason or "",
    )
