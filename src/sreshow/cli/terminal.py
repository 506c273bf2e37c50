"""The one place that writes to the terminal.

Colour follows `NO_COLOR` and whether the stream is a terminal; piped output is
plain text, one line per message.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, TextIO

from sreshow.errors import UsageError
from sreshow.settings import Settings

if TYPE_CHECKING:  # Rich takes tens of ms to import: only a command that prints pays
    from rich.console import Console


class Terminal:
    """Owns the Console for normal output and the one for errors."""

    def __init__(
        self,
        settings: Settings,
        out: TextIO | None = None,
        err: TextIO | None = None,
        in_: TextIO | None = None,
    ) -> None:
        self._settings = settings
        self._out_stream = out or sys.stdout
        self._err_stream = err or sys.stderr
        self._in_stream = in_ or sys.stdin

    @cached_property
    def out(self) -> Console:
        """The console for normal output (stdout unless told otherwise)."""
        return _console(self._settings, self._out_stream)

    @cached_property
    def err(self) -> Console:
        """The console for errors (stderr unless told otherwise)."""
        return _console(self._settings, self._err_stream)

    def confirm(self, question: str) -> bool:
        """Ask `question` (y/N) on the terminal; off a terminal, nobody can answer:
        UsageError naming `--yes`. The question is printed either way."""
        self.out.print(question, soft_wrap=True, highlight=False, markup=False)
        if not self._in_stream.isatty():
            raise UsageError("nothing was changed: no terminal to confirm on; pass --yes to go on")
        answer = self.out.input("[y/N] ", markup=False)  # as markup, "[y/N]" is a tag
        return answer.strip().lower() in {"y", "yes"}

    def error(self, message: str) -> None:
        """One line on stderr, prefixed so it stands out in logs."""
        self.err.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)


def _console(settings: Settings, stream: TextIO) -> Console:
    from rich.console import Console

    return Console(file=stream, no_color=settings.no_color, highlight=False)
