"""The supervisor's control API commands, served on a real UNIX socket.

No replica runs: the supervisor object answers requests while a stand-in for its loop
runs the queued commands, so what is checked is the API (validation, errors, rollout
bookkeeping, what is recorded), not the processes.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sreshow.adapters.local.control import ControlClient, ControlServer
from sreshow.adapters.local.supervisor import Supervisor, SupervisorConfig
from sreshow.errors import PlatformError


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    config = SupervisorConfig(
        state_dir=tmp_path, time_scale=0.1, app_port=1, replicas=2, version="1.0.0"
    )
    built = Supervisor(config)
    built.stack_dir.root.mkdir(parents=True)
    stop = threading.Event()

    def loop() -> None:  # the commands part of the real loop's tick
        while not stop.wait(0.01):
            built._run_commands()

    thread = threading.Thread(target=loop, name="test-loop", daemon=True)
    thread.start()
    yield built
    stop.set()
    thread.join(timeout=5)
    built.kubelet.close()


@pytest.fixture
def client(supervisor: Supervisor) -> Iterator[ControlClient]:
    # UNIX socket paths are limited to ~107 bytes; pytest's tmp_path can be longer.
    socket_path = Path("/tmp") / f"sreshow-supervisor-{threading.get_ident()}.sock"
    with ControlServer(socket_path, supervisor._handle):
        yield ControlClient(socket_path, timeout=10)


def refusal(client: ControlClient, path: str, body: dict[str, Any]) -> str:
    with pytest.raises(PlatformError) as caught:
        client.request("POST", path, body)
    return str(caught.value)


def events(supervisor: Supervisor) -> list[dict[str, Any]]:
    lines = (supervisor.stack_dir.root / "events.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "t"} for line in lines]


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/scale", {}, "bad request: replicas: field required"),
        ("/scale", {"replicas": "a few"}, "bad request: replicas: input should be a valid integer"),
        ("/scale", {"replicas": 11}, "bad request: replicas must be within 0..10"),
        ("/deploy", {"broken": "crash_on_start"}, "bad request: version: field required"),
        ("/deploy", {"version": "2.0.0", "brokn": "x"}, "bad request: brokn: extra inputs"),
        ("/rollback", {"revision": "last"}, "bad request: revision: input should be a valid"),
        ("/kill", {"force": True}, "bad request: pod: field required"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field_and_changes_nothing(
    supervisor: Supervisor, client: ControlClient, path: str, body: dict[str, Any], error: str
) -> None:
    message = refusal(client, path, body)

    assert message.startswith(f"the supervisor refused POST {path}: {error}"), message
    assert (supervisor.desired, supervisor.revisions.current) == (2, 1)


def test_a_bug_in_a_command_is_a_500_not_a_bad_request(
    supervisor: Supervisor,
    client: ControlClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_scale(_: object) -> dict[str, Any]:
        raise KeyError("desired")

    monkeypatch.setattr(supervisor, "_scale", broken_scale)
    with caplog.at_level(logging.ERROR):
        message = refusal(client, "/scale", {"replicas": 3})

    assert message == (
        "the supervisor failed POST /scale: internal error (KeyError: 'desired'); "
        "the supervisor's log has the traceback"
    )
    assert any(r.exc_info is not None for r in caplog.records)
    assert client.request("GET", "/state")["desired_replicas"] == 2  # the loop goes on


def test_deploy_and_rollback_record_the_rollout_as_before(
    supervisor: Supervisor, client: ControlClient
) -> None:
    assert client.request("POST", "/deploy", {"version": "2.0.0"}) == {"revision": 2}
    assert client.request("POST", "/deploy", {"version": "2.0.0", "broken": ""}) == {"revision": 2}
    assert client.request("POST", "/rollback", {}) == {"revision": 1}

    assert [e for e in events(supervisor) if e["kind"] == "rollout_started"] == [
        {"kind": "rollout_started", "revision": 2, "how": "deployed", "previous": 1},
        {"kind": "rollout_started", "revision": 2, "how": "deployed", "previous": 2},
        {"kind": "rollout_started", "revision": 1, "how": "rolled back", "previous": 2},
    ]
    state = client.request("GET", "/state")
    assert state["revision"] == 1
    assert state["revisions"] == [
        {"number": 1, "version": "1.0.0", "broken": ""},
        {"number": 2, "version": "2.0.0", "broken": ""},
    ]
    # No replica runs: the rollout is under way, within its deadline.
    assert (state["rollout"], state["rollout_state"]) == (
        "progressing to revision 1",
        "progressing",
    )


def test_the_record_says_the_rollout_state_beside_its_sentence(supervisor: Supervisor) -> None:
    supervisor.desired = 0  # nothing wanted, nothing runs: complete
    supervisor._record()

    record = supervisor.stack_dir.read_stack()
    assert record is not None
    assert (record.rollout, record.rollout_state) == ("complete", "complete")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "there is no earlier revision to roll back to"),
        ({"revision": 9}, "there is no revision 9 to roll back to (revisions: 1)"),
    ],
)
def test_a_rollback_with_nowhere_to_go_is_refused_as_before(
    client: ControlClient, body: dict[str, Any], error: str
) -> None:
    assert refusal(client, "/rollback", body) == f"the supervisor refused POST /rollback: {error}"


def test_an_unknown_command_is_a_404(client: ControlClient) -> None:
    assert refusal(client, "/dance", {}) == (
        "the supervisor refused POST /dance: no command POST /dance"
    )
