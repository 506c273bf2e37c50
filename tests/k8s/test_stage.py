"""On stage on a real cluster (the test node, time scale 0.1), as a user runs it:
`doctor` on the kubernetes platform, the `config` RTO drill (the Deployment scaled to
zero, PodsDown, the manifests' replicas restored), `--level full` refused there, and a
short tour run unattended by `walkthrough --auto` to its scorecard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.k8s.node import KubeStack, Node, running_stack

pytestmark = pytest.mark.k8s

TIME_SCALE = 0.1
# A drill or a two-step tour takes about a minute on the node; their waits' bounds
# (scaled, plus the platform's unscaled 45 s each) add up to less than this.
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def stack(k8s_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeStack]:
    with running_stack(k8s_node, tmp_path_factory.mktemp("k8s-stage"), TIME_SCALE) as stack:
        yield stack


def ready_replicas(stack: KubeStack) -> list[bool]:
    result = stack.sreshow("status", "--json")
    assert result.returncode == 0, result.stderr
    status: dict[str, Any] = json.loads(result.stdout)
    return [replica["ready"] for replica in status["replicas"]]


def test_doctor_finds_the_cluster_ready(stack: KubeStack) -> None:
    result = stack.sreshow("doctor", "--json")
    lines = {line["check"]: line for line in json.loads(result.stdout)}
    assert result.returncode == 0, lines
    assert lines["stack"]["detail"].startswith("kubernetes stack up: 2/2 replicas ready")
    assert lines["time scale"]["detail"].startswith("0.1:")
    for check in ("kubeconfig", "context", "cluster", "credentials", "tour"):
        assert lines[check]["ok"], lines[check]


def test_config_drill_restores_the_deployment(stack: KubeStack, tmp_path: Path) -> None:
    result = stack.sreshow(
        "rto-drill", "--level", "config", "--report", str(tmp_path), timeout=RUN_TIMEOUT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert journal["platform"] == "kubernetes"
    phases = {phase["phase"]: phase for phase in journal["drill"]["phases"]}
    assert phases["detect"]["what"] == "PodsDown fired"
    assert phases["respond"]["what"] == "scaled to 2 replicas"
    assert phases["restore"]["ended_s"] is not None
    assert journal["drill"]["passed"] is True
    assert ready_replicas(stack) == [True, True]


def test_full_drill_is_refused_on_a_shared_cluster(stack: KubeStack) -> None:
    result = stack.sreshow("rto-drill", "--level", "full", "--yes")
    assert result.returncode == 2
    assert "use --level app or --level config there" in result.stderr
    assert ready_replicas(stack) == [True, True]


def test_walkthrough_auto_runs_a_tour_to_its_scorecard(stack: KubeStack, tmp_path: Path) -> None:
    tour = tmp_path / "short.yaml"
    tour.write_text(
        "name: short\ntitle: Short\nsummary: A baseline and a killed pod\nauto_pause: 1s\n"
        "steps:\n"
        "  - title: Baseline\n    cue: Normal.\n    baseline: 30s\n"
        "  - title: Kill pods\n    cue: Evictions.\n    scenario: kill-pods\n"
        "  - title: Scorecard\n    cue: The numbers.\n    scorecard: true\n"
    )
    report = tmp_path / "report"
    result = stack.sreshow(
        "walkthrough", str(tour), "--auto", "--report", str(report), timeout=RUN_TIMEOUT
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "step 2/3: Kill pods" in output  # piped: one line per step and per event
    assert "Short: 2 of 2 steps passed" in output
    scorecard = json.loads((report / "scorecard.json").read_text())
    assert scorecard["platform"] == "kubernetes"
    assert [step["scenario"] for step in scorecard["steps"]] == ["baseline", "kill-pods"]
    assert scorecard["passed"] is True
    assert ready_replicas(stack) == [True, True]
