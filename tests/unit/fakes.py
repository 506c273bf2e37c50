"""An in-memory platform and load generator for the runner's unit tests.

`FakePlatform` keeps replicas, revisions, faults, alerts and notifications in memory and
behaves as the real platforms do where a scenario would notice (the contract suite,
tests/contract, holds it to that): a killed or added replica is ready `start_seconds`
later; a rollout replaces replicas as the Deployment controller does (`core.reconcile`,
`core.revisions`), so a release broken to crash or never be ready stalls after the
progress deadline while the old replicas serve on (once complete, a rollout stays so
until the next one, as on Kubernetes); a rollback without a revision goes
to the one rolled out before; an eviction the disruption budget forbids is refused;
a fault patch keeps what it does not set, and an `unready` replica is not ready. The
deadline, the budget and the alert rules are read from the shipped manifests.
`FakeLoad` makes up its answers at its rate whenever it is looked at, one in
`1 / error_rate` bad while the platform had an error-rate fault when the answer was due.
A test sets `FakePlatform.on_call[method]` to act when the runner calls it (a signal
during the cleanup, news arriving late). The real platform and load are exercised by
the integration tier.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import yaml

from demo_app.faults import FaultPatch, Faults
from sreshow.adapters.manifests import MANIFESTS_DIR, load_manifest, monitoring_files
from sreshow.core import reconcile as rs
from sreshow.core.notifications import Notification
from sreshow.core.revisions import NoRollbackTarget, Revisions
from sreshow.core.sli import Answer
from sreshow.errors import EvictionRefused, PlatformError
from sreshow.ports import (
    AlertState,
    AlertView,
    LoadSample,
    LoadStats,
    LoadWindow,
    RangeSeries,
    ReplicaView,
    Snapshot,
)
from sreshow.stack_status import AutoscalerStatus

# Releases broken like this never become ready (`errors` serves, badly).
NEVER_READY = frozenset({"crash", "unready"})


@functools.cache
def shipped_alert_names() -> tuple[str, ...]:
    """Every alerting rule in the shipped monitoring files, sorted."""
    names = []
    for path, text in monitoring_files(MANIFESTS_DIR / "monitoring").items():
        if path.endswith(".rules.yml"):
            for group in (yaml.safe_load(text) or {}).get("groups") or []:
                names += [rule["alert"] for rule in group.get("rules") or [] if "alert" in rule]
    return tuple(sorted(names))


@functools.cache
def progress_deadline_seconds() -> float:
    """The shipped Deployment's `progressDeadlineSeconds` (real time)."""
    deployment = load_manifest(MANIFESTS_DIR / "app" / "deployment.yaml", "Deployment")
    return float(deployment["spec"].get("progressDeadlineSeconds", 600))


@functools.cache
def pdb_min_available() -> int:
    """The shipped PodDisruptionBudget's `minAvailable`."""
    pdb = load_manifest(MANIFESTS_DIR / "app" / "pdb.yaml", "PodDisruptionBudget")
    return int(pdb["spec"]["minAvailable"])


@dataclass
class _Replica:
    version: str
    ready_at: float  # monotonic; math.inf: never (a broken release)
    restarts: int = 0
    revision: int = 1
    created_at: float = 0.0  # monotonic


