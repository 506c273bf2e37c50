"""`sreshow doctor`: each condition that would spoil a show gives its line, its fix and
exit 1; a machine that is ready exits 0.

The real command runs (`sreshow.cli.app.main`) on a temporary state dir. Binaries are
stand-in scripts printing a version on a PATH of their own (and the installed ones
where they exist); a taken port is a real listening socket; a cluster is a kubeconfig
whose server is a closed port or a small HTTP server in a thread answering as an API
server would; a Slack webhook is the same kind of server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from sreshow import doctor as doctor_checks
from sreshow.adapters.kubernetes.record import RecordFile
from sreshow.adapters.kubernetes.record import StackRecord as KubernetesRecord
from sreshow.adapters.local import lifecycle as local_lifecycle
from sreshow.adapters.local.lifecycle import REQUIRED_BINARIES
from sreshow.adapters.local.state import ReplicaRecord, RevisionRecord, StackDir, StackRecord
from sreshow.cli.app import main
from sreshow.doctor import Check, Inspection, diagnose, inspection_for
from sreshow.doctor.stack import judge_clock
from sreshow.platforms import LIFECYCLES, Platforms
from sreshow.settings import Settings
from tests.conftest import free_port
from tests.tools import require_tool

KEYS = {"check", "ok", "detail", "fix"}
NOW = 1_780_000_000.0  # 2026


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state dir of the test's own, and a console wide enough for one row per line."""
    directory = tmp_path / "state"
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(directory))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    return directory


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding a script per binary the local stack needs, printing its minimum
    version the way the real one prints its own."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for binary, minimum in REQUIRED_BINARIES:
        fake_binary(directory, binary.name, ".".join(map(str, (*minimum, 1))))
    monkeypatch.setenv("PATH", str(directory))
    return directory


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


# --- local ---------------------------------------------------------------------------


@pytest.mark.usefixtures("tools")
def test_a_ready_local_machine_passes_every_check_and_exits_0(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()

    code, lines = doctor(capsys, "--port", str(port))

    assert failing(lines) == []
    assert code == 0
    assert not state.exists()  # doctor only looks
    assert [entry["check"] for entry in lines] == [
        "stack",
        *(binary.name for binary, _ in REQUIRED_BINARIES),
        "app port",
        "clock",
        "time scale",
        "webhook",
        "admin token",
    ]
    assert line(lines, "stack")["detail"] == "no local stack is up; `sreshow up` starts one"
    assert line(lines, "haproxy")["detail"].startswith("2.5.1 at ")
    assert line(lines, "app port")["detail"] == (
        f"127.0.0.1:{port} is free (the stack's other servers take free ports)"
    )
    assert line(lines, "webhook")["detail"].startswith(
        "not configured: the stack's built-in sink records the notifications"
    )


@pytest.mark.usefixtures("state")
def test_the_installed_binaries_are_found_with_their_versions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for binary, _ in REQUIRED_BINARIES:
        require_tool(binary.name)

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (0, [])
    for binary, minimum in REQUIRED_BINARIES:
        detail = line(lines, binary.name)["detail"]
        assert f" at {shutil.which(binary.name)} (needs >= {'.'.join(map(str, minimum))})" in detail


@pytest.mark.usefixtures("state")
def test_a_missing_binary_fails_naming_the_package_to_install(
    tools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tools / "haproxy").unlink()

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert code == 1
    assert failing(lines) == ["haproxy"]
    assert line(lines, "haproxy") == {
        "check": "haproxy",
        "ok": False,
        "detail": "not found on PATH",
        "fix": "install it: `sudo apt-get install haproxy` (Debian/Ubuntu) or "
        "`brew install haproxy` (macOS), or run `make demo`",
    }


@pytest.mark.usefixtures("state")
def test_a_binary_older_than_the_stack_needs_fails(
    tools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_binary(tools, "prometheus", "2.31.0")

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["prometheus"])
    prometheus = line(lines, "prometheus")
    assert prometheus["detail"] == f"2.31.0 at {tools / 'prometheus'} is too old (needs >= 2.40)"
    assert "`sudo apt-get install prometheus`" in prometheus["fix"]


@pytest.mark.usefixtures("state", "tools")
def test_a_taken_port_given_with_port_fails_as_up_would_refuse_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with listening() as port:
        code, lines = doctor(capsys, "--port", str(port))

    assert (code, failing(lines)) == (1, ["app port"])
    assert line(lines, "app port") == {
        "check": "app port",
        "ok": False,
        "detail": f"something listens on 127.0.0.1:{port}: `sreshow up --port {port}` "
        "would refuse it",
        "fix": f"stop what listens there (`ss -ltnp 'sport = :{port}'` names it) or pick "
        "another --port",
    }


@pytest.mark.usefixtures("state", "tools")
def test_a_taken_default_port_only_warns_as_up_takes_a_free_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with listening() as port:
        monkeypatch.setattr(local_lifecycle, "DEFAULT_APP_PORT", port)
        code, lines = doctor(capsys)

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "app port")["detail"] == (
        f"warning: 127.0.0.1:{port} is taken; `sreshow up` serves the app on a free port "
        "instead (pass --port to choose one)"
    )


