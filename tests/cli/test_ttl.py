"""`up --ttl`: the expiry is recorded with the stack, `status` shows the time left (and
`--json` the moment), every command warns once it has passed, `down` forgets it, and a
bad value is refused before anything is brought up. Runs on the sketch platform of
test_platforms (a stack in a file): the expiry is the CLI's, the same on every platform."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sreshow import expiry, platforms
from tests.cli.test_platforms import run, state_dir

__all__ = ["state_dir"]  # the fixture, used by name below


def test_up_records_the_expiry_and_status_shows_the_time_left(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = time.time()
    code, out, _ = run("up", "--platform", "sketch", "--ttl", "45m", capsys=capsys)
    after = time.time()

    assert code == 0
    assert "Time to live: expires in 45m (at " in out
    recorded = float((state_dir / expiry.EXPIRY_FILE).read_text())
    assert before + 2700 - 1 <= recorded <= after + 2700 + 1

    code, out, err = run("status", "--json", capsys=capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["expires_at"] == recorded

    code, out, _ = run("status", capsys=capsys)
    assert code == 0
    assert "time to live" in out
    assert "expires in 44m" in out or "expires in 45m" in out


def test_every_command_warns_once_the_time_to_live_has_passed(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up", "--platform", "sketch", "--ttl", "1h", capsys=capsys)[0] == 0
    # An hour and three minutes later, as far as the recorded expiry is concerned.
    (state_dir / expiry.EXPIRY_FILE).write_text(f"{time.time() - 180:.0f}\n")

    code, out, err = run("status", capsys=capsys)
    assert code == 0
    assert "expired 3m ago" in out
    assert err.startswith("warning: the sketch stack's --ttl expired 3m ago (at ")
    assert err.rstrip().endswith("bring it down with `sreshow down`")

    code, _, err = run("scenario", "list", capsys=capsys)
    assert code == 0
    assert "warning: the sketch stack's --ttl expired" in err

    code, out, err = run("down", capsys=capsys)
    assert (code, err) == (0, "")
    assert not (state_dir / expiry.EXPIRY_FILE).exists()
    code, _, err = run("scenario", "list", capsys=capsys)
    assert (code, err) == (0, "")


def test_a_stack_without_a_ttl_shows_none_and_warns_never(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up", "--platform", "sketch", capsys=capsys)[0] == 0

    code, out, err = run("status", "--json", capsys=capsys)

    assert (code, err) == (0, "")
    assert json.loads(out)["expires_at"] is None
    assert not (state_dir / expiry.EXPIRY_FILE).exists()


@pytest.mark.parametrize("value", ["10s", "8d", "soon", "-5m"])
def test_a_bad_ttl_is_one_line_and_brings_nothing_up(
    state_dir: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, out, err = run("up", "--platform", "sketch", f"--ttl={value}", capsys=capsys)

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: --ttl {value}: give a duration from 1m to 7d, e.g. 45m or 2h "
        "(how long the stack may stay up before every command warns)"
    ]
    assert not (state_dir / platforms.RECORD_FILE).exists()
    assert not (state_dir / "sketch.json").exists()
