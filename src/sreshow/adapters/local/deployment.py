"""What the local platform takes from the shipped Deployment and alert rules: the pod's
probes, requests and deadlines, at the stack's time scale.

The supervisor plays the kubelet and the Deployment controller with these settings,
so `local` behaves as `manifests/app/deployment.yaml` says a cluster would.
"""

from __future__ import annotations

from dataclasses import dataclass

from sreshow.adapters.manifests import (
    LIVENESS_ALERT,
    MANIFESTS_DIR,
    alert_for_seconds,
    load_manifest,
)
from sreshow.core.probes import ProbeSpec, liveness_scale, probe_spec
from sreshow.core.quantity import milli_value

DEPLOYMENT_FILE = MANIFESTS_DIR / "app" / "deployment.yaml"
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
        liveness=liveness.scaled(liveness_scale(time_scale, alert_for_seconds(LIVENESS_ALERT))),
        requests={name: milli_value(str(value)) for name, value in requests.items()},
        progress_deadline=float(spec.get("progressDeadlineSeconds", 600)) * time_scale,
        real_readiness=readiness,
        real_liveness=liveness,
    )
