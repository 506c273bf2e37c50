"""The supervisor's control API over a real UNIX socket."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sreshow.adapters.local.control import ControlClient, ControlServer
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
