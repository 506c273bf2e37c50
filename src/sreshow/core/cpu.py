"""A replica's CPU as it would be in real time, for an autoscaler on a time-scaled stack.

At time scale 0.1 the stack's own requests to each replica (readiness and liveness
probes, Prometheus's scrape, the blackbox probe) come ten times as often as in real
time, while the clients' requests come at their real rate. Measured as it is, an idle
replica then looks almost as busy as the autoscaler's target (7-10% of a 10% target
was seen) and the autoscaler answers the stack's own overhead, not the load.

`real_time_cpu()` counts the monitoring at its real-time rate: each request to the
replica in the measured window is given an equal share of the CPU it used, and the
monitoring requests beyond what real time would have sent are left out. At time scale
1 nothing is left out; an idle replica keeps `time_scale` of its CPU; under load the
clients' share dominates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MonitoringSource:
    """Something that requests each replica periodically: its interval as configured in
    real time, and as it runs on the stack (both in seconds)."""

    name: str
    real_interval: float
    interval: float


def requests_per_second(sources: Iterable[MonitoringSource]) -> tuple[float, float]:
    """(as run, in real time): the monitoring requests one replica gets per second."""
    listed = list(sources)
    return (
        sum(1 / s.interval for s in listed if s.interval > 0),
        sum(1 / s.real_interval for s in listed if s.real_interval > 0),
    )


def real_time_cpu(
    measured: float,
    *,
    window: float,
    client_requests: int,
    sources: Iterable[MonitoringSource],
) -> float:
    """`measured` CPU (any unit, over `window` seconds) with the monitoring counted at its
    real-time rate instead of the rate it ran at."""
    if not (math.isfinite(measured) and window > 0):
        return measured
    actual_rate, real_rate = requests_per_second(sources)
    clients = max(client_requests, 0)
    requests = clients + actual_rate * window
    if requests <= 0:
        return measured
    return measured * (clients + real_rate * window) / requests
