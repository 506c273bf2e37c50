"""Presenter mode on an in-memory platform: the keys a presenter presses (from another
thread, as the terminal's reader does) and what the show does — every stop in order,
a repeat, a pause that holds the run, quitting and the emergency stop leaving no fault
and no load behind — and the exit code it ends with."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from demo_app.faults import FaultPatch
from sreshow.scenarios.runner import ScenarioResult
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.walkthrough.keys import Key
from sreshow.walkthrough.presenter import Presenter, PresenterView
from sreshow.walkthrough.tour import Stop, Tour
from tests.unit.fakes import FakeLoad, FakePlatform

AUTO_PAUSE = 0.1  # seconds
WITHIN = 5.0  # seconds for the show to reach what a test waits for

ERRORS_FOR_A_WHILE = """
name: {name}
summary: load, errors on every replica, then {sleep} of them
steps:
  - load: {{rps: 20}}
  - inject: {{error_rate: 0.2, targets: all}}
  - sleep: {sleep}
rollback:
  - clear_faults: {{}}
  - stop_load: {{}}
"""

CANNOT_BE_DONE = """
name: broken
summary: no replica left to break, so the inject step fails
steps:
  - load: {rps: 20}
  - scale: {replicas: 0}
  - inject: {error_rate: 0.5, targets: all}
rollback:
  - stop_load: {}
"""

PAUSABLE = """
name: pausable
summary: a wait, a narration, another wait
steps:
  - load: {rps: 20}
  - sleep: 500ms
  - narrate: After the pause.
  - sleep: 100ms
rollback:
  - stop_load: {}
