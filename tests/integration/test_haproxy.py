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

    def set_unready(self, unready: bool) -> None:
        response = httpx.patch(
            f"{self.url}/admin/faults", json={"unready": unready}, headers=AUTH, timeout=5
        )
        response.raise_for_status()


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


def wait_for_state(service: HaproxyService, name: str, state: str, within: float) -> None:
    wait_until(
        lambda: (server := service.servers().get(name)) is not None and server.state == state,
        within=within,
        waiting_for=f"HAProxy to report {name} {state}",
    )


def haproxy_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if p.name() == "haproxy"]


def test_two_ready_replicas_share_the_traffic(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    first, second = start_replica("sre-app-7d9f5-x2kq4"), start_replica("sre-app-7d9f5-b8mzt")
    service.add_server(first.name, first.port)
    service.add_server(second.name, second.port)
    for replica in (first, second):
        wait_for_state(service, replica.name, "up", within=3)

    with httpx.Client(base_url=service.url, timeout=5) as client:
        served = Counter(replica_of(client) for _ in range(20))

    assert served == {first.name: 10, second.name: 10}  # round robin
    assert service.servers() == {
        first.name: ServerStatus("127.0.0.1", first.port, "up", "L7OK"),
        second.name: ServerStatus("127.0.0.1", second.port, "up", "L7OK"),
    }


def test_a_replica_added_while_unready_gets_no_request_until_ready(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    # HAProxy starts a newly enabled server "up" until its first check; the service
    # must not let an unready replica take requests in that window.
    ready, late = start_replica("sre-app-7d9f5-ready"), start_replica("sre-app-7d9f5-late1")
    service.add_server(ready.name, ready.port)
    wait_for_state(service, ready.name, "up", within=3)
    late.set_unready(True)

    service.add_server(late.name, late.port)
    with httpx.Client(base_url=service.url, timeout=5) as client:
        deadline = time.monotonic() + 1.5  # three check intervals
        served: Counter[str] = Counter()
        while time.monotonic() < deadline:
            served[replica_of(client)] += 1
        assert service.servers()[late.name] == ServerStatus("127.0.0.1", late.port, "down", "L7STS")

        late.set_unready(False)
        became_ready = time.monotonic()
        wait_until(
            lambda: replica_of(client) == late.name, within=3, waiting_for=f"{late.name} traffic"
        )
        routed_after = time.monotonic() - became_ready

    assert served[late.name] == 0, served
    assert served[ready.name] > 50
    assert routed_after < 1.5


def test_an_unready_replica_leaves_the_rotation_and_returns_when_ready(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    stays, flaps = start_replica("sre-app-7d9f5-stays"), start_replica("sre-app-7d9f5-flaps")
    for replica in (stays, flaps):
        service.add_server(replica.name, replica.port)
        wait_for_state(service, replica.name, "up", within=3)

    with httpx.Client(base_url=service.url, timeout=5) as client:
        flaps.set_unready(True)
        turned_unready = time.monotonic()
        recent: list[str] = []

        def only_stays_answers() -> bool:
            # Round robin alternates, so ten answers in a row from `stays` mean `flaps` is out.
            recent.append(replica_of(client))
            return recent[-10:] == [stays.name] * 10

        wait_until(only_stays_answers, within=5, waiting_for=f"{flaps.name} to leave the rotation")
        left_after = time.monotonic() - turned_unready
        while_unready = Counter(replica_of(client) for _ in range(20))
        state_while_unready = service.servers()[flaps.name]

        flaps.set_unready(False)
        turned_ready = time.monotonic()
        wait_until(
            lambda: replica_of(client) == flaps.name, within=5, waiting_for=f"{flaps.name} back"
        )
        back_after = time.monotonic() - turned_ready

    assert left_after < 2.0
    assert while_unready == {stays.name: 20}
    assert state_while_unready == ServerStatus("127.0.0.1", flaps.port, "down", "L7STS")
    assert back_after < 2.0


def test_a_killed_replica_costs_clients_nothing_and_is_marked_down(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    survivor, victim = start_replica("sre-app-7d9f5-lives"), start_replica("sre-app-7d9f5-dies1")
    for replica in (survivor, victim):
        service.add_server(replica.name, replica.port)
        wait_for_state(service, replica.name, "up", within=3)

    outcomes: Counter[str] = Counter()
    served_after_kill: Counter[str] = Counter()
    slowest = 0.0
    with (
        httpx.Client(base_url=service.url, timeout=10) as client,
        DownWatch(service, victim.name) as watch,
    ):
        for i in range(200):  # a steady stream, one request every ~20 ms
            if i == 50:
                os.kill(victim.process.pid, signal.SIGKILL)
                watch.killed_at = time.monotonic()
            sent = time.monotonic()
            try:
                response = client.get("/api/data")
                outcomes[str(response.status_code)] += 1
                if watch.killed_at is not None and response.status_code == 200:
                    served_after_kill[response.json()["replica"]] += 1
            except httpx.TransportError as e:
                outcomes[type(e).__name__] += 1
            slowest = max(slowest, time.monotonic() - sent)
            time.sleep(0.02)

    assert outcomes == {"200": 200}
    assert served_after_kill == {survivor.name: 150}
    # A retry after a failed connect may wait `timeout connect` (1 s) once the dead
    # replica is marked down, so one request can be slow; none may hang.
    assert slowest < 2.0
    assert watch.marked_down_after is not None
    assert watch.marked_down_after < 2.0
    assert service.servers()[victim.name].check_status == "L4CON"  # connection refused

    service.remove_server(victim.name)
    assert list(service.servers()) == [survivor.name]


class DownWatch:
    """Polls HAProxy in a thread for when server `name` turns down after `killed_at`."""

    def __init__(self, service: HaproxyService, name: str) -> None:
        self.service, self.name = service, name
        self.killed_at: float | None = None
        self.marked_down_after: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        while not self._done.wait(0.02) and self.marked_down_after is None:
            killed_at = self.killed_at
            if killed_at is not None and self.service.servers()[self.name].state == "down":
                self.marked_down_after = time.monotonic() - killed_at

    def __enter__(self) -> DownWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def test_a_drained_replica_gets_no_new_requests_and_is_then_removed(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    stays, leaves = start_replica("sre-app-7d9f5-stay2"), start_replica("sre-app-7d9f5-leave")
    for replica in (stays, leaves):
        service.add_server(replica.name, replica.port)
        wait_for_state(service, replica.name, "up", within=3)

    service.drain_server(leaves.name)  # what the supervisor does before a SIGTERM
    with httpx.Client(base_url=service.url, timeout=5) as client:
        served = Counter(replica_of(client) for _ in range(20))
    drained = service.servers()[leaves.name]
    service.remove_server(leaves.name)

    assert served == {stays.name: 20}
    assert drained.state == "maint"
    assert list(service.servers()) == [stays.name]


def test_no_server_up_means_a_quick_503(
    service: HaproxyService, start_replica: Callable[[str], Replica]
) -> None:
    with httpx.Client(base_url=service.url, timeout=5) as client:
        started = time.monotonic()
        empty = client.get("/api/data")
        empty_took = time.monotonic() - started

        nowhere = free_port()  # nothing listens there: the server stays down
        service.add_server("sre-app-7d9f5-gone1", nowhere)
        wait_until(
            lambda: service.servers()["sre-app-7d9f5-gone1"].check_status == "L4CON",
            within=3,
            waiting_for="the first failed check",
        )
        started = time.monotonic()
        all_down = client.get("/api/data")
        all_down_took = time.monotonic() - started

        unready = start_replica("sre-app-7d9f5-unrdy")
        unready.set_unready(True)
        service.add_server(unready.name, unready.port)
        started = time.monotonic()
        not_ready = client.get("/api/data")
        not_ready_took = time.monotonic() - started

    assert (empty.status_code, all_down.status_code, not_ready.status_code) == (503, 503, 503)
    assert max(empty_took, all_down_took, not_ready_took) < 0.5
    assert service.servers()["sre-app-7d9f5-gone1"].state == "down"


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
    service.add_server(replica.name, replica.port)
    wait_for_state(service, replica.name, "up", within=3)
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
