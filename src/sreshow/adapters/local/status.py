"""What `sreshow status` shows: the supervisor's record joined with Prometheus's view.

Replicas, autoscaler and endpoints come from `stack.json`; alerts, SLIs and each
replica's injected faults (`app_fault`, scraped, so reading them costs the app no
counted request) from Prometheus; notifications from the local sink's record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sreshow.adapters.local.sink import read_notifications
from sreshow.adapters.local.state import StackDir, StackRecord
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.adapters.prometheus import AlertRule, PrometheusClient
from sreshow.core.notifications import Notification
from sreshow.core.panels import Panel, dashboard_panels, graph_url
from sreshow.errors import PlatformError

NAMESPACE = "sre-app"
SCRAPE_INTERVAL_MS = 15_000
BOOLEAN_FAULTS = ("unhealthy", "unready")


@dataclass(frozen=True)
class Slis:
    requests_per_second: float | None
    error_ratio: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class StackStatus:
    record: StackRecord
    alerts: list[AlertRule] = field(default_factory=list)
    slis: Slis | None = None
    faults: dict[str, dict[str, float | bool]] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    dashboard_url: str | None = None
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The `status --json` contract, plus the autoscaler, SLIs and notifications."""
        record = self.record
        return {
            "platform": record.platform,
            "time_scale": record.time_scale,
            "endpoints": {
                key: record.endpoints.get(key) for key in ("app", "prometheus", "alertmanager")
            },
            "replicas": [
                {
                    "name": r.name,
                    "version": r.version,
                    "ready": r.ready,
                    "faults": self.faults.get(r.name),
                    "pid": r.pid,
                    "url": r.url,
                    "restarts": r.restarts,
                }
                for r in record.replicas
            ],
            "alerts": [{"name": a.name, "state": a.state} for a in self.alerts],
            "desired_replicas": record.desired_replicas,
            "revision": record.revision,
            "rollout": record.rollout,
            "autoscaler": record.autoscaler.model_dump() if record.autoscaler else None,
            "slis": None if self.slis is None else self.slis.__dict__,
            "dashboard_url": self.dashboard_url,
            "notifications": [
                {
                    "received_at": n.received_at,
                    "status": n.status,
                    "alerts": list(n.alerts),
                    "delivered_to": n.delivered_to,
                    "error": n.error or None,
                }
                for n in self.notifications
            ],
        }


def collect(stack: StackDir, record: StackRecord) -> StackStatus:
    """Everything `status` shows; a part Prometheus cannot give is named in `problems`."""
    notifications = read_notifications(stack.notifications)[-5:]
    prometheus_url = record.endpoints.get("prometheus")
    if prometheus_url is None:
        return StackStatus(record, notifications=notifications)
    client = PrometheusClient(prometheus_url, timeout=2.0)
    problems: list[str] = []
    try:
        alerts = client.alert_rules()
        slis = _slis(client, record.time_scale)
        faults = _faults(client)
    except PlatformError as e:
        alerts, slis, faults = [], None, {}
        problems.append(str(e))
    finally:
        client.close()
    panels = _panels(record.time_scale)
    return StackStatus(
        record,
        alerts=alerts,
        slis=slis,
        faults=faults,
        notifications=notifications,
        panels=panels,
        dashboard_url=graph_url(prometheus_url, tuple(q for p in panels for q in p.queries)),
        problems=problems,
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


def _faults(client: PrometheusClient) -> dict[str, dict[str, float | bool]]:
    faults: dict[str, dict[str, float | bool]] = {}
    for sample in client.query('app_fault{job="sre-app"}'):
        pod, kind = sample.labels.get("pod"), sample.labels.get("kind")
        if pod and kind:
            value: float | bool = bool(sample.value) if kind in BOOLEAN_FAULTS else sample.value
            faults.setdefault(pod, {})[kind] = value
    return faults


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