"""


def scenario(text: str, **values: str) -> ScenarioSpec:
    return ScenarioSpec.model_validate(yaml.safe_load(text.format(**values) if values else text))


def errors_for(name: str, sleep: str = "200ms") -> ScenarioSpec:
    return scenario(ERRORS_FOR_A_WHILE, name=name, sleep=sleep)


@dataclass
class Show:
    """A presenter on a fake platform, and what it did."""

    platform: FakePlatform
    presenter: Presenter
    loads: list[FakeLoad] = field(default_factory=list)
    journals: list[tuple[int, ScenarioResult]] = field(default_factory=list)
    lines: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, line)

    @property
    def step_lines(self) -> list[str]:
        """What the show said about its steps (not the runs' events)."""
        return [line for _, line in self.lines if line.startswith("step ")]


def show(
    specs: list[ScenarioSpec],
    *,
    auto: bool,
    scorecard: bool = False,
    platform: FakePlatform | None = None,
) -> Show:
    """A tour of one stop per spec (titled after it), and a scorecard stop last if asked."""
    steps: list[dict[str, object]] = [
        {"title": spec.name.title(), "cue": f"Say something about {spec.name}.", "scenario": "x"}
        for spec in specs
    ]
    if scorecard:
        steps.append({"title": "The scorecard", "cue": "How it went.", "scorecard": True})
    tour = Tour.model_validate(
        {
            "name": "test-tour",
            "title": "A test tour",
            "summary": "stops for the tests",
            "auto_pause": f"{round(AUTO_PAUSE * 1000)}ms",
            "steps": steps,
        }
    )
    stops = [
        Stop(number, step, specs[number - 1] if number <= len(specs) else None)
        for number, step in enumerate(tour.steps, start=1)
    ]
    fake = platform or FakePlatform()
    loads: list[FakeLoad] = []
    journals: list[tuple[int, ScenarioResult]] = []
    lines: list[tuple[float, str]] = []

    def new_load() -> FakeLoad:
        loads.append(FakeLoad(fake))
        return loads[-1]

    def write_journal(stop: Stop, result: ScenarioResult) -> Path:
        journals.append((stop.number, result))
        return Path(f"runs/{stop.number:02d}-{result.scenario}-{len(journals)}/journal.json")

    presenter = Presenter(
        tour,
        stops,
        fake,
        new_load,
        auto=auto,
        write_journal=write_journal,
        on_line=lambda line: lines.append((time.monotonic(), line)),
    )
    return Show(fake, presenter, loads, journals, lines)


# --- the presenter's hands ----------------------------------------------------------

Condition = Callable[[PresenterView], bool]


def wait_for(presenter: Presenter, what: str, condition: Condition, within: float = WITHIN) -> None:
    """Wait (bounded) until the screen shows `condition`; AssertionError naming `what`."""
    deadline = time.monotonic() + within
    while not condition(presenter.view()):
        if time.monotonic() > deadline:
            view = presenter.view()
            raise AssertionError(
                f"never {what} within {within} s (phase {view.phase}, stop "
                f"{view.stop.number}, {len(view.scores)} runs)"
            )
        time.sleep(0.01)


def at_cue(number: int, runs: int) -> Condition:
    """The cue of stop `number` shows, `runs` runs done."""
    return lambda v: v.phase == "cue" and v.stop.number == number and len(v.scores) == runs


def running(step: str) -> Condition:
    """The run's step numbered `step` (`"3."`) is under way."""
    return lambda v: v.phase == "running" and v.run is not None and v.run.step.startswith(step)


@contextmanager
def driven(presenter: Presenter, drive: Callable[[Presenter], None]) -> Iterator[list[str]]:
    """`drive` presses keys from a thread of its own while the body runs the show; the
    list gets what went wrong there (and then `q` ends the show, so no test hangs)."""
    problems: list[str] = []

    def hands() -> None:
        try:
            drive(presenter)
        except Exception as e:
            problems.append(f"{type(e).__name__}: {e}")
            presenter.on_key(Key.QUIT)

    thread = threading.Thread(target=hands, name="presenter-hands", daemon=True)
    thread.start()
    try:
        yield problems
    finally:
        thread.join(timeout=WITHIN + 5)


def assert_left_clean(show: Show) -> None:
    """No fault on any replica, no load running, the replica count as it was."""
    assert show.platform.faults == {}
    assert not any(load.running for load in show.loads)
    assert show.platform.desired == 2


# --- the whole show -------------------------------------------------------------------


def test_auto_runs_every_stop_in_order_to_the_scorecard_and_exits_0() -> None:
    tour = show([errors_for("first"), errors_for("second")], auto=True, scorecard=True)
    started = time.monotonic()

    code = tour.presenter.run()

    ended = time.monotonic()
    assert code == 0
    assert tour.presenter.finished
    assert not tour.presenter.quit_by_presenter
    assert tour.presenter.emergency_cleared is None
    scores = tour.presenter.scores
    assert [(s.number, s.scenario, s.verdict, s.interrupted) for s in scores] == [
        (1, "first", "passed", False),
        (2, "second", "passed", False),
    ]
    assert [(number, result.scenario) for number, result in tour.journals] == [
        (1, "first"),
        (2, "second"),
    ]
    assert [s.journal for s in scores] == [
        Path("runs/01-first-1/journal.json"),
        Path("runs/02-second-2/journal.json"),
    ]
    assert tour.step_lines == [
        "step 1/3: First",
        "step 1 passed: journal runs/01-first-1/journal.json",
        "step 2/3: Second",
        "step 2 passed: journal runs/02-second-2/journal.json",
        "step 3/3: The scorecard",
    ]
    # Each cue shows for the tour's pause before its step starts (the scorecard's too).
    cues = [t for t, line in tour.lines if re.fullmatch(r"step \d/3: .*", line)]
    starts = [t for t, line in tour.lines if re.search(r"\] scenario \S+ starts on ", line)]
    starts.append(ended)  # the scorecard's cue lasts until the show ends
    assert len(starts) == 3, tour.lines
    for cue, start in zip(cues, starts, strict=True):
        assert start - cue >= AUTO_PAUSE - 0.01
    assert tour.presenter.view().phase == "done"
    assert_left_clean(tour)
    assert ended - started < WITHIN


def test_manual_next_starts_each_step_and_repeat_at_a_cue_runs_the_last_step_again() -> None:
    tour = show([errors_for("first"), errors_for("second")], auto=False)

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        time.sleep(3 * AUTO_PAUSE)  # without --auto nothing starts by itself
        view = presenter.view()
        assert (view.phase, view.stop.number, view.starts_in) == ("cue", 1, None)
        assert tour.loads == []
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "the cue of step 2", at_cue(2, runs=1))
        presenter.on_key(Key.REPEAT)
        wait_for(presenter, "the cue of step 1 again", at_cue(1, runs=1))
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "the cue of step 2 again", at_cue(2, runs=2))
        presenter.on_key(Key.NEXT)

    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert code == 0
    assert tour.presenter.finished
    assert [(s.number, s.scenario) for s in tour.presenter.scores] == [
        (1, "first"),
        (1, "first"),
        (2, "second"),
    ]
    assert [number for number, _ in tour.journals] == [1, 1, 2]  # each run kept
    assert_left_clean(tour)


