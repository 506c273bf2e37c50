"""What the `sreshow doctor` tests share (their fixtures, `state` and `tools`, are in
tests/cli/conftest.py): the command run as a user runs it, listening sockets, an API
server and a webhook in a thread, kubeconfigs, and stacks recorded in the state dir."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from sreshow.adapters.kubernetes.record import RecordFile
from sreshow.adapters.kubernetes.record import StackRecord as KubernetesRecord
from sreshow.adapters.local.state import ReplicaRecord, RevisionRecord, StackDir, StackRecord
from sreshow.cli.app import main

KEYS = {"check", "ok", "detail", "fix"}
NOW = 1_780_000_000.0  # 2026


def fake_binary(directory: Path, name: str, version: str) -> None:
    script = directory / name
    script.write_text(f"#!/bin/sh\necho '{name}, version {version} (branch: test)'\n")
    script.chmod(0o755)


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    """Run `sreshow doctor --json ARGS`: the exit code and the lines."""
    code = main(["doctor", "--json", *args])
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = json.loads(captured.out)
    assert isinstance(lines, list)
    for line in lines:
        assert set(line) == KEYS, line
        assert isinstance(line["ok"], bool)
        assert isinstance(line["detail"], str)
        assert line["detail"]
        assert (line["fix"] == "") is line["ok"], line  # a fix exactly when it failed
    return code, lines


def line(lines: list[dict[str, Any]], check: str) -> dict[str, Any]:
    found = [entry for entry in lines if entry["check"] == check]
    assert len(found) == 1, f"{check}: {lines}"
    return found[0]


def failing(lines: list[dict[str, Any]]) -> list[str]:
    return [entry["check"] for entry in lines if not entry["ok"]]


@contextmanager
def listening() -> Iterator[int]:
    """A port on 127.0.0.1 something listens on, for the test's length."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@dataclass
class Server:
    """A small HTTP server in a thread: `answer(method, path, body)` -> (status, body)."""

    answer: Callable[[str, str, bytes], tuple[int, str]]
    received: list[tuple[str, str, bytes]] = field(default_factory=list)

    @contextmanager
    def running(self) -> Iterator[str]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.received.append((self.command, self.path, body))
                status, text = server.answer(self.command, self.path, body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield f"http://127.0.0.1:{http.server_address[1]}"
        finally:
            http.shutdown()
            http.server_close()
            thread.join(timeout=5)


def answering(status: int, text: str) -> Server:
    """A server answering every request with `status` and `text` (a Slack webhook)."""

    def answer(method: str, path: str, body: bytes) -> tuple[int, str]:
        del method, path, body
        return status, text

    return Server(answer)


def api_server(namespaces_status: int = 200) -> Server:
    """An API server's answers to what doctor asks: /version, then a namespace list."""

    def answer(method: str, path: str, body: bytes) -> tuple[int, str]:
        del method, body
        if path == "/version":
            return 200, json.dumps({"gitVersion": "v1.31.2"})
        if path.startswith("/api/v1/namespaces") and namespaces_status == 200:
            return 200, json.dumps({"kind": "NamespaceList", "items": []})
        if path.startswith("/api/v1/namespaces"):
            status = {"kind": "Status", "code": namespaces_status, "message": "Unauthorized"}
            return namespaces_status, json.dumps(status)
        return 404, json.dumps({"kind": "Status", "code": 404, "message": "not here"})

    return Server(answer)


def kubeconfig(path: Path, server: str, context: str = "demo") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": context,
                "clusters": [
                    {"name": "demo-cluster", "cluster": {"server": server}},
                ],
                "users": [{"name": "demo-user", "user": {"token": "not-a-real-token"}}],
                "contexts": [
                    {"name": context, "context": {"cluster": "demo-cluster", "user": "demo-user"}}
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


@contextmanager
def local_stack_up(state: Path, app_port: int, time_scale: float = 0.1) -> Iterator[None]:
    """The state dir as `up` leaves it with the local stack running: the platform
    recorded, `stack.json` written, the supervisor's lock held (here by this process)."""
    stack = StackDir(state)
    with stack.held():
        stack.write_stack(
            StackRecord(
                phase="running",
                time_scale=time_scale,
                supervisor_pid=os.getpid(),
                endpoints={"app": f"http://127.0.0.1:{app_port}"},
                desired_replicas=2,
                revision=1,
                revisions=(RevisionRecord(number=1, version="1.0.0"),),
                replicas=tuple(
                    ReplicaRecord(
                        name=f"sre-app-{i}",
                        version="1.0.0",
                        revision=1,
                        ready=True,
                        pid=os.getpid(),
                        port=app_port + 1 + i,
                        url=f"http://127.0.0.1:{app_port + 1 + i}",
                    )
                    for i in range(2)
                ),
            )
        )
        (state / "platform").write_text("local\n", encoding="utf-8")
        yield


def record_kubernetes_stack(state: Path, server: str, context: str = "demo") -> None:
    """The state dir as `up --platform kubernetes` leaves it."""
    RecordFile(state).write(
        KubernetesRecord(
            context=context,
            cluster="demo-cluster",
            server=server,
            time_scale=0.1,
            brought_up_at=NOW,
        )
    )
    (state / "platform").write_text("kubernetes\n", encoding="utf-8")
