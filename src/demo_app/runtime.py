"""The mutable state of one running instance, shared by its routes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi import Request

from demo_app.config import AppConfig, Broken
from demo_app.faults import FaultState, RateGate
from demo_app.metrics import AppMetrics

BROKEN_RELEASE_ERROR_RATE = 0.5


@dataclass
class AppRuntime:
    """Configuration, faults, metrics and the draining flag of one instance."""

    config: AppConfig
    metrics: AppMetrics
    faults: FaultState = field(default_factory=FaultState)
    started_at: float = field(default_factory=time.monotonic)
    draining: bool = False
    flaky_gate: RateGate = field(init=False)
    release_gate: RateGate = field(init=False)

    def __post_init__(self) -> None:
        self.flaky_gate = RateGate(self.config.flaky_rate)
        broken_errors = self.config.broken is Broken.ERRORS
        self.release_gate = RateGate(BROKEN_RELEASE_ERROR_RATE if broken_errors else 0.0)

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_at

    def not_ready_reason(self) -> str | None:
        """Why /ready fails, or None when the instance takes traffic."""
        if self.draining:
            return "draining: shutting down"
        if self.config.broken is Broken.UNREADY:
            return "broken release: never ready"
        if self.faults.current.unready:
            return "injected fault: unready"
        return None

    def begin_drain(self) -> None:
        """Stop passing /ready so load balancers take this instance out."""
        self.draining = True


async def runtime_of(request: Request) -> AppRuntime:
    """The runtime of the app serving `request` (a FastAPI dependency).

    `async` on purpose: FastAPI runs a plain `def` dependency in a thread pool, which
    costs a thread hand-off per request (measured: a third of the throughput).
    """
    runtime: AppRuntime = request.app.state.runtime
    return runtime
