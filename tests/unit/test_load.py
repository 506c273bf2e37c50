"""The open-model load generator against a real HTTP server on 127.0.0.1: the rate it
keeps, what it counts as bad, dropped and late, how its connections rotate, its bounds,
its per-second samples, and that it refuses what is not an http(s) URL. The demo app
itself is the integration tier's target (tests/integration/test_load_generator.py)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from sreshow.core.arrivals import Shape, build_schedule
from sreshow.errors import UsageError
from sreshow.scenarios.load import START_TOLERANCE_SECONDS, OpenModelLoad
from sreshow.scenarios.load_plan import LoadPlan
from sreshow.scenarios.load_record import LoadRecord

SLOW_SECONDS = 0.5


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps a connection open unless the client closes it
    client_ports: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.client_ports.append(self.client_address[1])
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)
        elif self.path == "/hang":
            time.sleep(2)
        code = 500 if self.path == "/fail" else 404 if self.path == "/missing" else 200
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
    _Handler.client_ports.clear()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def run_plan(
    load: OpenModelLoad, url: str, path: str, *, rps: float, seconds: float, connections: int = 64
) -> None:
    """A whole schedule of `seconds` over at most `connections`, waited for (bounded)."""
    schedule = build_schedule(Shape.CONSTANT, rps, seconds)
    load.begin(LoadPlan(url, path, schedule, connections=connections))
    assert load.wait(seconds + 10), "the run did not end by itself"


def test_it_keeps_the_rate_and_counts_good_answers(server: str) -> None:
    load = OpenModelLoad()

    run_plan(load, server, "/ok", rps=50, seconds=1.0)

    stats = load.stats()
    assert stats.sent == 50, stats  # the whole schedule: arrivals at 0, 20 ms, … 980 ms
    assert stats.ok == stats.sent
    assert stats.bad == stats.dropped == 0
    result = load.result()
    assert result.finished
    assert not result.interrupted
    assert result.tally.status == {200: 50}
    assert result.achieved_rps == pytest.approx(50)
    assert not load.running


def test_a_4xx_is_an_answer_not_a_bad_one(server: str) -> None:
    load = OpenModelLoad()

    run_plan(load, server, "/missing", rps=20, seconds=0.5)

    assert load.stats().ok == load.stats().sent == 10
    assert load.result().tally.status == {404: 10}


def test_connections_rotate_after_their_share_of_requests(server: str) -> None:
    # A Service that balances connections (kube-proxy) spreads rotated connections.
    load = OpenModelLoad(requests_per_connection=5)

    run_plan(load, server, "/ok", rps=40, seconds=1.0)

    uses = Counter(_Handler.client_ports)
    assert sum(uses.values()) == 40
    assert max(uses.values()) <= 5
    assert len(uses) >= 8
    assert load.result().connections_opened == len(uses)


def test_an_idle_connection_is_not_reused_past_its_age(server: str) -> None:
    load = OpenModelLoad(connection_max_age=0.2)

    run_plan(load, server, "/ok", rps=10, seconds=1.0)  # one request every 100 ms

    # reused while younger than 0.2 s: sent at 0, 100 and (just under) 200 ms of its life
    assert max(Counter(_Handler.client_ports).values()) <= 3
    assert load.result().connections_opened >= 4


def test_5xx_answers_are_bad_and_show_in_the_window(server: str) -> None:
    load = OpenModelLoad()
    load.start(server, 20, "/fail", None)
    try:
        time.sleep(0.6)
        window = load.window()
    finally:
        load.stop()

    assert load.stats().bad == load.stats().sent > 0
    assert window.answered > 0
    assert window.availability == 0.0


def test_a_slow_target_meets_the_same_arrival_rate_and_waiting_arrivals_drop(
    server: str,
) -> None:
    # Two connections serve at most 4 of the 20 requests due per second.
    load = OpenModelLoad()

    run_plan(load, server, "/slow", rps=20, seconds=1.0, connections=2)

    tally = load.result().tally
    assert tally.due == 20
    assert tally.dropped > 0, tally
    assert tally.sent + tally.dropped == tally.due
    # each connection starts one at 0, 0.5 and 1.0 s (an arrival due at 0.95 s may wait
    # START_TOLERANCE_SECONDS for it): at most 6 of the 20
    assert tally.sent <= 2 * math.ceil((1.0 + START_TOLERANCE_SECONDS) / SLOW_SECONDS)
    assert tally.latency.min_ms is not None
    assert tally.latency.min_ms >= SLOW_SECONDS * 1000


def test_latency_counts_the_wait_for_a_connection(server: str) -> None:
    # Arrival 1 is due 50 ms after arrival 0 but waits for its connection until 500 ms.
    load = OpenModelLoad(start_tolerance=1.0)

    run_plan(load, server, "/slow", rps=20, seconds=0.1, connections=1)

    tally = load.result().tally
    assert tally.sent == 2
    assert tally.dropped == 0
    assert tally.late == 1  # sent ~450 ms after its time
    assert tally.latency.max_ms is not None
    assert tally.latency.max_ms >= (2 * SLOW_SECONDS - 0.05) * 1000


def test_connection_errors_are_bad_and_named() -> None:
    load = OpenModelLoad()

    run_plan(load, "http://127.0.0.1:9", "/", rps=20, seconds=0.5)  # discard port: refused

    assert load.stats().bad == load.stats().sent == 10
    assert load.result().tally.errors == {"connect": 10}


def test_a_request_past_its_timeout_fails_as_a_timeout(server: str) -> None:
    load = OpenModelLoad(timeout=0.3)

    run_plan(load, server, "/hang", rps=10, seconds=0.2)

    tally = load.result().tally
    assert tally.errors == {"timeout": 2}
    # the loop's timers tick in whole milliseconds: a timeout may fire a fraction early
    assert tally.latency.min_ms is not None
    assert tally.latency.min_ms >= 300 - 1


def test_a_duration_ends_the_load_by_itself(server: str) -> None:
    load = OpenModelLoad()
    load.start(server, 50, "/ok", 0.3)

    assert load.wait(5)
    assert load.stats().sent == 15
    load.stop()


def test_max_requests_ends_the_schedule_early(server: str) -> None:
    load = OpenModelLoad()
    schedule = build_schedule(Shape.CONSTANT, 100, 10)
    load.begin(LoadPlan(server, "/ok", schedule, max_requests=25))

    assert load.wait(5)
    result = load.result()
    assert result.tally.sent == 25
    assert result.elapsed == pytest.approx(0.25)
    assert result.achieved_rps == pytest.approx(100)


def test_a_stop_drops_what_waits_and_says_the_run_was_cut_short(server: str) -> None:
    load = OpenModelLoad(connections=1, start_tolerance=5.0)
    load.start(server, 20, "/slow", None)
    time.sleep(0.3)  # one in flight, five waiting behind it
    load.stop(grace=0.0)

    result = load.result()
    tally = result.tally
    assert result.interrupted
    assert tally.sent + tally.dropped == tally.due
    assert tally.dropped >= 4
    assert tally.in_flight == 1  # cut off by the stop: sent, never answered


def test_counts_add_up_over_several_starts_as_a_scenario_makes_them(server: str) -> None:
    load = OpenModelLoad()
    load.start(server, 20, "/ok", 0.25)
    assert load.wait(5)
    first = load.window().received
    load.start(server, 20, "/ok", 0.25)
    assert load.wait(5)
    load.stop()
    load.stop()  # safe twice

    assert first == 5
    assert load.stats().sent == 10
    assert load.window().received == 10


def test_samples_cover_each_second_sent_and_answered(server: str) -> None:
    load = OpenModelLoad()

    run_plan(load, server, "/ok", rps=30, seconds=2.0)

    whole = load.samples()
    assert len(whole) == 2
    assert [s.sent for s in whole] == [30, 30]
    assert sum(s.answered for s in whole) >= 59  # the last answer may fall past 2 s
    assert all(s.p50_ms is not None and s.p50_ms <= (s.p99_ms or 0) for s in whole)
    assert whole[1].at - whole[0].at == pytest.approx(1.0, abs=0.002)
    assert abs(whole[1].at - time.time()) < 5
    last = load.result().samples
    assert sum(s.answered for s in last) == 60


def test_a_latency_out_of_the_histogram_range_is_an_error_not_a_silent_loss() -> None:
    record = LoadRecord(highest_seconds=1.0)  # tracks up to 2 s

    record.answer(record.started, 200, 1.9)
    with pytest.raises(RuntimeError, match="beyond the histogram"):
        record.answer(record.started, 200, 3.0)


def test_per_second_samples_are_bounded_and_give_empty_seconds_no_percentiles() -> None:
    record = LoadRecord(highest_seconds=10.0, clock_offset=1000.0)
    start = record.started
    record.send(start + 0.1, 0.0)
    record.answer(start + 0.2, 200, 0.004)
    record.drop(start + 2.5)

    samples = record.samples(start + 3.0)
    assert [(s.at, s.sent, s.answered, s.dropped) for s in samples] == [
        (round(start + 1001, 3), 1, 1, 0),
        (round(start + 1002, 3), 0, 0, 0),
        (round(start + 1003, 3), 0, 0, 1),
    ]
    assert samples[0].p99_ms == 4.0
    assert samples[1].p50_ms is None
    assert len(record.samples(start + 100_000)) <= 2 * 3600 + 60


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8080", "http:///no-host"])
def test_a_target_that_is_not_an_http_url_is_refused_before_anything_is_sent(url: str) -> None:
    load = OpenModelLoad()
    with pytest.raises(UsageError, match=r"load goes to an http\(s\) URL with a host"):
        load.start(url, 1, "/", 1.0)
    assert not load.running
    assert load.stats().sent == 0


def test_an_error_inside_the_generator_ends_the_run_and_is_reported(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise ValueError("a bug in the record")

    monkeypatch.setattr(LoadRecord, "answer", broken)
    load = OpenModelLoad()
    load.start(server, 20, "/ok", 30)

    assert load.wait(10), "a broken run went on"
    with pytest.raises(RuntimeError, match="the load generator failed: ValueError"):
        load.result()
