"""`sreshow dashboard`'s bad flags: one line naming the flag and the fix, exit 2,
before any stack is looked for or anything served."""

from __future__ import annotations

import pytest

from sreshow.cli import app as cli


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--port", "0"], "error: --port 0 is not a port; give one from 1 to 65535"),
        (["--port", "70000"], "error: --port 70000 is not a port"),
        (["--refresh", "0.5"], "error: --refresh 0.5 is too often; give at least 1 second"),
        (["--window", "-5"], "error: --window -5 shows nothing; give a positive number"),
    ],
)
@pytest.mark.usefixtures("state")
def test_a_bad_flag_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], flags: list[str], line: str
) -> None:
    assert cli.main(["dashboard", *flags]) == 2
    [said] = capsys.readouterr().err.strip().splitlines()
    assert said.startswith(line)
