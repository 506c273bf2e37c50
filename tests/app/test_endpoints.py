"""Every endpoint of the app, in-process over ASGI."""

from __future__ import annotations

import pytest

from demo_app.config import Broken
from tests.app.support import asgi_client, build_app

pytestmark = pytest.mark.anyio


async def test_root_names_the_service_and_its_endpoints() -> None:
    async with asgi_client(build_app(version="1.2.3")) as client:
        response = await client.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "sre-app"
    assert body["version"] == "1.2.3"
    assert body["replica"] == "sre-app-test-1"
    assert "/api/data" in body["endpoints"]


async def test_probes_pass_on_a_healthy_instance() -> None:
    async with asgi_client(build_app()) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_metrics_are_prometheus_text_without_a_redirect() -> None:
    async with asgi_client(build_app(version="9.9.9")) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'app_info{version="9.9.9"} 1.0' in response.text
    assert "process_resident_memory_bytes" in response.text


async def test_data_returns_items_and_the_replica() -> None:
    async with asgi_client(build_app()) as client:
        response = await client.get("/api/data")
    assert response.status_code == 200
    assert response.json()["replica"] == "sre-app-test-1"
    assert len(response.json()["items"]) == 3


async def test_status_reports_version_replica_uptime_and_faults() -> None:
    async with asgi_client(build_app(version="2.0.0")) as client:
        response = await client.get("/api/status")
    body = response.json()
    assert response.status_code == 200
    assert body["version"] == "2.0.0"
    assert body["replica"] == "sre-app-test-1"
    assert 0 <= body["uptime_seconds"] < 60
    assert body["faults"] == {
        "error_rate": 0.0,
        "latency_seconds": 0.0,
        "cpu_burn": 0.0,
        "unhealthy": False,
        "unready": False,
    }
    assert body["broken"] is None


async def test_flaky_fails_exactly_at_its_base_rate() -> None:
    async with asgi_client(build_app(flaky_rate=0.25)) as client:
        codes = [(await client.get("/api/flaky")).status_code for _ in range(100)]
    assert codes.count(500) == 25
    assert codes.count(200) == 75


async def test_flaky_fails_one_request_in_ten_by_default() -> None:
    async with asgi_client(build_app()) as client:
        codes = [(await client.get("/api/flaky")).status_code for _ in range(50)]
    assert codes.count(500) == 5


async def test_slow_waits_for_the_delay_asked() -> None:
    async with asgi_client(build_app()) as client:
        response = await client.get("/api/slow", params={"delay": 0.2})
    assert response.status_code == 200
    assert response.json() == {"delay": 0.2}
    assert response.elapsed.total_seconds() >= 0.2


@pytest.mark.parametrize("delay", ["-1", "5.01", "600", "nan", "inf", "soon"])
async def test_slow_rejects_a_delay_out_of_range(delay: str) -> None:
    async with asgi_client(build_app()) as client:
        response = await client.get("/api/slow", params={"delay": delay})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "delay"]


async def test_broken_release_unready_never_passes_readiness() -> None:
    async with asgi_client(build_app(broken=Broken.UNREADY)) as client:
        ready = await client.get("/ready")
        health = await client.get("/health")
        status = await client.get("/api/status")
    assert ready.status_code == 503
    assert "broken release" in ready.json()["reason"]
    assert health.status_code == 200
    assert status.json()["broken"] == "unready"


async def test_broken_release_errors_fails_half_the_requests() -> None:
    async with asgi_client(build_app(broken=Broken.ERRORS)) as client:
        codes = [(await client.get("/api/data")).status_code for _ in range(40)]
        probes = [(await client.get(path)).status_code for path in ("/health", "/ready")]
    assert codes.count(500) == 20
    assert probes == [200, 200]
