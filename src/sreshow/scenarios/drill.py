"""The `app` and `config` RTO drills, as scenarios the runner runs like any other.

    app     a release that answers half of its requests with errors rolls out;
            HighErrorRate fires; the drill rolls back (`kubectl rollout undo`, as the
            seed's recovery procedure says) and waits until the clients see a healthy
            service again.
    config  the app's configuration is destroyed: the Deployment scaled to zero (on
            every platform; nothing else of it is lost); PodsDown fires; the drill
            restores the replica count the manifests give and waits the same way.

Both run under steady load, so the clients' view of the service (the SLI) is what says
when it is healthy again. The RTO is measured from the break, detection included:
that is the outage users had.
"""

from __future__ import annotations

from typing import Any, Literal

from sreshow.adapters.manifests import MANIFESTS_DIR, load_manifest
from sreshow.core.durations import format_duration
from sreshow.scenarios.spec import ScenarioSpec

# The seed's recovery figures: "Application Failure: rollback … RTO ~30 seconds";
# "Deploy monitoring and app (~5 minutes)"; "Complete Failure … Total RTO ~20 minutes".
DEFAULT_TARGETS = {"app": "30s", "config": "5m", "full": "20m"}
BROKEN_VERSION = "9.9.9-drill"
DRILL_RPS = 10

_STEADY_STATE: dict[str, Any] = {
    "within": "2m",
    "checks": [
        {"replicas_ready": "all"},
        {"promql": 'min(up{job="sre-app"}) == 1'},
        {"rollout": "complete"},
        {"alerts_inactive": ["HighErrorRate", "HighLatency", "PodsDown", "HealthCheckFailing"]},
    ],
}


DETECTED_BY = {"app": "HighErrorRate", "config": "PodsDown"}  # the alert each drill waits for


def drill_spec(level: Literal["app", "config"], target_s: float) -> ScenarioSpec:
    """The scenario of an `app` or `config` drill with RTO target `target_s` (real time)."""
    body = _APP if level == "app" else _config_drill(manifest_replicas())
    return ScenarioSpec.model_validate(
        {
            "name": f"rto-drill-{level}",
            "steady_state": _STEADY_STATE,
            "expectations": [{"rto_within": format_duration(round(target_s * 1000))}],
            "rollback": [{"stop_load": {}}],
            **body,
        }
    )


def manifest_replicas() -> int:
    """The replica count `manifests/app/deployment.yaml` gives the app."""
    deployment = load_manifest(MANIFESTS_DIR / "app" / "deployment.yaml", "the app's Deployment")
    return int(deployment["spec"]["replicas"])


_APP: dict[str, Any] = {
    "summary": "A bad release serves errors; detect it, roll back, measure the RTO",
    "description": (
        f"Version {BROKEN_VERSION} answers half of its requests with an error. It rolls "
        "out like any release; HighErrorRate fires; the drill rolls back and waits until "
        "the clients see a healthy service again."
    ),
    "steps": [
        {"load": {"rps": DRILL_RPS}},
        {"sleep": "10s"},
        {
            "narrate": f"Drill: releasing {BROKEN_VERSION}, which answers half of its requests "
            "with an error."
        },
        {"deploy": {"version": BROKEN_VERSION, "broken": "errors"}},
        {"wait_for_alert": {"alert": DETECTED_BY["app"], "state": "firing", "within": "4m"}},
        {"narrate": "Detected. Rolling back, as the runbook says."},
        {"rollback": {}},
        {"wait_for": {"rollout": "complete", "within": "2m"}},
        {"wait_for": {"service": "healthy", "within": "2m"}},
    ],
}


def _config_drill(replicas: int) -> dict[str, Any]:
    return {
        "summary": "The app's configuration is destroyed; restore it from the manifests, "
        "measure the RTO",
        "description": (
            "The Deployment is scaled to zero: every request fails at the Service. PodsDown "
            f"fires; the drill restores the manifests' {replicas} replicas and waits until "
            "the clients see a healthy service again."
        ),
        "steps": [
            {"load": {"rps": DRILL_RPS}},
            {"sleep": "10s"},
            {"narrate": "Drill: the app's Deployment scaled to zero."},
            {"scale": {"replicas": 0}},
            {"wait_for_alert": {"alert": DETECTED_BY["config"], "state": "firing", "within": "5m"}},
            {"narrate": f"Detected. Restoring the manifests' {replicas} replicas."},
            {"scale": {"replicas": replicas}},
            {"wait_for": {"replicas_ready": "all", "within": "2m"}},
            {"wait_for": {"service": "healthy", "within": "2m"}},
        ],
    }
