"""The walkthrough's scorecard and the presenter's screen: the budget the whole show
burned, whether it passed, `scorecard.json`, the table the audience reads, and the
screen of a running step at 80x24 (the cue, the keys, every alert by its full name,
all of it on the screen)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from sreshow.cli.walkthrough_view import KEYS_HELP, presenter_screen, scorecard_table
from sreshow.core.revisions import RolloutState
from sreshow.core.timeline import EventKind, RunMetrics, TimelineEvent
from sreshow.ports import LoadStats, ReplicaView, RolloutStatus, Snapshot
from sreshow.scenarios.observer import RunView
from sreshow.walkthrough.presenter import PresenterView
from sreshow.walkthrough.scorecard import StepScore, budget_burned, scorecard_json, show_passed
from sreshow.walkthrough.tour import resolve_tour, tour_stops
from tests.unit.fakes import shipped_alert_names

NOTHING = RunMetrics(None, None, None, None, None)


def score(
    number: int,
    scenario: str,
    *,
    verdict: str = "passed",
    interrupted: bool = False,
    metrics: RunMetrics = NOTHING,
) -> StepScore:
    return StepScore(
        number,
        scenario.replace("-", " ").capitalize(),
        scenario,
        verdict,
        interrupted,
        metrics,
        Path(f"/state/runs/show/{number:02d}-{scenario}/journal.json"),
    )


SCORES = (
    score(1, "baseline", metrics=RunMetrics(None, None, None, None, 0.0001)),
    score(2, "high-error-rate", metrics=RunMetrics(10.9, 13.9, 5.0, 0.0, 0.0231)),
    score(3, "kill-pods", verdict="failed", interrupted=True),
)


def render(renderable: object, *, width: int = 80, height: int = 24) -> str:
    console = Console(width=width, height=height, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


# --- the scorecard -----------------------------------------------------------------------


def test_the_budget_burned_is_the_sum_of_every_measured_share() -> None:
    assert budget_burned(SCORES) == pytest.approx(0.0232)
    assert budget_burned([SCORES[2]]) is None  # nothing measured is not 0
    assert budget_burned([]) is None
    assert budget_burned([score(1, "a", metrics=RunMetrics(None, None, None, None, 0.0))]) == 0.0


def test_the_show_passed_only_when_it_ran_to_its_end_and_every_run_passed() -> None:
    passed = SCORES[:2]

    assert show_passed(passed, finished=True)
    assert not show_passed(passed, finished=False)  # stopped midway
    assert not show_passed(SCORES, finished=True)  # one run failed
    assert show_passed([], finished=True)  # a tour of nothing but the scorecard


def test_scorecard_json_holds_the_tour_every_run_and_the_budget() -> None:
    record = scorecard_json("sre-showcase", "local", 0.1, SCORES, finished=False)

    assert json.loads(json.dumps(record)) == record  # plain JSON
    assert {key: value for key, value in record.items() if key != "steps"} == {
        "walkthrough": "sre-showcase",
        "platform": "local",
        "time_scale": 0.1,
        "finished": False,
        "passed": False,
        "error_budget_burned": pytest.approx(0.0232),
    }
    assert [step["step"] for step in record["steps"]] == [1, 2, 3]
    assert record["steps"][1] == {
        "step": 2,
        "title": "High error rate",
        "scenario": "high-error-rate",
        "verdict": "passed",
        "interrupted": False,
        "metrics": {
            "time_to_detect_s": 10.9,
            "time_to_notify_s": 13.9,
            "time_to_recover_s": 5.0,
            "rto_s": 0.0,
            "error_budget_burned": 0.0231,
        },
        "journal": "/state/runs/show/02-high-error-rate/journal.json",
        "report": "/state/runs/show/02-high-error-rate/report.html",
    }
    assert record["steps"][2]["interrupted"] is True
    assert scorecard_json("t", "local", 1.0, SCORES[:2], finished=True)["passed"] is True


def test_the_scorecard_table_shows_each_run_a_stopped_one_and_the_shows_total() -> None:
    text = render(scorecard_table(SCORES, 0.1))

    rows = {line.split("│")[2].strip(): line for line in text.splitlines() if line.count("│") > 2}
    assert set(rows) == {"baseline", "high-error-rate", "kill-pods", "the show"}
    assert "passed" in rows["baseline"]
    assert "0.01%" in rows["baseline"]
    for value in ("passed", "10.9 s", "13.9 s", "5 s", "0 s", "2.31%"):
        assert value in rows["high-error-rate"]
    assert "stopped" in rows["kill-pods"]  # interrupted, not "failed"
    assert "failed" not in rows["kill-pods"]
    assert "2.32%" in rows["the show"]
    assert "times as measured at time scale 0.1 (x10 for real time)" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_same_step_run_twice_has_two_rows() -> None:
    text = render(scorecard_table([SCORES[1], SCORES[1]], 1.0))

    assert sum(" high-error-rate " in line for line in text.splitlines()) == 2
    assert "4.62%" in text  # both runs' shares
    assert "time scale" not in text


# --- the presenter's screen ------------------------------------------------------------


def running_view() -> PresenterView:
    """Step 2 of the shipped tour (high-error-rate) as it runs: every shipped alert,
    a narration from the scenario, a timeline of events."""
    tour, path = resolve_tour(None)
    stop = tour_stops(tour, path)[1]
    run = RunView(
        t=48.2,
        step="8. wait for HighErrorRate firing (within 4m, 24 s at time scale 0.1)",
        snapshot=Snapshot(
            replicas=(
                ReplicaView("sre-app-0", "1.0.0", 1, True),
                ReplicaView("sre-app-1", "1.0.0", 1, True),
            ),
            desired=2,
            revision=1,
            rollout=RolloutStatus(RolloutState.COMPLETE, "complete"),
            autoscaler=None,
        ),
        alerts={
            name: "pending" if name == "HighErrorRate" else "inactive"
            for name in shipped_alert_names()
        },
        load_running=True,
        load_stats=LoadStats(sent=240, ok=200, bad=40),
        healthy=False,
        health_reason="clients see availability breached",
        narration=(
            "The alert is pending; it waits out its `for` of one minute before paging anyone.",
        ),
        recent=tuple(
            TimelineEvent(float(second), EventKind.ALERT_PENDING, {"alert": "HighErrorRate"})
            for second in range(10, 40)
        ),
    )
    return PresenterView(tour, stop, 6, "running", False, "", run, (), None)


def test_the_screen_of_a_running_step_shows_the_cue_the_keys_and_every_alert() -> None:
    text = render(presenter_screen(running_view(), "local", 0.1, 80, 24))

    assert "step 2/6: High error rate" in text
    assert "One request in five starts failing." in text
    assert "clearing the fault resolves it." in text
    assert KEYS_HELP in text
    for name in shipped_alert_names():
        assert f" {name} " in text, name  # whole, never cut to `ErrorBudgetBu…`
    assert "ErrorBudgetBurnFast" in text
    assert "step: 8. wait for HighErrorRate firing" in text


def test_the_screen_of_a_running_step_fits_80x24_with_the_newest_event_last() -> None:
    lines = render(presenter_screen(running_view(), "local", 0.1, 80, 24)).splitlines()

    assert len(lines) <= 24, "\n".join(lines)
    assert "39.0s" in lines[-2]  # the newest event is the last row shown
