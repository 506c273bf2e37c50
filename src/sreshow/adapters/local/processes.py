"""Start, watch and stop the local platform's child processes; the one place that does.

Every child gets its own log file, runs in the caller's process group (so stopping
the supervisor's group stops everything it started) and is stopped with SIGTERM,
then SIGKILL after a grace period. Waits are bounded and name what they wait for.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

from sreshow.errors import PlatformError

LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class Binary:
    """An external program the platform runs, and how to install it."""

    name: str
    debian_package: str
    homebrew: str

    def install_hint(self) -> str:
        return (
            f"install it: `sudo apt-get install {self.debian_package}` (Debian/Ubuntu) "
            f"or `brew install {self.homebrew}` (macOS), or run `make demo`"
        )


def find_binary(binary: Binary) -> str:
    """The path of `binary`, or a PlatformError (exit 3) with the install hint."""
    found = shutil.which(binary.name)
    if found is None:
        raise PlatformError(f"{binary.name} is not installed; {binary.install_hint()}")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((LOCALHOST, port)) == 0


class Service:
    """Something started and stopped: `with service:` starts it and always stops it."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass
class ChildProcess:
    """A started child: its name, its process, its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    started_at: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, grace_seconds: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `grace_seconds`."""
        if not self.alive():
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL at once (a crash, as the kill-pods scenario does with `force`)."""
        if self.alive():
            self.popen.kill()
            self.popen.wait(timeout=5)


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildProcess:
    """Start `argv` with stdout and stderr appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    with log.open("ab") as log_file:
        try:
            popen = subprocess.Popen(  # noqa: S603 (argv built by the platform, no shell)
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
            )
        except OSError as e:
            raise PlatformError(f"cannot start {name} ({argv[0]}): {e.strerror}") from e
    return ChildProcess(name, popen, log)


def wait_for_http(
    url: str, *, within: float, what: str, process: ChildProcess | None = None
) -> None:
    """Wait until `url` answers 2xx; PlatformError naming `what` and its log otherwise."""
    deadline = time.monotonic() + within
    with httpx.Client(timeout=1.0) as client:
        while True:
            if process is not None and not process.alive():
                raise PlatformError(
                    f"{what} exited with code {process.exit_code()} while starting; "
                    f"its log {process.log} ends: {process.log_tail()}"
                )
            try:
                if client.get(url).is_success:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                log = f"; see {process.log}" if process else ""
                raise PlatformError(f"{what} did not answer at {url} within {within:g} s{log}")
            time.sleep(0.05)