def test_repeat_while_a_step_runs_runs_it_again_once_it_is_over() -> None:
    tour = show([errors_for("first", sleep="1s"), errors_for("second")], auto=False)
    notices: list[str] = []

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "step 1's wait", running("3."))
        presenter.on_key(Key.REPEAT)
        notices.append(presenter.view().notice)
        wait_for(presenter, "the cue of step 1 again", at_cue(1, runs=1))
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "the cue of step 2", at_cue(2, runs=2))
        presenter.on_key(Key.NEXT)

    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert notices == ["this step runs again once it is over"]
    assert code == 0
    assert [s.number for s in tour.presenter.scores] == [1, 1, 2]
    assert not any(s.interrupted for s in tour.presenter.scores)  # it was not cut short


# --- quitting ---------------------------------------------------------------------------


def test_quit_while_a_step_runs_ends_the_show_with_130_after_its_cleanup() -> None:
    tour = show([errors_for("first", sleep="30s"), errors_for("second")], auto=False)
    notices: list[str] = []

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "step 1's 30 s wait", running("3."))
        presenter.on_key(Key.QUIT)
        notices.append(presenter.view().notice)

    started = time.monotonic()
    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert time.monotonic() - started < 10  # the 30 s wait was cut short
    assert code == 130
    assert tour.presenter.quit_by_presenter
    assert not tour.presenter.finished
    assert tour.presenter.emergency_cleared is None
    assert notices == ["stopping: the step's cleanup runs"]
    [score] = tour.presenter.scores
    assert (score.number, score.interrupted, score.verdict) == (1, True, "failed")
    [(number, result)] = tour.journals  # the interrupted run is journaled; step 2 never ran
    assert (number, result.interrupted, result.error) == (1, True, "interrupted")
    calls, everyone = tour.platform.calls, ("sre-app-0", "sre-app-1")
    injected = ("set_faults", (everyone, {"error_rate": 0.2}))
    assert [call for call in calls if call[0] == "set_faults"] == [injected]
    assert calls.index(("clear_faults", (everyone,))) > calls.index(injected)
    assert len(tour.loads) == 1
    assert_left_clean(tour)


def test_ctrl_c_while_a_step_runs_ends_the_show_as_quit_does() -> None:
    platform = FakePlatform()
    platform.on_call["set_faults"] = lambda: signal.raise_signal(signal.SIGINT)
    tour = show(
        [errors_for("first", sleep="30s"), errors_for("second")], auto=True, platform=platform
    )

    started = time.monotonic()
    code = tour.presenter.run()

    assert time.monotonic() - started < 10
    assert code == 130
    assert tour.presenter.quit_by_presenter
    assert [(s.number, s.interrupted) for s in tour.presenter.scores] == [(1, True)]
    assert_left_clean(tour)


def test_the_emergency_stop_at_a_cue_clears_every_replicas_faults_and_exits_130() -> None:
    platform = FakePlatform(replicas=3)
    everyone = ("sre-app-0", "sre-app-1", "sre-app-2")
    platform.set_faults(everyone, FaultPatch(error_rate=0.5))  # left by an earlier crash
    tour = show([errors_for("first")], auto=False, platform=platform)

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        presenter.on_key(Key.EMERGENCY)

    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert code == 130
    assert tour.presenter.quit_by_presenter
    assert tour.presenter.emergency_cleared == 3
    assert platform.calls[-1] == ("clear_faults", (everyone,))
    assert platform.faults == {}
    assert tour.presenter.scores == []
    assert tour.loads == []  # the step never started
    view = tour.presenter.view()
    assert (view.phase, view.notice) == (
        "done",
        "EMERGENCY STOP: clearing every fault, stopping the load",
    )
    assert tour.step_lines[-1] == "step 1/1: First"
    assert ("emergency stop: faults cleared on 3 replicas, load stopped") in [
        line for _, line in tour.lines
    ]


