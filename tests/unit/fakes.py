"""An in-memory platform and load generator for the runner's unit tests.

`FakePlatform` keeps replicas, faults, alerts and notifications in memory: a killed or
added replica is ready `start_seconds` later. `FakeLoad` makes up its answers at its
rate whenever it is looked at, one in `1 / error_rate` bad while the platform had an
error-rate fault when the answer was due. A test sets `FakePlatform.on_call[method]`
to act when the runner calls it (a signal during the cleanup, news arriving late).
The real platform and load are exercised by the integration tier.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sreshow.core.notifications import Notification
from sreshow.core.sli import Answer
from sreshow.ports import (
    AlertState,
    AlertView,
    AutoscalerChange,
    FaultValue,
    LoadStats,
    LoadWindow,
    ReplicaView,
    Snapshot,
)


@dataclass
class _Replica:
    version: str
    ready_at: float  # monotonic
    restarts: int = 0


class FakePlatform:
    """Replicas, faults, alerts and notifications in memory."""

    name = "fake"
    app_url = "http://127.0.0.1:9"

    def __init__(
        self, *, time_scale: float = 1.0, replicas: int = 2, start_seconds: float = 0.3
    ) -> None:
        self.time_scale = time_scale
        self.start_seconds = start_seconds
        self.desired = replicas
        self.revision = 1
        self.replicas = {f"sre-app-{i}": _Replica("1.0.0", 0.0) for i in range(replicas)}
        self.faults: dict[str, dict[str, FaultValue]] = {}
        self._error_rates: list[tuple[float, float]] = [(0.0, 0.0)]  # (monotonic, rate)
        self.alert_states: dict[str, AlertState] = {}
        self.delivered: list[Notification] = []
        self.query_value: float | None = 1.0  # what every PromQL query returns
        self.scaler_changes: list[AutoscalerChange] = []
        self.calls: list[tuple[str, tuple[object, ...]]] = []  # (method, arguments)
        self.on_call: dict[str, Callable[[], None]] = {}
        self.closed = False
        self._lock = threading.Lock()
        self._serial = replicas

    # --- what the runner observes -------------------------------------------------------

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        with self._lock:
            views = tuple(
                ReplicaView(name, r.version, self.revision, now >= r.ready_at, r.restarts)
                for name, r in sorted(self.replicas.items())
            )
            return Snapshot(views, self.desired, self.revision, "complete", None)

    def autoscaler_changes(self) -> list[AutoscalerChange]:
        with self._lock:
            changes, self.scaler_changes = self.scaler_changes, []
        return changes

    def alerts(self) -> list[AlertView]:
        return [AlertView(name, state) for name, state in sorted(self.alert_states.items())]

    def notifications(self) -> list[Notification]:
        return list(self.delivered)

    def query(self, expr: str) -> float | None:
        self._called("query", expr)
        return self.query_value

    def error_rate(self, at: float) -> float:
        """The error rate faults gave at `at` (monotonic)."""
        with self._lock:
            return next(rate for since, rate in reversed(self._error_rates) if since <= at)

    def _faults_changed(self) -> None:
        rates = [float(f.get("error_rate", 0.0)) for f in self.faults.values()]
        self._error_rates.append((time.monotonic(), max(rates, default=0.0)))

    # --- what the runner does -----------------------------------------------------------

    def set_faults(self, pods: Sequence[str], faults: Mapping[str, FaultValue]) -> None:
        with self._lock:
            for pod in pods:
                self.faults[pod] = dict(faults)
            self._faults_changed()
        self._called("set_faults", tuple(pods), dict(faults))

    def clear_faults(self, pods: Sequence[str]) -> None:
        with self._lock:
            self.faults.clear()
            self._faults_changed()
        self._called("clear_faults", tuple(pods))

    def kill(self, pod: str, *, force: bool) -> None:
        with self._lock:
            del self.replicas[pod]
            self._add_replica()
        self._called("kill", pod, force)

    def restart(self, pod: str) -> None:
        """Its container restarts: unready until it has started again."""
        with self._lock:
            replica = self.replicas[pod]
            replica.restarts += 1
            replica.ready_at = time.monotonic() + self.start_seconds

    def deploy(self, version: str, broken: str | None) -> int:
        self.revision += 1
        self._called("deploy", version, broken)
        return self.revision

    def rollback(self, revision: int | None) -> int:
        self.revision = revision or self.revision - 1
        self._called("rollback", revision)
        return self.revision

    def scale(self, replicas: int) -> None:
        with self._lock:
            self.desired = replicas
            while len(self.replicas) < replicas:
                self._add_replica()
            for name in sorted(self.replicas)[replicas:]:
                del self.replicas[name]
        self._called("scale", replicas)

    def close(self) -> None:
        self.closed = True
        self._called("close")

    def _add_replica(self) -> None:
        self.replicas[f"sre-app-{self._serial}"] = _Replica(
            "1.0.0", time.monotonic() + self.start_seconds
        )
        self._serial += 1

    def _called(self, method: str, *arguments: object) -> None:
        self.calls.append((method, arguments))
        action = self.on_call.get(method)
        if action is not None:
            action()


class FakeLoad:
    """Open-model answers at the rate asked, made up whenever the load is looked at."""

    def __init__(self, platform: FakePlatform, window_seconds: float = 3.0) -> None:
        self.platform = platform
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._answers: deque[Answer] = deque()
        self._received = self._bad = 0
        self._interval = 0.0
        self._next_at: float | None = None  # when the next answer is due; None: stopped
        self.target = ""  # what the last start() asked for: url, path, duration

    @property
    def running(self) -> bool:
        return self._next_at is not None

    def start(self, url: str, rps: float, path: str, duration: float | None) -> None:
        with self._lock:
            self._interval, self._next_at = 1 / rps, time.monotonic()
            self.target = f"{url}{path} for {duration or 'ever'}"

    def stop(self) -> None:
        self._answer_until_now()
        with self._lock:
            self._next_at = None

    def stats(self) -> LoadStats:
        self._answer_until_now()
        with self._lock:
            return LoadStats(self._received, self._received - self._bad, self._bad)

    def window(self) -> LoadWindow:
        self._answer_until_now()
        with self._lock:
            while self._answers and self._answers[0].at < time.monotonic() - self.window_seconds:
                self._answers.popleft()
            return LoadWindow(self.window_seconds, tuple(self._answers), self._received)

    def _answer_until_now(self) -> None:
        now = time.monotonic()
        with self._lock:
            while self._next_at is not None and self._next_at <= now:
                rate = self.platform.error_rate(self._next_at)
                bad = rate > 0 and self._received % round(1 / rate) == 0
                self._answers.append(Answer(self._next_at, bad, 0.01))
                self._received += 1
                self._bad += bad
                self._next_at += self._interval