@pytest.mark.usefixtures("tools")
def test_the_running_local_stack_is_reported_and_its_port_is_its_own(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening() as port, local_stack_up(state, port, time_scale=0.1):
        code, lines = doctor(capsys, "--port", str(port))  # the recorded platform: local

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "stack")["detail"] == (
        f"local stack up: 2/2 replicas ready, version 1.0.0, app at http://127.0.0.1:{port}"
    )
    assert line(lines, "app port")["detail"] == (
        f"127.0.0.1:{port} is the running stack's own: `sreshow up` finds the stack up "
        "and binds nothing"
    )
    assert line(lines, "time scale")["detail"] == (
        "0.1: the stack's clocks run 10 times faster than real time"
    )


@pytest.mark.usefixtures("tools")
def test_a_stack_of_another_platform_up_fails_with_sreshow_down(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record_kubernetes_stack(state, "https://127.0.0.1:9")

    code, lines = doctor(capsys, "--platform", "local", "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["stack"])
    assert line(lines, "stack") == {
        "check": "stack",
        "ok": False,
        "detail": f"a kubernetes stack is up (state in {state}); "
        "`sreshow up --platform local` would refuse to start",
        "fix": "bring it down with `sreshow down` (or check it: "
        "`sreshow doctor --platform kubernetes`)",
    }


def test_a_local_stack_up_stops_a_check_of_kubernetes(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_server().running() as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", server)))
        with listening() as port, local_stack_up(state, port):
            code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["stack"])
    assert line(lines, "stack")["detail"].startswith(f"a local stack is up (state in {state})")
    assert line(lines, "stack")["fix"].startswith("bring it down with `sreshow down`")


# --- kubernetes ----------------------------------------------------------------------


@pytest.mark.usefixtures("state")
def test_a_reachable_cluster_that_accepts_us_passes_printing_the_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server()
    with server.running() as url:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", url)))
        code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "stack")["detail"] == (
        "no kubernetes stack is up; `sreshow up --platform kubernetes` starts one"
    )
    assert [entry["check"] for entry in lines][:5] == [
        "stack",
        "kubeconfig",
        "context",
        "cluster",
        "credentials",
    ]
    assert line(lines, "context")["detail"] == (
        f"demo, the kubeconfig's current context (cluster demo-cluster at {url})"
    )
    assert line(lines, "cluster")["detail"] == f"Kubernetes v1.31.2 at {url}"
    assert [(method, path) for method, path, _ in server.received] == [
        ("GET", "/version"),
        ("GET", "/api/v1/namespaces?limit=1"),
    ]


@pytest.mark.usefixtures("state")
def test_an_unreachable_context_fails_naming_the_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"https://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", nowhere)))

    code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["cluster"])
    assert "credentials" not in [entry["check"] for entry in lines]
    assert line(lines, "context")["detail"].startswith("demo, the kubeconfig's current context")
    cluster = line(lines, "cluster")
    assert cluster["detail"].startswith(
        f"cannot reach the Kubernetes API server at {nowhere} (context demo): "
    )
    assert "Connection refused" in cluster["detail"]
    assert cluster["fix"] == (
        "start the cluster (the one-node cluster here: `make node-up`) or point context demo "
        "at a server that answers; `kubectl --context demo cluster-info` shows what it reaches"
    )


@pytest.mark.usefixtures("state")
def test_refused_credentials_are_a_line_of_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_server(namespaces_status=401).running() as url:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", url)))
        code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["credentials"])
    credentials = line(lines, "credentials")
    assert credentials["detail"] == (
        "GET /api/v1/namespaces: the API server refused the context's credentials "
        "(401: Unauthorized); check the context's user and its RBAC permissions"
    )
    assert credentials["fix"] == (
        "renew the credentials of context demo's user (token, client certificate or exec "
        "plugin) and check its RBAC: `kubectl --context demo auth can-i create namespaces`"
    )


