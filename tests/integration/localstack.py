"""Drive a real local stack from tests: the CLI, the control API, the admin API, the
monitoring APIs and the stack's record files. Every wait is bounded; `running_stack`
stops every process of the stack afterwards, also when the test fails."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

from sreshow.adapters.local.autoscaler import MIN_SYNC_SECONDS, scaled_hpa
from sreshow.adapters.local.autoscaler import MIN_WINDOW_SECONDS as CPU_WINDOW_SECONDS
from sreshow.adapters.local.lifecycle import STACK_MARKER, control
from sreshow.core.hpa import ControllerConfig
from sreshow.core.hpa_manifest import spec_from_manifest
from tests.manifests.stack import wait_until
from tests.scale_in import scale_in_seconds
from tests.tools import require_tool

__all__ = [
    "LocalStack",
    "running_stack",
    "sreshow",
    "stack_processes",
    "wait_for_scale_in",
    "wait_until",
]

STACK_TOOLS = ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter", "haproxy")


def sreshow(
    state_dir: Path, *args: str, timeout: float = 90, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`sreshow ARGS` as a user runs it, with the stack's state in `state_dir`."""
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {}), "SRESHOW_STATE_DIR": str(state_dir)},
        check=False,
    )


def stack_processes(state_dir: Path) -> list[psutil.Process]:
    """Every live process that carries the stack's marker (zombies are not running)."""
    marker = str(state_dir / "local")
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(STACK_MARKER) == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def kill_leftovers(state_dir: Path) -> list[str]:
    """SIGKILL what `down` left (by pid, only this stack's processes); their names."""
    leftovers = stack_processes(state_dir)
    names = []
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            names.append(" ".join(process.cmdline()[:3]))
            process.kill()
    psutil.wait_procs(leftovers, timeout=5)
    return names


