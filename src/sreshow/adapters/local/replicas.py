"""App replicas as local processes: start one per pod, probe it, measure it, stop it.

A replica is `python -m demo_app` (the container's CMD) on its own 127.0.0.1 port,
with the pod's name, version and bad-release switch in its environment and the admin
token in a file, as the Deployment gives them on Kubernetes.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from sreshow.adapters.local.processes import LOCALHOST, ChildProcess, start_process

NAMESPACE = "sre-app"
READY_PROBE_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class ReleaseSpec:
    """What a revision runs: the version the app reports and its bad-release switch."""

    version: str
    broken: str = ""


@dataclass
class Replica:
    """One running replica process and what the supervisor knows of it."""

    name: str
    revision: int
    release: ReleaseSpec
    port: int
    process: ChildProcess
    created_at: float = field(default_factory=time.monotonic)
    ready: bool = False
    ready_since: float | None = None
    probed_at: float = 0.0
    _meter: psutil.Process | None = field(default=None, repr=False)
    _cpu_seconds: deque[tuple[float, float]] = field(default_factory=deque, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def probe_ready(self, client: httpx.Client) -> bool:
        """GET /ready, as the readiness probe does; remembers and returns the answer."""
        try:
            self.ready = client.get(
                f"{self.url}/ready", timeout=READY_PROBE_TIMEOUT_SECONDS
            ).is_success
        except httpx.TransportError:
            self.ready = False
        return self.ready

    def became_ready(self) -> None:
        """Note the moment; CPU is measured from here on (start-up is not load)."""
        self.ready_since = time.monotonic()
        self._cpu_seconds.clear()

    def ready_for(self, now: float) -> float:
        """Seconds this replica has been ready (0 when it is not)."""
        if not self.ready or self.ready_since is None:
            return 0.0
        return now - self.ready_since

    def usage(self, window: float) -> tuple[float, int] | None:
        """(CPU in millicores over the last `window` seconds, resident memory in bytes),
        or None until a window's worth has been measured since the replica became ready.

        What metrics-server reports for a pod. A window of seconds, not one sync: the
        kernel counts CPU time in 10 ms ticks, too coarse for a 1.5 s interval.
        """
        now = time.monotonic()
        try:
            if self._meter is None:
                self._meter = psutil.Process(self.process.pid)
            times = self._meter.cpu_times()
            memory = int(self._meter.memory_info().rss)
        except psutil.Error:
            return None
        self._cpu_seconds.append((now, times.user + times.system))
        while len(self._cpu_seconds) > 2 and now - self._cpu_seconds[1][0] >= window:
            self._cpu_seconds.popleft()
        started, cpu_then = self._cpu_seconds[0]
        if now - started < window:
            return None
        millicores = (self._cpu_seconds[-1][1] - cpu_then) / (now - started) * 1000
        return millicores, memory


def start_replica(
    *,
    name: str,
    revision: int,
    release: ReleaseSpec,
    port: int,
    token_file: Path,
    logs: Path,
    drain_seconds: float,
    grace_seconds: float,
    extra_env: dict[str, str] | None = None,
) -> Replica:
    """Start one replica with the Dockerfile's command on `port`."""
    env = {
        "POD_NAME": name,
        "APP_VERSION": release.version,
        "APP_BROKEN": release.broken,
        "APP_HOST": LOCALHOST,
        "APP_PORT": str(port),
        "SRESHOW_ADMIN_TOKEN_FILE": str(token_file),
        "APP_DRAIN_SECONDS": f"{drain_seconds:g}",
        "APP_GRACE_SECONDS": f"{grace_seconds:g}",
        **(extra_env or {}),
    }
    process = start_process(
        name, [sys.executable, "-m", "demo_app"], log=logs / f"{name}.log", env=env
    )
    return Replica(name, revision, release, port, process)
