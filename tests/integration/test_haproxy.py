"""HaproxyService against a real HAProxy and real demo app replicas on 127.0.0.1.

Each test starts its own HAProxy on a free port and its own app processes, and
stops all of them. Replicas are told apart by the `replica` field the app returns.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from sreshow.adapters.local.haproxy import HaproxyService, ServerStatus
from sreshow.adapters.local.processes import (
    ChildProcess,
    free_port,
    port_in_use,
    start_process,
    wait_for_http,
)
from sreshow.errors import PlatformError
from tests.manifests import stack
from tests.tools import require_tool

pytestmark = pytest.mark.integration

TOKEN = "integration-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Replica:
    name: str
    port: int
    process: ChildProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def wait_until(condition: Callable[[], Any], *, within: float, waiting_for: str) -> Any:
    """Poll `condition` every 50 ms until it is truthy (returned); fail after `within` s."""
    return stack.wait_until(condition, within=within, waiting_for=waiting_for, every=0.05)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[HaproxyService]:
    with HaproxyService(tmp_path / "haproxy", free_port(), require_tool("haproxy")) as started:
        yield started


@pytest.fixture
def start_replica(tmp_path: Path) -> Iterator[Callable[[str], Replica]]:
    started: list[Replica] = []

    def start(name: str) -> Replica:
        port = free_port()
        process = start_process(
            name,
            [sys.executable, "-m", "demo_app", "--host", "127.0.0.1", "--port", str(port)],
            log=tmp_path / "logs" / f"{name}.log",
            env={"POD_NAME": name, "SRESHOW_ADMIN_TOKEN": TOKEN, "APP_DRAIN_SECONDS": "0"},
        )
        replica = Replica(name, port, process)
        started.append(replica)
        wait_for_http(f"{replica.url}/ready", within=20, what=name, process=process)
        return replica

    yield start
    for replica in started:
        replica.process.stop()


def replica_of(client: httpx.Client) -> str:
    response = client.get("/api/status")
    assert response.status_code == 200, response.text
    name: str = response.json()["replica"]
    return name


def routed(service: HaproxyService, *replicas: Replica) -> None:
    """Add each replica and route to it, as the supervisor does once it is ready."""
    for replica in replicas:
        service.add_server(replica.name, replica.port)
        service.set_routed(replica.name, True)


def haproxy_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if p.name() == "haproxy"]


def test_two_ready_replicas_share_the_traffic(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    first, second = start_replica("sre-app-7d9f5-x2kq4"), start_replica("sre-app-7d9f5-b8mzt")
    routed(service, first, second)

    with httpx.Client(base_url=service.url, timeout=5) as client:
        served = Counter(replica_of(client) for _ in range(20))

    assert served == {first.name: 10, second.name: 10}  # round robin
    assert service.servers() == {  # the requests each got: what the autoscaler reads
        first.name: ServerStatus("127.0.0.1", first.port, "up", 10),
        second.name: ServerStatus("127.0.0.1", second.port, "up", 10),
    }


def test_a_replica_gets_requests_only_while_routed(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    # HAProxy runs no checks: like a Service's endpoints, routing follows the readiness
    # probe the supervisor runs, and takes effect at once either way.
    ready, late = start_replica("sre-app-7d9f5-ready"), start_replica("sre-app-7d9f5-late1")
    routed(service, ready)
    service.add_server(late.name, late.port)  # started, not ready yet
    with httpx.Client(base_url=service.url, timeout=5) as client:
        before = Counter(replica_of(client) for _ in range(20))
        state_before = service.servers()[late.name]

        service.set_routed(late.name, True)
        while_routed = Counter(replica_of(client) for _ in range(20))

        service.set_routed(late.name, False)
        after = Counter(replica_of(client) for _ in range(20))

    assert before == {ready.name: 20}
    assert state_before == ServerStatus("127.0.0.1", late.port, "maint", 0)
    assert while_routed == {ready.name: 10, late.name: 10}
    assert after == {ready.name: 20}
    assert service.servers()[late.name].state == "maint"


def test_a_killed_replica_costs_clients_at_most_the_request_it_was_answering(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    survivor, victim = start_replica("sre-app-7d9f5-lives"), start_replica("sre-app-7d9f5-dies1")
    routed(service, survivor, victim)

    outcomes: Counter[str] = Counter()
    slowest = 0.0
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for i in range(200):  # a steady stream, one request every ~20 ms
            if i == 50:
                os.kill(victim.process.pid, signal.SIGKILL)
            if i == 60:  # the supervisor notices within a tick and removes it
                service.remove_server(victim.name)
            sent = time.monotonic()
            try:
                outcomes[str(client.get("/api/data").status_code)] += 1
            except httpx.TransportError as e:
                outcomes[type(e).__name__] += 1
            slowest = max(slowest, time.monotonic() - sent)
            time.sleep(0.02)

    # A request sent to the dead replica is retried on the survivor (refused connection,
    # or closed with no answer). The one a SIGKILL cuts off mid-answer cannot be: HAProxy
    # has passed its status line on, so the client sees a truncated response. One client
    # has one request in flight: at most one lost, and only that way.
    failed = {outcome: n for outcome, n in outcomes.items() if outcome != "200"}
    assert outcomes["200"] >= 199, outcomes
    assert set(failed) <= {"RemoteProtocolError"}, outcomes
    assert slowest < 2.0
    assert list(service.servers()) == [survivor.name]


def test_a_drained_replica_gets_no_new_requests_and_is_then_removed(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    stays, leaves = start_replica("sre-app-7d9f5-stay2"), start_replica("sre-app-7d9f5-leave")
    routed(service, stays, leaves)

    service.set_routed(leaves.name, False)  # what the supervisor does before a SIGTERM
    with httpx.Client(base_url=service.url, timeout=5) as client:
        served = Counter(replica_of(client) for _ in range(20))
    drained = service.servers()[leaves.name]
    service.remove_server(leaves.name)

    assert served == {stays.name: 20}
    assert drained.state == "maint"
    assert list(service.servers()) == [stays.name]


def test_no_server_routed_means_a_quick_503(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    with httpx.Client(base_url=service.url, timeout=5) as client:
        started = time.monotonic()
        empty = client.get("/api/data")
        empty_took = time.monotonic() - started

        unready = start_replica("sre-app-7d9f5-unrdy")
        service.add_server(unready.name, unready.port)  # added, never routed
        started = time.monotonic()
        not_routed = client.get("/api/data")
        not_routed_took = time.monotonic() - started

    assert (empty.status_code, not_routed.status_code) == (503, 503)
    assert max(empty_took, not_routed_took) < 0.5
    assert service.servers()[unready.name].requests == 0


def test_removing_an_unknown_server_names_it(service: HaproxyService) -> None:
    with pytest.raises(PlatformError) as raised:
        service.remove_server("sre-app-7d9f5-ghost")
    assert str(raised.value) == (
        "HAProxy refused `disable server app/sre-app-7d9f5-ghost`: No such server. "
        f"(compare with `sreshow status`; HAProxy's log: {service.log_path})"
    )


def test_adding_a_server_twice_is_refused_and_keeps_the_first(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    replica = start_replica("sre-app-7d9f5-once1")
    service.add_server(replica.name, replica.port)
    with pytest.raises(PlatformError, match="Already exists a server with the same name"):
        service.add_server(replica.name, free_port())
    assert service.servers()[replica.name].port == replica.port


@pytest.mark.parametrize("name", ["", "sre app", "sre-app;del server app/x", "-leading", "ümlaut"])
def test_a_name_haproxy_cannot_take_is_refused_before_anything_is_sent(
    service: HaproxyService, name: str
) -> None:
    with pytest.raises(PlatformError, match="is not a valid HAProxy server name"):
        service.add_server(name, 8080)
    with pytest.raises(PlatformError, match="is not a valid HAProxy server name"):
        service.remove_server(name)
    assert service.servers() == {}


def test_remove_lets_a_request_in_flight_finish(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    replica = start_replica("sre-app-7d9f5-slow1")
    routed(service, replica)
    answers: list[int] = []
    with httpx.Client(base_url=service.url, timeout=10) as client:
        request = threading.Thread(
            target=lambda: answers.append(client.get("/api/slow?delay=1").status_code)
        )
        request.start()
        wait_until(
            lambda: sessions_on(service, replica.name) == 1,
            within=3,
            waiting_for="the slow request to reach the replica",
        )
        started = time.monotonic()
        service.remove_server(replica.name, grace_seconds=5)
        took = time.monotonic() - started
        request.join(timeout=10)

    assert answers == [200]  # not cut off by the removal
    assert 0.3 < took < 2.0  # it waited for the request, and no longer
    assert service.servers() == {}


def sessions_on(service: HaproxyService, name: str) -> int:
    """Requests HAProxy has in flight on server `name` (`scur` of `show stat`)."""
    header, *rows = service.command("show stat").removeprefix("# ").splitlines()
    for row in csv.DictReader([header, *rows]):
        if row["pxname"] == "app" and row["svname"] == name:
            return int(row["scur"])
    return 0


def test_stop_leaves_no_process_and_frees_the_port(tmp_path: Path) -> None:
    port = free_port()
    service = HaproxyService(tmp_path / "haproxy", port, require_tool("haproxy"))
    service.start()
    pid = service.pid
    assert pid is not None
    assert port_in_use(port)
    assert [p.pid for p in haproxy_children()] == [pid]

    service.stop()
    service.stop()  # idempotent

    assert haproxy_children() == []
    assert not psutil.pid_exists(pid)
    assert not port_in_use(port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # the port is free for the next `up`
    assert not service.socket_path.exists()
    with pytest.raises(PlatformError, match=r"is HAProxy running\?"):
        service.servers()


def test_a_port_in_use_fails_start_with_the_reason_and_leaves_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        service = HaproxyService(tmp_path / "haproxy", port, require_tool("haproxy"))
        with pytest.raises(PlatformError) as raised:
            service.start()

    message = str(raised.value)
    assert message.startswith(f"HAProxy exited with code 1 while starting on port {port}; ")
    assert "cannot bind socket" in message
    assert str(service.log_path) in message
    assert haproxy_children() == []
