"""What `sreshow status` shows: the supervisor's record joined with Prometheus's view.

Replicas, autoscaler and endpoints come from `stack.json`; alerts, SLIs and each
replica's injected faults (`app_fault`, scraped, so reading them costs the app no
counted request) from Prometheus; notifications from the local sink's record.
"""

from __future__ import annotations

import json
from dataclasses import replace

from demo_app.faults import FAULT_KINDS, Faults
from sreshow.adapters.local.sink import read_notifications
from sreshow.adapters.local.state import StackDir, StackRecord
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.adapters.prometheus import PrometheusClient
from sreshow.core.panels import Panel, dashboard_panels, graph_url
from sreshow.core.revisions import RolloutStatus
from sreshow.errors import PlatformError
from sreshow.stack_status import (
    AlertStatus,
    AutoscalerStatus,
    ReplicaStatus,
    Slis,
    StackStatus,
)

NAMESPACE = "sre-app"
SCRAPE_INTERVAL_MS = 15_000
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
        alerts = client.alert_rules()
        slis = _slis(client, record.time_scale)
        faults = _faults(client)
    except PlatformError as e:
        return replace(status, problems=(str(e),))
    finally:
        client.close()
    panels = tuple(_panels(record.time_scale))
    return replace(
        status,
        replicas=tuple(replace(r, faults=faults.get(r.name)) for r in status.replicas),
        alerts=tuple(AlertStatus(a.name, a.state, a.active_at) for a in alerts),
        slis=slis,
        panels=panels,
        dashboard_url=graph_url(prometheus_url, tuple(q for p in panels for q in p.queries)),
    )


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


def _window(time_scale: float) -> str:
    seconds = max(round(60 * time_scale), 4 * max(round(15 * time_scale), 1))
    return f"{seconds}s"


def _slis(client: PrometheusClient, time_scale: float) -> Slis:
    window = _window(time_scale)
    selector = 'job="sre-app"'
    return Slis(
        requests_per_second=client.scalar(
            f"sum(rate(http_requests_total{{{selector}}}[{window}]))"
        ),
        error_ratio=client.scalar(
            f'sum(rate(http_requests_total{{{selector}, status=~"5.."}}[{window}]))'
            f" / sum(rate(http_requests_total{{{selector}}}[{window}]))"
        ),
        p95_seconds=client.scalar(
            "histogram_quantile(0.95, sum by (le) "
            f"(rate(http_request_duration_seconds_bucket{{{selector}}}[{window}])))"
        ),
    )


def _faults(client: PrometheusClient) -> dict[str, Faults]:
    """Each replica's faults, as its `app_fault` gauges were last scraped."""
    kinds: dict[str, dict[str, float]] = {}
    for sample in client.query('app_fault{job="sre-app"}'):
        pod, kind = sample.labels.get("pod"), sample.labels.get("kind")
        if pod and kind in FAULT_KINDS:
            kinds.setdefault(pod, {})[kind] = sample.value
    return {pod: Faults.model_validate(values) for pod, values in kinds.items()}


def _panels(time_scale: float) -> list[Panel]:
    path = MANIFESTS_DIR / "monitoring" / "grafana" / "sre-app-dashboard.json"
    try:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    scrape_ms = max(round(SCRAPE_INTERVAL_MS * time_scale), 1000)
    return dashboard_panels(
        dashboard, namespace=NAMESPACE, rate_interval_ms=4 * scrape_ms, range_ms=15 * 60_000
    )