class FakePlatform:
    """Replicas, revisions, faults, alerts and notifications in memory."""

    name = "fake"
    unscaled_wait_seconds = 0.0
    app_url = "http://127.0.0.1:9"

    def __init__(
        self, *, time_scale: float = 1.0, replicas: int = 2, start_seconds: float = 0.3
    ) -> None:
        self.time_scale = time_scale
        self.start_seconds = start_seconds
        self.progress_deadline = progress_deadline_seconds() * time_scale
        self.desired = replicas
        self.replicas = {f"sre-app-{i}": _Replica("1.0.0", 0.0) for i in range(replicas)}
        self.faults: dict[str, Faults] = {}
        self._error_rates: list[tuple[float, float]] = [(0.0, 0.0)]  # (monotonic, rate)
        self.alert_states: dict[str, AlertState] = dict.fromkeys(shipped_alert_names(), "inactive")
        self.delivered: list[Notification] = []
        self.query_value: float | None = 1.0  # what every PromQL query returns
        self.autoscaler: AutoscalerStatus | None = None
        self.calls: list[tuple[str, tuple[object, ...]]] = []  # (method, arguments)
        self.on_call: dict[str, Callable[[], None]] = {}
        self.closed = False
        self._lock = threading.Lock()
        self._serial = replicas
        now = time.monotonic()
        self._revisions = Revisions("1.0.0", now=now, progress_deadline=self.progress_deadline)
        self._progress_seen = now  # the latest progress told to the rollout's deadline

    @property
    def revision(self) -> int:
        return self._revisions.current

    # --- what the runner observes -------------------------------------------------------

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        with self._lock:
            if any(r.revision != self.revision for r in self.replicas.values()):
                self._converge(now)  # a rollout goes on as its new replicas get ready
            observed = self._observed(now)
            self._note_progress(now, observed)
            rollout = self._revisions.rollout_status(now, self.desired, observed)
            views = tuple(
                ReplicaView(name, r.version, r.revision, self._ready(name, r, now), r.restarts)
                for name, r in sorted(self.replicas.items())
            )
            return Snapshot(
                views,
                self.desired,
                self.revision,
                rollout,
                self.autoscaler,
            )

    def autoscale(
        self, desired: int, reason: str, at: float | None = None, *, start: bool = False
    ) -> None:
        """The autoscaler scales to `desired` (at Unix time `at`, default now); with
        `start`, the replicas it asked for start too."""
        with self._lock:
            self.autoscaler = AutoscalerStatus(
                current=self.desired,
                desired=desired,
                min_replicas=2,
                max_replicas=10,
                last_event_reason=reason,
                last_scale_at=time.time() if at is None else at,
            )
            self.desired = desired
            if start:
                self._converge(time.monotonic())

    def alerts(self) -> list[AlertView]:
        return [AlertView(name, state) for name, state in sorted(self.alert_states.items())]

    def notifications(self) -> list[Notification]:
        return list(self.delivered)

    def query(self, expr: str) -> float | None:
        self._called("query", expr)
        return self.query_value

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[RangeSeries]:
        """No history: a run's charts then name every Prometheus series as missing."""
        self._called("query_range", expr, start, end, step)
        return []

    def error_rate(self, at: float) -> float:
        """The error rate faults gave at `at` (monotonic)."""
        with self._lock:
            return next(rate for since, rate in reversed(self._error_rates) if since <= at)

    def _faults_changed(self) -> None:
        rates = [f.error_rate for f in self.faults.values()]
        self._error_rates.append((time.monotonic(), max(rates, default=0.0)))

    # --- what the runner does -----------------------------------------------------------

    def set_faults(self, pods: Sequence[str], patch: FaultPatch) -> None:
        with self._lock:
            for pod in pods:
                if pod not in self.replicas:
                    raise PlatformError(f"replica {pod} is gone; it cannot take a fault any more")
                faults = self.faults.get(pod, Faults())
                self.faults[pod] = faults.model_copy(update=patch.changes())
            self._faults_changed()
        self._called("set_faults", tuple(pods), patch.changes())

    def clear_faults(self, pods: Sequence[str]) -> None:
        with self._lock:
            for pod in pods:  # a replica that is gone took its faults with it
                self.faults.pop(pod, None)
            self._faults_changed()
        self._called("clear_faults", tuple(pods))

    def kill(self, pod: str, *, force: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if pod not in self.replicas:
                raise PlatformError(f"no replica named {pod}")
            budget = pdb_min_available()
            if not force and not rs.eviction_allowed(self._observed(now), pod, budget):
                raise EvictionRefused(
                    f"evicting {pod} would violate the disruption budget (minAvailable "
                    f"{budget}); use force to kill it anyway"
                )
            self._remove(pod)
            self._converge(now)
        self._called("kill", pod, force)

    def restart(self, pod: str) -> None:
        """Its container restarts: unready until it has started again."""
        with self._lock:
            replica = self.replicas[pod]
            replica.restarts += 1
            replica.ready_at = time.monotonic() + self.start_seconds

    def deploy(self, version: str, broken: str | None) -> int:
        now = time.monotonic()
        with self._lock:
            started = self._revisions.deploy(version, broken or "", now)
            self._progress_seen = now
            self._converge(now)
        self._called("deploy", version, broken)
        return started.revision

    def rollback(self, revision: int | None) -> int:
        now = time.monotonic()
        with self._lock:
            try:
                started = self._revisions.roll_back(revision, now)
            except NoRollbackTarget as e:
                raise PlatformError(f"the rollback was refused: {e}") from e
            self._progress_seen = now
            self._converge(now)
        self._called("rollback", revision)
        return started.revision

    def scale(self, replicas: int) -> None:
        with self._lock:
            self.desired = replicas
            self._converge(time.monotonic())
        self._called("scale", replicas)

    def close(self) -> None:
        self.closed = True
        self._called("close")

    def __enter__(self) -> FakePlatform:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the Deployment controller (called with the lock held) --------------------------

    def _ready(self, name: str, replica: _Replica, now: float) -> bool:
        faults = self.faults.get(name)
        return now >= replica.ready_at and not (faults is not None and faults.unready)

    def _observed(self, now: float) -> list[rs.Replica]:
        return [
            rs.Replica(name, r.revision, self._ready(name, r, now), r.created_at)
            for name, r in self.replicas.items()
        ]

    def _note_progress(self, now: float, observed: Sequence[rs.Replica]) -> None:
        """As the supervisor: the rollout is complete (it can no longer stall), or a
        replica of the revision became ready (the progress deadline counts from then)."""
        if self._revisions.complete(self.desired, observed):
            self._revisions.note_complete(now)
            self._progress_seen = now
            return
        ready = [
            self.replicas[r.name].ready_at
            for r in observed
            if r.ready and r.revision == self.revision
        ]
        progress = max(ready, default=-math.inf)
        if progress > self._progress_seen:
            self._progress_seen = progress
            self._revisions.note_progress(progress)

    def _converge(self, now: float) -> None:
        for _ in range(100):  # each pass starts or stops some; bounded all the same
            actions = rs.reconcile(self.desired, self.revision, self._observed(now))
            if not actions:
                return
            for action in actions:
                if isinstance(action, rs.StartReplica):
                    self._start(action.revision, now)
                else:
                    self._remove(action.name)

    def _start(self, revision: int, now: float) -> None:
        release = self._revisions.numbered(revision)
        ready_at = math.inf if release.broken in NEVER_READY else now + self.start_seconds
        self.replicas[f"sre-app-{self._serial}"] = _Replica(
            release.version, ready_at, revision=revision, created_at=now
        )
        self._serial += 1

    def _remove(self, name: str) -> None:
        del self.replicas[name]
        if self.faults.pop(name, None) is not None:
            self._faults_changed()

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
        self._samples: list[LoadSample] = []
        self._second: list[bool] = []  # the current second's answers: bad or not
        self._second_start: float | None = None  # monotonic
        self._unix_offset = time.time() - time.monotonic()
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

    def samples(self) -> tuple[LoadSample, ...]:
        """The whole seconds since the first answer, from the answers made up so far."""
        self._answer_until_now()
        with self._lock:
            return tuple(self._samples)

    def _answer_until_now(self) -> None:
        now = time.monotonic()
        with self._lock:
            while self._next_at is not None and self._next_at <= now:
                rate = self.platform.error_rate(self._next_at)
                bad = rate > 0 and self._received % round(1 / rate) == 0
                self._answers.append(Answer(self._next_at, bad, 0.01))
                self._count_in_second(self._next_at, bad)
                self._received += 1
                self._bad += bad
                self._next_at += self._interval

    def _count_in_second(self, at: float, bad: bool) -> None:
        """Per-second samples as the real generator keeps them (sent = answered here)."""
        if self._second_start is None:
            self._second_start = at
        while at >= self._second_start + 1:
            answered, errors = len(self._second), sum(self._second)
            p = 10.0 if answered else None
            end = self._second_start + 1 + self._unix_offset
            self._samples.append(LoadSample(end, answered, answered, errors, 0, p, p, p))
            self._second, self._second_start = [], self._second_start + 1
        self._second.append(bad)
