"""An RTO drill's phases and verdict, on hand-worked timelines."""

from __future__ import annotations

from typing import Any

import pytest

from sreshow.core.drill import (
    Phase,
    drill_record,
    drill_verdict,
    slowest_phase,
    timeline_phases,
)
from sreshow.core.timeline import TimelineEvent, run_metrics

PODS = ["sre-app-0", "sre-app-1"]


def ev(t: float, kind: str, **details: Any) -> TimelineEvent:
    return TimelineEvent(t, kind, details)


# `rto-drill --level app` at time scale 0.1: a release serving errors, HighErrorRate,
# a rollback. ErrorBudgetBurnFast fires first; the drill detects by HighErrorRate.
APP_DRILL = (
    ev(0.0, "run_started", scenario="rto-drill-app"),
    ev(1.0, "load_started", rps=10, path="/api/data"),
    ev(2.0, "deployed", version="9.9.9-drill", revision=2, broken="errors"),
    ev(4.0, "service_unhealthy", reason="error ratio 0.5"),
    ev(8.0, "alert_firing", alert="ErrorBudgetBurnFast"),
    ev(18.5, "alert_firing", alert="HighErrorRate"),
    ev(18.6, "rolled_back", revision=1),
    ev(19.9, "rollout_complete", revision=1),
    ev(20.4, "service_healthy"),
    ev(24.0, "alert_resolved", alert="HighErrorRate"),
)


def test_app_drill_phases_are_detect_respond_restore_and_add_up_to_the_rto() -> None:
    phases = timeline_phases(APP_DRILL, "HighErrorRate")
    assert [(p.name, p.started_s, p.ended_s) for p in phases] == [
        ("detect", 2.0, 18.5),
        ("respond", 18.5, 18.6),
        ("restore", 18.6, 20.4),
    ]
    assert phases[0].what == "HighErrorRate fired"
    assert phases[1].what == "rolled back to revision 1"
    rto = run_metrics(APP_DRILL).rto_s
    assert rto == pytest.approx(18.4)
    assert sum(p.duration_s or 0 for p in phases) == pytest.approx(rto)


def test_missed_target_names_the_slowest_phase_with_real_time_figures() -> None:
    phases = timeline_phases(APP_DRILL, "HighErrorRate")
    verdict = drill_verdict(18.4, phases, target_s=30, time_scale=0.1)
    assert not verdict.passed
    assert verdict.slowest is not None
    assert verdict.slowest.name == "detect"
    assert verdict.describe() == (
        "RTO 18.4 s missed the target of 30 s (3 s at time scale 0.1); "
        "slowest phase: detect, 16.5 s (HighErrorRate fired)"
    )


def test_met_target_passes_at_its_limit_exactly() -> None:
    phases = timeline_phases(APP_DRILL, "HighErrorRate")
    verdict = drill_verdict(18.4, phases, target_s=184, time_scale=0.1)
    assert verdict.passed
    assert verdict.describe().startswith("RTO 18.4 s met the target of 3m 04s")


def test_an_alert_that_never_fires_leaves_detect_unfinished_and_named() -> None:
    events = APP_DRILL[:4]
    phases = timeline_phases(events, "HighErrorRate")
    assert [(p.name, p.ended_s) for p in phases] == [("detect", None)]
    verdict = drill_verdict(None, phases, target_s=30, time_scale=1)
    assert not verdict.passed
    assert verdict.describe() == (
        "the service was never healthy again: no RTO, target 30 s; slowest phase: "
        "detect, never finished (waiting for: HighErrorRate to fire)"
    )


def test_config_drill_restores_by_scaling_up_and_waits_for_the_clients() -> None:
    events = (
        ev(2.0, "scaled", previous=2, replicas=0),
        ev(2.5, "service_unhealthy", reason="no replica answers"),
        ev(15.1, "alert_firing", alert="PodsDown"),
        ev(15.4, "scaled", previous=0, replicas=2),
        ev(15.9, "replicas_whole", ready=2, desired=2),
        ev(16.1, "service_healthy"),
    )
    phases = timeline_phases(events, "PodsDown")
    assert [(p.name, p.what, p.duration_s) for p in phases] == [
        ("detect", "PodsDown fired", pytest.approx(13.1)),
        ("respond", "scaled to 2 replicas", pytest.approx(0.3)),
        ("restore", "the service healthy again", pytest.approx(0.7)),
    ]


def test_no_disruption_no_phases_and_the_journal_section() -> None:
    assert timeline_phases((ev(1.0, "load_started", rps=5),), "PodsDown") == ()
    phases = (Phase("teardown", "down", 0.0, 1.5), Phase("rebuild", "up", 1.5, 9.0))
    assert slowest_phase(phases) == phases[1]
    verdict = drill_verdict(9.0, phases, target_s=1200, time_scale=0.1)
    assert drill_record("full", phases, verdict) == {
        "level": "full",
        "target_s": 1200,
        "rto_s": 9.0,
        "passed": True,
        "slowest_phase": "rebuild",
        "phases": [
            {
                "phase": "teardown",
                "what": "down",
                "started_s": 0.0,
                "ended_s": 1.5,
                "duration_s": 1.5,
            },
            {"phase": "rebuild", "what": "up", "started_s": 1.5, "ended_s": 9.0, "duration_s": 7.5},
        ],
    }


@pytest.mark.parametrize(("target", "scale"), [(0, 1), (-1, 1), (30, 0)])
def test_a_target_or_scale_that_is_not_positive_is_refused(target: float, scale: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        drill_verdict(1.0, (), target_s=target, time_scale=scale)