def test_the_emergency_stop_while_a_step_runs_cuts_it_short_and_sweeps_every_replica() -> None:
    tour = show([errors_for("first", sleep="30s"), errors_for("second")], auto=False)

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "step 1's 30 s wait", running("3."))
        presenter.on_key(Key.EMERGENCY)

    started = time.monotonic()
    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert time.monotonic() - started < 10
    assert code == 130
    assert tour.presenter.emergency_cleared == 2
    assert tour.platform.calls[-1] == ("clear_faults", (("sre-app-0", "sre-app-1"),))
    assert [(s.number, s.interrupted) for s in tour.presenter.scores] == [(1, True)]
    assert_left_clean(tour)


# --- pausing ------------------------------------------------------------------------------


def test_pause_while_a_step_runs_holds_the_run_before_its_next_step_until_pause_again() -> None:
    tour = show([scenario(PAUSABLE)], auto=False)
    held = 1.5  # seconds, three times the step's own 0.5 s
    seen: dict[str, object] = {}

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        presenter.on_key(Key.NEXT)
        wait_for(presenter, "the run's 500 ms sleep", running("2."))
        presenter.on_key(Key.PAUSE)
        view = presenter.view()
        seen["paused"], seen["notice"] = view.paused, view.notice
        steps = set()
        until = time.monotonic() + held
        while time.monotonic() < until:
            view = presenter.view()
            steps.add(view.run.step if view.run is not None else view.phase)
            time.sleep(0.02)
        seen["steps while paused"] = steps
        presenter.on_key(Key.PAUSE)
        seen["notice after"] = presenter.view().notice
        wait_for(presenter, "the run to go on", lambda v: bool(v.scores) or not running("2.")(v))

    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert seen["paused"] is True
    assert seen["notice"] == "paused: the run holds before its next step (p goes on)"
    assert seen["steps while paused"] == {"2. sleep 500ms"}  # held before step 3
    assert seen["notice after"] == ""
    assert code == 0
    [(_, result)] = tour.journals
    assert result.verdict == "passed"
    assert [o.kind for o in result.steps if o.phase == "steps"] == [
        "load",
        "sleep",
        "narrate",
        "sleep",
    ]
    assert result.duration_s >= held  # the pause is part of the run


def test_pause_at_a_cue_holds_auto_until_pause_again() -> None:
    tour = show([errors_for("first")], auto=True)
    tour.presenter.on_key(Key.PAUSE)  # pressed before the show: its first cue holds
    seen: dict[str, object] = {}

    def drive(presenter: Presenter) -> None:
        wait_for(presenter, "the cue of step 1", at_cue(1, runs=0))
        time.sleep(5 * AUTO_PAUSE)
        view = presenter.view()
        seen["held"] = (view.phase, view.paused, len(view.scores), len(tour.loads))
        presenter.on_key(Key.PAUSE)

    with driven(tour.presenter, drive) as problems:
        code = tour.presenter.run()

    assert problems == []
    assert seen["held"] == ("cue", True, 0, 0)
    assert code == 0
    assert [s.number for s in tour.presenter.scores] == [1]


# --- a failed step ----------------------------------------------------------------------


def test_a_failed_step_does_not_stop_the_show_and_it_ends_with_exit_1() -> None:
    tour = show([scenario(CANNOT_BE_DONE), errors_for("second")], auto=True, scorecard=True)

    code = tour.presenter.run()

    assert code == 1
    assert tour.presenter.finished
    assert not tour.presenter.quit_by_presenter
    assert [(s.number, s.verdict, s.interrupted) for s in tour.presenter.scores] == [
        (1, "failed", False),
        (2, "passed", False),
    ]
    assert tour.journals[0][1].error == "no ready replica to inject a fault into"
    assert "step 1 failed: journal runs/01-broken-1/journal.json" in tour.step_lines
    assert_left_clean(tour)
