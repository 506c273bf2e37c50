"""The kubelet's probe rules as pure logic: when to probe, when a container is ready,
when it must be restarted.

A probe runs every `period`. Readiness turns false after `failure_threshold` failures
in a row and true again after `success_threshold` successes in a row; a liveness probe
that fails `failure_threshold` times in a row has the container restarted. Defaults
are Kubernetes' (period 10 s, timeout 1 s, failure threshold 3, success threshold 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sreshow.core.timescale import MIN_FOR_MS


@dataclass(frozen=True)
class ProbeSpec:
    """One probe of a container (`readinessProbe`, `livenessProbe`), times in seconds."""

    path: str
    period: float = 10.0
    timeout: float = 1.0
    failure_threshold: int = 3
    success_threshold: int = 1
    initial_delay: float = 0.0

    def scaled(self, factor: float, *, min_period: float = 0.0) -> ProbeSpec:
        """Period and initial delay times `factor` (a probe's timeout is real time)."""
        return replace(
            self,
            period=max(self.period * factor, min_period),
            initial_delay=self.initial_delay * factor,
        )

    @property
    def failing_for(self) -> float:
        """How long a probe fails before it counts: `failure_threshold` periods."""
        return self.period * self.failure_threshold


def probe_spec(probe: Mapping[str, Any]) -> ProbeSpec:
    """A container's probe object (parsed YAML) with Kubernetes' defaults filled in."""
    http = probe.get("httpGet") or {}
    return ProbeSpec(
        path=str(http.get("path", "/")),
        period=float(probe.get("periodSeconds", 10)),
        timeout=float(probe.get("timeoutSeconds", 1)),
        failure_threshold=int(probe.get("failureThreshold", 3)),
        success_threshold=int(probe.get("successThreshold", 1)),
        initial_delay=float(probe.get("initialDelaySeconds", 0)),
    )


@dataclass
class ProbeState:
    """One container's probe: its verdict and the answers in a row behind it."""

    passing: bool
    successes: int = 0
    failures: int = 0
    next_at: float = 0.0  # when the next probe is due (same clock as `now`)

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def record(self, spec: ProbeSpec, ok: bool, now: float) -> bool:
        """Note one answer (and schedule the next probe); whether `passing` changed."""
        self.next_at = now + spec.period
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if not self.passing and self.successes >= spec.success_threshold:
                self.passing = True
                return True
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.passing and self.failures >= spec.failure_threshold:
                self.passing = False
                return True
        return False


def liveness_scale(time_scale: float, alert_for_seconds: float) -> float:
    """The factor for the liveness probe's clock: the time scale, or the factor the
    `for:` of the alert watching liveness really gets once its floor applies, whichever
    is slower (the alert must fire before the kubelet restarts the container)."""
    if alert_for_seconds <= 0:
        return time_scale
    real_ms = alert_for_seconds * 1000
    scaled_ms = max(real_ms * time_scale, MIN_FOR_MS) if real_ms >= MIN_FOR_MS else real_ms
    return max(time_scale, scaled_ms / real_ms)
