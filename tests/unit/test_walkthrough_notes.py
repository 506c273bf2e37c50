"""Speaker notes and timing: each step's cue, what the audience will see and when at
the time scale, how long each step takes (as measured last time on this platform at
this scale, else at most its waits' bounds), and `sreshow walkthrough --notes`."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from sreshow.cli.app import main
from sreshow.report.journal import write_journal
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.walkthrough.notes import speaker_notes
from sreshow.walkthrough.timing import (
    Expected,
    expected_steps,
    longest_run,
    past_durations,
    run_clock,
)
from sreshow.walkthrough.tour import resolve_tour, tour_stops
from tests.unit.test_journal import result

TOUR, TOUR_FILE = resolve_tour(None)
STOPS = tour_stops(TOUR, TOUR_FILE)
CLOCK = run_clock(0.1)


def notes(past: dict[str, float], time_scale: float = 0.1) -> str:
    clock = run_clock(time_scale)
    return speaker_notes(TOUR, STOPS, clock, expected_steps(STOPS, clock, past))


def section(text: str, number: int) -> str:
    """The notes of step `number`: from its heading to the next one."""
    parts = re.split(r"^(?=## \d+\. )", text, flags=re.MULTILINE)
    [found] = [part for part in parts if part.startswith(f"## {number}. ")]
    return found


# --- the notes --------------------------------------------------------------------------


def test_the_notes_have_a_heading_and_the_cue_of_every_step_in_order() -> None:
    text = notes({})

    assert text.startswith("# SRE showcase: speaker notes\n\n" + TOUR.summary + "\n")
    assert "Time scale 0.1: every clock of the stack 10x faster than real time." in text
    headings = re.findall(r"^## .*$", text, flags=re.MULTILINE)
    assert headings == [
        "## 1. A healthy baseline",
        "## 2. High error rate",
        "## 3. Kill pods",
        "## 4. A spike, and the autoscaler",
        "## 5. A bad release, rolled back",
        "## 6. The scorecard",
    ]
    assert (
        "## 2. High error rate\n\n"
        "> One request in five starts failing. Watch HighErrorRate go pending, then firing,\n"
        "> then the page arrive; clearing the fault resolves it.\n\n"
    ) in text
    assert section(text, 6).endswith(
        "\nThe scorecard: detect, notify, recover and RTO of every step so far.\n"
    )
    assert "space or → next · p pause · r repeat · q quit · x emergency stop" in text


def test_each_expectation_says_its_limits_at_the_time_scale() -> None:
    errors = section(notes({}), 2)

    assert (
        "- HighErrorRate fires within 4m, is notified within 9m and resolves within 3m "
        "(24 s, 54 s, 18 s at time scale 0.1)\n"
    ) in errors
    assert "- PodsDown never fires\n" in errors
    assert "- the service recovers within 3m (18 s at time scale 0.1)\n" in errors
    assert "- at most 10% of the error budget is burned (SLO 99.9% over 30d)\n" in errors
    # kill-pods' RTO of 1m, its "(RTO)" and its scaled limit in one parenthesis
    assert "of the first disruption (RTO; 6 s at time scale 0.1)" in section(notes({}), 3)


def test_at_time_scale_1_the_limits_read_as_written() -> None:
    text = notes({}, time_scale=1.0)

    assert "Time scale 1: real time." in text
    assert "- HighErrorRate fires within 4m, is notified within 9m and resolves within 3m\n" in text
    assert "at time scale" not in text


def test_a_step_never_run_at_this_scale_takes_at_most_its_waits_bounds() -> None:
    text = notes({})

    # The baseline at 0.1: its steady state (2m, 12 s scaled) before and after, its
    # 30 s of load (3 s scaled), and the runner's restore (1m, at least 10 s): 12 + 3 +
    # 12 + 10.
    assert (
        "Runs `baseline` (A healthy system under steady load for 30s); takes at most 37 s "
        "(not run at this time scale yet).\n"
    ) in section(text, 1)
    for number in (2, 3, 4, 5):
        assert re.search(
            r"; takes at most \S+( \S+)? \(not run at this time scale yet\)\.\n",
            section(text, number),
        ), section(text, number)
    bounds = sum(longest_run(stop.spec, CLOCK) for stop in STOPS if stop.spec is not None)
    total = bounds + 5 * len(STOPS)  # and the 5 s of each cue
    minutes, seconds = divmod(round(total), 60)
    assert (
        f"Expected length: at most {minutes}m {seconds:02d}s (not run at this time scale "
        "yet), with 5 s at each cue.\n"
    ) in text


def test_a_step_run_before_at_this_scale_takes_about_as_long_as_it_did() -> None:
    text = notes({"high-error-rate": 123.4})

    assert "takes about 2m 03s (as measured last time).\n" in section(text, 2)
    assert "not run at this time scale yet" in section(text, 3)
    assert "Expected length: at most " in text  # not every step measured

    every = {stop.spec.name: 60.0 for stop in STOPS if stop.spec is not None}
    measured = notes(every)
    assert "takes about 1m (as measured last time).\n" in section(measured, 1)
    assert (
        "Expected length: about 5m 30s (as measured last time), with 5 s at each cue.\n" in measured
    )  # five steps of 1m and six cues of 5 s


def test_the_scorecard_step_takes_no_time_of_its_own() -> None:
    expected = expected_steps(STOPS, CLOCK, {})

    assert expected[-1] is None
    assert all(isinstance(e, Expected) and not e.measured for e in expected[:-1])


# --- timing ----------------------------------------------------------------------------

WAITS = """
name: waits
summary: every kind of bounded wait
steady_state:
  within: 1m
  checks:
    - replicas_ready: all
