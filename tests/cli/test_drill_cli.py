"""`sreshow rto-drill`'s flags: each mistake is one line naming the flag, exit 2, and
nothing is started (no stack is needed to be told)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sreshow.cli import app as cli


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--level", "zone"], "error: --level zone: unknown level; use one of app, config, full"),
        (["--target", "soon"], "error: --target soon: not a positive duration; write one like 30s"),
        (["--target", "0s"], "error: --target 0s: not a positive duration"),
        (["--target", "-5s"], "error: --target -5s: not a positive duration"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], state_dir: Path, args: list[str], line: str
) -> None:
    assert cli.main(["rto-drill", *args]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith(line)
    assert not (state_dir / "runs").exists()


def test_a_report_path_that_is_a_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report"
    report.write_text("not a directory")
    assert cli.main(["rto-drill", "--report", str(report)]) == 2
    assert "is a file; give a directory" in capsys.readouterr().err


def test_without_a_stack_the_drill_says_so_and_touches_nothing(
    capsys: pytest.CaptureFixture[str], state_dir: Path
) -> None:
    assert cli.main(["rto-drill", "--level", "full", "--yes"]) == 3
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "sreshow up" in err
    assert not (state_dir / "runs").exists()
