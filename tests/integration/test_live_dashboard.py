"""`sreshow dashboard` on a running local stack, as a presenter uses it: served on
127.0.0.1, linked from `status`, opened in headless Chromium with traffic and an
injected error rate, the Grafana dashboard's five panels drawn with data; Ctrl-C stops
it and `status` stops linking it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser import chromium, dom, png_size
from tests.integration.localstack import LocalStack, running_stack, wait_until

pytestmark = pytest.mark.integration

FIVE_PANELS = {
    "Active pods",
    "Request rate",
    "Error rate",
    "Request latency",
    "Requests in the time window",
}
SCRAPE_SECONDS = 1.5  # 15 s at time scale 0.1
RATE_WINDOW_SECONDS = 4 * SCRAPE_SECONDS  # the panels' $__rate_interval
RPS = 20
WINDOW_SECONDS = 90


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("dashboard")) as stack:
        yield stack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def traffic(stack: LocalStack) -> Iterator[None]:
    """RPS requests a second through the Service, a fifth of them failing, until the
    test ends (bounded: at most two minutes)."""
    replicas = [r["url"] for r in stack.state()["replicas"]]
    for url in replicas:
        stack.patch_faults(url, {"error_rate": 0.2})
    stop = threading.Event()
    app = stack.endpoint("app")

    def send() -> None:
        with httpx.Client(timeout=2) as client:
            for _ in range(RPS * 120):
                if stop.wait(1 / RPS):
                    return
                try:
                    client.get(f"{app}/api/data")
                except httpx.HTTPError:
                    continue

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        yield
    finally:
        stop.set()
        sender.join(timeout=5)
        for url in replicas:
            stack.clear_faults(url)


@pytest.mark.usefixtures("traffic")
def test_the_live_dashboard_draws_the_five_panels_and_status_links_it(
    stack: LocalStack, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "sreshow", "dashboard"),
            *("--port", str(port), "--refresh", "2", "--window", str(WINDOW_SECONDS)),
        ],
        env={**os.environ, "SRESHOW_STATE_DIR": str(stack.state_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _answers(url), within=30, waiting_for="the dashboard to answer")
        # Every panel has data once Prometheus has scraped a whole rate window of the
        # traffic: the window, two scrapes to fill it, one for the page's cache.
        charts = wait_until(
            lambda: _drawn(tmp_path, url),
            within=2 * (RATE_WINDOW_SECONDS + 3 * SCRAPE_SECONDS) + 10,
            waiting_for="the five panels drawn with data",
            every=2,
        )
        assert set(charts) >= FIVE_PANELS
        screenshot = tmp_path / "dashboard.png"
        chromium(tmp_path, f"--screenshot={screenshot}", url)
        assert png_size(screenshot) == (1280, 2000)
        assert stack.status()["dashboard_url"] == url
        page = httpx.get(url, timeout=10).text
        assert f"last {WINDOW_SECONDS:g} s" in page
        assert '<meta http-equiv="refresh" content="2">' in page
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=15)
    assert server.returncode == 0, err
    assert f"live dashboard: {url}" in out
    assert stack.status()["dashboard_url"] is None


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _drawn(tmp_path: Path, url: str) -> dict[str, int] | None:
    """Each chart's title and the points of its fullest line, once each of the five
    panels has a line drawn with at least two points; else None."""
    found = dom(tmp_path, url)
    charts = {
        chart["key"]: max((chart["drawn"].get(i, 0) for i in range(chart["lines"])), default=0)
        for chart in found.charts
    }
    drawn = {title for title, points in charts.items() if points >= 2}
    return charts if drawn >= FIVE_PANELS else None
