"""What `sreshow status` shows: the supervisor's record joined with Prometheus's view.

Replicas, autoscaler and endpoints come from `stack.json`; alerts, SLIs and each
replica's injected faults (`app_fault`, scraped, so reading them costs the app no
counted request) from Prometheus; notifications from the local sink's record.
"""

from __future__ import annotations

from dataclasses import replace

from sreshow.adapters.local.state import StackDir, StackRecord
from sreshow.adapters.prometheus import PrometheusClient
from sreshow.adapters.sink import read_notifications
from sreshow.adapters.stack_metrics import with_prometheus
from sreshow.core.revisions import RolloutStatus
from sreshow.stack_status import AutoscalerStatus, ReplicaStatus, StackStatus

CPU_NOTE = (
    "CPU as in real time: the stack's probes and scrapes, {factor:g}x as frequent here, "
    "at their real-time rate"
)


def from_record(stack: StackDir, record: StackRecord) -> StackStatus:
    """What the supervisor's record says, without asking Prometheus (`up`'s progress)."""
    return StackStatus(
        platform=record.platform,
        time_scale=record.time_scale,
        endpoints=dict(record.endpoints),
        desired_replicas=record.desired_replicas,
        revision=record.revision,
        version=next((r.version for r in record.revisions if r.number == record.revision), "?"),
        rollout=rollout_of(record),
        replicas=tuple(
            ReplicaStatus(
                name=r.name,
                version=r.version,
                ready=r.ready,
                restarts=r.restarts,
                cpu_percent=r.cpu_percent,
                memory_bytes=r.memory_bytes,
                extra={"pid": r.pid, "url": r.url},
            )
            for r in record.replicas
        ),
        components=dict(record.components),
        autoscaler=autoscaler_of(record),
        state_location=str(stack.root.parent),
    )


def collect(stack: StackDir, record: StackRecord) -> StackStatus:
    """Everything `status` shows; a part Prometheus cannot give is named in `problems`."""
    status = replace(
        from_record(stack, record),
        notifications=tuple(read_notifications(stack.notifications)[-5:]),
    )
    prometheus_url = record.endpoints.get("prometheus")
    if prometheus_url is None:
        return status
    client = PrometheusClient(prometheus_url, timeout=2.0)
    try:
        status = with_prometheus(status, client)
    finally:
        client.close()
    return status


def rollout_of(record: StackRecord) -> RolloutStatus:
    return RolloutStatus(record.rollout_state, record.rollout)


def autoscaler_of(record: StackRecord) -> AutoscalerStatus | None:
    hpa = record.autoscaler
    if hpa is None:
        return None
    return AutoscalerStatus(
        current=hpa.current,
        desired=hpa.desired,
        min_replicas=hpa.min_replicas,
        max_replicas=hpa.max_replicas,
        utilization=dict(hpa.utilization),
        targets=dict(hpa.targets),
        last_event=hpa.last_event,
        last_event_reason=hpa.last_event_reason,
        last_scale_at=hpa.last_scale_at,
        note="" if record.time_scale == 1 else CPU_NOTE.format(factor=1 / record.time_scale),
    )
