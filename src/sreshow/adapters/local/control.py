"""The supervisor's control API: JSON over HTTP on a UNIX socket (mode 0600).

The CLI asks the running supervisor to scale, roll out, roll back or kill replicas
through it; only the user who started the stack can open the socket. The server hands
each request to one handler (the supervisor, which runs it on its own loop) and the
client turns every failure into one PlatformError that says what to do.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx

from sreshow.adapters.local.processes import Service
from sreshow.errors import EvictionRefused, PlatformError

Handler = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]]]
MAX_BODY_BYTES = 64 * 1024


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    handler: Handler


class _RequestHandler(BaseHTTPRequestHandler):
    server: _UnixHTTPServer

    def address_string(self) -> str:  # a UNIX socket peer has no address
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the supervisor logs what it does, not every request."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, {"error": "request body too large"})
            return
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._reply(400, {"error": "the body is not JSON"})
            return
        if not isinstance(body, dict):
            self._reply(400, {"error": "the body must be a JSON object"})
            return
        status, answer = self.server.handler(method, self.path, body)
        self._reply(status, answer)

    def _reply(self, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ControlServer(Service):
    """Serves `handler` on `socket_path` from a background thread (a context manager)."""

    def __init__(self, socket_path: Path, handler: Handler) -> None:
        self.socket_path = socket_path
        self._handler = handler
        self._server: _UnixHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ControlServer:
        self.socket_path.unlink(missing_ok=True)  # a stale socket of a crashed supervisor
        old_umask = os.umask(0o177)  # the socket is born 0600: no window for others
        try:
            server = _UnixHTTPServer(str(self.socket_path), _RequestHandler)
        finally:
            os.umask(old_umask)
        server.handler = self._handler
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="control-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.socket_path.unlink(missing_ok=True)


class ControlClient:
    """Talks to the running supervisor."""

    def __init__(self, socket_path: Path, timeout: float = 30.0) -> None:
        self.socket_path = socket_path
        self._timeout = timeout

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command; PlatformError if the supervisor cannot be reached or refuses."""
        self._check_listening()
        transport = httpx.HTTPTransport(uds=str(self.socket_path))
        try:
            with httpx.Client(
                transport=transport, base_url="http://supervisor", timeout=self._timeout
            ) as client:
                response = client.request(method, path, json=body or {})
        except httpx.TimeoutException as e:
            raise PlatformError(
                f"the local stack's supervisor did not answer {method} {path} within "
                f"{self._timeout:g} s; see its log, or run `sreshow down` and `sreshow up`"
            ) from e
        except httpx.TransportError as e:
            raise self._not_running() from e
        try:
            answer: dict[str, Any] = response.json()
        except ValueError as e:
            raise PlatformError(
                f"the supervisor answered {method} {path} with something that is not JSON"
            ) from e
        if response.status_code == 429:
            raise EvictionRefused(str(answer.get("error")))
        if response.is_error:
            raise PlatformError(f"the supervisor refused {method} {path}: {answer.get('error')}")
        return answer

    def _check_listening(self) -> None:
        # Connect once ourselves: httpx leaks the socket of a refused UNIX connection.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket_path))
            except OSError as e:
                raise self._not_running() from e

    def _not_running(self) -> PlatformError:
        return PlatformError(
            f"the local stack's supervisor is not running (no answer at "
            f"{self.socket_path}); start it with `sreshow up`"
        )
