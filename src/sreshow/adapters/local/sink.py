"""A Slack-compatible incoming webhook on 127.0.0.1: where the local Alertmanager posts.

The local Alertmanager posts its Slack messages here. Without a Slack webhook of the
user's (`SRESHOW_SLACK_WEBHOOK_URL`), the sink is the stand-in for Slack: each POST to
its URL is answered `ok` (200), as Slack answers. With one, the sink relays each
message to it and answers Alertmanager with Slack's answer (so Alertmanager retries
what Slack refused), and the message counts as delivered when Slack took it. Either
way each message is appended as one JSON line to the record file (created 0600):

    {"received_at": <unix time of delivery>, "status": "firing"|"resolved"|"unknown",
     "alerts": [<alert names>], "text": <the message text>, "payload": <the body>,
     "delivered_to": "local sink"|"slack", "error": <why Slack refused it, if it did>}

`read_notifications()` reads them back for `status` and reports. Like a Slack webhook,
the URL carries a random secret path; other paths get 404 `no_service`. The URL is a
secret, and so is the user's webhook URL: neither is logged, and the server logs no
request lines.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sreshow.adapters.local.processes import LOCALHOST, Service
from sreshow.core.notifications import (
    Notification,
    notification_from_record,
    notification_record,
)
from sreshow.errors import PlatformError

MAX_BODY_BYTES = 1024 * 1024
RECORD_FILE_MODE = 0o600
RELAY_TIMEOUT_SECONDS = 10.0
LOCAL_SINK = "local sink"
SLACK = "slack"


class NotificationSink(Service):
    """A Slack-compatible webhook receiver in a background thread; a context manager."""

    def __init__(
        self,
        record_file: Path,
        *,
        port: int = 0,
        relay_to: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`relay_to`: the user's Slack webhook URL (a secret), or None to be Slack."""
        self.record_file = record_file
        self._port = port
        self._relay_to = relay_to
        self._clock = clock
        self._path = f"/services/T0SRESHOW/B0SRESHOW/{secrets.token_urlsafe(24)}"
        self._lock = threading.Lock()
        self._server: _SinkServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The webhook URL to give Alertmanager (a secret: write it only to a 0600 file)."""
        if self._server is None:
            raise RuntimeError("the notification sink is not running; start() it first")
        return f"http://{LOCALHOST}:{self._server.server_address[1]}{self._path}"

    @property
    def port(self) -> int | None:
        return None if self._server is None else int(self._server.server_address[1])

    def start(self) -> NotificationSink:
        """Create the record file (0600) and start answering on 127.0.0.1."""
        if self._server is not None:
            return self
        _create_private(self.record_file)
        try:
            server = _SinkServer((LOCALHOST, self._port), _Handler)
        except OSError as e:
            raise PlatformError(
                f"the notification sink cannot listen on {LOCALHOST}:{self._port} "
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

    def _accepts(self, path: str) -> bool:
        return secrets.compare_digest(urlsplit(path).path, self._path)

    def _deliver(self, body: bytes, content_type: str, payload: object) -> tuple[int, str]:
        """Relay the message to Slack (if the user gave a webhook) and record it; the
        answer for Alertmanager."""
        if self._relay_to is None:
            self._record(payload, LOCAL_SINK)
            return 200, "ok"
        try:
            answer = httpx.post(
                self._relay_to,
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
    try:
        text = record_file.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as e:
        raise PlatformError(
            f"cannot read the notifications recorded in {record_file} ({e.strerror})"
        ) from e
    notifications = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            notifications.append(notification_from_record(json.loads(line)))
        except ValueError:
            continue
    return notifications


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

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
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
