"""The local platform end to end through the CLI: up, the Service, kills, down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from sreshow.adapters.local.deployment import pod_settings
from tests.manifests.stack import wait_until
from tests.tools import require_tool

pytestmark = pytest.mark.integration

STACK_MARKER = "SRESHOW_LOCAL_STACK"


def sreshow(state_dir: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "SRESHOW_STATE_DIR": str(state_dir)},
    )


def stack_processes(state_dir: Path) -> list[psutil.Process]:
    marker = str(state_dir / "local")
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(STACK_MARKER) == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def status_json(state_dir: Path) -> dict[str, Any]:
    result = sreshow(state_dir, "status", "--json")
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    for tool in ("prometheus", "prometheus-alertmanager", "haproxy"):
        require_tool(tool)
    state_dir = tmp_path_factory.mktemp("state")
    result = sreshow(state_dir, "up", "--time-scale", "0.1")
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        yield state_dir
    finally:
        sreshow(state_dir, "down")


def test_up_returns_once_prometheus_has_seen_every_replica(stack: Path) -> None:
    # First in this module: it looks at the stack right after `up` returned. A scenario
    # started now must see no start-up alert (PodsDown pending before the first scrape).
    status = status_json(stack)
    pods = {r["name"] for r in status["replicas"]}
    prometheus = status["endpoints"]["prometheus"]
    targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]
    up = {
        (t["labels"]["job"], t["labels"]["pod"])
        for t in targets["activeTargets"]
        if t["health"] == "up" and "pod" in t["labels"]
    }
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]

    assert up >= {(job, pod) for job in ("sre-app", "sre-app-health") for pod in pods}
    assert alerts == []  # nothing pending, nothing firing
    assert all(a["state"] == "inactive" for a in status["alerts"])


def test_up_serves_the_app_through_the_service_from_every_replica(stack: Path) -> None:
    status = status_json(stack)
    assert status["platform"] == "local"
    assert status["time_scale"] == 0.1
    replicas = status["replicas"]
    assert len(replicas) == 2
    assert all(r["ready"] for r in replicas)
    seen = set()
    with httpx.Client(base_url=status["endpoints"]["app"], timeout=5) as client:
        for _ in range(20):
            seen.add(client.get("/api/data").json()["replica"])
    assert seen == {r["name"] for r in replicas}
    assert {a["name"] for a in status["alerts"]} >= {
        "HighErrorRate",
        "HighLatency",
        "PodsDown",
        "HealthCheckFailing",
    }


def test_up_on_a_running_stack_changes_nothing(stack: Path) -> None:
    before = {r["name"] for r in status_json(stack)["replicas"]}
    result = sreshow(stack, "up")
    assert result.returncode == 0
    assert "already up; nothing changed" in result.stdout
    assert {r["name"] for r in status_json(stack)["replicas"]} == before


def test_a_killed_replica_is_replaced_and_clients_see_no_error(stack: Path) -> None:
    status = status_json(stack)
    victim = status["replicas"][0]
    failures: list[str] = []
    done = threading.Event()

    def client_loop() -> None:
        with httpx.Client(base_url=status["endpoints"]["app"], timeout=5) as client:
            for _ in range(400):  # bounded: at most ~20 s
                if done.is_set():
                    return
                try:
                    code = client.get("/api/data").status_code
                    if code != 200:
                        failures.append(str(code))
                except httpx.TransportError as e:
                    failures.append(type(e).__name__)
                time.sleep(0.05)

    clients = threading.Thread(target=client_loop)
    clients.start()
    time.sleep(0.5)
    os.kill(victim["pid"], 9)
    deadline = time.monotonic() + 15
    replaced = False
    while time.monotonic() < deadline and not replaced:
        names = {r["name"]: r["ready"] for r in status_json(stack)["replicas"]}
        replaced = victim["name"] not in names and len(names) == 2 and all(names.values())
        time.sleep(0.3)
    done.set()
    clients.join(timeout=30)
    assert replaced, "no ready replacement within 15 s"
    # Requests sent to the dead replica are retried on the other one; the one a SIGKILL
    # cuts off mid-answer cannot be (HAProxy already passed its status line on): with
    # one client, at most that one, seen as a truncated response.
    assert len(failures) <= 1, failures
    assert set(failures) <= {"RemoteProtocolError"}, failures


def test_a_replica_failing_its_liveness_probe_is_restarted_in_place(stack: Path) -> None:
    status = status_json(stack)
    victim = status["replicas"][0]
    token = (stack / "local" / "admin-token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    httpx.patch(
        f"{victim['url']}/admin/faults", json={"unhealthy": True}, headers=auth, timeout=5
    ).raise_for_status()
    failed_at = time.monotonic()
    # The kubelet restarts after failureThreshold failed probes one period apart; the
    # old container drains and stops, a new one starts and gets ready. Bound: that
    # window, one more period, the replica's grace (5 s) and a start-up (10 s).
    liveness = pod_settings(0.1).liveness
    bound = liveness.failing_for + liveness.period + 5 + 10

    def restarted() -> dict[str, Any] | None:
        replicas = {r["name"]: r for r in status_json(stack)["replicas"]}
        replica = replicas.get(victim["name"])
        return replica if replica and replica["restarts"] == 1 and replica["ready"] else None

    replica = wait_until(restarted, within=bound, waiting_for="the restart", every=0.5)
    took = time.monotonic() - failed_at
    faults = httpx.get(f"{victim['url']}/admin/faults", headers=auth, timeout=5).json()

    assert took >= liveness.failing_for - liveness.period  # not before the threshold
    assert replica["url"] == victim["url"]  # the same pod, its container restarted
    assert replica["pid"] != victim["pid"]
    assert faults["unhealthy"] is False  # a fresh container holds no injected fault
    events = [
        json.loads(line)
        for line in (stack / "local" / "events.jsonl").read_text().splitlines()
        if victim["name"] in line
    ]
    assert [e["kind"] for e in events if e["kind"].startswith("replica_restart")] == [
        "replica_restarting",
        "replica_restarted",
    ]


def test_down_leaves_no_process_and_no_port_and_is_idempotent(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    require_tool("haproxy")
    state_dir = tmp_path_factory.mktemp("down")
    up = sreshow(state_dir, "up", "--time-scale", "0.1", "--replicas", "2")
    assert up.returncode == 0, up.stdout + up.stderr
    app_url = json.loads(sreshow(state_dir, "status", "--json").stdout)["endpoints"]["app"]
    assert stack_processes(state_dir)
    first = sreshow(state_dir, "down")
    assert first.returncode == 0
    assert "Stopped the local stack" in first.stdout
    assert stack_processes(state_dir) == []
    with pytest.raises(httpx.TransportError):
        httpx.get(app_url, timeout=1)
    second = sreshow(state_dir, "down")
    assert (second.returncode, second.stdout.strip()) == (
        0,
        "No local stack was running; nothing to stop.",
    )
