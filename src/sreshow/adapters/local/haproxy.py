"""HAProxy as the local platform's Service: one process, one backend, servers added at runtime.

`HaproxyService` writes `haproxy.cfg` into its work dir, runs HAProxy in the
foreground as a child (log: `haproxy.log`) and drives it through the runtime API on
the stats socket `haproxy.sock`. The backend `app` starts empty; replicas join and
leave with `add_server()` / `remove_server()` without reloads. Every runtime API
command goes through `command()`, which turns socket failures and HAProxy's refusals
into `PlatformError`:

    PlatformError
    └── HaproxyRefused      HAProxy answered a command with an error (`.reply`)

Routing follows Kubernetes readiness, and like a Service's endpoints it has one source:
the readiness probe the supervisor runs (as the kubelet does). HAProxy runs no health
checks of its own; a server gets requests only after `set_routed(name, True)`, and a
request that hits a dead replica before the supervisor has noticed is retried on
another one.
"""

from __future__ import annotations

import contextlib
import csv
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sreshow.adapters.local.processes import (
    LOCALHOST,
    Binary,
    ChildProcess,
    Service,
    find_binary,
    start_process,
)
from sreshow.errors import PlatformError

HAPROXY = Binary("haproxy", debian_package="haproxy", homebrew="haproxy")
BACKEND = "app"

# HAProxy accepts letters, digits, '.', '-', '_' and ':' in a server name; checking
# here also keeps ';' and spaces (command separators on the socket) out of commands.
_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
# With `set severity-output number`, HAProxy prefixes its messages with a syslog
# level: 0-3 are errors, 6 is information ("New server registered.").
_SEVERITY = re.compile(r"^\[(\d)\]: (.*)$")
_LAST_ERROR_LEVEL = 3
_SOCKET_TIMEOUT_SECONDS = 2.0
# sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH_BYTES = 107

ServerState = Literal["up", "down", "maint"]


@dataclass(frozen=True)
class ServerStatus:
    """One server of the backend as HAProxy sees it."""

    address: str
    port: int
    state: ServerState  # up: gets requests; maint: not routed (unready, draining, new)
    requests: int  # HTTP requests HAProxy has sent it (req_tot): the clients' traffic


class HaproxyRefused(PlatformError):
    """HAProxy answered a runtime API command with an error."""

    def __init__(self, message: str, reply: str) -> None:
        super().__init__(message)
        self.reply = reply


def render_config(port: int, socket_path: Path) -> str:
    """The whole HAProxy configuration: a frontend on 127.0.0.1:`port`, an empty backend."""
    return f"""\
# Written by sreshow on every start; servers are added through the runtime API.
global
    maxconn 4096
    stats socket "{socket_path}" mode 600 level admin
    log stdout format raw local0

defaults
    mode http
    log global
    option httplog
    # Log only requests that failed or were retried, so the log shows incidents.
    option dontlog-normal
    timeout connect 1s
    # The app's /api/slow answers after up to 5 s; 30 s leaves room for injected latency.
    timeout client 30s
    timeout server 30s

frontend service
    bind {LOCALHOST}:{port}
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
    # A replica killed with SIGKILL is routed to until the supervisor notices (its next
    # tick); a refused connection or a request it died on is retried on another one.
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
"""


