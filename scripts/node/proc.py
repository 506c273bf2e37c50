"""Running commands, starting and stopping the node's daemons, and bounded waits."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# What every daemon and helper command runs with: the system's sbin directories
# (iptables, runc, ip) whatever the caller's PATH, and no proxy settings.
DAEMON_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
}

# Passed through to what fetches from the network (pip, apt), when set.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def proxy_env() -> dict[str, str]:
    """The caller's proxy settings, for commands that fetch from the network."""
    return {name: os.environ[name] for name in PROXY_VARIABLES if name in os.environ}


class NodeError(Exception):
    """A step failed; `component` and `log` say where to look, when known."""

    def __init__(self, message: str, component: str | None = None, log: Path | None = None):
        super().__init__(message)
        self.component = component
        self.log = log


def say(message: str) -> None:
    """A progress line, on stderr: stdout carries only what callers parse."""
    print(f"node: {message}", file=sys.stderr, flush=True)


def command_path(name: str) -> str:
    """The absolute path of a command, looked up on the daemons' PATH too."""
    found = shutil.which(name) or shutil.which(name, path=DAEMON_ENV["PATH"])
    if found is None:
        raise NodeError(f"{name} not found; run: scripts/install-tools.sh node")
    return found


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 120,
    check: bool = True,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (in `cwd`); its output is captured (or appended to `log`).

    With `check`, a non-zero exit raises NodeError carrying the end of its output.
    """
    args = [command_path(str(argv[0])), *(str(a) for a in argv[1:])]
    options: dict[str, Any] = {
        "text": True,
        "timeout": timeout,
        "env": {**DAEMON_ENV, **(env or {})},
        "input": stdin,
        "cwd": cwd,
    }
    try:
        if log is None:
            result = subprocess.run(args, check=False, capture_output=True, **options)
        else:
            with log.open("a") as out:
                out.write(f"$ {' '.join(args)}\n")
                out.flush()
                result = subprocess.run(
                    args, check=False, stdout=out, stderr=subprocess.STDOUT, **options
                )
    except subprocess.TimeoutExpired:
        raise NodeError(f"{Path(args[0]).name} took over {timeout:.0f} s", log=log) from None
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()[-5:]
        if log is not None:
            detail = tail(log, 15).splitlines()
        raise NodeError(
            f"{Path(args[0]).name} exited {result.returncode}: " + " | ".join(detail), log=log
        )
    return result


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file ('' when there is none)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until(
    what: str,
    check: Callable[[], T | None],
    timeout: float,
    *,
    interval: float = 0.5,
    alive: Callable[[], None] | None = None,
) -> T:
    """Poll `check` until it returns something other than None or False.

    `alive` is called between polls and raises when what is waited for has died, so a
    crashed daemon fails at once rather than at the timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None and result is not False:
            return result
        if alive is not None:
            alive()
        if time.monotonic() >= deadline:
            raise NodeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def process_start_time(pid: int) -> str | None:
    """The start time of a process (field 22 of /proc/PID/stat), None when it is gone.

    Stored with each pid so that a recycled pid is never taken for a daemon.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count fields after its ')'.
    return stat.rsplit(")", 1)[1].split()[19]


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def kill_and_wait(pids: Sequence[int], sig: int, timeout: float) -> list[int]:
    """Send `sig` to each pid, wait up to `timeout` for them to go; return those left."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in left if _exists(pid)]
    return left


def _exists(pid: int) -> bool:
    """Whether a process is still there (a zombie child of ours is reaped, not counted)."""
    with contextlib.suppress(ChildProcessError):
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Daemon:
    """One long-running component: started detached, its pid in a file, its log kept."""

    name: str
    argv: list[str]
    log: Path
    pid_file: Path

    def start(self) -> None:
        """Start it in its own session, so that it outlives this script."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        if self.log.exists():
            self.log.replace(self.log.with_suffix(".log.1"))
        with self.log.open("w") as out:
            out.write(f"$ {' '.join(self.argv)}\n")
            out.flush()
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=DAEMON_ENV,
                start_new_session=True,
            )
        started = process_start_time(process.pid) or ""
        self.pid_file.write_text(f"{process.pid} {started}\n")

    def pid(self) -> int | None:
        """Its pid while it runs, None otherwise (no pid file, or a recycled pid)."""
        try:
            pid_text, started = self.pid_file.read_text().split()
        except (OSError, ValueError):
            return None
        pid = int(pid_text)
        if process_start_time(pid) != started or not _exists(pid):
            return None
        return pid

    def ensure_alive(self) -> None:
        """Raise NodeError when it has exited: the cue to stop waiting for it."""
        if self.pid() is None:
            raise NodeError(f"{self.name} exited", component=self.name, log=self.log)

    def stop(self, timeout: float = 15) -> bool:
        """SIGTERM, then SIGKILL after `timeout`; True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        if kill_and_wait([pid], signal.SIGTERM, timeout):
            kill_and_wait([pid], signal.SIGKILL, 5)
        self.pid_file.unlink(missing_ok=True)
        return True
