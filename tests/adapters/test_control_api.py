"""The supervisor's control API over a real UNIX socket."""

from __future__ import annotations

import logging
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sreshow.adapters.local.control import (
    ControlClient,
    ControlServer,
    ScaleBody,
    parse_body,
)
from sreshow.errors import EvictionRefused, PlatformError


def echo(method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if path == "/refuse":
        return 409, {"error": "a rollout is in progress"}
    if path == "/evict":
        return 429, {"error": "evicting sre-app-1 would violate the disruption budget"}
    return 200, {"method": method, "path": path, "body": body}


@pytest.fixture
def socket_path() -> Iterator[Path]:
    # UNIX socket paths are limited to ~107 bytes; pytest's tmp_path can be longer.
    short = Path("/tmp") / f"sreshow-test-{threading.get_ident()}.sock"
    yield short
    short.unlink(missing_ok=True)


def test_a_command_reaches_the_handler_and_its_answer_comes_back(socket_path: Path) -> None:
    with ControlServer(socket_path, echo):
        answer = ControlClient(socket_path).request("POST", "/scale", {"replicas": 3})
    assert answer == {"method": "POST", "path": "/scale", "body": {"replicas": 3}}


def test_only_the_owner_can_open_the_socket(socket_path: Path) -> None:
    with ControlServer(socket_path, echo):
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    assert not socket_path.exists()


def test_a_refusal_is_one_error_naming_the_command(socket_path: Path) -> None:
    with ControlServer(socket_path, echo), pytest.raises(PlatformError) as caught:
        ControlClient(socket_path).request("POST", "/refuse")
    assert str(caught.value) == "the supervisor refused POST /refuse: a rollout is in progress"


def test_no_supervisor_says_how_to_start_one(socket_path: Path) -> None:
    with pytest.raises(PlatformError, match="start it with `sreshow up`"):
        ControlClient(socket_path).request("GET", "/state")


def test_a_stale_socket_file_is_replaced(socket_path: Path) -> None:
    socket_path.write_text("left by a crashed supervisor")
    with ControlServer(socket_path, echo):
        assert ControlClient(socket_path).request("GET", "/state")["path"] == "/state"


def test_a_disruption_budget_refusal_is_its_own_error(socket_path: Path) -> None:
    """429, as Kubernetes' eviction API answers: a scenario narrates it, not fails on it."""
    with ControlServer(socket_path, echo), pytest.raises(EvictionRefused) as refused:
        ControlClient(socket_path).request("POST", "/evict", {"pod": "sre-app-1"})
    assert str(refused.value) == "evicting sre-app-1 would violate the disruption budget"
    with ControlServer(socket_path, echo), pytest.raises(PlatformError) as other:
        ControlClient(socket_path).request("POST", "/refuse")
    assert not isinstance(other.value, EvictionRefused)


def post(socket_path: Path, path: str, content: bytes) -> httpx.Response:
    """A raw request, to see the status code the client turns into an error."""
    transport = httpx.HTTPTransport(uds=str(socket_path))
    with httpx.Client(transport=transport, base_url="http://supervisor") as client:
        return client.post(path, content=content, headers={"Content-Type": "application/json"})


def scale(_method: str, _path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"desired": parse_body(ScaleBody, body).replicas}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{}", "replicas: field required"),
        (b'{"replicas": "many"}', "replicas: input should be a valid integer"),
        (b'{"replicas": 2, "colour": "red"}', "colour: extra inputs are not permitted"),
    ],
)
def test_a_body_the_command_does_not_take_is_a_400_naming_the_field(
    socket_path: Path, body: bytes, problem: str
) -> None:
    with ControlServer(socket_path, scale):
        response = post(socket_path, "/scale", body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"bad request: {problem}")


def test_a_bad_body_reaches_the_user_as_a_refusal_naming_the_field(socket_path: Path) -> None:
    with ControlServer(socket_path, scale), pytest.raises(PlatformError) as caught:
        ControlClient(socket_path).request("POST", "/scale", {"replicas": None})
    assert str(caught.value) == (
        "the supervisor refused POST /scale: bad request: replicas: input should be a valid integer"
    )


def test_a_bug_in_the_handler_is_a_500_and_logged_not_a_400(
    socket_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def buggy(_method: str, _path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {"desired": body["replicas"]}  # a KeyError on a body without it

    with ControlServer(socket_path, buggy), caplog.at_level(logging.ERROR):
        response = post(socket_path, "/scale", b"{}")
        with pytest.raises(PlatformError) as caught:
            ControlClient(socket_path).request("POST", "/scale", {})
    assert response.status_code == 500
    assert str(caught.value) == (
        "the supervisor failed POST /scale: internal error (KeyError: 'replicas'); "
        "the supervisor's log has the traceback"
    )
    logged = [r for r in caplog.records if r.name == "sreshow.adapters.local.control"]
    assert len(logged) == 2  # both requests
    assert logged[0].exc_info is not None  # the traceback, for whoever fixes it
    assert logged[0].getMessage() == "the control API failed POST /scale"


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (PlatformError("there is no earlier revision to roll back to"), 409),
        (EvictionRefused("evicting sre-app-1 would violate the disruption budget"), 429),
    ],
)
def test_a_refusal_the_handler_raises_keeps_its_status_and_message(
    socket_path: Path, raised: Exception, status: int
) -> None:
    def refusing(*_: object) -> tuple[int, dict[str, Any]]:
        raise raised

    with ControlServer(socket_path, refusing):
        response = post(socket_path, "/rollback", b"{}")
    assert (response.status_code, response.json()) == (status, {"error": str(raised)})


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"{not json", "the body is not JSON"), (b"[1]", "the body must be a JSON object")],
)
def test_a_body_that_is_no_json_object_is_a_400(
    socket_path: Path, content: bytes, error: str
) -> None:
    with ControlServer(socket_path, echo):
        response = post(socket_path, "/scale", content)
    assert (response.status_code, response.json()) == (400, {"error": error})
