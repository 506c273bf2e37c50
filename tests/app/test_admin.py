"""The fault admin API: authentication, validation and the faults' effects."""

from __future__ import annotations

import time

import pytest

from tests.app.support import AUTH, TOKEN, asgi_client, build_app

pytestmark = pytest.mark.anyio

NO_FAULTS = {
    "error_rate": 0.0,
    "latency_seconds": 0.0,
    "cpu_burn": 0.0,
    "unhealthy": False,
    "unready": False,
}
ADMIN_CALLS = [
    ("GET", None),
    ("PATCH", {"error_rate": 0.5}),
    ("DELETE", None),
]


@pytest.mark.parametrize(("method", "body"), ADMIN_CALLS)
async def test_no_token_configured_disables_the_admin_api(method: str, body: object) -> None:
    async with asgi_client(build_app(admin_token=None)) as client:
        response = await client.request(method, "/admin/faults", json=body, headers=AUTH)
    assert response.status_code == 403
    assert "SRESHOW_ADMIN_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(("method", "body"), ADMIN_CALLS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Forwarded-Authorization": "Bearer wrong-token"},
        {"X-Forwarded-Authorization": TOKEN},
        {"Authorization": "Bearer wrong-token", "X-Forwarded-Authorization": f"Bearer {TOKEN}"},
    ],
    ids=[
        "missing",
        "wrong",
        "longer",
        "basic-scheme",
        "no-scheme",
        "forwarded-wrong",
        "forwarded-no-scheme",
        "wrong-not-overridden-by-forwarded",
    ],
)
async def test_missing_or_wrong_token_is_refused(
    method: str, body: object, headers: dict[str, str]
) -> None:
    async with asgi_client(build_app()) as client:
        response = await client.request(method, "/admin/faults", json=body, headers=headers)
        faults = (await client.get("/admin/faults", headers=AUTH)).json()
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text
    assert faults == NO_FAULTS


async def test_the_token_forwarded_by_a_proxy_that_takes_authorization_is_accepted() -> None:
    # As the Kubernetes API server's pod proxy leaves it: Authorization removed.
    forwarded = {"X-Forwarded-Authorization": f"Bearer {TOKEN}"}
    async with asgi_client(build_app()) as client:
        patched = await client.patch("/admin/faults", json={"error_rate": 0.2}, headers=forwarded)
        read = await client.get("/admin/faults", headers=forwarded)
    assert (patched.status_code, read.json()) == (200, NO_FAULTS | {"error_rate": 0.2})


async def test_the_right_token_reads_changes_and_clears_faults() -> None:
    async with asgi_client(build_app()) as client:
        initial = await client.get("/admin/faults", headers=AUTH)
        patched = await client.patch(
            "/admin/faults", json={"error_rate": 0.2, "latency_seconds": 0.05}, headers=AUTH
        )
        patched_again = await client.patch("/admin/faults", json={"unhealthy": True}, headers=AUTH)
        status = await client.get("/api/status")
        cleared = await client.delete("/admin/faults", headers=AUTH)
    assert (initial.status_code, initial.json()) == (200, NO_FAULTS)
    assert patched.status_code == 200
    assert patched.json() == NO_FAULTS | {"error_rate": 0.2, "latency_seconds": 0.05}
    assert patched_again.json() == patched.json() | {"unhealthy": True}
    assert status.json()["faults"] == patched_again.json()
    assert (cleared.status_code, cleared.json()) == (200, NO_FAULTS)


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"latency_seconds": -1},
        {"latency_seconds": 301},
        {"cpu_burn": 2},
        {"unhealthy": "maybe"},
        {"error_rate": 0.5, "cpu_burn": 7},
        {"error_rate": 0.5, "surprise": 1},
        {"error_rate": "lots"},
    ],
)
async def test_out_of_range_faults_are_refused_and_change_nothing(body: dict[str, object]) -> None:
    async with asgi_client(build_app()) as client:
        response = await client.patch("/admin/faults", json=body, headers=AUTH)
        faults = (await client.get("/admin/faults", headers=AUTH)).json()
    assert response.status_code == 422
    assert faults == NO_FAULTS


async def test_non_finite_numbers_are_refused() -> None:
    async with asgi_client(build_app()) as client:
        response = await client.patch(
            "/admin/faults",
            content=b'{"latency_seconds": NaN}',
            headers=AUTH | {"content-type": "application/json"},
        )
    assert response.status_code == 422


async def test_error_rate_fails_exactly_that_share_of_service_requests_only() -> None:
    async with asgi_client(build_app()) as client:
        await client.patch("/admin/faults", json={"error_rate": 0.2}, headers=AUTH)
        codes = [(await client.get("/api/data")).status_code for _ in range(50)]
        probes = {(await client.get(path)).status_code for path in ("/health", "/ready") * 5}
    assert codes.count(500) == 10
    assert probes == {200}


async def test_latency_delays_service_requests_but_not_probes() -> None:
    async with asgi_client(build_app()) as client:
        await client.patch("/admin/faults", json={"latency_seconds": 0.3}, headers=AUTH)
        started = time.perf_counter()
        await client.get("/api/data")
        slowed = time.perf_counter() - started
        started = time.perf_counter()
        await client.get("/health")
        probe = time.perf_counter() - started
    assert slowed >= 0.3
    assert probe < 0.3


async def test_unhealthy_and_unready_turn_the_probes() -> None:
    async with asgi_client(build_app()) as client:
        await client.patch("/admin/faults", json={"unhealthy": True}, headers=AUTH)
        health = await client.get("/health")
        ready_while_unhealthy = await client.get("/ready")
        await client.patch(
            "/admin/faults", json={"unhealthy": False, "unready": True}, headers=AUTH
        )
        health_while_unready = await client.get("/health")
        ready = await client.get("/ready")
        served = await client.get("/api/data")
    assert health.status_code == 503
    assert ready_while_unhealthy.status_code == 200
    assert health_while_unready.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["reason"] == "injected fault: unready"
    assert served.status_code == 200  # unready only takes it out of rotation


async def test_cpu_burn_keeps_a_share_of_a_core_busy_until_cleared() -> None:
    app = build_app()
    async with asgi_client(app) as client:
        await client.patch("/admin/faults", json={"cpu_burn": 0.5}, headers=AUTH)
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        time.sleep(1.0)
        burned = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
        await client.delete("/admin/faults", headers=AUTH)
        time.sleep(0.2)
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        time.sleep(0.5)
        idle = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    app.state.runtime.faults.close()
    assert 0.3 <= burned <= 0.8
    assert idle < 0.1
