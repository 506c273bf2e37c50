"""The series a report charts, read once when a run ends and kept in its journal, so the
report renders later without Prometheus: the Service's request rate, error share,
latency quantiles and replicas from Prometheus's range API over the run's window, and
the load generator's own per-second samples.

    series: {step_s, request_rate, error_percent, latency_p50_s, latency_p95_s,
             latency_p99_s, replicas: [[t, value or null], ...],
             load: {achieved_rps, p95_ms, dropped: [[t, value], ...]},
             missing: {name: why}}

`t` is seconds since the run started, as in the journal's events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sreshow.adapters.stack_metrics import SCRAPE_INTERVAL_MS
from sreshow.errors import PlatformError
from sreshow.ports import LoadSample, Metrics

# Rates are over four scrapes (Grafana's $__rate_interval), at the stack's time scale.
MIN_STEP_SECONDS = 1.0
MAX_POINTS = 2000  # per series; a long run gets a coarser step


def series_queries(rate_window_s: float) -> dict[str, str]:
    """The PromQL of each chart's series, over the whole Service (all replicas)."""
    window = f"{max(round(rate_window_s), 1)}s"
    requests = 'http_requests_total{job="sre-app"}'
    buckets = 'http_request_duration_seconds_bucket{job="sre-app"}'
    quantiles = {
        f"latency_{name}_s": f"histogram_quantile({q}, sum by (le) (rate({buckets}[{window}])))"
        for name, q in (("p50", "0.50"), ("p95", "0.95"), ("p99", "0.99"))
    }
    return {
        "request_rate": f"sum(rate({requests}[{window}]))",
        "error_percent": (
            f'100 * (sum(rate(http_requests_total{{job="sre-app", status=~"5.."}}[{window}]))'
            f" or vector(0)) / sum(rate({requests}[{window}]))"
        ),
        **quantiles,
        "replicas": 'count(up{job="sre-app"} == 1)',
    }


def run_series(
    metrics: Metrics,
    *,
    started_at: float,
    ended_at: float,
    time_scale: float,
    load_samples: Sequence[LoadSample] = (),
) -> dict[str, Any]:
    """The journal's `series` for a run from `started_at` to `ended_at` (Unix times).
    A series Prometheus cannot give is named in `missing` with the reason."""
    scrape = max(SCRAPE_INTERVAL_MS / 1000 * time_scale, MIN_STEP_SECONDS)
    step = max(scrape, MIN_STEP_SECONDS, (ended_at - started_at) / MAX_POINTS)
    series: dict[str, Any] = {"step_s": round(step, 3)}
    missing: dict[str, str] = {}
    for name, expr in series_queries(4 * scrape).items():
        try:
            found = metrics.query_range(expr, started_at, ended_at, step)
        except PlatformError as e:
            missing[name] = str(e)
            continue
        if not found:
            missing[name] = "Prometheus had no samples for it in the run's window"
            continue
        series[name] = _relative(found[0].points, started_at)
    if load_samples:
        series["load"] = _load_series(load_samples, started_at)
    else:
        missing["load"] = "no load ran during the run"
    series["missing"] = missing
    return series


def _load_series(samples: Sequence[LoadSample], started_at: float) -> dict[str, Any]:
    def points(value: Mapping[float, float | None]) -> list[list[float | None]]:
        return _relative(list(value.items()), started_at)

    return {
        "achieved_rps": points({s.at: float(s.sent) for s in samples}),
        "p95_ms": points({s.at: s.p95_ms for s in samples}),
        "dropped": points({s.at: float(s.dropped) for s in samples}),
    }


def _relative(
    points: Sequence[tuple[float, float | None]], started_at: float
) -> list[list[float | None]]:
    return [
        [round(at - started_at, 3), None if value is None else round(value, 6)]
        for at, value in points
    ]
