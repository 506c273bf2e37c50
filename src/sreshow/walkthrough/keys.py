"""The presenter's keys, read from the terminal one at a time while the show runs.

    space, →, n, Enter   next step          p   pause / go on
    r                    repeat the step     q   quit (cleanup runs)
    x, !                 emergency stop: every fault cleared and the load stopped now

`KeyReader` puts the terminal in cbreak mode (keys arrive unbuffered and unechoed;
Ctrl-C still sends SIGINT) and restores it on exit, whatever happened; a thread reads
the keys and hands each known one to a callback.
"""

from __future__ import annotations

import contextlib
import os
import select
import termios
import threading
import tty
from collections.abc import Callable
from enum import StrEnum
from types import TracebackType
from typing import Any


class Key(StrEnum):
    NEXT = "next"
    PAUSE = "pause"
    REPEAT = "repeat"
    QUIT = "quit"
    EMERGENCY = "emergency"


KEYS: dict[bytes, Key] = {
    b" ": Key.NEXT,
    b"\x1b[C": Key.NEXT,  # →
    b"\x1bOC": Key.NEXT,  # → in application cursor mode
    b"n": Key.NEXT,
    b"\r": Key.NEXT,
    b"\n": Key.NEXT,
    b"p": Key.PAUSE,
    b"r": Key.REPEAT,
    b"q": Key.QUIT,
    b"x": Key.EMERGENCY,
    b"!": Key.EMERGENCY,
}
POLL_SECONDS = 0.1  # how soon the reader notices it is stopped


def keys_in(data: bytes) -> list[Key]:
    """The keys in what one read returned. An escape sequence is one key (→) or none
    (F1, ↑, …): never its letters, so F2's `ESC O Q` is not `q`."""
    found = []
    rest = data
    while rest:
        size = _escape_length(rest) if rest.startswith(b"\x1b") else 1
        key = KEYS.get(rest[:size] if size > 1 else rest[:1].lower())
        if key is not None:
            found.append(key)
        rest = rest[size:]
    return found


def _escape_length(data: bytes) -> int:
    """How many bytes the escape sequence at the start of `data` takes: `ESC [` then
    parameters up to a final byte (0x40-0x7E), `ESC O x`, or a lone ESC."""
    if data[1:2] == b"[":
        for index in range(2, len(data)):
            if 0x40 <= data[index] <= 0x7E:
                return index + 1
        return len(data)
    if data[1:2] == b"O":
        return min(3, len(data))
    return 1


class KeyReader:
    """Reads keys from terminal `fd` on a thread until closed; `on_key` gets each one."""

    def __init__(self, fd: int, on_key: Callable[[Key], None]) -> None:
        self._fd = fd
        self._on_key = on_key
        self._stop = threading.Event()
        self._saved: list[Any] | None = None
        self._thread = threading.Thread(target=self._read, name="presenter-keys", daemon=True)

    def __enter__(self) -> KeyReader:
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * POLL_SECONDS + 1)
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], POLL_SECONDS)
            if not ready:
                continue
            try:
                data = os.read(self._fd, 32)
            except OSError:
                return
            if not data:
                return  # the terminal went away
            for key in keys_in(data):
                self._on_key(key)
