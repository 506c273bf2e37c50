"""The question `up` and `down` ask before changing a cluster or an AWS account: shown
with its `[y/N]` prompt (Rich would take the prompt for markup and print nothing), only
`y`/`yes` goes on, and without a terminal nobody can answer: exit 2 naming --yes."""

from __future__ import annotations

import io
import sys

import pytest

from sreshow.cli.terminal import Terminal
from sreshow.errors import UsageError
from sreshow.settings import Settings


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("typed", "goes_on"), [("y", True), ("yes", True), ("", False), ("n", False)]
)
def test_the_question_shows_its_prompt_and_only_yes_goes_on(
    monkeypatch: pytest.MonkeyPatch, typed: str, goes_on: bool
) -> None:
    answers = TerminalInput(f"{typed}\n")
    monkeypatch.setattr(sys, "stdin", answers)
    out = io.StringIO()
    terminal = Terminal(Settings.from_env({}), out=out, in_=answers)

    assert terminal.confirm("Destroy run X? Cost avoided: ~$0.24/h.") is goes_on
    assert out.getvalue() == "Destroy run X? Cost avoided: ~$0.24/h.\n[y/N] "


def test_without_a_terminal_nobody_can_answer() -> None:
    out = io.StringIO()
    terminal = Terminal(Settings.from_env({}), out=out, in_=io.StringIO("y\n"))

    with pytest.raises(UsageError, match="pass --yes"):
        terminal.confirm("Go on?")
    assert out.getvalue() == "Go on?\n"