class HaproxyService(Service):
    """One HAProxy process in front of the app replicas on 127.0.0.1:`port`."""

    def __init__(self, workdir: Path, port: int, binary: str | None = None) -> None:
        """`binary`: the haproxy executable; None finds it on PATH when starting."""
        self.workdir = workdir
        self.port = port
        self.binary = binary
        self.config_path = workdir / "haproxy.cfg"
        self.socket_path = workdir / "haproxy.sock"
        self.log_path = workdir / "haproxy.log"
        self._process: ChildProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, within: float = 5.0) -> HaproxyService:
        """Write the config, start HAProxy and return once its runtime API answers."""
        if self._process is not None and self._process.alive():
            return self
        if len(bytes(self.socket_path)) > _MAX_SOCKET_PATH_BYTES:
            raise PlatformError(
                f"the HAProxy socket path {self.socket_path} is longer than a UNIX socket "
                f"allows ({_MAX_SOCKET_PATH_BYTES} bytes); use a shorter SRESHOW_STATE_DIR"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        # A socket left by a crashed run would answer for a process that is gone.
        self.socket_path.unlink(missing_ok=True)
        self.config_path.write_text(render_config(self.port, self.socket_path))
        binary = self.binary or find_binary(HAPROXY)
        self._process = start_process(
            "haproxy", [binary, "-db", "-f", str(self.config_path)], log=self.log_path
        )
        try:
            self._wait_until_answering(self._process, within)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self, process: ChildProcess, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            if not process.alive():
                raise PlatformError(
                    f"HAProxy exited with code {process.exit_code()} while starting on port "
                    f"{self.port}; its log {self.log_path} ends: {process.log_tail()}"
                )
            # Listeners are bound before the CLI serves, so an answer means the port is open.
            if self.socket_path.exists():
                with contextlib.suppress(PlatformError):
                    self.command("show info")
                    return
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"HAProxy's runtime API at {self.socket_path} did not answer within "
                    f"{within:g} s; see {self.log_path}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the HAProxy this object started (SIGTERM, then SIGKILL); safe to repeat."""
        if self._process is not None:
            self._process.stop()
            self._process = None
            # Only our own: an object that merely reads `servers()` must not unlink the
            # socket of an HAProxy another process runs.
            self.socket_path.unlink(missing_ok=True)

    def add_server(self, name: str, port: int) -> None:
        """Add replica `name` on 127.0.0.1:`port`, not routed until `set_routed()`."""
        server = _server(name)
        if not 0 < port < 65536:
            raise PlatformError(f"cannot add HAProxy server {server}: port {port} is not valid")
        # A server added at runtime starts in maintenance: no request reaches it yet.
        self.command(f"add server {server} {LOCALHOST}:{port}")

    def set_routed(self, name: str, routed: bool) -> None:
        """Send replica `name` requests (ready) or no new ones (unready, draining); those
        in flight finish either way."""
        self.command(f"{'enable' if routed else 'disable'} server {_server(name)}")

    def remove_server(self, name: str, *, grace_seconds: float = 5.0) -> None:
        """Take replica `name` out of rotation, let in-flight requests finish, delete it.

        Requests still running after `grace_seconds` are cut off: HAProxy refuses to
        delete a server that has connections.
        """
        server = _server(name)
        self.command(f"disable server {server}")  # no new requests from here on
        if self._delete_within(server, grace_seconds):
            return
        self.command(f"shutdown sessions server {server}")
        if not self._delete_within(server, 1.0):
            raise PlatformError(
                f"HAProxy kept connections to {server} open after `shutdown sessions`; "
                f"it is disabled but not deleted; see {self.log_path}"
            )

    def _delete_within(self, server: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.command(f"del server {server}")
                return True
            except HaproxyRefused as e:
                # 2.6 says "Server still has connections attached to it, cannot remove it."
                if "still has connections" not in e.reply:
                    raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _delete_quietly(self, server: str) -> None:
        with contextlib.suppress(PlatformError):  # the first error is the one to report
            self.command(f"disable server {server}; del server {server}")

    def servers(self) -> dict[str, ServerStatus]:
        """Every server of the backend by name, from `show stat`."""
        lines = self.command("show stat").splitlines()
        if not lines or not lines[0].startswith("# "):
            raise PlatformError(f"HAProxy answered `show stat` with no CSV header: {lines[:1]}")
        rows = csv.DictReader([lines[0][2:], *lines[1:]])
        servers: dict[str, ServerStatus] = {}
        for row in rows:
            if row["pxname"] != BACKEND or row["svname"] in ("BACKEND", "FRONTEND"):
                continue
            address, _, port = row["addr"].rpartition(":")
            servers[row["svname"]] = ServerStatus(
                address=address,
                port=int(port),
                state=_state(row["status"]),
                requests=int(row["req_tot"] or 0),
            )
        return servers

    def command(self, line: str) -> str:
        """Send one runtime API line (commands separated by ';') and return the reply.

        The one place that talks to the socket: a socket failure or an error reply
        becomes a PlatformError naming the command.
        """
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(_SOCKET_TIMEOUT_SECONDS)
                sock.connect(str(self.socket_path))
                sock.sendall(f"set severity-output number; {line}\n".encode())
                chunks: list[bytes] = []
                while chunk := sock.recv(65536):  # HAProxy closes after answering
                    chunks.append(chunk)
        except TimeoutError as e:
            raise PlatformError(
                f"HAProxy did not answer `{line}` within {_SOCKET_TIMEOUT_SECONDS:g} s "
                f"at {self.socket_path}; is it overloaded or hung? see {self.log_path}"
            ) from e
        except OSError as e:
            raise PlatformError(
                f"cannot send `{line}` to HAProxy at {self.socket_path}: "
                f"{e.strerror or e}; is HAProxy running? see {self.log_path}"
            ) from e
        reply = b"".join(chunks).decode(errors="replace").strip("\n")
        error = _error_in(reply)
        if error is not None:
            raise HaproxyRefused(
                f"HAProxy refused `{line}`: {error} (compare with `sreshow status`; "
                f"HAProxy's log: {self.log_path})",
                reply=error,
            )
        return reply


def _error_in(reply: str) -> str | None:
    """HAProxy's error message in `reply`, if it holds one."""
    for text in reply.splitlines():
        match = _SEVERITY.match(text)
        level, message = (int(match[1]), match[2]) if match else (None, text)
        # "Unknown command" comes at level 6, but it is an error all the same.
        if (level is not None and level <= _LAST_ERROR_LEVEL) or message.startswith(
            "Unknown command"
        ):
            return message
    return None


def _server(name: str) -> str:
    """`app/<name>`, once `name` is known to be a valid HAProxy server name."""
    if not _SERVER_NAME.fullmatch(name):
        raise PlatformError(
            f"{name!r} is not a valid HAProxy server name; use letters, digits, '.', '-', "
            "'_' or ':', starting with a letter or digit"
        )
    return f"{BACKEND}/{name}"


def _state(status: str) -> ServerState:
    # `show stat` says "UP", "UP 1/2" (failing, still routed), "DOWN", "DOWN 1/2"
    # (recovering, not yet routed), "MAINT", "MAINT (via …)", "DRAIN" or "no check".
    if status.startswith("MAINT"):
        return "maint"
    if status.startswith("DOWN"):
        return "down"
    return "up"
