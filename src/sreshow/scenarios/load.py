"""A small open-model load generator: GET requests at a steady rate, whatever the answers.

Open model: a request is due every 1/rps seconds whether or not earlier ones have been
answered, so a slow service meets the same arrival rate it would in production (a
closed loop would politely slow down with it). Requests go out from a bounded pool of
client threads; when every client is busy a due request is counted as `skipped`, not
queued without bound. Every run is bounded in time (at most `MAX_DURATION_SECONDS`).

The target is whatever URL the platform hands out (a Service on 127.0.0.1, a
cluster's Service through its proxy); tests only ever give it loopback URLs.
The load generator issue will bring a faster generator behind the same `Load` protocol.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

from sreshow.core.sli import Answer
from sreshow.errors import UsageError
from sreshow.ports import LoadStats, LoadWindow

MAX_CLIENTS = 64
MAX_DURATION_SECONDS = 30 * 60.0
REQUEST_TIMEOUT_SECONDS = 5.0
WINDOW_SECONDS = 3.0  # the clients' SLIs are over this many seconds of answers


class ThreadedLoad:
    """Steady GETs through one shared HTTP client; start, stop, read what clients saw."""

    def __init__(self, clients: int = MAX_CLIENTS) -> None:
        self._clients = clients
        self._lock = threading.Lock()
        self._sent = self._ok = self._bad = self._skipped = 0
        self._received = 0  # answers in all, also those gone from the window
        self._in_flight = 0
        self._answers: deque[Answer] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._http: httpx.Client | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, url: str, rps: float, path: str, duration: float | None) -> None:
        """Start sending `rps` GETs per second to `url + path` (stopping load first)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"load goes to an http(s) URL with a host, not {url!r}")
        self.stop()
        limit = min(duration or MAX_DURATION_SECONDS, MAX_DURATION_SECONDS)
        self._stop.clear()
        # No connection is kept: each request arrives on its own, as from the many users
        # the load stands for. A cluster's Service balances connections (kube-proxy), not
        # requests: over a kept connection every request would reach the same pod.
        self._http = httpx.Client(
            base_url=url,
            timeout=REQUEST_TIMEOUT_SECONDS,
            limits=httpx.Limits(max_connections=self._clients, max_keepalive_connections=0),
        )
        self._pool = ThreadPoolExecutor(self._clients, thread_name_prefix="load")
        self._thread = threading.Thread(
            target=self._schedule, args=(rps, path, limit), name="load-scheduler", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop sending; wait (bounded) for requests in flight. Safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 1)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._http is not None:
            self._http.close()
            self._http = None

    def stats(self) -> LoadStats:
        with self._lock:
            return LoadStats(self._sent, self._ok, self._bad, self._skipped)

    def window(self) -> LoadWindow:
        """The answers of the last WINDOW_SECONDS, oldest first."""
        cutoff = time.monotonic() - WINDOW_SECONDS
        with self._lock:
            while self._answers and self._answers[0].at < cutoff:
                self._answers.popleft()
            return LoadWindow(WINDOW_SECONDS, tuple(self._answers), self._received)

    def _schedule(self, rps: float, path: str, limit: float) -> None:
        interval = 1 / rps
        started = time.monotonic()
        due = started
        while not self._stop.is_set() and due - started < limit:
            with self._lock:
                busy = self._in_flight >= self._clients
                if busy:
                    self._skipped += 1
                else:
                    self._in_flight += 1
            if not busy and self._pool is not None:
                self._pool.submit(self._request, path)
            due += interval
            self._stop.wait(max(0.0, due - time.monotonic()))

    def _request(self, path: str) -> None:
        http = self._http
        if http is None or self._stop.is_set():  # stopped before it went out: not sent
            with self._lock:
                self._in_flight -= 1
            return
        begun = time.monotonic()
        with self._lock:
            self._sent += 1
        try:
            bad = http.get(path).status_code >= 500
        except httpx.HTTPError:
            bad = True
        now = time.monotonic()
        with self._lock:
            self._in_flight -= 1
            self._ok += not bad
            self._bad += bad
            self._answers.append(Answer(now, bad, now - begun))
            self._received += 1
