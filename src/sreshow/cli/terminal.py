"""The one place that writes to the terminal.

Colour follows `NO_COLOR` and whether the stream is a terminal; piped output is
plain text, one line per message.
"""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING, TextIO

from sreshow.settings import Settings

if TYPE_CHECKING:  # Rich takes tens of ms to import: only a command that prints pays
    from rich.console import Console


class Terminal:
    """Owns the Console for normal output and the one for errors."""

    def __init__(
        self, settings: Settings, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self._settings = settings
        self._out_stream = out or sys.stdout
        self._err_stream = err or sys.stderr

    @cached_property
    def out(self) -> Console:
        """The console for normal output (stdout unless told otherwise)."""
        return _console(self._settings, self._out_stream)

    @cached_property
    def err(self) -> Console:
        """The console for errors (stderr unless told otherwise)."""
        return _console(self._settings, self._err_stream)

    def error(self, message: str) -> None:
        """One line on stderr, prefixed so it stands out in logs."""
        self.err.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)


def _console(settings: Settings, stream: TextIO) -> Console:
    from rich.console import Console

    return Console(file=stream, no_color=settings.no_color, highlight=False)
