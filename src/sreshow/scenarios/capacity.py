"""Whether the deployment has every replica it wants ready: capacity short, whole again.

A shortfall is a loss of capacity: fewer replicas ready than desired because the ready
count dropped (a pod killed, evicted, crashed, restarted or gone unready), or because
the run's own `scale` step raised the count. The autoscaler raising the count is not
one: replicas starting to meet more load is growth, shown with the replicas, and its
slow start would otherwise read as an outage healing. Once short, the deployment is
whole again when as many replicas are ready as are desired then (also when the
autoscaler raised the count meanwhile). Nothing counts before the deployment was whole
once, so a run that began short does not report a recovery it never saw begin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sreshow.ports import Snapshot


@dataclass(frozen=True)
class CapacityChange:
    kind: Literal["replicas_short", "replicas_whole"]
    ready: int
    desired: int


class CapacityWatch:
    """Fed every snapshot in turn; says when capacity went short and came back."""

    def __init__(self) -> None:
        self._was_whole = False
        self._short = False
        self._run_raised_to: int | None = None  # a count the run's own scale step raised to

    def run_scaled(self, previous: int, replicas: int) -> None:
        """The run's own `scale` step set the count: a raise it makes leaves it short."""
        self._run_raised_to = replicas if replicas > previous else None

    def update(self, previous: Snapshot | None, current: Snapshot) -> CapacityChange | None:
        """The change `current` shows after `previous`, if any."""
        ready, desired = current.ready, current.desired
        if ready >= desired:
            # The raise is met (the platform may not show it yet: keep it until it does).
            if self._run_raised_to is not None and desired >= self._run_raised_to:
                self._run_raised_to = None
            self._was_whole = True
            if self._short:
                self._short = False
                return CapacityChange("replicas_whole", ready, desired)
            return None
        if self._short or not self._was_whole:
            return None
        lost = previous is not None and ready < previous.ready
        raised_by_run = desired == self._run_raised_to
        if not (lost or raised_by_run):
            return None  # the autoscaler wants more: growth, not a loss
        self._short, self._run_raised_to = True, None
        return CapacityChange("replicas_short", ready, desired)
