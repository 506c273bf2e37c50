"""The app as a real uvicorn process, started with the Dockerfile's CMD."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.app.support import AUTH, TOKEN, app_process, dockerfile_cmd, requests_total


def test_serves_every_endpoint_over_http(tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    env = {"SRESHOW_ADMIN_TOKEN_FILE": str(token_file), "POD_NAME": "sre-app-7d9f5-x2kq4"}
    with app_process(env) as app, app.client() as client:
        codes = {
            path: client.get(path).status_code
            for path in ("/", "/health", "/ready", "/api/data", "/api/status", "/api/slow?delay=0")
        }
        flaky = [client.get("/api/flaky").status_code for _ in range(10)]
        assert client.get("/api/status").json()["replica"] == "sre-app-7d9f5-x2kq4"
        assert (
            client.patch("/admin/faults", json={"error_rate": 1}, headers=AUTH).status_code == 200
        )
        failing = client.get("/api/data").status_code
        assert client.delete("/admin/faults", headers=AUTH).status_code == 200
        metrics = client.get("/metrics").text
    assert set(codes.values()) == {200}
    assert sorted(flaky) == [200] * 9 + [500]
    assert failing == 500
    counts = requests_total(metrics)
    assert counts[("GET", "/api/data", "200")] == 1
    assert counts[("GET", "/api/data", "500")] == 1
    assert counts[("GET", "/api/flaky", "500")] == 1


def test_sigterm_drains_then_exits_within_the_grace_period() -> None:
    env = {"APP_DRAIN_SECONDS": "1.5", "APP_GRACE_SECONDS": "6"}
    with app_process(env) as app, app.client() as client:
        slow: dict[str, object] = {}

        def slow_request() -> None:
            with app.client() as own_client:
                response = own_client.get("/api/slow", params={"delay": 3})
                slow["status"], slow["body"] = response.status_code, response.json()

        in_flight = threading.Thread(target=slow_request)
        in_flight.start()
        time.sleep(0.3)  # the slow request is being served
        assert client.get("/ready").status_code == 200

        app.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        time.sleep(0.2)
        ready = client.get("/ready")
        served_while_draining = client.get("/api/data").status_code
        exit_code = app.process.wait(timeout=10)
        exited_after = time.monotonic() - signalled
        in_flight.join(timeout=10)

    assert ready.status_code == 503
    assert ready.json()["reason"] == "draining: shutting down"
    assert served_while_draining == 200
    assert slow == {"status": 200, "body": {"delay": 3.0}}
    assert exit_code == 0
    assert exited_after < 6


def test_a_request_longer_than_the_grace_period_does_not_hold_the_exit() -> None:
    env = {"APP_DRAIN_SECONDS": "0.5", "APP_GRACE_SECONDS": "2"}
    with app_process(env) as app:
        outcome: list[str] = []

        def slow_request() -> None:
            with app.client() as own_client:
                try:
                    status = own_client.get("/api/slow", params={"delay": 5}).status_code
                    outcome.append(f"answered {status}")
                except httpx.TransportError:
                    outcome.append("cut")

        in_flight = threading.Thread(target=slow_request)
        in_flight.start()
        time.sleep(0.3)
        app.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        app.process.wait(timeout=10)
        exited_after = time.monotonic() - signalled
        in_flight.join(timeout=10)
    assert exited_after < 2.5
    assert outcome in (["cut"], ["answered 500"])  # never the full 5 s answer


def _run_cmd(env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = dockerfile_cmd()
    argv[0] = sys.executable
    full_env = {**os.environ, "APP_HOST": "127.0.0.1", "APP_PORT": "1", **env}
    return subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=30, cwd=cwd)


def test_a_crashing_release_exits_at_start_up() -> None:
    result = _run_cmd({"APP_BROKEN": "crash"})
    assert result.returncode == 1
    assert "APP_BROKEN=crash" in result.stderr


def test_a_bad_setting_is_one_line_naming_the_variable_and_exit_2() -> None:
    result = _run_cmd({"APP_BROKEN": "sometimes"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "APP_BROKEN='sometimes'" in lines[0]
    assert "crash, unready, errors" in lines[0]


def test_an_unreadable_token_file_is_named_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = _run_cmd({"SRESHOW_ADMIN_TOKEN_FILE": str(missing)})
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_token_never_reaches_the_logs() -> None:
    env = {"SRESHOW_ADMIN_TOKEN": TOKEN, "APP_ACCESS_LOG": "on"}
    with app_process(env) as app, app.client() as client:
        client.get("/admin/faults", headers=AUTH)
        client.get("/admin/faults", headers={"Authorization": "Bearer wrong"})
        client.get("/api/data")
        app.process.send_signal(signal.SIGTERM)
        app.process.wait(timeout=10)
        logs = app.process.stdout.read() if app.process.stdout else ""
    assert "GET /admin/faults" in logs  # the access log is on and captured
    assert TOKEN not in logs


def test_writes_nothing_outside_tmp(tmp_path: Path) -> None:
    home, workdir = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    workdir.mkdir()
    env = {"HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1", "SRESHOW_ADMIN_TOKEN": TOKEN}
    with app_process(env) as app, app.client() as client:
        for path in ("/", "/api/data", "/api/status", "/metrics"):
            client.get(path)
        client.patch("/admin/faults", json={"cpu_burn": 0.1}, headers=AUTH)
    assert list(home.iterdir()) == []
    assert list(workdir.iterdir()) == []
