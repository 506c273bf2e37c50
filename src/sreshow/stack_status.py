"""A running stack's state, whatever the platform: what `status` and `up` show.

Every platform's lifecycle reports a `StackStatus`; the dashboard renders it and
`as_json()` is the `status --json` contract (`platform`, `time_scale`, `endpoints`,
`replicas` with `name`, `version`, `ready`, `faults`, and `alerts` with `name` and
`state`; a platform adds its own replica fields, such as `pid` and `url`, in `extra`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from demo_app.faults import Faults
from sreshow.core.notifications import Notification
from sreshow.core.revisions import RolloutStatus

AlertState = Literal["inactive", "pending", "firing"]
CONTRACT_ENDPOINTS = ("app", "prometheus", "alertmanager")


@dataclass(frozen=True)
class ReplicaStatus:
    name: str
    version: str
    ready: bool
    restarts: int = 0  # container restarts (the liveness probe failed too often)
    faults: Faults | None = None  # as last scraped; None: not known
    cpu_percent: float | None = None
    memory_bytes: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # the platform's own fields


@dataclass(frozen=True)
class AutoscalerStatus:
    current: int
    desired: int
    min_replicas: int
    max_replicas: int
    utilization: Mapping[str, float | None] = field(default_factory=dict)
    targets: Mapping[str, float] = field(default_factory=dict)
    last_event: str | None = None  # the last scaling, e.g. "scaled from 2 to 3"
    last_event_reason: str | None = None
    last_scale_at: float | None = None  # Unix time of the last change of `desired`
    note: str = ""  # how the platform measures, when a user would not guess it


@dataclass(frozen=True)
class AlertStatus:
    name: str
    state: AlertState
    active_at: str | None = None  # RFC 3339, when it went pending


@dataclass(frozen=True)
class Slis:
    requests_per_second: float | None
    error_ratio: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class Billing:
    """What a stack that costs money is priced at (`core.cost`): where, how many nodes,
    and since when (Unix seconds) it has been billed."""

    region: str
    nodes: int
    up_since: float

    def as_json(self) -> dict[str, Any]:
        """`status --json`'s `cost`: USD per hour and so far, null where the region has
        no price list."""
        from sreshow.core.cost import bill_of_materials, for_duration, hourly

        try:
            bom = bill_of_materials(self.region, self.nodes)
        except ValueError:
            per_hour = so_far = None
        else:
            per_hour = float(round(hourly(bom), 4))
            so_far = float(round(for_duration(bom, max(0.0, time.time() - self.up_since)), 4))
        return {
            "region": self.region,
            "nodes": self.nodes,
            "up_since": self.up_since,
            "usd_per_hour": per_hour,
            "usd_so_far": so_far,
        }


@dataclass(frozen=True)
class StackStatus:
    platform: str
    time_scale: float
    endpoints: Mapping[str, str]
    desired_replicas: int
    revision: int
    version: str  # the current revision's
    rollout: RolloutStatus
    replicas: tuple[ReplicaStatus, ...] = ()
    components: Mapping[str, str] = field(default_factory=dict)  # while starting: each's state
    autoscaler: AutoscalerStatus | None = None
    alerts: tuple[AlertStatus, ...] = ()
    slis: Slis | None = None
    notifications: tuple[Notification, ...] = ()
    dashboard_url: str | None = None  # the live dashboard, while `sreshow dashboard` serves it
    expires_at: float | None = None  # Unix seconds: when `up --ttl` wants it down by
    billing: Billing | None = None  # a stack that costs money while up (eks)
    state_location: str = ""  # where the stack's state is kept (a directory, a context)
    problems: tuple[str, ...] = ()  # parts that could not be read, and why

    @property
    def ready(self) -> int:
        return sum(1 for r in self.replicas if r.ready)

    def as_json(self) -> dict[str, Any]:
        """The `status --json` contract, plus the autoscaler, SLIs and notifications."""
        return {
            "platform": self.platform,
            "time_scale": self.time_scale,
            "endpoints": {key: self.endpoints.get(key) for key in CONTRACT_ENDPOINTS},
            "replicas": [_replica_json(r) for r in self.replicas],
            "alerts": [{"name": a.name, "state": a.state} for a in self.alerts],
            "desired_replicas": self.desired_replicas,
            "revision": self.revision,
            "rollout": self.rollout.message,
            "rollout_state": str(self.rollout.state),
            "autoscaler": None if self.autoscaler is None else _autoscaler_json(self.autoscaler),
            "slis": None if self.slis is None else self.slis.__dict__,
            "dashboard_url": self.dashboard_url,
            "expires_at": self.expires_at,
            **({} if self.billing is None else {"cost": self.billing.as_json()}),
            "notifications": [
                {
                    "received_at": n.received_at,
                    "status": n.status,
                    "alerts": list(n.alerts),
                    "delivered_to": n.delivered_to,
                    "error": n.error or None,
                }
                for n in self.notifications
            ],
        }


def _replica_json(replica: ReplicaStatus) -> dict[str, Any]:
    return {
        "name": replica.name,
        "version": replica.version,
        "ready": replica.ready,
        "faults": None if replica.faults is None else replica.faults.model_dump(),
        **replica.extra,
        "restarts": replica.restarts,
    }


def _autoscaler_json(autoscaler: AutoscalerStatus) -> dict[str, Any]:
    return {
        "current": autoscaler.current,
        "desired": autoscaler.desired,
        "min_replicas": autoscaler.min_replicas,
        "max_replicas": autoscaler.max_replicas,
        "utilization": dict(autoscaler.utilization),
        "targets": dict(autoscaler.targets),
        "last_event": autoscaler.last_event,
        "last_event_reason": autoscaler.last_event_reason,
    }
