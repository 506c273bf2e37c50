"""Bad input and a crashed supervisor, through the CLI: one clear line, the contract's
exit code, and nothing of the stack left running."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sreshow.adapters.local.lifecycle import REQUIRED_BINARIES
from sreshow.adapters.local.processes import free_port
from tests.integration.localstack import (
    LocalStack,
    kill_leftovers,
    running_stack,
    sreshow,
    stack_processes,
    wait_until,
)
from tests.tools import require_tool

pytestmark = pytest.mark.integration


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A state dir; whatever a test leaves of a stack in it is stopped (and fails it)."""
    yield tmp_path
    sreshow(tmp_path, "down")
    assert kill_leftovers(tmp_path) == [], "a stack process was left running"


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_a_port_in_use_is_refused_with_exit_2(state_dir: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = sreshow(state_dir, "up", "--time-scale", "0.1", "--port", str(port))
    assert result.returncode == 2, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert f"--port {port}" in line
    assert "in use" in line
    assert stack_processes(state_dir) == []


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--time-scale", "0"), "--time-scale 0"),
        (("--time-scale", "-1"), "--time-scale -1"),
        (("--replicas", "11"), "--replicas 11"),
        (("--replicas", "0"), "--replicas 0"),
    ],
)
def test_out_of_range_flags_are_refused_with_exit_2(
    state_dir: Path, flags: tuple[str, ...], named: str
) -> None:
    result = sreshow(state_dir, "up", *flags)
    assert result.returncode == 2, result.stdout + result.stderr
    assert named in one_line(result.stderr)
    assert stack_processes(state_dir) == []


def path_without(missing: str, tmp_path: Path) -> str:
    """A PATH holding every tool the stack runs except `missing` (links to the real ones)."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for binary, _ in REQUIRED_BINARIES:
        if binary.name != missing:
            (tools / binary.name).symlink_to(require_tool(binary.name))
    return str(tools)


@pytest.mark.parametrize("missing", ["prometheus", "haproxy"])
def test_a_missing_binary_fails_fast_with_exit_3_and_the_install_hint(
    state_dir: Path, tmp_path: Path, missing: str
) -> None:
    path = path_without(missing, tmp_path)
    result = sreshow(state_dir, "up", "--time-scale", "0.1", env={"PATH": path})
    assert result.returncode == 3, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert f"{missing} is not installed" in line
    assert f"apt-get install {missing}" in line
    assert "make demo" in line
    assert stack_processes(state_dir) == []
    assert not (state_dir / "local" / "supervisor.pid").exists()


def test_a_corrupt_stack_file_is_named_and_down_cleans_it(state_dir: Path) -> None:
    stack_file = state_dir / "local" / "stack.json"
    stack_file.parent.mkdir(parents=True)
    stack_file.write_text('{"phase": "running", "time_scale": ')
    result = sreshow(state_dir, "status")
    assert result.returncode == 3, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert str(stack_file) in line
    assert "sreshow down" in line

    down = sreshow(state_dir, "down")
    assert down.returncode == 0, down.stderr
    assert not stack_file.exists()
    after = sreshow(state_dir, "status")
    assert after.returncode == 3
    assert "no local stack is up" in one_line(after.stderr)


def live(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def test_up_after_a_killed_supervisor_recovers_cleanly(state_dir: Path) -> None:
    port = free_port()
    with running_stack(state_dir, "--port", str(port)) as first:
        pid = int((first.root / "supervisor.pid").read_text())
        children = {p.pid for p in stack_processes(state_dir)} - {pid}
        assert len(children) >= 6  # 2 replicas, HAProxy, Prometheus, Alertmanager, blackbox

        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not live({pid}), within=5, waiting_for="the supervisor to die")
        assert live(children) == children, "the children went with the supervisor"
        assert sreshow(state_dir, "status").returncode == 3  # no supervisor: no stack

        # The same --port: the orphaned HAProxy still holds it until `up` cleans up.
        again = sreshow(state_dir, "up", "--time-scale", "0.1", "--port", str(port))
        assert again.returncode == 0, again.stdout + again.stderr
        assert "cleaned up after a stack that did not stop cleanly" in again.stdout
        assert live(children | {pid}) == set(), "processes of the crashed stack remain"

        second = LocalStack(state_dir)
        status = second.status()
        assert status["endpoints"]["app"] == f"http://127.0.0.1:{port}"
        assert len(status["replicas"]) == 2
        assert all(r["ready"] for r in status["replicas"])
        now = {p.pid for p in stack_processes(state_dir)}
        assert now.isdisjoint(children | {pid})
        assert int((first.root / "supervisor.pid").read_text()) in now
        assert second.http.get(f"{status['endpoints']['app']}/api/data").status_code == 200
        second.http.close()
    # running_stack's `down` stopped the second stack and found nothing left running.
    assert stack_processes(state_dir) == []
