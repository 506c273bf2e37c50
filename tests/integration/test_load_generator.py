"""The load generator against the real demo app (one process on a free 127.0.0.1 port):
the rate it keeps at 200, 500 and 1,000 requests/s, that injected latency neither slows
the arrivals nor hides from p99, and that a target too slow for its connections shows
as dropped arrivals, never as a lower rate silently."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sreshow.core.arrivals import Shape, build_schedule
from sreshow.scenarios.load import START_TOLERANCE_SECONDS, OpenModelLoad
from sreshow.scenarios.load_plan import LoadPlan, LoadResult, default_connections
from tests.app.support import AUTH, TOKEN, AppProcess, app_process

pytestmark = pytest.mark.integration

RATE_ACCURACY = 0.02  # the bound: achieved within 2 % of the rate asked
INJECTED_LATENCY_SECONDS = 0.2


@pytest.fixture(scope="module")
def app() -> Iterator[AppProcess]:
    with app_process(env={"SRESHOW_ADMIN_TOKEN": TOKEN}) as running:
        yield running


@pytest.fixture
def faults(app: AppProcess) -> Iterator[httpx.Client]:
    """The app's admin API; every fault cleared afterwards."""
    with httpx.Client(base_url=app.url, headers=AUTH, timeout=5) as admin:
        try:
            yield admin
        finally:
            admin.delete("/admin/faults").raise_for_status()


def run(app: AppProcess, rps: float, seconds: float, connections: int | None = None) -> LoadResult:
    """A run as `sreshow load` makes it: by default, connections for 500 ms latency."""
    load = OpenModelLoad()
    schedule = build_schedule(Shape.CONSTANT, rps, seconds)
    connections = connections or default_connections(rps)
    load.begin(LoadPlan(app.url, "/api/data", schedule, connections=connections))
    # the schedule, then the answers in flight (each bounded by the request timeout)
    assert load.wait(seconds + 10), "the run did not end by itself"
    return load.result()


@pytest.mark.parametrize("rps", [200, 500, 1000])
def test_the_achieved_rate_is_within_two_percent_of_the_rate_asked(
    app: AppProcess, rps: int
) -> None:
    result = run(app, rps, seconds=10)

    tally = result.tally
    assert tally.due == rps * 10
    assert tally.sent + tally.dropped == tally.due
    assert abs(result.achieved_rps - rps) <= RATE_ACCURACY * rps, result.as_json()
    assert tally.status == {200: tally.sent}, result.as_json()


def test_injected_latency_keeps_the_arrival_rate_and_shows_in_p99(
    app: AppProcess, faults: httpx.Client
) -> None:
    faults.patch("/admin/faults", json={"latency_seconds": INJECTED_LATENCY_SECONDS})
    rps = 200  # 40 requests in flight at once, well within the 100 connections

    result = run(app, rps, seconds=5)

    tally = result.tally
    assert abs(result.achieved_rps - rps) <= RATE_ACCURACY * rps, result.as_json()
    assert tally.dropped == 0
    assert tally.status == {200: tally.sent}
    assert tally.latency.p99_ms is not None
    assert tally.latency.p50_ms is not None
    assert tally.latency.p50_ms >= INJECTED_LATENCY_SECONDS * 1000
    assert tally.latency.p99_ms >= INJECTED_LATENCY_SECONDS * 1000


def test_a_target_too_slow_for_its_connections_drops_arrivals_and_counts_them(
    app: AppProcess, faults: httpx.Client
) -> None:
    slow = 0.5
    faults.patch("/admin/faults", json={"latency_seconds": slow})

    result = run(app, rps=20, seconds=3, connections=2)

    tally = result.tally
    assert tally.due == 60
    assert tally.dropped > 0
    assert tally.sent + tally.dropped == tally.due
    # two connections, each starting one request per `slow` s (a waiting arrival may go
    # out up to START_TOLERANCE_SECONDS after the schedule's end)
    assert tally.sent <= 2 * ((3 + START_TOLERANCE_SECONDS) // slow + 1)
    assert result.achieved_rps < 20 * (1 - RATE_ACCURACY)  # the shortfall is visible
