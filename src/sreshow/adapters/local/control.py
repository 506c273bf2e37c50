"""The supervisor's control API: JSON over HTTP on a UNIX socket (mode 0600).

The CLI asks the running supervisor to scale, roll out, roll back or kill replicas
through it; only the user who started the stack can open the socket. The server hands
each request to one handler (the supervisor, which runs it on its own loop) and the
client turns every failure into one PlatformError that says what to do.

The server is the one place that turns what the handler raised into an answer:

    BadRequest        400  the body is not what the command takes (`parse_body`)
    EvictionRefused   429  as Kubernetes' eviction API answers
    SreshowError      409  the command is refused in the stack's state
    anything else     500  a bug: logged with its traceback, never passed off as a 400
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from sreshow.adapters.local.processes import Service
from sreshow.errors import EvictionRefused, PlatformError, SreshowError

Handler = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]]]
MAX_BODY_BYTES = 64 * 1024

_log = logging.getLogger(__name__)


class BadRequest(Exception):
    """The request is not one the command takes; answered 400 with this message."""


class RequestBody(BaseModel):
    """A command's JSON body: the fields it takes, and nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoBody(RequestBody):
    """GET /state, POST /stop: an empty object."""


class ScaleBody(RequestBody):
    replicas: int


class DeployBody(RequestBody):
    version: str
    broken: str = ""  # the fault the release is broken with; "" runs it sound


class RollbackBody(RequestBody):
    revision: int | None = None  # None: the revision rolled out before the current one


class KillBody(RequestBody):
    pod: str
    force: bool = False  # SIGKILL, past the disruption budget


BodyT = TypeVar("BodyT", bound=RequestBody)


def parse_body(model: type[BodyT], body: Mapping[str, Any]) -> BodyT:
    """`body` as `model`; BadRequest naming every field that is missing, odd or unknown."""
    try:
        return model.model_validate(body)
    except ValidationError as e:
        raise BadRequest("; ".join(_field_problem(dict(error)) for error in e.errors())) from e


def _field_problem(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error.get("loc", ())) or "the body"
    message = str(error.get("msg", "is invalid"))
    return f"{field}: {message[:1].lower()}{message[1:]}"


@dataclass(frozen=True)
class Command(Generic[BodyT]):
    """One command of the API: the body it takes, and what runs it."""

    body: type[BodyT]
    run: Callable[[BodyT], dict[str, Any]]

    def bind(self, body: Mapping[str, Any]) -> Callable[[], dict[str, Any]]:
        """The command, ready to run with `body`; BadRequest if the body does not fit."""
        request = parse_body(self.body, body)
        return lambda: self.run(request)


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    handler: Handler


class _BodyRefused(Exception):
    """The request carries no JSON object a command could read: answered `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


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
        try:
            body = self._read_body()
        except _BodyRefused as refused:
            self._reply(refused.status, {"error": str(refused)})
            return
        self._reply(*self._answer(method, body))

    def _read_body(self) -> dict[str, Any]:
        """The request's JSON object (`{}` without a body); _BodyRefused if it is none."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise _BodyRefused(400, "the Content-Length header is not a number") from None
        if length > MAX_BODY_BYTES:
            raise _BodyRefused(413, "request body too large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            raise _BodyRefused(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _BodyRefused(400, "the body must be a JSON object")
        return body

    def _answer(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The handler's answer, or the answer to what it raised (see the module doc)."""
        try:
            return self.server.handler(method, self.path, body)
        except BadRequest as e:
            return 400, {"error": f"bad request: {e}"}
        except EvictionRefused as e:
            return 429, {"error": str(e)}  # as Kubernetes' eviction API answers
        except SreshowError as e:
            return 409, {"error": str(e)}
        except Exception as e:  # a bug: said to be one, and logged where it can be fixed
            _log.exception("the control API failed %s %s", method, self.path)
            return 500, {
                "error": f"internal error ({type(e).__name__}: {e}); "
                "the supervisor's log has the traceback"
            }

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
        if response.is_server_error:
            raise PlatformError(f"the supervisor failed {method} {path}: {answer.get('error')}")
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
