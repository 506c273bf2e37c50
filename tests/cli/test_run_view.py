"""The live view and the closing summary, rendered from a hand-built view and result:
what the audience reads, and that the live view fits the terminal's height."""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console

from sreshow.cli import run_view
from sreshow.core.revisions import RolloutState
from sreshow.core.timeline import TimelineEvent
from sreshow.ports import AlertView, LoadStats, ReplicaView, RolloutStatus, Snapshot
from sreshow.scenarios.observer import RunView
from tests.unit.test_journal import result


def render(renderable: object, *, width: int = 100, height: int = 40) -> str:
    console = Console(width=width, height=height, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def view(events: int) -> RunView:
    return RunView(
        t=20.8,
        step="12. wait for HighErrorRate resolved (within 3m)",
        snapshot=Snapshot(
            replicas=(
                ReplicaView("sre-app-abcde-11111", "1.0.0", 1, True),
                ReplicaView("sre-app-abcde-22222", "1.0.0", 1, False),
            ),
            desired=2,
            revision=1,
            rollout=RolloutStatus(RolloutState.PROGRESSING, "progressing to revision 2"),
            autoscaler=None,
        ),
        alerts={a.name: a.state for a in (AlertView("HighErrorRate", "firing"),)},
        load_running=True,
        load_stats=LoadStats(sent=76, ok=64, bad=12),
        healthy=False,
        health_reason="clients see availability breached",
        narration=("The page is in the channel.",),
        recent=tuple(
            TimelineEvent(float(i), "alert_firing", {"alert": "HighErrorRate"})
            for i in range(events)
        ),
    )


def test_the_live_view_shows_step_service_replicas_alerts_and_clients() -> None:
    text = render(run_view.live_layout(view(3), "high-error-rate", "local", 0.1))

    assert "sreshow high-error-rate on local · time scale 0.1 ·  20.8 s" in text
    assert "step: 12. wait for HighErrorRate resolved (within 3m)" in text
    assert "service: unhealthy: clients see availability breached" in text
    assert "sre-app-abcde-11111" in text  # pod names whole, not cut
    assert "HighErrorRate" in text
    assert "firing" in text
    assert "76 / 12" in text
    assert "» The page is in the channel." in text
    assert "alert HighErrorRate FIRING" in text


def test_the_live_view_keeps_the_newest_events_within_the_height() -> None:
    for height in (24, 40):
        layout = run_view.live_layout(view(40), "high-error-rate", "local", 0.1, height)
        lines = render(layout, height=height).splitlines()

        assert len(lines) <= height, "\n".join(lines)
        assert "39.0s" in lines[-2]  # the newest event is the last row shown


def test_the_summary_gives_each_measurement_its_real_time_and_each_verdict() -> None:
    text = render(run_view.summary(result(), "/state/runs/x/journal.json"))

    assert "high-error-rate: PASSED" in text
    assert "real time (x10)" in text
    assert "time to detect" in text
    assert "10.9 s" in text
    assert "1m 49s" in text
    assert "✓ HighErrorRate fires within 3m (18 s at time scale 0.1)" in text
    assert "journal: /state/runs/x/journal.json" in text


def test_the_live_timeline_places_events_when_seen_and_late_ones_say_when() -> None:
    cleared = TimelineEvent(7.0, "faults_cleared", {"pods": ["a"]}, seen_t=7.0)
    recovered = TimelineEvent(7.1, "sli_recovered", {"sli": "availability", "value": 1.0}, 15.4)
    late = replace(view(0), recent=(cleared, recovered))

    lines = render(run_view.live_layout(late, "high-error-rate", "local", 0.1)).splitlines()

    rows = [line for line in lines if "faults cleared" in line or "SLI recovered" in line]
    assert "7.0s" in rows[0]
    assert "15.4s" in rows[1]
    assert "clients: availability SLI recovered (1.0), since 7.1 s" in rows[1]


def test_the_live_view_links_the_live_dashboard_while_one_serves() -> None:
    url = "http://127.0.0.1:8765/"
    linked = render(run_view.live_layout(view(3), "spike-load", "local", 0.1, dashboard_url=url))
    unlinked = render(run_view.live_layout(view(3), "spike-load", "local", 0.1))
    assert f"live charts: {url}" in linked
    assert "live charts" not in unlinked


def test_the_summary_holds_each_alert_against_its_predicted_band() -> None:
    inside = {
        "alert": "HighErrorRate",
        "fire_band_s": [11.625, 15.625],
        "notify_band_s": [11.625, 45.625],
        "observed_fire_s": 14.7,
        "observed_notify_s": 17.3,
        "fire_verdict": "within",
        "notify_verdict": "within",
        "likely_cause": None,
    }
    late = inside | {
        "alert": "HighLatency",
        "observed_fire_s": None,
        "observed_notify_s": None,
        "fire_verdict": "never",
        "notify_verdict": "never",
        "likely_cause": "its `for: 1m` is longer than the run waited",
    }
    text = render(run_view.summary(replace(result(), predicted=[inside, late]), "/j.json"))
    lines = " ".join(text.split())

    assert "≈ HighErrorRate fired at 14.7 s (predicted 11.6 s to 15.6 s: within)" in lines
    assert "notified at 17.3 s (predicted 11.6 s to 45.6 s: within)" in lines
    assert "! HighLatency never fired (predicted 11.6 s to 15.6 s: never)" in lines
    assert "likely cause: its `for: 1m` is longer than the run waited" in lines
