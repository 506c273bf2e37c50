"""The seams between the scenario runner and what it drives: typing.Protocols.

A platform (`local` today; `kubernetes` and `eks` later) gives the runner one view of
the system — replicas, rollout, autoscaler, alerts, notifications, metrics — and the
actions a scenario takes on it. The load generator and the clock are seams too, so
the runner's logic can be exercised with plain fakes where a unit test needs it; the
integration tier drives the real ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sreshow.core.notifications import Notification
from sreshow.core.sli import Answer, availability, p95

AlertState = Literal["inactive", "pending", "firing"]
RolloutState = Literal["complete", "progressing", "stalled"]
FaultValue = float | bool


@dataclass(frozen=True)
class ReplicaView:
    """One replica (pod) as the platform reports it."""

    name: str
    version: str
    revision: int
    ready: bool
    restarts: int = 0  # container restarts (the liveness probe failed too often)


@dataclass(frozen=True)
class AutoscalerView:
    current: int
    desired: int
    min_replicas: int
    max_replicas: int
    utilization: Mapping[str, float | None] = field(default_factory=dict)
    targets: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """The deployment at one moment."""

    replicas: tuple[ReplicaView, ...]
    desired: int
    revision: int
    rollout: RolloutState
    autoscaler: AutoscalerView | None

    @property
    def ready(self) -> int:
        return sum(1 for r in self.replicas if r.ready)


@dataclass(frozen=True)
class AlertView:
    name: str
    state: AlertState


@dataclass(frozen=True)
class AutoscalerChange:
    """The autoscaler changed its desired count (not a change made by hand)."""

    at: float  # Unix time
    previous: int
    desired: int
    reason: str


class Metrics(Protocol):
    def query(self, expr: str) -> float | None:
        """The single value of a PromQL expression now (None: no value)."""
        ...


class Alerts(Protocol):
    def alerts(self) -> list[AlertView]:
        """Every alerting rule and its state now."""
        ...

    def notifications(self) -> list[Notification]:
        """Every notification delivered so far (Slack or the local sink), oldest first."""
        ...


class Platform(Metrics, Alerts, Protocol):
    """Where a scenario runs: what it observes and the actions it takes."""

    name: str
    time_scale: float
    app_url: str

    def snapshot(self) -> Snapshot: ...

    def autoscaler_changes(self) -> list[AutoscalerChange]:
        """Changes the autoscaler made since the previous call (the first: since connect)."""
        ...

    def set_faults(self, pods: Sequence[str], faults: Mapping[str, FaultValue]) -> None: ...

    def clear_faults(self, pods: Sequence[str]) -> None: ...

    def kill(self, pod: str, *, force: bool) -> None:
        """Evict (through the disruption budget: EvictionRefused when it forbids) or,
        with `force`, kill a replica."""
        ...

    def deploy(self, version: str, broken: str | None) -> int:
        """Roll out a version; the new revision's number."""
        ...

    def rollback(self, revision: int | None) -> int:
        """Roll back to `revision` (None: the one rolled out before); its number."""
        ...

    def scale(self, replicas: int) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class LoadStats:
    """What the load generator's clients saw so far."""

    sent: int = 0
    ok: int = 0
    bad: int = 0  # 5xx answers, connection errors and timeouts
    skipped: int = 0  # not sent: every client was busy (the target is too slow)


@dataclass(frozen=True)
class LoadWindow:
    """The clients' answers of the last few seconds, oldest first: the SLIs users feel."""

    seconds: float
    answers: tuple[Answer, ...] = ()
    received: int = 0  # answers received in all so far: the window's last ones are the new

    @property
    def answered(self) -> int:
        return len(self.answers)

    @property
    def availability(self) -> float | None:
        return availability(self.answers)

    @property
    def p95_seconds(self) -> float | None:
        return p95(self.answers)


class Load(Protocol):
    """Open-model load through the Service (requests at a rate, whatever the answers)."""

    @property
    def running(self) -> bool: ...

    def start(self, url: str, rps: float, path: str, duration: float | None) -> None: ...

    def stop(self) -> None: ...

    def stats(self) -> LoadStats: ...

    def window(self) -> LoadWindow: ...