@dataclass
class LocalStack:
    """One running local stack and the ways a test looks at it."""

    state_dir: Path
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5))

    @property
    def root(self) -> Path:
        return self.state_dir / "local"

    def status(self) -> dict[str, Any]:
        result = sreshow(self.state_dir, "status", "--json")
        assert result.returncode == 0, result.stderr
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    def command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return control(self.state_dir).request(method, path, body)

    def state(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.command("GET", "/state")
        return answer

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        path = self.root / "events.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        events = [json.loads(line) for line in lines if line.strip()]
        return [e for e in events if kind is None or e["kind"] == kind]

    # --- the fault admin API of one replica -----------------------------------------

    def _auth(self) -> dict[str, str]:
        token = (self.root / "admin-token").read_text(encoding="utf-8").strip()
        return {"Authorization": f"Bearer {token}"}

    def patch_faults(self, replica_url: str, faults: dict[str, Any]) -> None:
        answer = self.http.patch(f"{replica_url}/admin/faults", json=faults, headers=self._auth())
        assert answer.status_code == 200, answer.text

    def faults(self, replica_url: str) -> dict[str, Any]:
        """The faults set on one replica now, as its admin API says."""
        answer = self.http.get(f"{replica_url}/admin/faults", headers=self._auth())
        assert answer.status_code == 200, answer.text
        faults: dict[str, Any] = answer.json()
        return faults

    def clear_faults(self, replica_url: str) -> None:
        answer = self.http.delete(f"{replica_url}/admin/faults", headers=self._auth())
        assert answer.status_code == 200, answer.text

    # --- Prometheus and Alertmanager, as a user looks at them -------------------------

    def endpoint(self, name: str) -> str:
        url: str = self.state()["endpoints"][name]
        return url

    def prometheus_alerts(self, name: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"{self.endpoint('prometheus')}/api/v1/alerts").json()
        return [a for a in answer["data"]["alerts"] if a["labels"]["alertname"] == name]

    def alertmanager_alerts(self, name: str) -> list[dict[str, Any]]:
        """The active (firing, not silenced) alerts named `name` in Alertmanager."""
        answer = self.http.get(
            f"{self.endpoint('alertmanager')}/api/v2/alerts",
            params={"filter": f'alertname="{name}"', "active": "true", "silenced": "false"},
        )
        answer.raise_for_status()
        alerts: list[dict[str, Any]] = answer.json()
        return [a for a in alerts if a["status"]["state"] == "active"]

    def wait_for_alert(
        self, name: str, state: str, *, within: float, where: Callable[[dict[str, Any]], bool]
    ) -> tuple[dict[str, Any], set[str]]:
        """Poll Prometheus until alert `name` matching `where` is in `state`; the alert and
        every state it was seen in on the way."""
        seen: set[str] = set()

        def found() -> dict[str, Any] | None:
            for alert in self.prometheus_alerts(name):
                if where(alert):
                    seen.add(alert["state"])
                    if alert["state"] == state:
                        return alert
            return None

        alert: dict[str, Any] = wait_until(
            found, within=within, waiting_for=f"{name} {state} in Prometheus", every=0.2
        )
        return alert, seen

    def notification(self, alert: str, status: str, *, within: float) -> dict[str, Any]:
        """A notification about `alert` with `status` in the sink's record, via `status`."""

        def found() -> dict[str, Any] | None:
            return next(
                (
                    n
                    for n in self.status()["notifications"]
                    if n["status"] == status and alert in n["alerts"]
                ),
                None,
            )

        notification: dict[str, Any] = wait_until(
            found, within=within, waiting_for=f"a {status} notification about {alert}", every=0.5
        )
        return notification


def wait_for_scale_in(stack: LocalStack, peak: int, to: int) -> None:
    """The autoscaler brings `peak` replicas back to `to` by itself: its CPU reading
    lags the load's end by its measurement window (as metrics-server's does on a
    cluster) and a sync; from there the HPA's rules (manifests/app/hpa.yaml, scaled)
    play out as `scale_in_seconds` works out, with memory one whole percent above its
    use now (utilisation is truncated to whole percents); 25% on top for a busy machine."""
    state = stack.state()
    time_scale = state["time_scale"]
    hpa = spec_from_manifest(yaml.safe_load(scaled_hpa(time_scale)))
    config = ControllerConfig().scaled(time_scale)
    sync = max(config.sync_period, MIN_SYNC_SECONDS)
    cpu_window = max(CPU_WINDOW_SECONDS, 2 * sync)  # as LocalAutoscaler measures
    memory = state["autoscaler"]["utilization"]["memory"] + 1
    rules = scale_in_seconds(hpa, peak, to, memory_percent=memory, sync=sync, config=config)
    within = 1.25 * (cpu_window + sync + rules)
    deadline = time.monotonic() + within
    while stack.state()["desired_replicas"] != to:
        assert time.monotonic() < deadline, (
            f"the autoscaler did not scale {peak} replicas in to {to} within {within:.0f} s: "
            f"{stack.state()['autoscaler']}"
        )
        time.sleep(0.5)


@contextlib.contextmanager
def running_stack(
    state_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[LocalStack]:
    """`sreshow up --time-scale 0.1 ARGS` (with `env` added to the environment); afterwards
    `down`, and nothing may be left."""
    for tool in STACK_TOOLS:
        require_tool(tool)
    try:
        up = sreshow(state_dir, "up", "--time-scale", "0.1", *args, env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        stack = LocalStack(state_dir)
        try:
            yield stack
        finally:
            stack.http.close()
    finally:
        down = sreshow(state_dir, "down")
        leftovers = kill_leftovers(state_dir)
        assert down.returncode == 0, down.stderr
        assert leftovers == [], f"`sreshow down` left processes running: {leftovers}"


@dataclass
class ServiceWatch:
    """What a client of the Service saw: answers that were not 200, and how many were."""

    failures: list[str] = field(default_factory=list)
    answered: int = 0


@contextlib.contextmanager
def watching_service(
    app_url: str, *, at_most_seconds: float = 60, every: float = 0.05
) -> Iterator[ServiceWatch]:
    """GET /api/data through the Service every `every` s while the block runs (bounded)."""
    watch = ServiceWatch()
    done = threading.Event()

    def client_loop() -> None:
        deadline = time.monotonic() + at_most_seconds
        with httpx.Client(base_url=app_url, timeout=5) as client:
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    code = client.get("/api/data").status_code
                    if code != 200:
                        watch.failures.append(str(code))
                except httpx.TransportError as e:
                    watch.failures.append(type(e).__name__)
                watch.answered += 1
                time.sleep(every)

    thread = threading.Thread(target=client_loop, daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        done.set()
        thread.join(timeout=10)
