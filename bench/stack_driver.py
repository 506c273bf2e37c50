"""Driving a local stack for the benchmarks: the CLI in a temporary state dir, waits
under a timeout, steady traffic, and the small HTTP reads the measurements need.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psutil

from report import HOST, VENV_BIN, BenchError, free_port

T = TypeVar("T")
SRESHOW = VENV_BIN / "sreshow"
WAIT_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.02


class Stack:
    """One local stack in its own temporary state dir, driven through the CLI."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self.state_dir = Path(tempfile.mkdtemp(prefix="sreshow-bench-"))
        self.local = self.state_dir / "local"
        self.env = {**os.environ, "SRESHOW_STATE_DIR": str(self.state_dir), "NO_COLOR": "1"}
        self.is_up = False
        self.up_at = 0.0

    def cli(self, *args: str, timeout: float = 120) -> tuple[float, str]:
        """Run `sreshow ARGS`; its wall time and stdout. BenchError if it fails."""
        start = time.perf_counter()
        done = subprocess.run(
            [str(SRESHOW), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise BenchError(
                f"sreshow {' '.join(args)} exited {done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-400:]} (state in {self.state_dir})"
            )
        return elapsed, done.stdout

    def up(self) -> float:
        self.is_up = True  # from here on, down() must run even if up fails half-way
        port = str(free_port())
        self.up_at = time.time()
        return self.cli("up", "--time-scale", f"{self.time_scale:g}", "--port", port)[0]

    def down(self) -> tuple[float, float]:
        """`sreshow down`'s wall time, and when (from its start) the supervisor exited."""
        pids = self._pids()
        exited: list[float] = []
        start = time.perf_counter()
        watcher = threading.Thread(target=self._watch_exit, args=(start, exited), daemon=True)
        watcher.start()
        elapsed = self.cli("down")[0]
        self.is_up = False
        watcher.join(WAIT_TIMEOUT_SECONDS)
        left = [pid for pid in pids if psutil.pid_exists(pid)]
        if left or not exited:
            raise BenchError(f"`sreshow down` left processes {left or pids[:1]} running")
        return elapsed, exited[0]

    def _watch_exit(self, start: float, exited: list[float]) -> None:
        """Note when the supervisor stops running (a zombie has exited: only its reaping,
        by whoever adopted it, is left)."""
        supervisor = self.supervisor()
        deadline = start + WAIT_TIMEOUT_SECONDS
        while time.perf_counter() < deadline:
            try:
                if supervisor.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.005)
        else:
            return
        exited.append(time.perf_counter() - start)

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.cli("status", "--json")[1])
        return result

    def supervisor(self) -> psutil.Process:
        return psutil.Process(int((self.local / "supervisor.pid").read_text().strip()))

    def events(self) -> list[dict[str, Any]]:
        path = self.local / "events.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.endswith("}")]

    def _pids(self) -> list[int]:
        try:
            supervisor = self.supervisor()
            return [supervisor.pid, *(p.pid for p in supervisor.children(recursive=True))]
        except (OSError, ValueError, psutil.NoSuchProcess):
            return []


@contextmanager
def running_stack(time_scale: float) -> Iterator[tuple[Stack, float]]:
    """A stack that is up (with `up`'s wall time); down on the way out, whatever happened."""
    stack = Stack(time_scale)
    try:
        yield stack, stack.up()
    finally:
        if stack.is_up:
            stack.cli("down")
    shutil.rmtree(stack.state_dir, ignore_errors=True)  # kept when something failed


def wait_for(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    """Poll `probe` until it gives a value; BenchError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value is not None:
            return value
        time.sleep(POLL_SECONDS)
    raise BenchError(f"waited {timeout:.0f} s for {what} in vain")


def http_status(port: int, path: str) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


class SteadyTraffic:
    """GET requests at a fixed rate through one keep-alive connection, in a thread."""

    def __init__(self, url: str, rate: float) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or HOST, parts.port or 80, parts.path
        self.interval = 1 / rate
        self.requests = 0
        self.errors = 0  # 5xx answers
        self.failures = 0  # no answer at all
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SteadyTraffic:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        next_at = time.monotonic()
        while not self._stop.wait(max(next_at - time.monotonic(), 0)):
            next_at += self.interval
            try:
                connection.request("GET", self.path)
                response = connection.getresponse()
                response.read()
                self.requests += 1
                self.errors += response.status >= 500
            except (OSError, http.client.HTTPException):
                self.failures += 1
                connection.close()  # reconnects on the next request
        connection.close()


def prometheus_get(base: str, path: str) -> Any:
    with urllib.request.urlopen(base + path, timeout=2) as response:  # noqa: S310 (127.0.0.1)
        return json.load(response)["data"]


def parse_duration(text: str) -> float:
    """A Prometheus duration such as `1s500ms` or `15s`, in seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+)(ms|s|m|h)", text)
    if not parts:
        raise BenchError(f"cannot read the duration {text!r}")
    return sum(int(n) * units[u] for n, u in parts)


def parse_rfc3339(text: str) -> float:
    """Prometheus's activeAt (nanoseconds, `Z`) as unix time."""
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed).timestamp()


def inject_errors(stack: Stack, rate: float) -> None:
    """Set `error_rate` on every replica through its admin API."""
    token = (stack.local / "admin-token").read_text().strip()
    for replica in stack.status()["replicas"]:
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
            replica["url"] + "/admin/faults",
            data=json.dumps({"error_rate": rate}).encode(),
            method="PATCH",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            if response.status != 200:
                raise BenchError(f"PATCH {replica['url']}/admin/faults: {response.status}")
