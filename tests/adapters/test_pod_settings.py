"""What the local platform takes from the shipped Deployment, at a time scale."""

from __future__ import annotations

import pytest

from sreshow.adapters.local.deployment import pod_settings
from sreshow.adapters.local.monitoring import MONITORING_DIR
from sreshow.adapters.manifests import monitoring_files
from sreshow.core.durations import parse_duration
from sreshow.core.probes import liveness_scale
from sreshow.core.timescale import scale_monitoring


@pytest.mark.parametrize(
    ("time_scale", "alert_for", "expected"),
    [
        (1.0, 30, 1.0),  # real time: nothing changes
        (0.1, 30, 1 / 3),  # `for: 30s` is held at 10 s, not 3 s: the probe slows as much
        (0.5, 30, 0.5),  # 15 s: no floor reached, the time scale itself
        (0.1, 300, 0.1),  # 30 s: above the floor
        (0.1, 5, 1.0),  # a `for:` under the floor is left as written (timescale.py)
    ],
)
def test_liveness_runs_as_slow_as_the_alert_watching_it(
    time_scale: float, alert_for: float, expected: float
) -> None:
    assert liveness_scale(time_scale, alert_for) == pytest.approx(expected)


def health_check_failing_for(time_scale: float) -> float:
    """HealthCheckFailing's `for:` in seconds in the rules the local Prometheus loads."""
    files = scale_monitoring(monitoring_files(MONITORING_DIR), time_scale).files
    rules = files["prometheus/rules/sre-app-alerts.rules.yml"]
    block = rules.split("alert: HealthCheckFailing", 1)[1]
    return parse_duration(block.split("for:", 1)[1].split()[0]) / 1000


@pytest.mark.parametrize("time_scale", [1.0, 0.5, 0.1, 0.05])
def test_the_pod_is_restarted_only_after_health_check_failing_has_had_its_for(
    time_scale: float,
) -> None:
    # The Deployment's promise: the alert fires (its `for:` after the first failed probe)
    # before the kubelet restarts the pod (failureThreshold periods of failed probes).
    settings = pod_settings(time_scale)
    assert settings.liveness.failing_for >= 2 * health_check_failing_for(time_scale)


def test_the_shipped_pod_at_time_scale_a_tenth() -> None:
    settings = pod_settings(0.1)
    assert settings.readiness.path == "/ready"
    assert settings.readiness.period == pytest.approx(0.5)  # 5 s, scaled
    assert settings.readiness.failure_threshold == 2
    assert settings.liveness.path == "/health"
    assert settings.liveness.period == pytest.approx(10 / 3)
    assert settings.liveness.failure_threshold == 6
    assert settings.liveness.timeout == 2  # real time
    assert settings.real_liveness.period == 10
    assert settings.requests == {"cpu": 100, "memory": 128 * 2**20 * 1000}
    assert settings.progress_deadline == pytest.approx(12)
