"""Alerts on the real local stack at time scale 0.1: PodsDown (scaled to zero through the
supervisor) and HealthCheckFailing (one replica's /health failing), each pending, then
firing in Prometheus and Alertmanager within the scaled bound, then resolved.

Bounds come from the scaled files (see test_local_monitoring.Clocks), plus the time the
local Prometheus takes to apply a target change (file discovery)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest

from sreshow.adapters.local.monitoring import (
    MONITORING_DIR,
    TARGET_CHANGES_APPLIED_WITHIN_SECONDS,
)
from sreshow.adapters.manifests import monitoring_files
from sreshow.core.timescale import scale_monitoring
from tests.integration.localstack import LocalStack, running_stack, wait_until
from tests.integration.test_local_monitoring import Clocks, scaled_clocks

pytestmark = pytest.mark.integration

TIME_SCALE = 0.1
CLOCKS: Clocks = scaled_clocks(scale_monitoring(monitoring_files(MONITORING_DIR), TIME_SCALE).files)
SLACK = 5.0  # seconds: process start-up, the CLI's own latency, a loaded CI machine


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("alerts")) as stack:
        yield stack


@pytest.fixture
def restored(stack: LocalStack) -> Iterator[LocalStack]:
    """The test's stack; afterwards back to two ready replicas without faults."""
    yield stack
    for replica in stack.state()["replicas"]:
        with contextlib.suppress(httpx.TransportError, AssertionError):
            stack.clear_faults(replica["url"])
    stack.command("POST", "/scale", {"replicas": 2})
    wait_until(
        lambda: sum(r["ready"] for r in stack.state()["replicas"]) == 2,
        within=20,
        waiting_for="two ready replicas again",
    )


def ready_replicas(stack: LocalStack) -> list[dict[str, object]]:
    return [r for r in stack.status()["replicas"] if r["ready"]]


def alert_state(stack: LocalStack, name: str) -> str:
    states: dict[str, str] = {a["name"]: a["state"] for a in stack.status()["alerts"]}
    return states[name]


def steady(stack: LocalStack, alert: str) -> None:
    """The steady state: `alert` inactive (a stack just up is pending PodsDown until
    Prometheus's first scrape of the replicas)."""
    wait_until(
        lambda: alert_state(stack, alert) == "inactive",
        within=TARGET_CHANGES_APPLIED_WITHIN_SECONDS + 2 * CLOCKS.cycle + SLACK,
        waiting_for=f"{alert} inactive before the test",
    )


def test_scaled_to_zero_pods_down_fires_notifies_and_resolves(restored: LocalStack) -> None:
    stack = restored
    steady(stack, "PodsDown")
    before = len(stack.events("replica_stopped"))

    stack.command("POST", "/scale", {"replicas": 0})
    wait_until(
        lambda: stack.state()["replicas"] == [],
        within=10,
        waiting_for="the supervisor to stop every replica",
    )
    wait_until(
        lambda: len(stack.events("replica_stopped")) >= before + 2,
        within=10,
        waiting_for="both replicas stopped",
    )
    # No target at all: `absent()` holds once Prometheus drops the targets.
    firing_within = TARGET_CHANGES_APPLIED_WITHIN_SECONDS + CLOCKS.firing_within("PodsDown")
    alert, seen = stack.wait_for_alert(
        "PodsDown", "firing", within=firing_within + SLACK, where=lambda _: True
    )
    assert "pending" in seen, f"PodsDown went to firing without being pending: {seen}"
    assert alert["labels"]["severity"] == "critical"
    wait_until(
        lambda: stack.alertmanager_alerts("PodsDown"),
        within=2 * CLOCKS.cycle + SLACK,
        waiting_for="PodsDown active in Alertmanager",
    )
    fired = stack.notification(
        "PodsDown", "firing", within=CLOCKS.group_wait + 2 * CLOCKS.cycle + SLACK
    )
    assert alert_state(stack, "PodsDown") == "firing"

    stack.command("POST", "/scale", {"replicas": 2})
    wait_until(
        lambda: len(ready_replicas(stack)) == 2,
        within=20,
        waiting_for="two ready replicas after scaling back",
    )
    wait_until(
        lambda: not stack.prometheus_alerts("PodsDown"),
        within=TARGET_CHANGES_APPLIED_WITHIN_SECONDS + 2 * CLOCKS.cycle + SLACK,
        waiting_for="PodsDown inactive in Prometheus",
    )
    wait_until(
        lambda: not stack.alertmanager_alerts("PodsDown"),
        within=2 * CLOCKS.cycle + SLACK,
        waiting_for="PodsDown resolved in Alertmanager",
    )
    assert alert_state(stack, "PodsDown") == "inactive"
    # The group sends its next message (the resolved one) one group_interval later.
    resolved = stack.notification(
        "PodsDown", "resolved", within=CLOCKS.group_interval + 2 * CLOCKS.cycle + SLACK
    )
    assert resolved["received_at"] > fired["received_at"]


def test_one_unhealthy_replica_fires_health_check_failing_for_that_pod(
    restored: LocalStack,
) -> None:
    stack = restored
    replicas = stack.status()["replicas"]
    assert len(replicas) == 2
    victim, other = replicas
    steady(stack, "HealthCheckFailing")

    stack.patch_faults(victim["url"], {"unhealthy": True})
    alert, seen = stack.wait_for_alert(
        "HealthCheckFailing",
        "firing",
        within=CLOCKS.firing_within("HealthCheckFailing") + SLACK,
        where=lambda a: a["labels"].get("pod") == victim["name"],
    )
    assert "pending" in seen, f"went to firing without being pending: {seen}"
    assert alert["labels"]["namespace"] == "sre-app"
    assert victim["name"] in alert["annotations"]["summary"]
    alert_name = "HealthCheckFailing"
    assert all(a["labels"].get("pod") != other["name"] for a in stack.prometheus_alerts(alert_name))
    firing = wait_until(
        lambda: stack.alertmanager_alerts(alert_name),
        within=2 * CLOCKS.cycle + SLACK,
        waiting_for="HealthCheckFailing active in Alertmanager",
    )
    assert [a["labels"]["pod"] for a in firing] == [victim["name"]]
    assert alert_state(stack, alert_name) == "firing"

    stack.clear_faults(victim["url"])
    wait_until(
        lambda: not stack.prometheus_alerts(alert_name),
        within=3 * CLOCKS.cycle + SLACK,
        waiting_for="HealthCheckFailing inactive in Prometheus",
    )
    wait_until(
        lambda: not stack.alertmanager_alerts(alert_name),
        within=2 * CLOCKS.cycle + SLACK,
        waiting_for="HealthCheckFailing resolved in Alertmanager",
    )
    assert alert_state(stack, alert_name) == "inactive"
