"""The `sreshow` command as a user runs it: a real subprocess of the console script."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sreshow import __version__


def sreshow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def test_version_prints_the_package_version() -> None:
    result = sreshow("--version")
    assert (result.returncode, result.stdout) == (0, f"sreshow {__version__}\n")


@pytest.mark.parametrize("args", [["--help"], []])
def test_help_describes_the_tool_and_its_environment(args: list[str]) -> None:
    result = sreshow(*args)
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: sreshow")
    assert "break it on purpose" in result.stdout
    assert "SRESHOW_DEBUG" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["launch-rockets"], "error: No such command 'launch-rockets'. (see `sreshow --help`)"),
        (["--frobnicate"], "error: No such option: --frobnicate (see `sreshow --help`)"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = sreshow(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [message]


def test_output_is_plain_when_not_a_terminal() -> None:
    result = sreshow("launch-rockets")
    assert "\x1b[" not in result.stderr
