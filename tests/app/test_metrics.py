"""The metrics contract: exact counts and labels for a known sequence of requests."""

from __future__ import annotations

import pytest

from demo_app.metrics import LATENCY_BUCKETS
from tests.app.support import AUTH, asgi_client, build_app, requests_total, samples

pytestmark = pytest.mark.anyio


async def test_a_known_sequence_gives_exact_counts_by_method_route_and_status() -> None:
    async with asgi_client(build_app(flaky_rate=0.5)) as client:
        for _ in range(3):
            await client.get("/api/data")
        for _ in range(4):  # the 0.5 gate fails every second request
            await client.get("/api/flaky")
        await client.get("/api/slow", params={"delay": 0})
        await client.get("/api/slow", params={"delay": 99})
        await client.get("/")
        await client.post("/api/data")
        await client.get("/no/such/page")
        await client.get("/api/data/")  # the router redirects it; no route was matched
        await client.get("/admin/faults", headers=AUTH)
        text = (await client.get("/metrics")).text

    assert requests_total(text) == {
        ("GET", "/api/data", "200"): 3,
        ("GET", "/api/flaky", "200"): 2,
        ("GET", "/api/flaky", "500"): 2,
        ("GET", "/api/slow", "200"): 1,
        ("GET", "/api/slow", "422"): 1,
        ("GET", "/", "200"): 1,
        ("POST", "/api/data", "405"): 1,
        ("GET", "unmatched", "404"): 1,
        ("GET", "unmatched", "307"): 1,
        ("GET", "/admin/faults", "200"): 1,
    }


async def test_probes_and_metrics_scrapes_are_not_counted() -> None:
    async with asgi_client(build_app()) as client:
        for path in ("/health", "/ready", "/metrics") * 5:
            await client.get(path)
        text = (await client.get("/metrics")).text
    assert requests_total(text) == {}
    durations = [
        value
        for (name, _), value in samples(text).items()
        if name == "http_request_duration_seconds_count"
    ]
    assert durations
    assert all(value == 0 for value in durations)


async def test_error_series_exist_at_zero_before_the_first_error() -> None:
    async with asgi_client(build_app()) as client:
        text = (await client.get("/metrics")).text
    every = samples(text)
    for route in ("/", "/api/data", "/api/status", "/api/flaky", "/api/slow"):
        key = frozenset({"method": "GET", "route": route, "status": "500"}.items())
        assert every[("http_requests_total", key)] == 0


async def test_unknown_methods_and_paths_do_not_grow_the_label_sets() -> None:
    async with asgi_client(build_app()) as client:
        for i in range(20):
            await client.get(f"/random/{i}")
            await client.request("BREW", f"/coffee/{i}")
        text = (await client.get("/metrics")).text
    assert requests_total(text) == {
        ("GET", "unmatched", "404"): 20,
        ("other", "unmatched", "404"): 20,
    }


async def test_latency_histogram_has_a_bucket_at_one_second_and_fine_ones_below() -> None:
    assert 1.0 in LATENCY_BUCKETS
    assert sum(1 for bound in LATENCY_BUCKETS if bound < 0.1) >= 6
    async with asgi_client(build_app()) as client:
        await client.get("/api/slow", params={"delay": 0.3})
        text = (await client.get("/metrics")).text
    every = samples(text)

    def bucket(le: str) -> float:
        labels = frozenset({"method": "GET", "route": "/api/slow", "le": le}.items())
        return every[("http_request_duration_seconds_bucket", labels)]

    assert bucket("0.25") == 0
    assert bucket("0.5") == 1
    assert bucket("1.0") == 1


async def test_app_fault_gauges_follow_the_admin_api() -> None:
    async with asgi_client(build_app()) as client:
        before = samples((await client.get("/metrics")).text)
        await client.patch("/admin/faults", json={"error_rate": 0.3, "unready": True}, headers=AUTH)
        during = samples((await client.get("/metrics")).text)
        await client.delete("/admin/faults", headers=AUTH)
        after = samples((await client.get("/metrics")).text)

    def fault(every: dict[tuple[str, frozenset[tuple[str, str]]], float], kind: str) -> float:
        return every[("app_fault", frozenset({"kind": kind}.items()))]

    kinds = ("error_rate", "latency_seconds", "cpu_burn", "unhealthy", "unready")
    assert [fault(before, k) for k in kinds] == [0, 0, 0, 0, 0]
    assert [fault(during, k) for k in kinds] == [0.3, 0, 0, 0, 1]
    assert [fault(after, k) for k in kinds] == [0, 0, 0, 0, 0]


async def test_switching_instrumentation_off_stops_counting() -> None:
    async with asgi_client(build_app(instrumentation=False)) as client:
        await client.get("/api/data")
        text = (await client.get("/metrics")).text
    assert requests_total(text) == {}
    assert "app_info" in text
