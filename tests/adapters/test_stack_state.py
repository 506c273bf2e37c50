"""The local stack's state files: atomic records, corrupt files named, the admin token."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

import pytest

from sreshow.adapters.local.state import RevisionRecord, StackDir, StackRecord
from sreshow.errors import PlatformError


def record() -> StackRecord:
    return StackRecord(
        phase="running",
        time_scale=0.1,
        supervisor_pid=123,
        endpoints={"app": "http://127.0.0.1:8080"},
        desired_replicas=2,
        revision=1,
        revisions=(RevisionRecord(number=1, version="1.0.0"),),
    )


def test_a_written_record_reads_back_and_is_private(tmp_path: Path) -> None:
    stack = StackDir(tmp_path)
    stack.write_stack(record())
    assert stack.read_stack() == record()
    assert stat.S_IMODE(stack.stack_file.stat().st_mode) == 0o600
    assert [p.name for p in stack.root.iterdir()] == ["stack.json"]  # no temp file left


def test_no_record_is_none(tmp_path: Path) -> None:
    assert StackDir(tmp_path).read_stack() is None


@pytest.mark.parametrize("content", ["{not json", '{"phase": "dancing"}', ""])
def test_a_corrupt_record_says_how_to_recover(tmp_path: Path, content: str) -> None:
    stack = StackDir(tmp_path)
    stack.root.mkdir(parents=True)
    stack.stack_file.write_text(content)
    with pytest.raises(PlatformError) as caught:
        stack.read_stack()
    message = str(caught.value)
    assert str(stack.stack_file) in message
    assert "run `sreshow down`" in message
    assert "\n" not in message


def test_the_admin_token_is_made_once_and_private(tmp_path: Path) -> None:
    stack = StackDir(tmp_path)
    token = stack.admin_token()
    assert len(token) >= 32
    assert stack.admin_token() == token
    assert stat.S_IMODE(stack.token_file.stat().st_mode) == 0o600


def test_a_held_lock_means_a_running_supervisor(tmp_path: Path) -> None:
    stack = StackDir(tmp_path)
    assert not stack.supervisor_running()
    stack.root.mkdir(parents=True)
    with stack.lock_file.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert stack.supervisor_running()
    assert not stack.supervisor_running()


def test_one_supervisor_holds_a_stack_and_a_second_is_refused(tmp_path: Path) -> None:
    stack = StackDir(tmp_path)
    assert not stack.supervisor_running()

    with stack.held():
        assert stack.supervisor_running()
        assert stack.pid_file.read_text() == f"{os.getpid()}\n"
        second = stack.held()
        with pytest.raises(PlatformError, match="another supervisor runs this stack"):
            second.__enter__()
        assert stack.supervisor_running()  # the refused one took nothing away

    assert not stack.supervisor_running()
