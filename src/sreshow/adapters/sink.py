"""A Slack-compatible incoming webhook: where Alertmanager posts, and what the run observes.

On `local` it runs in the supervisor on 127.0.0.1; on a cluster it runs as the
`notification-sink` Deployment in the monitoring namespace (`python -m
sreshow.adapters.sink`, in the app's image), where Alertmanager reaches it by its
Service's name. Without a Slack webhook of the user's (`SRESHOW_SLACK_WEBHOOK_URL`), the
sink is the stand-in for Slack: each POST to its URL is answered `ok` (200), as Slack
answers. With one, the sink relays each message to it and answers Alertmanager with
Slack's answer (so Alertmanager retries what Slack refused), and the message counts as
delivered when Slack took it. Either way each message is appended as one JSON line to
the record file (created 0600):

    {"received_at": <unix time of delivery>, "status": "firing"|"resolved"|"unknown",
     "alerts": [<alert names>], "text": <the message text>, "payload": <the body>,
     "delivered_to": "local sink"|"cluster sink"|"slack", "error": <why Slack refused
     it, if it did>}

`read_notifications()` reads them back for `status` and reports; on a cluster a GET of
the webhook URL answers them (`{"notifications": [<record>, ...]}`), read through the
API server's service proxy. Like a Slack webhook, the URL carries a random secret path;
other paths get 404 `no_service`. The URL is a secret, and so is the user's webhook URL:
neither is logged, and the server logs no request lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx

from sreshow.core.notifications import (
    Notification,
    notification_from_record,
    notification_record,
)
from sreshow.errors import PlatformError

MAX_BODY_BYTES = 1024 * 1024
RECORD_FILE_MODE = 0o600
RELAY_TIMEOUT_SECONDS = 10.0
LOCALHOST = "127.0.0.1"
LOCAL_SINK = "local sink"
CLUSTER_SINK = "cluster sink"
SLACK = "slack"
WEBHOOK_PATH_PREFIX = "/services/T0SRESHOW/B0SRESHOW/"


def webhook_path() -> str:
    """A new webhook path, shaped as Slack's, its last part a secret."""
    return WEBHOOK_PATH_PREFIX + secrets.token_urlsafe(24)


class NotificationSink:
    """A Slack-compatible webhook receiver in a background thread; a context manager."""

    def __init__(
        self,
        record_file: Path,
        *,
        host: str = LOCALHOST,
        port: int = 0,
        path: str | None = None,
        relay_to: str | Path | None = None,
        name: str = LOCAL_SINK,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`relay_to`: the user's Slack webhook URL (a secret), or a file read at each
        message that holds it (a mounted Secret; empty or absent: none), or None to be
        Slack; then `name` is what a record's `delivered_to` says."""
        self.record_file = record_file
        self._host = host
        self._port = port
        self._relay_to = relay_to
        self._name = name
        self._clock = clock
        self._path = path or webhook_path()
        self._lock = threading.Lock()
        self._server: _SinkServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The webhook URL to give Alertmanager (a secret: write it only to a 0600 file)."""
        if self._server is None:
            raise RuntimeError("the notification sink is not running; start() it first")
        return f"http://{self._host}:{self._server.server_address[1]}{self._path}"

    @property
    def port(self) -> int | None:
        return None if self._server is None else int(self._server.server_address[1])

    def start(self) -> Self:
        """Create the record file (0600) and start answering on its address."""
        if self._server is not None:
            return self
        _create_private(self.record_file)
        try:
            server = _SinkServer((self._host, self._port), _Handler)
        except OSError as e:
            raise PlatformError(
                f"the notification sink cannot listen on {self._host}:{self._port} "
                f"({e.strerror}); is another sreshow stack running? try `sreshow status`"
            ) from e
        server.sink = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="notification-sink",
            daemon=True,  # never keeps a crashing supervisor alive
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and wait for the thread (bounded); idempotent."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accepts(self, path: str) -> bool:
        return secrets.compare_digest(urlsplit(path).path, self._path)

    def _deliver(self, body: bytes, content_type: str, payload: object) -> tuple[int, str]:
        """Relay the message to Slack (if the user gave a webhook) and record it; the
        answer for Alertmanager."""
        relay_to = self._relay_url()
        if relay_to is None:
            self._record(payload, self._name)
            return 200, "ok"
        try:
            answer = httpx.post(
                relay_to,
                content=body,
                headers={"Content-Type": content_type or "application/json"},
                timeout=RELAY_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as e:  # its text may hold the URL: only the kind is kept
            self._record(payload, SLACK, error=f"the Slack webhook failed: {type(e).__name__}")
            return 502, "relay_failed"
        if not answer.is_success:
            self._record(payload, SLACK, error=f"the Slack webhook answered {answer.status_code}")
            return answer.status_code if answer.status_code >= 400 else 502, "relay_refused"
        self._record(payload, SLACK)
        return 200, "ok"

    def _relay_url(self) -> str | None:
        if not isinstance(self._relay_to, Path):
            return self._relay_to
        try:
            return self._relay_to.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def records(self) -> list[dict[str, Any]]:
        """What the record file holds, oldest first (a line cut short is skipped)."""
        with self._lock:
            return _record_lines(self.record_file)

    def _record(self, payload: object, delivered_to: str, error: str = "") -> None:
        record = notification_record(payload, self._clock()) | {"delivered_to": delivered_to}
        if error:
            record["error"] = error
        line = json.dumps(record, ensure_ascii=False)
        data = (line + "\n").encode()
        with self._lock:
            descriptor = os.open(
                self.record_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, RECORD_FILE_MODE
            )
            try:
                os.write(descriptor, data)
            finally:
                os.close(descriptor)


def read_notifications(record_file: Path) -> list[Notification]:
    """Every notification recorded in `record_file`, oldest first; [] if there is none.

    A line that is not a complete record (the sink was killed while writing) is skipped.
    """
    return notifications_from_records(_record_lines(record_file))


def notifications_from_records(records: Iterable[object]) -> list[Notification]:
    """The notifications of records as the sink writes them; others are skipped."""
    notifications = []
    for record in records:
        try:
            notifications.append(notification_from_record(record))
        except ValueError:
            continue
    return notifications


def _record_lines(record_file: Path) -> list[Any]:
    try:
        text = record_file.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as e:
        raise PlatformError(
            f"cannot read the notifications recorded in {record_file} ({e.strerror})"
        ) from e
    records = []
    for line in text.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def _create_private(path: Path) -> None:
    """Create `path` if missing; either way only its owner may read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, RECORD_FILE_MODE)
    try:
        os.fchmod(descriptor, RECORD_FILE_MODE)
    finally:
        os.close(descriptor)


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True
    sink: NotificationSink


