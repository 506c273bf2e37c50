"""The seams between sreshow and the platforms it drives: typing.Protocols.

A platform plugs in twice (`sreshow.platforms` registers it by name):
- its `Lifecycle` brings a stack up, reports its `StackStatus`, brings it down, and
  connects to the running stack;
- the `Platform` it connects gives the scenario runner one view of the system —
  replicas, rollout, autoscaler, alerts, notifications, metrics — and the actions a
  scenario takes on it.
The load generator is a seam too, so the runner's logic is exercised with plain fakes
in unit tests (tests/unit/fakes.py); the contract suite and the integration tier drive
the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol

from demo_app.faults import FaultPatch
from sreshow.core.notifications import Notification
from sreshow.core.revisions import RolloutStatus
from sreshow.core.sli import Answer, availability, p95
from sreshow.core.terraform_ui import ApplyProgress
from sreshow.errors import UsageError
from sreshow.stack_status import AlertState, AutoscalerStatus, StackStatus

__all__ = ["AlertState", "FaultPatch", "RolloutStatus", "StackStatus"]


@dataclass(frozen=True)
class ReplicaView:
    """One replica (pod) as the platform reports it."""

    name: str
    version: str
    revision: int
    ready: bool
    restarts: int = 0  # container restarts (the liveness probe failed too often)


@dataclass(frozen=True)
class Snapshot:
    """The deployment at one moment."""

    replicas: tuple[ReplicaView, ...]
    desired: int
    revision: int
    rollout: RolloutStatus
    autoscaler: AutoscalerStatus | None

    @property
    def ready(self) -> int:
        return sum(1 for r in self.replicas if r.ready)


@dataclass(frozen=True)
class AlertView:
    name: str
    state: AlertState


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and (Unix time, value or None) points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float | None], ...]


class Metrics(Protocol):
    def query(self, expr: str) -> float | None:
        """The single value of a PromQL expression now (None: no value)."""
        ...

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[RangeSeries]:
        """A PromQL expression over a past window (Unix times): each series' points."""
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
    # What the platform's own clocks add to a wait whatever the time scale (a cluster's
    # metrics pipeline, say): every wait of a run is given this much more.
    unscaled_wait_seconds: float
    app_url: str

    def snapshot(self) -> Snapshot:
        """The deployment now (the autoscaler's changes are told by successive ones)."""
        ...

    def set_faults(self, pods: Sequence[str], patch: FaultPatch) -> None:
        """Patch the faults of each pod through its admin API."""
        ...

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

    def close(self) -> None:
        """Release what `connect()` opened (clients, port-forwards); safe to call twice."""
        ...

    def __enter__(self) -> Platform: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


MAX_REPLICAS = 10  # the HPA's maximum


@dataclass(frozen=True)
class UpOptions:
    """What `sreshow up` asks of a platform."""

    time_scale: float = 1.0
    replicas: int = 2
    port: int | None = None  # where the Service listens, for platforms that choose it
    version: str = "1.0.0"
    # The user's secrets (SRESHOW_ADMIN_TOKEN, SRESHOW_SLACK_WEBHOOK_URL); None: the
    # stack generates a token and notifies its local sink.
    admin_token: str | None = field(default=None, repr=False)
    slack_webhook_url: str | None = field(default=None, repr=False)
    image: str | None = None  # the app image to run, for platforms that run images
    manifests: Path | None = None  # the kustomization to apply (None: the shipped one)
    allow_production: bool = False  # a cluster that looks like production may be changed
    # Asked before the first change to a shared system (a cluster), with what will
    # change; False stops `up` with nothing changed. None: go on without asking.
    confirm: Callable[[str], bool] | None = field(default=None, compare=False)
    ttl_seconds: float | None = None  # `--ttl`: how long the stack may stay up (eks tags it)
    # Platforms that build infrastructure first (eks: Terraform) report its progress here.
    build_progress: Callable[[ApplyProgress], None] | None = field(default=None, compare=False)

    def check(self) -> None:
        """Refuse what no platform takes (exit 2): a time scale outside (0, 1], a replica
        count outside 1 to 10. A platform checks its own flags after this."""
        if not 0 < self.time_scale <= 1:
            raise UsageError(
                f"--time-scale {self.time_scale:g} is out of range; give a factor in (0, 1], "
                "e.g. 0.1 for ten times faster"
            )
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise UsageError(
                f"--replicas {self.replicas} is out of range; give 1 to {MAX_REPLICAS}"
            )


@dataclass(frozen=True)
class UpResult:
    status: StackStatus
    already_running: bool
    recovered: str | None = None  # what was cleaned up after an earlier stack, if anything


@dataclass(frozen=True)
class UpPreview:
    """What `up --dry-run` shows: what the platform would make, changing nothing."""

    where: str  # one line: the platform and the target, e.g. a cluster or a region
    items: tuple[tuple[str, str], ...]  # (what, how many or which), in the order made
    cost_region: str | None = None  # where it is billed (None: costs nothing)
    notes: tuple[str, ...] = ()  # what the preview could not show, and why


class Lifecycle(Protocol):
    """A platform's stack as a whole: up, status, down, and a connection to run on."""

    name: str

    def preview(self, options: UpOptions) -> UpPreview:
        """What `up` would make with `options`, found without changing anything."""
        ...

    def up(self, options: UpOptions, progress: Callable[[StackStatus], None]) -> UpResult:
        """Bring the stack up (or find it up); `progress` sees each new state on the way."""
        ...

    def is_up(self) -> bool:
        """Whether a stack of this platform is up (cheap: no query of its monitoring)."""
        ...

    def status(self) -> StackStatus:
        """Everything `status` shows; PlatformError when no stack is up."""
        ...

    def down(
        self,
        *,
        confirm: Callable[[str], bool] | None = None,
        progress: Callable[[ApplyProgress], None] | None = None,
    ) -> str:
        """Stop everything the stack holds (safe twice); what was done, in a sentence.
        A platform whose stack costs money asks `confirm` first, saying what goes and
        what it costs (None: go on); False stops with nothing changed. One that tears
        infrastructure down (eks: Terraform) reports its progress to `progress`."""
        ...

    def connect(self, admin_token: str | None) -> Platform:
        """The running stack as a scenario `Platform`; `admin_token`: the user's, which
        must be the stack's (UsageError otherwise)."""
        ...


@dataclass(frozen=True)
class LoadStats:
    """What the load generator's clients saw so far."""

    sent: int = 0
    ok: int = 0
    bad: int = 0  # 5xx answers, connection errors and timeouts
    dropped: int = 0  # due but never sent: no connection came free in time (too slow a target)


@dataclass(frozen=True)
class LoadSample:
    """One second of the load generator's own record (the journal's per-second series)."""

    at: float  # Unix seconds at the end of the second (the last one may be shorter)
    sent: int
    answered: int
    errors: int  # answers that were bad: 5xx, connection errors, timeouts
    dropped: int
    # of the latencies of the requests answered in that second, from their intended send
    # time; None when none was answered
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


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

    def samples(self) -> tuple[LoadSample, ...]:
        """The seconds completed so far, oldest first (a bounded number of the latest)."""
        ...
