"""The app's Prometheus metrics and the pure-ASGI middleware that records them.

Names and labels are a contract (docs/architecture.md): alerts, dashboards and
scenario checks depend on them. The middleware reads the route template the
router already stored in `scope["route"]`, so it costs a few microseconds per
request and never labels by raw path.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demo_app.faults import Faults

UNMATCHED_ROUTE = "unmatched"
NOT_COUNTED_PATHS = frozenset({"/metrics", "/health", "/ready"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A bucket at exactly 1 s (the HighLatency threshold) and fine ones below 100 ms for p50.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
)


class AppMetrics:
    """The metrics of one app instance, on a registry of its own."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.info = Gauge("app_info", "The running version.", ("version",), registry=self.registry)
        self.fault = Gauge(
            "app_fault", "Current injected fault level, by kind.", ("kind",), registry=self.registry
        )
        self.info.labels(version=version).set(1)
        self.show_faults(Faults())

    def show_faults(self, faults: Faults) -> None:
        for kind, level in faults.model_dump().items():
            self.fault.labels(kind=kind).set(float(level))

    def initialise_routes(self, routes: Iterable[str]) -> None:
        """Create the GET 200 and 500 series of each route at zero.

        A series born at the first error is invisible to `rate()` until the next
        scrape; starting at zero lets the error ratio move at the first failure.
        """
        for route in routes:
            for status in ("200", "500"):
                self.requests.labels(method="GET", route=route, status=status)
            self.duration.labels(method="GET", route=route)


class MetricsMiddleware:
    """Counts and times every request except the probes and `/metrics`."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self._metrics = metrics
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NOT_COUNTED_PATHS:
            await self.app(scope, receive, send)
            return

        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            self._counter(method, template, status).inc()
            self._timer(method, template).observe(elapsed)

    def _counter(self, method: str, route: str, status: int) -> Counter:
        key = (method, route, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._metrics.requests.labels(method=method, route=route, status=str(status))
            self._counters[key] = counter
        return counter

    def _timer(self, method: str, route: str) -> Histogram:
        key = (method, route)
        timer = self._timers.get(key)
        if timer is None:
            timer = self._metrics.duration.labels(method=method, route=route)
            self._timers[key] = timer
        return timer
