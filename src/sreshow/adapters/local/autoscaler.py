"""The local HorizontalPodAutoscaler: each sync, measure every replica as metrics-server
measures a pod and let `core.hpa` decide by the shipped `hpa.yaml`, at the stack's
time scale.

CPU is counted as it would be in real time (`core.cpu`): at time scale 0.1 the
stack's own probes and scrapes reach each replica ten times as often as on a cluster,
and the autoscaler must answer the clients' load, not that.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import yaml

from sreshow.adapters.local.replicas import Replica, Usage
from sreshow.adapters.local.state import AutoscalerRecord
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.core.cpu import MonitoringSource, real_time_cpu
from sreshow.core.hpa import (
    ControllerConfig,
    HpaDecision,
    HpaMemory,
    PodSample,
    PodUsage,
    decide,
)
from sreshow.core.hpa_manifest import spec_from_manifest
from sreshow.core.timescale import scale_monitoring

# The controller's flags are upstream's defaults times the time scale, but it syncs at
# most once a second: each sync measures every replica.
MIN_SYNC_SECONDS = 1.0
# metrics-server reports a pod's CPU over a window of seconds (the kubelet's 10-15 s
# housekeeping); here at least this, and two syncs.
MIN_WINDOW_SECONDS = 5.0


@dataclass(frozen=True)
class Change:
    """The autoscaler set a new replica count."""

    previous: int
    desired: int
    reason: str


class Autoscaler:
    """The HPA of the local Deployment; `sync()` whenever `due()`."""

    def __init__(
        self,
        time_scale: float,
        requests: Mapping[str, int],
        monitoring: Sequence[MonitoringSource],
    ) -> None:
        self.spec = spec_from_manifest(yaml.safe_load(scaled_hpa(time_scale)))
        scaled = ControllerConfig().scaled(time_scale)
        self.controller = replace(scaled, sync_period=max(scaled.sync_period, MIN_SYNC_SECONDS))
        self.window = max(MIN_WINDOW_SECONDS, 2 * self.controller.sync_period)
        self.requests = dict(requests)
        self.monitoring = tuple(monitoring)
        self.memory = HpaMemory()
        self.next_sync = 0.0
        self.record: AutoscalerRecord | None = None
        self.usage: dict[str, Usage | None] = {}  # the last measurement of each replica

    def due(self, now: float) -> bool:
        return now >= self.next_sync

    def sync(
        self,
        now: float,
        desired: int,
        replicas: Iterable[Replica],
        terminating: Iterable[Replica],
        client_requests: Mapping[str, int],
    ) -> Change | None:
        """Measure, decide, remember; the change of the desired count, if any."""
        self.next_sync = now + self.controller.sync_period
        samples = []
        self.usage = {}
        for replica in replicas:
            replica.sample(now, client_requests.get(replica.name, 0))
            usage = replica.usage(self.window)
            self.usage[replica.name] = usage
            samples.append(self._pod(replica, usage))
        # Listed with a deletion timestamp, as the controller sees terminating pods.
        samples += [self._pod(r, None, deleting=True) for r in terminating]
        decision = decide(self.spec, desired, samples, self.memory, now, config=self.controller)
        self.memory = decision.memory
        change = Change(desired, decision.desired, decision.reason) if decision.rescale else None
        live = len(self.usage)
        self._remember(decision, live, decision.desired if change else desired, change)
        return change

    def counted_cpu(self, usage: Usage) -> float:
        """Millicores as the autoscaler counts them: the monitoring at its real-time rate."""
        return real_time_cpu(
            usage.millicores,
            window=usage.window,
            client_requests=usage.client_requests,
            sources=self.monitoring,
        )

    def _pod(self, replica: Replica, usage: Usage | None, *, deleting: bool = False) -> PodSample:
        """A replica as the HPA sees its pod: Running, with the Deployment's requests and
        its usage in milli-units (millicores rounded up, as Quantity.MilliValue does)."""
        measured = None
        if usage is not None:
            values = {
                "cpu": math.ceil(self.counted_cpu(usage)),
                "memory": usage.memory_bytes * 1000,
            }
            measured = PodUsage(values, usage.measured_at, usage.window)
        return PodSample(
            name=replica.name,
            phase="Running",
            ready=replica.ready,
            ready_changed_at=replica.ready_changed_at,
            started_at=replica.started_at,
            usage=measured,
            requests=self.requests,
            deleting=deleting,
        )

    def _remember(
        self, decision: HpaDecision, current: int, desired: int, change: Change | None
    ) -> None:
        previous = self.record
        event = f"{change.previous} → {change.desired}" if change else None
        self.record = AutoscalerRecord(
            current=current,
            desired=desired,
            min_replicas=self.spec.min_replicas,
            max_replicas=self.spec.max_replicas,
            utilization={
                k: None if v is None else float(v) for k, v in decision.utilization.items()
            },
            targets={m.resource: float(m.value) for m in self.spec.metrics},
            last_event=event or (previous.last_event if previous else None),
            last_event_reason=(change.reason if change else None)
            or (previous.last_event_reason if previous else None),
            # Unix time, as the HPA's status.lastScaleTime: readers date the change by it.
            last_scale_at=time.time() if change else (previous.last_scale_at if previous else None),
        )


def scaled_hpa(time_scale: float) -> str:
    """The shipped HPA manifest, its clocks scaled."""
    hpa = (MANIFESTS_DIR / "app" / "hpa.yaml").read_text(encoding="utf-8")
    return scale_monitoring({"hpa.yaml": hpa}, time_scale).files["hpa.yaml"]