class _Handler(BaseHTTPRequestHandler):
    server: _SinkServer

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self._answer(411, "length_required")
            return
        if not 0 <= length <= MAX_BODY_BYTES:
            self._answer(413, "request_too_large")
            return
        body = self.rfile.read(length)
        if not self.server.sink._accepts(self.path):
            self._answer(404, "no_service")
            return
        payload = _decode(body, self.headers.get("Content-Type") or "")
        if payload is None:
            self._answer(400, "invalid_payload")
            return
        status, text = self.server.sink._deliver(
            body, self.headers.get("Content-Type") or "", payload
        )
        self._answer(status, text)

    def do_GET(self) -> None:
        """The records, for whoever knows the secret path (sreshow on a cluster)."""
        if not self.server.sink._accepts(self.path):
            self._answer(404, "no_service")
            return
        records = self.server.sink.records()
        self._answer(200, json.dumps({"notifications": records}), "application/json")

    def _answer(self, status: int, text: str, content_type: str = "text/plain") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line holds the webhook's secret path."""


def _decode(body: bytes, content_type: str) -> object | None:
    """The JSON body, or Slack's other form `payload=<json>`; None if it is neither."""
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/x-www-form-urlencoded"):
        text = (parse_qs(text).get("payload") or [""])[0]
    try:
        decoded: object = json.loads(text)
    except ValueError:
        return None
    return decoded


# --- in a cluster: `python -m sreshow.adapters.sink` ----------------------------------

SECRETS_DIR = Path("/etc/notification-sink")  # the Secret `notification-sink`, mounted
PATH_KEY = "path"  # the webhook's path
RELAY_KEY = "relay-url"  # the user's Slack webhook, when there is one
CLUSTER_PORT = 8080
CLUSTER_RECORD_FILE = Path("/tmp/notifications.jsonl")  # noqa: S108 (an emptyDir)


def main() -> int:
    """Serve on every address of the pod until terminated; the path from the Secret."""
    path_file = SECRETS_DIR / PATH_KEY
    try:
        path = path_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        print(f"notification sink: no {path_file} (the Secret notification-sink)", file=sys.stderr)
        return 1
    if not path.startswith(WEBHOOK_PATH_PREFIX):
        print(f"notification sink: {path_file} is not a webhook path", file=sys.stderr)
        return 1
    sink = NotificationSink(
        CLUSTER_RECORD_FILE,
        host="0.0.0.0",  # noqa: S104 (the pod's own network namespace)
        port=CLUSTER_PORT,
        path=path,
        relay_to=SECRETS_DIR / RELAY_KEY,
        name=CLUSTER_SINK,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with sink:
        print(f"notification sink: listening on :{CLUSTER_PORT}", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
