"""Ways to run the demo app for tests: in-process over ASGI, or as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from demo_app.app import create_app
from demo_app.config import AppConfig
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def build_app(**settings: object) -> FastAPI:
    """The real app, with a known pod name and token unless told otherwise."""
    defaults: dict[str, object] = {"pod_name": "sre-app-test-1", "admin_token": TOKEN}
    return create_app(AppConfig(**(defaults | settings)))  # type: ignore[arg-type]


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


def samples(metrics_text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page, keyed by name and label set."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
    }


def requests_total(metrics_text: str) -> dict[tuple[str, str, str], float]:
    """`http_requests_total` by (method, route, status), zero series left out."""
    return {
        (labels["method"], labels["route"], labels["status"]): value
        for (name, label_set), value in samples(metrics_text).items()
        if name == "http_requests_total" and value > 0
        for labels in [dict(label_set)]
    }


def dockerfile_cmd() -> list[str]:
    """The container's CMD (exec form), as the Dockerfile gives it."""
    text = (ROOT / "Dockerfile").read_text()
    commands = re.findall(r"^CMD\s+(\[.*\])\s*$", text, flags=re.MULTILINE)
    assert len(commands) == 1, "the Dockerfile must have exactly one exec-form CMD"
    argv: list[str] = json.loads(commands[0])
    return argv


@dataclass
class AppProcess:
    process: subprocess.Popen[str]
    url: str

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)


@contextmanager
def app_process(
    env: Mapping[str, str] | None = None, ready_within: float = 20.0
) -> Iterator[AppProcess]:
    """Start the app with the Dockerfile's CMD on a free local port; stop it afterwards."""
    port = free_port()
    argv = dockerfile_cmd()
    if argv[0] == "python":  # the image's interpreter is this test run's interpreter
        argv[0] = sys.executable
    full_env = {**os.environ, "APP_HOST": "127.0.0.1", "APP_PORT": str(port), **(env or {})}
    process = subprocess.Popen(
        argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    app = AppProcess(process, f"http://127.0.0.1:{port}")
    try:
        wait_until_listening(app, ready_within)
        yield app
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def wait_until_listening(app: AppProcess, within: float) -> None:
    deadline = time.monotonic() + within
    with httpx.Client(base_url=app.url, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if app.process.poll() is not None:
                output = app.process.stdout.read() if app.process.stdout else ""
                raise AssertionError(f"the app exited with {app.process.returncode}: {output}")
            try:
                client.get("/health")
                return
            except httpx.TransportError:
                time.sleep(0.05)
    raise AssertionError(f"the app did not listen on {app.url} within {within} s")
