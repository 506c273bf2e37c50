"""The one place that writes to the terminal.

Colour follows `NO_COLOR` and whether the stream is a terminal; piped output is
plain text, one line per message.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console

from sreshow.settings import Settings


class Terminal:
    """Owns the Console for normal output and the one for errors."""

    def __init__(
        self, settings: Settings, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.out = _console(settings, out or sys.stdout)
        self.err = _console(settings, err or sys.stderr)

    def error(self, message: str) -> None:
        """One line on stderr, prefixed so it stands out in logs."""
        self.err.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)


def _console(settings: Settings, stream: TextIO) -> Console:
    return Console(file=stream, no_color=settings.no_color, highlight=False)
