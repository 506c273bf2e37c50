"""The load generator's HTTP/1.1 client: one asyncio protocol per connection, responses
parsed by httptools (llhttp, the parser uvicorn uses: it is in the app's image).

Only what a load generator needs: GET with keep-alive, the status of each answer, the
body read and dropped. A failure is a `RequestFailed` of one kind:

    connect   the connection could not be opened (refused, unreachable, no such host)
    closed    the connection closed or reset before the answer was complete
    protocol  the answer was not HTTP
    timeout   no answer by its deadline (the generator calls `time_out()`)
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

from sreshow import __version__

USER_AGENT = f"sreshow-load/{__version__}"


class RequestFailed(Exception):
    """A request got no status back; `kind` says why (see the module's table)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(frozen=True)
class Target:
    """Where requests go: the origin of a URL, and the request that is sent there."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str, path: str) -> Target:
        """ValueError unless `url` is an http(s) URL with a host and `path` starts with /."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"load goes to an http(s) URL with a host, not {url!r}")
        if not path.startswith("/"):
            raise ValueError(f"the path must start with /, not {path!r}")
        default_port = 443 if parts.scheme == "https" else 80
        base = parts.path.rstrip("/")
        return cls(parts.scheme, parts.hostname, port or default_port, base + path)

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def request(self, *, last: bool) -> bytes:
        """A GET of the path; `last`: ask the server to close the connection after it
        (the server closing first keeps TIME_WAIT sockets off this side)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {host}:{self.port}",
            f"User-Agent: {USER_AGENT}",
            "Accept: */*",
            *(["Connection: close"] if last else []),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# What a connection tells its owner when a request is over: the status, or why none came.
Outcome = int | RequestFailed


class HttpConnection(asyncio.Protocol):
    """One connection, one request at a time; each outcome goes to `on_done(self, outcome)`
    on the loop, exactly once per request (no future or task per request: the generator
    sends thousands a second)."""

    def __init__(self, on_done: Callable[[HttpConnection, Outcome], None]) -> None:
        self.opened_at = time.monotonic()
        self.served = 0  # requests sent on it
        self.reusable = True  # false once either side said close, or it broke
        self.due = 0.0  # the request in flight: its intended send time (monotonic)
        self.deadline = math.inf  # ... and when it times out
        self._on_done = on_done
        self._busy = False
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._status = 0

    @classmethod
    async def open(
        cls, target: Target, on_done: Callable[[HttpConnection, Outcome], None]
    ) -> HttpConnection:
        """A new connection to `target`; RequestFailed("connect") when it cannot be opened."""
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if target.scheme == "https" else None
        try:
            _, connection = await loop.create_connection(
                lambda: cls(on_done), target.host, target.port, ssl=context
            )
        except OSError as e:  # refused, unreachable, no such host, TLS failures
            raise RequestFailed("connect", str(e) or type(e).__name__) from e
        return connection

    @property
    def busy(self) -> bool:
        return self._busy

    def send(self, data: bytes, due: float, deadline: float) -> None:
        """Send one request, intended for `due`; its outcome comes to `on_done`."""
        self.due, self.deadline = due, deadline
        self._busy, self._status = True, 0
        self.served += 1
        if self._transport is None or self._transport.is_closing():
            self._finish(RequestFailed("closed", "the connection closed before the request"))
            return
        self._transport.write(data)

    def time_out(self) -> None:
        """The request in flight is past its deadline: it fails, the connection closes."""
        self._finish(RequestFailed("timeout"))
        self.abort()

    def give_up(self) -> None:
        """Close at once and tell nobody: a stop cut the request in flight off."""
        self._busy = False
        self.abort()

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, unsent data dropped."""
        self.reusable = False
        if self._transport is not None:
            self._transport.abort()

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a stream's, as opened above

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as e:  # our own callback failed: a bug,
            raise (e.__context__ or e) from None  # for the loop's handler, not an answer
        except httptools.HttpParserError as e:
            self.reusable = False
            self._finish(RequestFailed("protocol", str(e)))
            self.abort()

    def eof_received(self) -> bool:
        self.reusable = False
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self._status:  # the headers are in: an answer whose body ran until the close
            self._finish(self._status)
        else:
            self._finish(RequestFailed("closed", str(exc) if exc else "closed by the server"))

    # --- httptools callbacks -------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        if not self._parser.should_keep_alive():
            self.reusable = False

    def on_message_complete(self) -> None:
        if not self._busy:  # an answer nobody asked for: do not trust the connection
            self.reusable = False
        self._finish(self._status)

    def _finish(self, outcome: Outcome) -> None:
        if self._busy:
            self._busy = False
            self._on_done(self, outcome)
