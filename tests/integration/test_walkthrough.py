"""`sreshow walkthrough` on a real local stack at time scale 0.1, on a real terminal
(tmux): the presenter's keys, the screen an audience sees (the cue, the live view, the
alerts) even at 80x24, quitting midway and the emergency stop leaving the stack as it
was found, and `--auto` running the default tour to its scorecard.

Every wait on the screen is bounded by the longest the step's scenario may run (its
waits' bounds at the scale, `walkthrough.timing.longest_run`) plus `SLACK`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from sreshow.walkthrough.timing import longest_run, run_clock
from sreshow.walkthrough.tour import resolve_tour, tour_stops
from tests.integration.localstack import (
    LocalStack,
    running_stack,
    wait_for_scale_in,
    wait_until,
)
from tests.integration.tmux import Tmux, tmux_session

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CLOCK = run_clock(0.1)
TOUR, TOUR_FILE = resolve_tour(None)
STOPS = tour_stops(TOUR, TOUR_FILE)
SLACK = 20.0  # seconds: the CLI's start, the stack's answers, a loaded CI machine
STARTUP = 30.0  # seconds for `sreshow walkthrough` to draw its first screen


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_stack(tmp_path_factory.mktemp("walkthrough")) as stack:
        yield stack


def longest(number: int) -> float:
    """How long stop `number` (from 1) of the default tour may take on the screen."""
    spec = STOPS[number - 1].spec
    assert spec is not None
    return longest_run(spec, CLOCK) + SLACK


def presenter(stack: LocalStack, report: Path, *args: str, width: int, height: int) -> Any:
    argv = [sys.executable, "-m", "sreshow", "walkthrough", *args, "--report", str(report)]
    env = {"SRESHOW_STATE_DIR": str(stack.state_dir)}
    return tmux_session(argv, env, width=width, height=height, cwd=REPO)


def alert_shown(screen: str, name: str, state: str) -> bool:
    """The live view's alerts table has the row `name │ state` (`name  state` on a
    narrow screen, where the table has no lines)."""
    row = re.compile(rf"(^|\s){name}\s+(│\s+)?{state}\b")
    return any(row.search(line) for line in screen.splitlines())


def assert_left_as_found(stack: LocalStack) -> None:
    """No fault on any replica (asked of each one's admin API), two ready, revision 1;
    replicas the spike left to the autoscaler are waited for: it scales them in."""
    peak = stack.state()["desired_replicas"]
    if peak > 2:
        wait_for_scale_in(stack, peak, to=2)
        wait_until(
            lambda: len(stack.state()["replicas"]) == 2,
            within=10,
            waiting_for="the replicas to follow the scale-in",
        )
    state = stack.state()
    for replica in state["replicas"]:
        faults = stack.faults(replica["url"])
        assert not any(faults.values()), (replica["name"], faults)
    assert [r["ready"] for r in state["replicas"]] == [True, True]
    assert [r["revision"] for r in state["replicas"]] == [1, 1]
    assert state["rollout"] == "complete"


def journal_of(report: Path, folder: str) -> dict[str, Any]:
    return json.loads((report / folder / "journal.json").read_text())


def wait_for_errors_injected(term: Tmux) -> str:
    """The high-error-rate step's screen once HighErrorRate is pending: its fault is set."""
    return term.wait_for(
        lambda s: alert_shown(s, "HighErrorRate", "pending"),
        within=longest(2),
        waiting_for="HighErrorRate pending on the screen",
    )


@pytest.mark.timeout(longest(1) + longest(2) + STARTUP + 60)
def test_keys_on_an_80x24_terminal_and_quit_midway_cleans_up(
    stack: LocalStack, tmp_path: Path
) -> None:
    with presenter(stack, tmp_path, width=80, height=24) as term:
        screen = term.wait_for_text("step 1/6: A healthy baseline", within=STARTUP)
        assert "space starts this step" in screen
        assert "Two replicas behind a Service" in screen  # the cue
        term.send("Space")
        screen = term.wait_for_text("step 2/6: High error rate", within=longest(1))
        assert "step 1 baseline passed" in screen
        term.send("Right")
        screen = wait_for_errors_injected(term)
        assert "One request in five starts failing" in screen  # the cue, still shown
        assert "sreshow high-error-rate on local" in screen  # the live view under it
        assert alert_shown(screen, "PodsDown", "inactive")  # every alert, by its name
        term.send("p")
        term.wait_for_text("paused: the run holds before its next step", within=5)
        term.send("p")
        term.wait_for(lambda s: "paused" not in s, within=5, waiting_for="the pause to end")
        term.send("q")
        code = term.exit_code(within=60)
        final = term.screen()
    assert code == 130
    assert "stopped by the presenter" in final
    journal = journal_of(tmp_path, "02-high-error-rate")
    assert journal["interrupted"] is True
    kinds = [event["kind"] for event in journal["events"]]
    assert "fault_injected" in kinds
    assert kinds.index("faults_cleared") > kinds.index("fault_injected")
    assert "load_stopped" in kinds
    scorecard = json.loads((tmp_path / "scorecard.json").read_text())
    assert scorecard["finished"] is False
    assert [step["scenario"] for step in scorecard["steps"]] == ["baseline", "high-error-rate"]
    assert_left_as_found(stack)


@pytest.mark.timeout(longest(2) + STARTUP + 60)
def test_emergency_stop_clears_every_fault_at_once(stack: LocalStack, tmp_path: Path) -> None:
    tour = tmp_path / "errors-only.yaml"
    tour.write_text(
        "name: errors-only\ntitle: Errors only\nsummary: One step, stopped in an emergency\n"
        "auto_pause: 1s\nsteps:\n"
        "  - title: High error rate\n    cue: Errors, then the big red button.\n"
        "    scenario: high-error-rate\n"
    )
    report = tmp_path / "report"
    with presenter(stack, report, str(tour), "--auto", width=100, height=30) as term:
        term.wait_for_text("step 1/1: High error rate", within=STARTUP)
        wait_for_errors_injected(term)
        term.send("x")
        code = term.exit_code(within=60)
        final = term.screen()
    assert code == 130
    assert "EMERGENCY STOP: faults cleared on all 2 replicas" in " ".join(final.split())
    assert_left_as_found(stack)


# The whole tour: every step's longest run (about 7 minutes; it takes under two), plus
# the per-test default for the autoscaler's scale-in after the spike.
@pytest.mark.timeout(sum(longest(stop.number) for stop in STOPS if stop.spec) + 120)
def test_auto_runs_the_default_tour_to_its_scorecard(stack: LocalStack, tmp_path: Path) -> None:
    within = sum(longest(stop.number) for stop in STOPS if stop.spec is not None)
    within += TOUR.auto_pause * len(STOPS) + STARTUP
    with presenter(stack, tmp_path, "--auto", width=120, height=40) as term:
        code = term.exit_code(within=within)
        final = term.screen()
    assert code == 0, final
    assert "SRE showcase: 5 of 5 steps passed" in final
    assert "scorecard" in final
    scorecard = json.loads((tmp_path / "scorecard.json").read_text())
    assert scorecard["finished"] is True
    assert scorecard["passed"] is True
    assert [step["scenario"] for step in scorecard["steps"]] == [
        "baseline",
        "high-error-rate",
        "kill-pods",
        "spike-load",
        "rollback",
    ]
    assert scorecard["error_budget_burned"] == pytest.approx(
        sum(step["metrics"]["error_budget_burned"] for step in scorecard["steps"])
    )
    for step in scorecard["steps"]:  # the scorecard links each step's report
        assert Path(step["report"]).is_file(), step
    assert_left_as_found(stack)