steps:
  - load: {rps: 5}
  - sleep: 20s
  - inject: {error_rate: 0.2, targets: all}
  - wait_for_alert: {alert: HighErrorRate, state: firing, within: 4m}
  - wait_for_notification: {alert: HighErrorRate, within: 5m}
  - wait_for: {replicas_ready: all, within: 30s}
  - narrate: Done.
rollback:
  - clear_faults: {}
  - wait_for: {replicas_ready: all, within: 2m}
  - stop_load: {}
"""


def test_the_longest_run_is_the_steady_state_twice_every_sleep_and_every_waits_bound() -> None:
    spec = ScenarioSpec.model_validate(yaml.safe_load(WAITS))

    # Real time: 2 x 60 + 20 + 240 + 300 + 30 + 120, and the runner's restore (60).
    assert longest_run(spec, run_clock(1.0)) == pytest.approx(890.0)
    # At 0.1 every wait gets at least 10 s: 2 x max(6, 10) + 2 + 24 + 30 + max(3, 10) + 12
    # + max(6, 10).
    assert longest_run(spec, run_clock(0.1)) == pytest.approx(108.0)
    # Clocks that do not scale add to every wait (not to a sleep): 2 x 11 + 2 + 29 + 35
    # + max(8, 10) + 17 + 11.
    assert longest_run(spec, run_clock(0.1, unscaled=5.0)) == pytest.approx(126.0)


def journal_at(
    runs: Path,
    folder: str,
    *,
    scenario: str = "high-error-rate",
    started_at: float,
    duration_s: float,
    platform: str = "local",
    time_scale: float = 0.1,
    interrupted: bool = False,
) -> None:
    run = replace(
        result(),
        scenario=scenario,
        started_at=started_at,
        duration_s=duration_s,
        platform=platform,
        time_scale=time_scale,
        interrupted=interrupted,
    )
    write_journal(run, runs / folder)


def test_past_durations_are_the_latest_finished_runs_on_this_platform_at_this_scale(
    tmp_path: Path,
) -> None:
    runs = tmp_path / "runs"
    journal_at(runs, "20260101T000000Z-high-error-rate", started_at=1000, duration_s=100.0)
    journal_at(runs, "20260102T000000Z-high-error-rate", started_at=2000, duration_s=120.5)
    journal_at(
        runs, "20260103T000000Z-high-error-rate", started_at=3000, duration_s=9.0, platform="other"
    )
    journal_at(
        runs, "20260104T000000Z-high-error-rate", started_at=4000, duration_s=9.0, time_scale=1.0
    )
    journal_at(
        runs, "20260105T000000Z-high-error-rate", started_at=5000, duration_s=9.0, interrupted=True
    )
    (runs / "20260106T000000Z-broken").mkdir()
    (runs / "20260106T000000Z-broken" / "journal.json").write_text("{not json", encoding="utf-8")
    (runs / "20260107T000000Z-partial").mkdir()
    (runs / "20260107T000000Z-partial" / "journal.json").write_text(
        '{"scenario": "high-error-rate", "started_at": 9999}', encoding="utf-8"
    )
    # A walkthrough keeps each step's journal in a folder of its own, one level down.
    journal_at(
        runs, "20260101T000000Z-kill-pods", scenario="kill-pods", started_at=1500, duration_s=40
    )
    show = "20260108T000000Z-walkthrough-sre-showcase"
    journal_at(runs, f"{show}/03-kill-pods", scenario="kill-pods", started_at=6000, duration_s=55.5)
    journal_at(runs, f"{show}/01-baseline", scenario="baseline", started_at=5900, duration_s=27.25)

    assert past_durations(runs, "local", 0.1) == {
        "high-error-rate": 120.5,
        "kill-pods": 55.5,
        "baseline": 27.25,
    }
    assert past_durations(runs, "local", 1.0) == {"high-error-rate": 9.0}
    assert past_durations(runs, "kubernetes", 0.1) == {}
    assert past_durations(tmp_path / "no-runs-yet", "local", 0.1) == {}


# --- sreshow walkthrough --notes -----------------------------------------------------


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(directory))
    monkeypatch.setenv("COLUMNS", "400")
    return directory


def test_notes_are_written_at_the_time_scale_asked_using_this_machines_past_runs(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal_at(
        state_dir / "runs", "20260102T000000Z-high-error-rate", started_at=2000, duration_s=123.4
    )
    out = tmp_path / "notes.md"

    code = main(["walkthrough", "--notes", str(out), "--time-scale", "0.1"])

    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    assert captured.out == f"speaker notes for SRE showcase: {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text == notes({"high-error-rate": 123.4})
    assert "takes about 2m 03s (as measured last time)" in section(text, 2)
    assert "(24 s, 54 s, 18 s at time scale 0.1)" in text


def test_notes_without_a_time_scale_or_a_running_stack_are_in_real_time(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "notes.md"

    code = main(["walkthrough", "--notes", str(out)])

    assert (code, capsys.readouterr().err) == (0, "")
    assert "Time scale 1: real time." in out.read_text(encoding="utf-8")
    assert not (state_dir / "runs").exists()  # notes only read


@pytest.mark.usefixtures("state_dir")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--time-scale", "0.1"],
            "--time-scale goes with --notes; the show runs at its stack's scale",
        ),
        (
            ["--notes", "{tmp}/notes.md", "--time-scale", "2"],
            "--time-scale 2 is out of range; give a factor in (0, 1]",
        ),
        (
            ["--notes", "{tmp}/no-such-dir/notes.md"],
            "--notes {tmp}/no-such-dir/notes.md: cannot write it (No such file or directory); "
            "give a writable path",
        ),
        (
            [],
            "presenter mode reads its keys from a terminal; run it in one, or pass --auto to "
            "run the tour unattended",
        ),
    ],
    ids=["time-scale-without-notes", "time-scale-out-of-range", "notes-unwritable", "no-tty"],
)
def test_a_bad_flag_or_no_terminal_without_auto_exits_2_in_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["walkthrough", *(arg.format(tmp=tmp_path) for arg in args)])

    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == f"error: {message.format(tmp=tmp_path)}\n"
    assert not (tmp_path / "notes.md").exists()
