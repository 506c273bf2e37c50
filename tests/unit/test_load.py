"""The scenario load generator against a real HTTP server on 127.0.0.1: the rate it
keeps, what it counts as bad, its bounds, and that it refuses other hosts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from sreshow.errors import UsageError
from sreshow.scenarios.load import ThreadedLoad


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open unless the client closes it
    client_ports: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.client_ports.append(self.client_address[1])
        if self.path == "/slow":
            time.sleep(0.5)
        code = 500 if self.path == "/fail" else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def run(load: ThreadedLoad, url: str, path: str, rps: float, seconds: float) -> None:
    load.start(url, rps, path, None)
    time.sleep(seconds)
    load.stop()


def test_it_keeps_the_rate_and_counts_good_answers(server: str) -> None:
    load = ThreadedLoad()

    run(load, server, "/ok", rps=50, seconds=1.0)

    stats = load.stats()
    assert 40 <= stats.sent <= 55, stats
    assert stats.ok == stats.sent
    assert stats.bad == stats.skipped == 0
    assert not load.running


def test_each_request_comes_on_a_connection_of_its_own(server: str) -> None:
    # As from many users: a Service that balances connections (kube-proxy) spreads them.
    _Handler.client_ports.clear()
    load = ThreadedLoad()

    run(load, server, "/ok", rps=20, seconds=1.0)

    assert load.stats().ok >= 10
    assert len(set(_Handler.client_ports)) == len(_Handler.client_ports)


def test_5xx_answers_are_bad_and_show_in_the_window(server: str) -> None:
    load = ThreadedLoad()
    load.start(server, 20, "/fail", None)
    try:
        time.sleep(0.6)
        window = load.window()
    finally:
        load.stop()

    assert load.stats().bad == load.stats().sent > 0
    assert window.answered > 0
    assert window.availability == 0.0


def test_a_slow_target_meets_the_same_arrival_rate_and_busy_clients_skip(server: str) -> None:
    load = ThreadedLoad(clients=2)

    run(load, server, "/slow", rps=20, seconds=1.0)

    stats = load.stats()
    assert stats.skipped > 0, stats  # two clients cannot keep 20/s of 0.5 s requests
    assert stats.sent + stats.skipped >= 15
    window = load.window()
    assert window.p95_seconds is not None
    assert window.p95_seconds >= 0.5


def test_connection_errors_are_bad() -> None:
    load = ThreadedLoad()

    run(load, "http://127.0.0.1:9", "/", rps=20, seconds=0.5)  # discard port: refused

    assert load.stats().bad == load.stats().sent > 0


def test_a_duration_ends_the_load_by_itself(server: str) -> None:
    load = ThreadedLoad()
    load.start(server, 50, "/ok", 0.3)
    time.sleep(0.8)

    assert not load.running
    assert load.stats().sent <= 20
    load.stop()


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8080", "http:///no-host"])
def test_a_target_that_is_not_an_http_url_is_refused_before_anything_is_sent(url: str) -> None:
    load = ThreadedLoad()
    with pytest.raises(UsageError, match=r"load goes to an http\(s\) URL with a host"):
        load.start(url, 1, "/", 1.0)
    assert not load.running
    assert load.stats().sent == 0
