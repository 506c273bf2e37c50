"""A real terminal for tests: a command in a tmux session of a given size, its screen
read with capture-pane and keys sent with send-keys. Each session has its own tmux
server (socket), killed afterwards whatever happened."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.tools import require_tool

POLL_SECONDS = 0.25
EXIT_MARK = "EXIT="  # the shell prints the command's exit code after it, then waits


class Tmux:
    """One command on a `width` x `height` terminal."""

    def __init__(self, socket: str, tmux: str) -> None:
        self._socket = socket
        self._tmux = tmux

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [self._tmux, "-L", self._socket, *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return result.stdout

    def screen(self) -> str:
        """What the terminal shows now, one line per row."""
        return self._run("capture-pane", "-p", "-t", "show")

    def send(self, *keys: str) -> None:
        """Keys as tmux names them: `Space`, `Right`, `q`, `C-c`."""
        self._run("send-keys", "-t", "show", *keys)

    def wait_for(self, holds: Callable[[str], bool], within: float, waiting_for: str) -> str:
        """The first screen for which `holds` is true; AssertionError with the last one
        after `within` seconds."""
        deadline = time.monotonic() + within
        screen = self.screen()
        while not holds(screen):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {within:g} s for {waiting_for}; the screen shows:\n{screen}"
                )
            time.sleep(POLL_SECONDS)
            screen = self.screen()
        return screen

    def wait_for_text(self, text: str, within: float) -> str:
        return self.wait_for(lambda screen: text in screen, within, repr(text))

    def exit_code(self, within: float) -> int:
        """The command's exit code once it has ended."""
        screen = self.wait_for(lambda s: EXIT_MARK in s, within, "the command to end")
        tail = screen[screen.rindex(EXIT_MARK) + len(EXIT_MARK) :].split()[0]
        return int(tail)


@contextlib.contextmanager
def tmux_session(
    argv: list[str], env: dict[str, str], *, width: int, height: int, cwd: Path
) -> Iterator[Tmux]:
    """`argv` (with `env` added) running in a fresh tmux server's terminal."""
    tmux = require_tool("tmux")
    socket = f"sreshow-test-{os.getpid()}-{time.monotonic_ns()}"
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    shell = f"cd {shlex.quote(str(cwd))} && env {assignments} {shlex.join(argv)}; "
    shell += f"echo {EXIT_MARK}$?; sleep 600"
    session = Tmux(socket, tmux)
    subprocess.run(
        [
            tmux,
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "show",
            "-x",
            str(width),
            "-y",
            str(height),
            shell,
        ],
        check=True,
        timeout=10,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    try:
        yield session
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], check=False, timeout=10)
