"""The run record: journal.json holds the contract's keys, events as {t, kind, ...},
stays private (0600), and every event reads as a sentence."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from sreshow.core.slo import BudgetInputs
from sreshow.core.timeline import EventKind, TimelineEvent, run_metrics
from sreshow.core.verdict import judge_alert
from sreshow.errors import ExitCode
from sreshow.report.journal import journal, run_id, write_journal
from sreshow.report.narrative import describe_event, event_line
from sreshow.scenarios.runner import ScenarioResult

EVENTS = (
    TimelineEvent(0.0, "run_started", {"scenario": "high-error-rate", "platform": "local"}),
    TimelineEvent(2.0, "fault_injected", {"pods": ["a", "b"], "faults": {"error_rate": 0.2}}),
    TimelineEvent(12.9, "alert_firing", {"alert": "HighErrorRate"}),
    TimelineEvent(
        15.9, "notification_delivered", {"status": "firing", "alerts": ["HighErrorRate"]}
    ),
    TimelineEvent(16.0, "faults_cleared", {"pods": ["a", "b"]}),
    TimelineEvent(21.0, "alert_resolved", {"alert": "HighErrorRate"}),
)


def result() -> ScenarioResult:
    metrics = run_metrics(
        EVENTS,
        alerts=["HighErrorRate"],
        budget=BudgetInputs(bad_requests=20, total_requests=100, duration_s=20, time_scale=0.1),
    )
    return ScenarioResult(
        scenario="high-error-rate",
        summary="20% of requests fail",
        platform="local",
        time_scale=0.1,
        started_at=1_795_780_000.0,
        duration_s=21.5,
        verdict="passed",
        exit_code=ExitCode.PASSED,
        metrics=metrics,
        expectations=tuple(
            judge_alert(EVENTS, alert="HighErrorRate", firing_within=180, time_scale=0.1)
        ),
        steps=(),
        events=EVENTS,
        requests={"sent": 100, "ok": 80, "bad": 20, "dropped": 0},
    )


def test_the_journal_holds_the_contract_keys() -> None:
    record = journal(result())

    assert record["scenario"] == "high-error-rate"
    assert record["verdict"] == "passed"
    assert record["time_scale"] == 0.1
    assert record["metrics"] == {
        "time_to_detect_s": pytest.approx(10.9),
        "time_to_notify_s": pytest.approx(13.9),
        "time_to_recover_s": pytest.approx(5.0),
        "rto_s": 0.0,
        "error_budget_burned": pytest.approx(0.2 * 200 / (30 * 24 * 3600 * 0.001)),
    }
    assert record["metrics_real_time"]["time_to_detect_s"] == pytest.approx(109)
    assert record["events"][1] == {
        "t": 2.0,
        "kind": "fault_injected",
        "pods": ["a", "b"],
        "faults": {"error_rate": 0.2},
    }
    assert record["expectations"][0]["passed"] is True


def test_it_is_written_private_as_json(tmp_path: Path) -> None:
    path = write_journal(result(), tmp_path / "runs" / run_id(result()))

    assert path.parent.name == "20261127T114640Z-high-error-rate"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["scenario"] == "high-error-rate"


@pytest.mark.parametrize("kind", [k.value for k in EventKind])
def test_every_event_kind_reads_as_a_sentence(kind: str) -> None:
    sentence = describe_event(TimelineEvent(1.0, kind, {}))

    assert sentence
    assert sentence != kind  # a sentence of its own, not the kind name


def test_an_event_line_carries_its_time() -> None:
    line = event_line(TimelineEvent(12.94, "alert_firing", {"alert": "HighErrorRate"}))

    assert line == "[   12.9s] alert HighErrorRate FIRING"
