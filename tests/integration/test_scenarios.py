"""Every shipped scenario end to end on one real local stack at time scale 0.1, run as a
user runs it (`sreshow scenario run NAME --auto`, output piped): exit 0, a passed
verdict in its journal, its expected alerts really firing and resolving, and the stack
left as it was found — no fault on any replica, the replica count and the revision
restored. The scenarios run back to back, as a game day does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.localstack import LocalStack, running_stack, sreshow, wait_for_scale_in
from tests.scenario_checks import SHIPPED, assert_passed_end_to_end, kinds

pytestmark = pytest.mark.integration

SCENARIO_TIMEOUT = 150  # seconds; the slowest shipped scenario takes about a minute here


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("scenarios")) as stack:
        yield stack


def run_scenario(
    stack: LocalStack, report: Path, *args: str, timeout: float = SCENARIO_TIMEOUT
) -> tuple[int, str, dict[str, Any]]:
    """`sreshow scenario run ARGS --auto --report REPORT`: exit code, output, journal."""
    result = sreshow(
        stack.state_dir,
        "scenario",
        "run",
        *args,
        "--auto",
        "--report",
        str(report),
        timeout=timeout,
    )
    journal_file = report / "journal.json"
    journal = json.loads(journal_file.read_text()) if journal_file.exists() else {}
    return result.returncode, result.stdout + result.stderr, journal


def assert_left_as_found(stack: LocalStack, journal: dict[str, Any]) -> None:
    """No fault on any replica, two replicas wanted, revision 1 rolled out. Replicas the
    run left to the autoscaler (`journal` says so) are waited for: it scales them in."""
    for left in kinds(journal, "left_to_autoscaler"):
        wait_for_scale_in(stack, left["replicas"], to=left["to"])
    state = stack.state()
    assert state["desired_replicas"] == 2, state
    assert state["revision"] == 1, state
    for replica in state["replicas"]:
        faults = stack.http.get(f"{replica['url']}/admin/faults", headers=stack._auth()).json()
        assert faults["error_rate"] == 0, (replica["name"], faults)
        assert faults["latency_seconds"] == 0, (replica["name"], faults)
        assert faults["unhealthy"] is False, (replica["name"], faults)


@pytest.mark.timeout(SCENARIO_TIMEOUT + 60)
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_scenario_passes_end_to_end(stack: LocalStack, tmp_path: Path, name: str) -> None:
    code, output, journal = run_scenario(stack, tmp_path, name)

    assert_passed_end_to_end(name, code, output, journal, time_scale=0.1)
    token = (stack.root / "admin-token").read_text().strip()
    assert token not in output
    assert token not in (tmp_path / "journal.json").read_text()
    assert_left_as_found(stack, journal)
