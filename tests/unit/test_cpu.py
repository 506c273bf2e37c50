"""A replica's CPU as real time would have it (core/cpu.py), on plain values."""

from __future__ import annotations

import pytest

from sreshow.core.cpu import MonitoringSource, real_time_cpu, requests_per_second

# The shipped stack at time scale 0.1: readiness 5 s → 0.5 s, liveness 10 s → 1 s (here
# unclamped for simplicity), Prometheus's scrape and the blackbox probe 15 s → 1.5 s.
AT_TENTH = (
    MonitoringSource("readiness", 5, 0.5),
    MonitoringSource("liveness", 10, 1),
    MonitoringSource("scrape", 15, 1.5),
    MonitoringSource("probe", 15, 1.5),
)
REAL_TIME = tuple(MonitoringSource(s.name, s.real_interval, s.real_interval) for s in AT_TENTH)


def test_monitoring_rates_as_run_and_in_real_time() -> None:
    actual, real = requests_per_second(AT_TENTH)
    assert actual == pytest.approx(2 + 1 + 2 / 1.5)
    assert real == pytest.approx(actual / 10)


def test_an_idle_replica_keeps_the_time_scale_of_its_cpu() -> None:
    assert real_time_cpu(5.0, window=10, client_requests=0, sources=AT_TENTH) == pytest.approx(0.5)


def test_at_time_scale_one_nothing_is_left_out() -> None:
    assert real_time_cpu(7.0, window=10, client_requests=25, sources=REAL_TIME) == 7.0


def test_the_clients_share_is_kept_whole() -> None:
    # 25 client requests and 43.3 monitoring requests in 10 s: the clients' share (25 of
    # 68.3) stays, the monitoring counts as its 4.33 real-time requests.
    window, clients = 10, 25
    monitoring = requests_per_second(AT_TENTH)[0] * window
    counted = real_time_cpu(6.83, window=window, client_requests=clients, sources=AT_TENTH)
    assert counted == pytest.approx(6.83 * (clients + monitoring / 10) / (clients + monitoring))


def test_under_heavy_load_almost_everything_counts() -> None:
    counted = real_time_cpu(30.0, window=10, client_requests=4000, sources=AT_TENTH)
    assert 29 < counted < 30


def test_no_request_at_all_or_no_window_leaves_the_measurement_alone() -> None:
    assert real_time_cpu(3.0, window=10, client_requests=0, sources=()) == 3.0
    assert real_time_cpu(3.0, window=0, client_requests=5, sources=AT_TENTH) == 3.0
