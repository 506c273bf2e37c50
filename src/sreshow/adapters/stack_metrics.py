"""What a stack's Prometheus adds to `sreshow status`, whatever the platform: the alert
rules' states, the SLIs, each replica's injected faults (`app_fault`, scraped, so
reading them costs the app no counted request) and the dashboard's panels."""

from __future__ import annotations

import json
from dataclasses import replace

from demo_app.faults import FAULT_KINDS, Faults
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.adapters.prometheus import PrometheusClient
from sreshow.core.panels import Panel, dashboard_panels
from sreshow.errors import PlatformError
from sreshow.stack_status import AlertStatus, Slis, StackStatus

NAMESPACE = "sre-app"
SCRAPE_INTERVAL_MS = 15_000


def with_prometheus(status: StackStatus, client: PrometheusClient) -> StackStatus:
    """`status` with what the stack's Prometheus tells: alerts, SLIs, each replica's
    faults and the dashboard's panels; when it cannot be read, why, in `problems`."""
    try:
        alerts = client.alert_rules()
        slis = _slis(client, status.time_scale)
        faults = _faults(client)
    except PlatformError as e:
        return replace(status, problems=(*status.problems, str(e)))
    return replace(
        status,
        replicas=tuple(replace(r, faults=faults.get(r.name)) for r in status.replicas),
        alerts=tuple(AlertStatus(a.name, a.state, a.active_at) for a in alerts),
        slis=slis,
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


def dashboard_panels_for(time_scale: float, *, range_ms: int) -> list[Panel]:
    """The Grafana dashboard's panels with their variables filled for all pods: rates
    over four scrapes at `time_scale`, `$__range` of `range_ms`; none if unreadable."""
    path = MANIFESTS_DIR / "monitoring" / "grafana" / "sre-app-dashboard.json"
    try:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    scrape_ms = max(round(SCRAPE_INTERVAL_MS * time_scale), 1000)
    return dashboard_panels(
        dashboard, namespace=NAMESPACE, rate_interval_ms=4 * scrape_ms, range_ms=range_ms
    )