@pytest.mark.usefixtures("state")
def test_no_kubeconfig_fails_saying_where_it_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = doctor(capsys, "--platform", "kubernetes")

    assert (code, failing(lines)) == (1, ["kubeconfig"])
    kubeconfig_line = line(lines, "kubeconfig")
    assert kubeconfig_line["detail"].startswith(
        f"no usable kubeconfig at {tmp_path / 'no-kubeconfig'} ("
    )
    assert kubeconfig_line["fix"].startswith("set KUBECONFIG to your cluster's kubeconfig")


@pytest.mark.usefixtures("state")
def test_an_unknown_context_fails_listing_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:9"))
    )

    code, lines = doctor(capsys, "--platform", "kubernetes", "--context", "staging")

    assert (code, failing(lines)) == (1, ["context"])
    assert line(lines, "context") == {
        "check": "context",
        "ok": False,
        "detail": "--context staging: no such context in the kubeconfig; use one of demo",
        "fix": "pass --context with one of the kubeconfig's: demo",
    }


def test_the_recorded_platform_is_checked_when_none_is_named(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"https://127.0.0.1:{free_port()}"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", nowhere)))
    record_kubernetes_stack(state, nowhere)

    code, lines = doctor(capsys)

    assert code == 1
    assert failing(lines) == ["stack", "cluster"]
    assert line(lines, "stack")["detail"].startswith(
        f"a kubernetes stack is recorded in {state}, but its status cannot be read: "
        f"cannot reach the Kubernetes API server at {nowhere}"
    )
    assert line(lines, "context")["detail"].startswith("demo, the running stack's (cluster")


# --- webhook, clock, the report itself ------------------------------------------------


@pytest.mark.usefixtures("state", "tools")
def test_send_test_posts_one_message_and_reports_the_answer_never_the_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = answering(200, "ok")
    with slack.running() as url:
        webhook = f"{url}/services/T000/B000/secret-part-of-the-url"
        monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", webhook)
        code = main(["doctor", "--send-test", "--port", str(free_port())])
    out = capsys.readouterr().out

    assert code == 0
    assert len(slack.received) == 1
    method, path, body = slack.received[0]
    assert (method, path) == ("POST", "/services/T000/B000/secret-part-of-the-url")
    assert json.loads(body)["text"].startswith("sreshow doctor: a test message.")
    assert "secret-part-of-the-url" not in out
    assert (
        "configured (in SRESHOW_SLACK_WEBHOOK_URL): the stack relays its notifications to 127.0.0.1"
    ) in out
    assert "webhook test" in out
    assert "sent: HTTP 200 (ok)" in out


@pytest.mark.usefixtures("state", "tools")
def test_a_webhook_that_refuses_the_test_message_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = answering(404, "no_service")
    with slack.running() as url:
        monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", f"{url}/services/T/B/revoked")
        code, lines = doctor(capsys, "--send-test", "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["webhook test"])
    test_line = line(lines, "webhook test")
    assert test_line["detail"] == "the webhook answered HTTP 404 (no_service)"
    assert test_line["fix"].startswith("Slack answers 403, 404 or 410 for a revoked")
    assert "revoked" not in test_line["detail"]


@pytest.mark.usefixtures("state", "tools")
def test_no_webhook_sends_nothing_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(capsys, "--send-test", "--port", str(free_port()))

    assert (code, failing(lines)) == (0, [])
    assert line(lines, "webhook test")["detail"] == "nothing sent: no webhook is configured"


@pytest.mark.usefixtures("state", "tools")
def test_a_webhook_file_others_can_read_fails_with_chmod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "webhook-url"
    secret.write_text("https://hooks.slack.com/services/T/B/secret\n")
    secret.chmod(0o644)
    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL_FILE", str(secret))

    code, lines = doctor(capsys, "--port", str(free_port()))

    assert (code, failing(lines)) == (1, ["webhook"])
    assert line(lines, "webhook") == {
        "check": "webhook",
        "ok": False,
        "detail": f"SRESHOW_SLACK_WEBHOOK_URL_FILE={secret}: mode 0644, others than you "
        "can read the secret",
        "fix": f"make it private: `chmod 600 {secret}`",
    }

    secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    code, lines = doctor(capsys, "--port", str(free_port()))
    assert (code, failing(lines)) == (0, [])
    assert line(lines, "webhook")["detail"] == (
        f"configured (in the private file {secret}): the stack relays its notifications "
        "to hooks.slack.com"
    )


@pytest.mark.usefixtures("state", "tools")
def test_a_missing_webhook_file_or_a_webhook_that_is_no_url_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL_FILE", str(tmp_path / "nowhere"))
    code, lines = doctor(capsys, "--port", str(free_port()))
    assert (code, failing(lines)) == (1, ["webhook"])
    assert line(lines, "webhook")["detail"] == (
        f"SRESHOW_SLACK_WEBHOOK_URL_FILE={tmp_path / 'nowhere'}: no such file"
    )

    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", "hooks.slack.com/secret-part")
    code, lines = doctor(capsys, "--port", str(free_port()))
    assert (code, failing(lines)) == (1, ["webhook"])
    assert "is not an http(s) URL" in line(lines, "webhook")["detail"]
    assert "secret-part" not in json.dumps(lines)


@pytest.mark.usefixtures("state")
def test_the_table_shows_each_failing_line_with_its_fix(
    tools: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tools / "prometheus").unlink()

    code = main(["doctor", "--port", str(free_port())])
    out = capsys.readouterr().out

    assert code == 1
    row = next(text for text in out.splitlines() if " prometheus " in text)
    assert "✗" in row
    assert "not found on PATH" in row
    assert "`sudo apt-get install prometheus`" in row
    assert sum("✓" in text for text in out.splitlines()) == 9
    assert out.splitlines()[-1] == "Not ready: 1 of 10 checks failed; each says its fix."


@pytest.mark.usefixtures("state")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "nowhere"], "--platform nowhere: unknown platform; use one of local"),
        (["--port", "0"], "--port 0 is not a TCP port; give 1 to 65535"),
        (["--platform", "kubernetes", "--port", "8080"], "--port is for the local platform"),
    ],
)
def test_a_bad_flag_exits_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["doctor", *args])
    captured = capsys.readouterr()

    assert (code, captured.out) == (2, "")
    assert captured.err.startswith(f"error: {message}")


