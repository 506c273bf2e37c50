"""App replicas as local processes: start one per pod, probe it, measure it, restart it.

A replica is `python -m demo_app` (the container's CMD) on its own 127.0.0.1 port,
with the pod's name, version and bad-release switch in its environment and the admin
token in a file, as the Deployment gives them on Kubernetes. Like a pod it keeps its
name and address when its container is restarted (a failed liveness probe).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from sreshow.adapters.local.processes import LOCALHOST, ChildProcess, start_process
from sreshow.core.probes import ProbeSpec, ProbeState

NAMESPACE = "sre-app"
# The supervisor probes every replica from one loop: a probe that hangs holds up the
# others, so none waits longer than this whatever the Deployment's timeoutSeconds.
MAX_PROBE_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class ReleaseSpec:
    """What a revision runs: the version the app reports and its bad-release switch."""

    version: str
    broken: str = ""


@dataclass(frozen=True)
class Usage:
    """A replica's resource use over a window, as metrics-server reports a pod's."""

    millicores: float
    memory_bytes: int
    client_requests: int  # requests the Service sent it in the window
    window: float  # seconds actually measured
    measured_at: float  # the window's end (monotonic)


@dataclass(frozen=True)
class _Sample:
    at: float
    cpu_seconds: float
    client_requests: int


@dataclass
class Replica:
    """One replica (a pod and its running container) and what the supervisor knows of it."""

    name: str
    revision: int
    release: ReleaseSpec
    port: int
    process: ChildProcess
    launch: Callable[[], ChildProcess] = field(repr=False)  # starts the container again
    created_at: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.monotonic)  # this container's start
    readiness: ProbeState = field(default_factory=lambda: ProbeState(passing=False))
    liveness: ProbeState = field(default_factory=lambda: ProbeState(passing=True))
    # When readiness last changed: the Ready condition's lastTransitionTime (False at start).
    ready_changed_at: float = field(default_factory=time.monotonic)
    ever_ready: bool = False
    restarts: int = 0
    stopping_until: float | None = None  # restarting: the old container's grace ends then
    _samples: deque[_Sample] = field(default_factory=deque, repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def ready(self) -> bool:
        return self.readiness.passing

    def probe(self, client: httpx.Client, spec: ProbeSpec) -> bool:
        """One HTTP probe as the kubelet sends it: a 2xx or 3xx within the timeout passes."""
        timeout = min(spec.timeout, MAX_PROBE_TIMEOUT_SECONDS)
        try:
            status = client.get(f"{self.url}{spec.path}", timeout=timeout).status_code
        except httpx.TransportError:
            return False
        return 200 <= status < 400

    def set_ready(self, ready: bool, now: float) -> None:
        """Note a readiness change (the probe's verdict already says which)."""
        self.ready_changed_at = now
        if ready:
            self.ever_ready = True

    def begin_restart(self, now: float, grace_seconds: float) -> None:
        """Stop the container (SIGTERM; SIGKILL after the grace) to start it again."""
        self.process.popen.terminate()
        self.stopping_until = now + grace_seconds

    def finish_restart(self, now: float) -> bool:
        """Start the container again once the old one is gone; whether it was started."""
        if self.stopping_until is None:
            return False
        if self.process.alive():
            if now < self.stopping_until:
                return False
            self.process.kill()
        self.process = self.launch()
        self.stopping_until = None
        self.restarts += 1
        self.started_at = now
        self.readiness = ProbeState(passing=False)
        self.liveness = ProbeState(passing=True, next_at=now)
        self.ready_changed_at = now
        self._samples.clear()
        return True

    def sample(self, now: float, client_requests: int) -> None:
        """Measure the container's CPU time now, with the Service's request count for it."""
        cpu = cpu_seconds(self.process.pid)
        if cpu is not None:
            self._samples.append(_Sample(now, cpu, client_requests))

    def usage(self, window: float) -> Usage | None:
        """Use over the last `window` seconds (at least), or None until a window's worth has
        been measured since this container started."""
        while len(self._samples) > 2 and self._samples[-1].at - self._samples[1].at >= window:
            self._samples.popleft()
        if len(self._samples) < 2:
            return None
        first, last = self._samples[0], self._samples[-1]
        seconds = last.at - first.at
        if seconds < window:
            return None
        try:
            memory = int(psutil.Process(self.process.pid).memory_info().rss)
        except psutil.Error:
            return None
        return Usage(
            millicores=(last.cpu_seconds - first.cpu_seconds) / seconds * 1000,
            memory_bytes=memory,
            client_requests=max(last.client_requests - first.client_requests, 0),
            window=seconds,
            measured_at=last.at,
        )


def cpu_seconds(pid: int) -> float | None:
    """CPU time `pid` has used, to the nanosecond where the kernel tells (schedstat of each
    thread; the 10 ms ticks of /proc/PID/stat blur a few seconds' measurement), None when
    it is gone."""
    try:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


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

    def launch() -> ChildProcess:
        return start_process(
            name, [sys.executable, "-m", "demo_app"], log=logs / f"{name}.log", env=env
        )

    return Replica(name, revision, release, port, launch(), launch)
