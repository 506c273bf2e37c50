"""`sreshow rto-drill` on a real local stack at time scale 0.1, run as a user runs it
(output piped): the `app` and `config` drills break the service, detect it by their
alert, restore it and measure the RTO; `full` tears the stack down and rebuilds it.

Bounds come from the scaled files (test_local_monitoring.Clocks): a drill cannot
detect sooner than its alert's `for:` and should not take longer than the rule's
window, its `for:` and two scrape-and-evaluate cycles, plus `SLACK`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sreshow.adapters.local.monitoring import (
    MONITORING_DIR,
    TARGET_CHANGES_APPLIED_WITHIN_SECONDS,
)
from sreshow.adapters.manifests import monitoring_files
from sreshow.core.timescale import scale_monitoring
from tests.integration.localstack import LocalStack, running_stack, sreshow
from tests.integration.test_local_monitoring import Clocks, scaled_clocks

pytestmark = pytest.mark.integration

TIME_SCALE = 0.1
CLOCKS: Clocks = scaled_clocks(scale_monitoring(monitoring_files(MONITORING_DIR), TIME_SCALE).files)
SLACK = 5.0  # seconds: a rollout's first replica, the CLI's polling, a loaded CI machine
DRILL_TIMEOUT = 150  # seconds; a drill takes about half a minute here


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("drill")) as stack:
        yield stack


def drill(stack: LocalStack, report: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    """`sreshow rto-drill ARGS --report REPORT`: exit code, output, journal."""
    result = sreshow(
        stack.state_dir, "rto-drill", *args, "--report", str(report), timeout=DRILL_TIMEOUT
    )
    journal_file = report / "journal.json"
    journal = json.loads(journal_file.read_text()) if journal_file.exists() else {}
    return result.returncode, result.stdout + result.stderr, journal


def phases(journal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {phase["phase"]: phase for phase in journal["drill"]["phases"]}


def assert_left_as_found(stack: LocalStack) -> None:
    state = stack.state()
    assert state["rollout"] == "complete", state["rollout"]
    replicas = state["replicas"]
    assert len(replicas) == 2
    assert all(r["ready"] and r["version"] == "1.0.0" for r in replicas), replicas


def test_app_drill_rolls_back_a_bad_release_and_measures_the_rto(
    stack: LocalStack, tmp_path: Path
) -> None:
    code, output, journal = drill(stack, tmp_path, "--level", "app", "--target", "10m")
    assert code == 0, output
    assert journal["scenario"] == "rto-drill-app"
    assert journal["verdict"] == "passed"
    measured = phases(journal)
    assert list(measured) == ["detect", "respond", "restore"]
    assert measured["detect"]["what"] == "HighErrorRate fired"
    detect = measured["detect"]["duration_s"]
    assert CLOCKS.hold("HighErrorRate") <= detect <= CLOCKS.firing_within("HighErrorRate") + SLACK
    assert measured["respond"]["what"] == "rolled back to revision 1"
    rto = journal["metrics"]["rto_s"]
    assert journal["drill"]["rto_s"] == rto
    assert sum(phase["duration_s"] for phase in measured.values()) == pytest.approx(rto, abs=0.01)
    assert "RTO drill: where the time went" in output
    assert "met the target of 10m (1m at time scale 0.1)" in output
    assert_left_as_found(stack)


def test_config_drill_restores_the_manifests_replicas(stack: LocalStack, tmp_path: Path) -> None:
    code, output, journal = drill(stack, tmp_path, "--level", "config")
    assert code == 0, output
    assert journal["drill"]["target_s"] == 300  # the seed's "deploy monitoring and app"
    measured = phases(journal)
    assert measured["detect"]["what"] == "PodsDown fired"
    detect = measured["detect"]["duration_s"]
    # PodsDown follows a target change, which the local Prometheus applies within its bound.
    latest = CLOCKS.firing_within("PodsDown") + TARGET_CHANGES_APPLIED_WITHIN_SECONDS + SLACK
    assert CLOCKS.hold("PodsDown") <= detect <= latest
    assert measured["respond"]["what"] == "scaled to 2 replicas"
    assert measured["restore"]["ended_s"] is not None
    assert_left_as_found(stack)


def test_an_unmeetable_target_fails_naming_the_slow_phase(
    stack: LocalStack, tmp_path: Path
) -> None:
    code, output, journal = drill(stack, tmp_path, "--level", "config", "--target", "1s")
    assert code == 1, output
    assert journal["verdict"] == "failed"
    assert journal["drill"]["passed"] is False
    # No alert fires within 1 s x 0.1: detection alone is longer than the target.
    assert journal["drill"]["slowest_phase"] == "detect"
    assert "missed the target of 1 s (0.1 s at time scale 0.1); slowest phase: detect" in " ".join(
        output.split()
    )
    assert_left_as_found(stack)


def test_full_drill_asks_first_then_rebuilds_the_stack(stack: LocalStack, tmp_path: Path) -> None:
    supervisor = stack.state()["supervisor_pid"]
    refused = sreshow(stack.state_dir, "rto-drill", "--level", "full")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "pass --yes" in refused.stderr
    assert stack.state()["supervisor_pid"] == supervisor  # nothing was touched

    code, output, journal = drill(stack, tmp_path, "--level", "full", "--yes")
    assert code == 0, output
    measured = phases(journal)
    assert list(measured) == ["teardown", "rebuild", "verify"]
    assert all(phase["ended_s"] is not None for phase in measured.values())
    assert journal["metrics"]["rto_s"] == pytest.approx(measured["verify"]["ended_s"], abs=0.01)
    assert journal["drill"]["target_s"] == 1200  # the seed's "Total RTO: ~20 minutes"
    assert stack.state()["supervisor_pid"] != supervisor  # a new stack
    status = json.loads(sreshow(stack.state_dir, "status", "--json").stdout)
    assert status["time_scale"] == TIME_SCALE
    assert [r["ready"] for r in status["replicas"]] == [True, True]
