"""A scenario run stopped by Ctrl-C (SIGINT) or SIGTERM at several points, on a real
local stack: it ends with exit 130 after cleaning up — no fault left on any replica, no
load, the replica count and the revision restored — also when a second Ctrl-C arrives
during the cleanup, and when the only one arrives during the final cleanup (then the
verdict is judged as usual and kept). And a scenario whose expectation cannot be met
ends with exit 1 and names it."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.localstack import LocalStack, running_stack, stack_processes, wait_until
from tests.integration.test_scenarios import assert_left_as_found, run_scenario

pytestmark = pytest.mark.integration

SRESHOW = (sys.executable, "-m", "sreshow")


def assert_restored(stack: LocalStack, journal: dict[str, Any]) -> None:
    """Left as found, and back to two ready replicas of a complete rollout."""
    assert_left_as_found(stack, journal)
    wait_until(
        lambda: (
            stack.state()["rollout"] == "complete"
            and sum(r["ready"] for r in stack.state()["replicas"]) == 2
        ),
        within=30,
        waiting_for="two ready replicas after the cleanup",
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("interrupts")) as stack:
        yield stack


class ScenarioProcess:
    """`sreshow scenario run NAME --auto` in the background, its output line by line."""

    def __init__(self, stack: LocalStack, report: Path, name: str) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [*SRESHOW, "scenario", "run", name, "--auto", "--report", str(report)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "SRESHOW_STATE_DIR": str(stack.state_dir)},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def close(self) -> None:
        """Kill it if it still runs; close its output."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for_line(self, text: str, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.output.append(line)
            if text in line:
                return
        raise AssertionError(f"no line with {text!r} within {within} s:\n{''.join(self.output)}")

    def finish(self, within: float = 90) -> int:
        code = self.process.wait(timeout=within)
        time.sleep(0.2)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return code


def interrupt(
    stack: LocalStack,
    tmp_path: Path,
    name: str,
    at: str,
    signals: tuple[int, ...] = (signal.SIGINT,),
) -> tuple[str, dict[str, Any]]:
    run = ScenarioProcess(stack, tmp_path, name)
    try:
        run.wait_for_line(at)
        run.process.send_signal(signals[0])
        for again in signals[1:]:
            run.wait_for_line("rollback block", within=30)
            run.process.send_signal(again)
        code = run.finish()
    finally:
        run.close()
    output = "".join(run.output)
    assert code == 130, output
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert journal["interrupted"] is True, output
    assert journal["verdict"] == "failed"
    assert_restored(stack, journal)
    return output, journal


@pytest.mark.parametrize(
    "at",
    ["load started", "fault injected", "alert HighErrorRate pending"],
    ids=["before-the-fault", "after-the-fault", "waiting-for-the-alert"],
)
def test_ctrl_c_during_a_run_cleans_up_and_exits_130(
    stack: LocalStack, tmp_path: Path, at: str
) -> None:
    output, journal = interrupt(stack, tmp_path, "high-error-rate", at)

    assert "interrupted" in output
    rollback_steps = [
        e["step"]
        for e in journal["events"]
        if e["kind"] == "step_started" and e["phase"] == "rollback"
    ]
    assert not [step for step in rollback_steps if "wait" in step], "waits ran after Ctrl-C"


def test_ctrl_c_after_a_bad_release_rolls_back_to_the_first_revision(
    stack: LocalStack, tmp_path: Path
) -> None:
    _, journal = interrupt(stack, tmp_path, "rollback", "deployed version 2.0.0")

    assert any(e["kind"] == "rolled_back" and e["revision"] == 1 for e in journal["events"])


def test_ctrl_c_after_scaling_to_zero_restores_the_replicas(
    stack: LocalStack, tmp_path: Path
) -> None:
    interrupt(stack, tmp_path, "bad-config", "scaled by hand: 2 → 0")


def test_a_second_ctrl_c_during_cleanup_does_not_abandon_it(
    stack: LocalStack, tmp_path: Path
) -> None:
    output, _ = interrupt(
        stack, tmp_path, "high-error-rate", "fault injected", (signal.SIGINT, signal.SIGINT)
    )

    assert "still cleaning up" in output


def test_ctrl_c_during_the_final_cleanup_exits_130_with_the_verdict_kept(
    stack: LocalStack, tmp_path: Path
) -> None:
    run = ScenarioProcess(stack, tmp_path, "kill-pods")
    try:
        run.wait_for_line("rollback block", within=300)  # every step has run
        run.process.send_signal(signal.SIGINT)
        code = run.finish()
    finally:
        run.close()
    output = "".join(run.output)

    assert code == 130, output
    assert "still cleaning up" in output
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert (journal["interrupted"], journal["exit_code"]) == (True, 130), output
    steps = [step for step in journal["steps"] if step["phase"] == "steps"]
    assert steps, output
    assert all(step["passed"] for step in steps), output
    met = all(expectation["passed"] for expectation in journal["expectations"])
    assert journal["verdict"] == ("passed" if met else "failed"), output  # judged, not forced
    assert any(
        e["kind"] == "interrupted" and e.get("during") == "cleanup" for e in journal["events"]
    ), output
    assert_restored(stack, journal)


def test_sigterm_cleans_up_like_ctrl_c(stack: LocalStack, tmp_path: Path) -> None:
    interrupt(stack, tmp_path, "health-check-failing", "fault injected", (signal.SIGTERM,))


def test_an_expectation_that_cannot_be_met_fails_the_run_with_exit_1(
    stack: LocalStack, tmp_path: Path
) -> None:
    scenario = tmp_path / "impossible.yaml"
    scenario.write_text(
        """
name: impossible
summary: HighErrorRate cannot fire within one second of the fault
steps:
  - load: {rps: 20}
  - inject: {error_rate: 0.2, targets: all}
  - wait_for_alert: {alert: HighErrorRate, state: firing, within: 3m}
  - clear_faults: {}
  - wait_for_alert: {alert: HighErrorRate, state: resolved, within: 3m}
expectations:
  - alert: HighErrorRate
    firing_within: 10s
rollback:
  - clear_faults: {}
""",
        encoding="utf-8",
    )
    report = tmp_path / "report"

    code, output, journal = run_scenario(stack, report, str(scenario))

    assert code == 1, output
    assert journal["verdict"] == "failed"
    failed = [e for e in journal["expectations"] if not e["passed"]]
    assert [e["expectation"] for e in failed] == [
        e["expectation"]
        for e in journal["expectations"]
        if "HighErrorRate fires within" in e["expectation"]
    ]
    assert "HighErrorRate fires within" in output
    assert_left_as_found(stack, journal)


def test_a_wait_that_runs_out_fails_the_run_and_says_what_did_not_happen(
    stack: LocalStack, tmp_path: Path
) -> None:
    scenario = tmp_path / "never.yaml"
    scenario.write_text(
        """
name: never
summary: PodsDown cannot fire while every replica is up
steps:
  - wait_for_alert: {alert: PodsDown, state: firing, within: 10s}
""",
        encoding="utf-8",
    )

    code, output, journal = run_scenario(stack, tmp_path / "report", str(scenario))

    assert code == 1, output
    assert journal["verdict"] == "failed"
    assert "PodsDown firing did not happen within 10.0 s" in output
    assert stack_processes(stack.state_dir)  # the stack itself is untouched
