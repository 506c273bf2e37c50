"""What the local platform takes from the shipped Deployment and alert rules: the pod's
probes, requests and deadlines, at the stack's time scale.

The supervisor plays the kubelet and the Deployment controller with these settings,
so `local` behaves as `manifests/app/deployment.yaml` says a cluster would.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from sreshow.adapters.manifests import MANIFESTS_DIR, load_manifest, monitoring_files
from sreshow.core.durations import parse_duration
from sreshow.core.probes import ProbeSpec, probe_spec
from sreshow.core.quantity import milli_value
from sreshow.core.timescale import MIN_FOR_MS

DEPLOYMENT_FILE = MANIFESTS_DIR / "app" / "deployment.yaml"
# The alert that watches the liveness endpoint: it must fire before the kubelet restarts.
LIVENESS_ALERT = "HealthCheckFailing"
# Probing a replica every tick of a 0.25 s loop would be load, not a probe.
MIN_READINESS_PERIOD_SECONDS = 0.5


@dataclass(frozen=True)
class PodSettings:
    """The app container's settings, scaled to the stack's clocks."""

    readiness: ProbeSpec
    liveness: ProbeSpec
    requests: dict[str, int]  # milli-units, as the autoscaler counts them
    progress_deadline: float
    real_readiness: ProbeSpec  # as written, for what real time would probe
    real_liveness: ProbeSpec


def pod_settings(time_scale: float) -> PodSettings:
    """The shipped Deployment's probes, requests and progress deadline at `time_scale`.

    Probe periods are scaled like every other clock. The liveness probe is slowed as much
    as the `for:` of HealthCheckFailing is held back by its floor (30 s would be 3 s at
    time scale 0.1; it is 10 s): on a cluster the alert fires before the kubelet
    restarts the pod, and so it does here.
    """
    deployment = load_manifest(DEPLOYMENT_FILE, "Deployment")
    spec = deployment.get("spec") or {}
    container = spec["template"]["spec"]["containers"][0]
    readiness = probe_spec(container.get("readinessProbe") or {"httpGet": {"path": "/ready"}})
    liveness = probe_spec(container.get("livenessProbe") or {"httpGet": {"path": "/health"}})
    requests = (container.get("resources") or {}).get("requests") or {}
    return PodSettings(
        readiness=readiness.scaled(time_scale, min_period=MIN_READINESS_PERIOD_SECONDS),
        liveness=liveness.scaled(liveness_scale(time_scale, _alert_for_seconds(LIVENESS_ALERT))),
        requests={name: milli_value(str(value)) for name, value in requests.items()},
        progress_deadline=float(spec.get("progressDeadlineSeconds", 600)) * time_scale,
        real_readiness=readiness,
        real_liveness=liveness,
    )


def liveness_scale(time_scale: float, alert_for_seconds: float) -> float:
    """The factor for the liveness probe's clock: the time scale, or the factor the
    alert's `for:` really gets once its floor applies, whichever is slower."""
    if alert_for_seconds <= 0:
        return time_scale
    real_ms = alert_for_seconds * 1000
    scaled_ms = max(real_ms * time_scale, MIN_FOR_MS) if real_ms >= MIN_FOR_MS else real_ms
    return max(time_scale, scaled_ms / real_ms)


def _alert_for_seconds(alert: str) -> float:
    """The `for:` of alerting rule `alert` in the shipped rule files (0 if none)."""
    for name, text in monitoring_files(MANIFESTS_DIR / "monitoring").items():
        if not name.endswith(".rules.yml"):
            continue
        for group in (yaml.safe_load(text) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if rule.get("alert") == alert:
                    return parse_duration(str(rule.get("for", "0s"))) / 1000
    return 0.0
