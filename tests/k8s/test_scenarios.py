"""Every shipped scenario on the test node at time scale 0.1, back to back, run as a user
runs it (`sreshow scenario run NAME --auto`): the same checks as on the local stack
(tests/scenario_checks.py) — alerts really firing, notified through the cluster's
notification sink and resolving, the real HPA scaling on metrics-server's CPU — and the
stack left as it was found."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sreshow.adapters.kubernetes.render import APP_NAME, render
from sreshow.core.hpa import ControllerConfig
from sreshow.core.hpa_manifest import spec_from_manifest
from tests.contract.subjects import KubernetesSubject
from tests.k8s.node import KubeStack, Node, node_settings, running_stack
from tests.scale_in import scale_in_seconds
from tests.scenario_checks import SHIPPED, assert_passed_end_to_end, kinds

pytestmark = pytest.mark.k8s

TIME_SCALE = 0.1
# The slowest shipped scenario takes about a minute and a half on the node; its waits'
# bounds (scaled, at least 10 s each) add up to less than this.
SCENARIO_TIMEOUT = 300


@pytest.fixture(scope="module")
def stack(k8s_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeStack]:
    with running_stack(k8s_node, tmp_path_factory.mktemp("k8s-scenarios"), TIME_SCALE) as stack:
        yield stack


def run_scenario(stack: KubeStack, report: Path, name: str) -> tuple[int, str, dict[str, Any]]:
    """`sreshow scenario run NAME --auto --report REPORT`: exit code, output, journal."""
    result = stack.sreshow(
        "scenario", "run", name, "--auto", "--report", str(report), timeout=SCENARIO_TIMEOUT
    )
    journal_file = report / "journal.json"
    journal = json.loads(journal_file.read_text()) if journal_file.exists() else {}
    return result.returncode, result.stdout + result.stderr, journal


def status(stack: KubeStack) -> dict[str, Any]:
    result = stack.sreshow("status", "--json")
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def wait_for_scale_in(stack: KubeStack, peak: int, to: int) -> None:
    """The HPA brings `peak` replicas back to `to` by itself. Its CPU falls once
    metrics-server has scraped twice since the load stopped and the HPA has synced; from
    there the HPA's rules (manifests/app/hpa.yaml, scaled) play out as
    `scale_in_seconds` works out at the node's sync period, with memory one whole percent
    above its use now (utilisation is truncated to whole percents); one more sync to see
    the last. 25% on top for a busy machine."""
    hpa = spec_from_manifest(render(TIME_SCALE).find("HorizontalPodAutoscaler", APP_NAME))
    node = node_settings()
    sync = node.HPA_SYNC_SECONDS
    memory = (status(stack)["autoscaler"]["utilization"]["memory"] or 0) + 1
    rules = scale_in_seconds(
        hpa, peak, to, memory_percent=memory, sync=sync, config=ControllerConfig()
    )
    within = 1.25 * (2 * node.METRIC_RESOLUTION_SECONDS + sync + rules + sync)
    deadline = time.monotonic() + within
    while (desired := status(stack)["desired_replicas"]) != to:
        assert time.monotonic() < deadline, (
            f"the HPA did not scale {peak} replicas in to {to} within {within:.0f} s "
            f"(desired {desired})"
        )
        time.sleep(2)


def assert_left_as_found(stack: KubeStack, journal: dict[str, Any]) -> None:
    """No fault on any pod, two replicas wanted, revision 1 rolled out. Replicas the run
    left to the HPA (the journal says so) are waited for: it scales them in."""
    for left in kinds(journal, "left_to_autoscaler"):
        wait_for_scale_in(stack, left["replicas"], to=left["to"])
    state = status(stack)
    assert state["desired_replicas"] == 2, state
    assert state["revision"] == 1, state
    subject = KubernetesSubject(stack)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KUBECONFIG", str(stack.node.kubeconfig))
        platform = subject.connect()
    with platform:
        for replica in platform.snapshot().replicas:
            faults = subject.faults(platform, replica.name)
            assert faults.error_rate == 0, (replica.name, faults)
            assert faults.latency_seconds == 0, (replica.name, faults)
            assert faults.unhealthy is False, (replica.name, faults)


@pytest.mark.timeout(SCENARIO_TIMEOUT + 180)
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_scenario_passes_on_the_node(stack: KubeStack, tmp_path: Path, name: str) -> None:
    code, output, journal = run_scenario(stack, tmp_path, name)

    assert_passed_end_to_end(name, code, output, journal, time_scale=TIME_SCALE)
    if name == "spike-load":  # the real HPA's decisions, on metrics-server's CPU
        scaled = kinds(journal, "autoscaled")
        assert scaled, output
        assert max(e["desired"] for e in scaled) >= 4, scaled
    assert_left_as_found(stack, journal)
