"""The top-level handler: one line per error, the contract's exit codes, tracebacks on demand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer

from sreshow.cli import app as cli
from sreshow.errors import PlatformError, UsageError


@pytest.fixture
def failing_command() -> Iterator[list[BaseException]]:
    """Register a command that raises whatever the test puts in the list."""
    to_raise: list[BaseException] = []

    @cli.app.command("explode")
    def explode() -> None:
        raise to_raise[0]

    yield to_raise
    cli.app.registered_commands.pop()


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (UsageError("--rps: -5 is not a rate; give a positive number"), 2, "error: --rps"),
        (PlatformError("Prometheus did not answer; run `sreshow status`"), 3, "error: Prometheus"),
        (KeyboardInterrupt(), 130, "error: interrupted"),
        (RuntimeError("boom"), 3, "error: internal error: RuntimeError: boom"),
    ],
)
def test_each_error_is_one_line_with_its_exit_code(
    failing_command: list[BaseException],
    capsys: pytest.CaptureFixture[str],
    error: BaseException,
    code: int,
    line: str,
) -> None:
    failing_command.append(error)
    assert cli.main(["explode"]) == code
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith(line)
    assert "Traceback" not in err


def test_debug_shows_the_traceback(
    failing_command: list[BaseException],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SRESHOW_DEBUG", "1")
    failing_command.append(RuntimeError("boom"))
    assert cli.main(["explode"]) == 3
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_typer_exit_codes_pass_through(failing_command: list[BaseException]) -> None:
    failing_command.append(typer.Exit(1))
    assert cli.main(["explode"]) == 1