def test_extra_checks_come_last_and_a_broken_check_is_a_failing_line(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    inspection = inspection_for(settings, Platforms(settings), platform="local")

    def tour_resolves(seen: Inspection) -> Iterator[Check]:
        yield Check.passed("tour", f"every scenario exists on {seen.platform}")

    def walkthrough_duration(seen: Inspection) -> Iterator[Check]:
        del seen
        yield Check.passed("duration", "about 12 min")
        raise RuntimeError("no walkthrough")

    lines = diagnose(inspection, checks=(), extra_checks=(tour_resolves, walkthrough_duration))

    assert lines == [
        Check.passed("tour", "every scenario exists on local"),
        Check.passed("duration", "about 12 min"),
        Check.failed(
            "walkthrough duration",
            "the check itself failed: RuntimeError: no walkthrough",
            "a sreshow bug: report it with the traceback SRESHOW_DEBUG=1 shows",
        ),
    ]


def test_every_platform_has_its_checks() -> None:
    assert set(LIFECYCLES) <= set(doctor_checks.PLATFORM_CHECKS)


@pytest.mark.parametrize(
    ("wall_now", "wall_elapsed", "ok", "detail"),
    [
        (NOW, 0.05, True, "2026-05-28 20:26:40 UTC, moving in step with the monotonic clock"),
        (86_400.0, 0.05, False, "the system clock says 1970-01-02 00:00:00 UTC, before 2024"),
        (
            NOW,
            3.05,
            False,
            "the system clock moved 3.05 s while 0.05 s passed: it is being stepped, and "
            "alert timings would be off",
        ),
    ],
)
def test_the_clock_must_be_plausible_and_move_in_step(
    wall_now: float, wall_elapsed: float, ok: bool, detail: str
) -> None:
    check = judge_clock(wall_now, wall_elapsed, monotonic_elapsed=0.05)

    assert (check.check, check.ok, check.detail) == ("clock", ok, detail)
    assert bool(check.fix) is not ok


def test_a_failing_line_without_a_fix_is_refused() -> None:
    with pytest.raises(ValueError, match="a fix goes with a failing line"):
        Check("clock", ok=False, detail="wrong")
