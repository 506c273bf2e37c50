"""The runner on an in-memory platform: Ctrl-C at any moment ends with exit 130 after a
complete cleanup, the verdict judged and kept; a run at time scale 0.1 says what its
written durations became."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable

import yaml

from sreshow.errors import ExitCode
from sreshow.scenarios.observer import Observer
from sreshow.scenarios.runner import RunHooks, ScenarioResult, ScenarioRunner
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.scenarios.steps import Changes, StepContext
from tests.unit.fakes import FakeLoad, FakePlatform

ERRORS_THEN_CLEANUP = """
name: case
summary: errors, then the rollback block clears them
steady_state:
  within: 30s
  checks:
    - replicas_ready: all
steps:
  - load: {rps: 50}
  - inject: {error_rate: 0.2, targets: all}
  - sleep: 300ms
rollback:
  - clear_faults: {}
  - sleep: 1m
  - stop_load: {}
"""


def spec(text: str) -> ScenarioSpec:
    return ScenarioSpec.model_validate(yaml.safe_load(text))


def sigint() -> None:
    signal.raise_signal(signal.SIGINT)  # delivered to the runner's handler, as Ctrl-C is


def on_nth_call(count: int, action: Callable[[], None]) -> Callable[[], None]:
    """An action for `FakePlatform.on_call` that acts on the `count`-th call only."""
    calls = 0

    def maybe() -> None:
        nonlocal calls
        calls += 1
        if calls == count:
            action()

    return maybe


def run(
    text: str, platform: FakePlatform, said: list[str] | None = None
) -> tuple[ScenarioRunner, ScenarioResult]:
    hooks = RunHooks(say=(said if said is not None else []).append)
    runner = ScenarioRunner(spec(text), platform, FakeLoad(platform), hooks)
    return runner, runner.run()


def kinds(result: ScenarioResult) -> list[str]:
    return [event.kind for event in result.events]


def assert_cleaned_up(runner: ScenarioRunner, platform: FakePlatform) -> None:
    assert platform.faults == {}
    assert not runner.load.running
    assert (platform.desired, platform.revision) == (2, 1)


def test_ctrl_c_during_the_final_cleanup_ends_with_130_and_the_verdict_judged() -> None:
    platform = FakePlatform()
    said: list[str] = []
    platform.on_call["clear_faults"] = sigint  # in the rollback block, after the steps

    runner, result = run(ERRORS_THEN_CLEANUP, platform, said)

    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.interrupted
    assert runner.interrupted_during_cleanup
    assert result.verdict == "passed"  # every step passed; the verdict is judged as usual
    assert result.error == ""
    assert result.steady_state == {"before": "held"}  # not checked again: the user wants out
    assert said == ["still cleaning up: faults, load and replicas first; one moment"]
    assert_cleaned_up(runner, platform)
    rollback = [o.kind for o in result.steps if o.phase == "rollback"]
    assert rollback == ["clear_faults", "stop_load"]  # its wait skipped, its actions done
    interrupted = [e for e in result.events if e.kind == "interrupted"]
    assert [dict(e.details) for e in interrupted] == [{"during": "cleanup"}]
    assert kinds(result)[-1] == "run_finished"


def test_ctrl_c_during_the_steps_cleans_up_and_a_second_one_does_not_cut_it_short() -> None:
    platform = FakePlatform()
    said: list[str] = []
    platform.on_call["set_faults"] = sigint
    platform.on_call["clear_faults"] = sigint

    runner, result = run(ERRORS_THEN_CLEANUP, platform, said)

    assert (result.exit_code, result.interrupted, result.verdict) == (
        ExitCode.INTERRUPTED,
        True,
        "failed",
    )
    assert result.error == "interrupted"
    assert said == ["still cleaning up: faults, load and replicas first; one moment"]
    assert_cleaned_up(runner, platform)
    assert [o.kind for o in result.steps if o.phase == "rollback"] == ["clear_faults", "stop_load"]
    assert "after" not in result.steady_state


def test_ctrl_c_while_the_steady_state_is_checked_again_ends_the_check() -> None:
    platform = FakePlatform()

    def break_the_steady_state() -> None:
        platform.query_value = None  # the check after the cleanup would wait its 30 s
        platform.on_call["query"] = sigint

    platform.on_call["clear_faults"] = break_the_steady_state
    text = ERRORS_THEN_CLEANUP.replace("    - replicas_ready: all", "    - promql: up == 1")

    started = time.monotonic()
    _, result = run(text.replace("sleep: 1m", "sleep: 10ms"), platform)

    assert time.monotonic() - started < 10
    assert (result.exit_code, result.interrupted, result.verdict) == (
        ExitCode.INTERRUPTED,
        True,
        "passed",
    )
    assert result.steady_state == {"before": "held"}


def test_a_run_that_is_not_interrupted_checks_the_steady_state_again() -> None:
    platform = FakePlatform()

    runner, result = run(ERRORS_THEN_CLEANUP.replace("sleep: 1m", "sleep: 10ms"), platform)

    assert (result.exit_code, result.interrupted, result.verdict) == (
        ExitCode.PASSED,
        False,
        "passed",
    )
    assert result.steady_state == {"before": "held", "after": "held"}
    assert not runner.interrupted_during_cleanup
    assert_cleaned_up(runner, platform)


def test_at_time_scale_0_1_steps_say_both_the_written_and_the_run_duration() -> None:
    platform = FakePlatform(time_scale=0.1)

    _, result = run(
        """
name: case
summary: durations at time scale 0.1
steps:
  - sleep: 2s
  - kill: {count: 1}
  - wait_for: {replicas_ready: all, within: 1m}
""",
        platform,
    )

    sleep, _, wait = result.steps
    assert sleep.description == "sleep 2s (0.2 s at time scale 0.1)"
    assert sleep.detail == "waited 0.2 s (2 s real time)"
    assert (
        wait.description == "wait until every replica is ready (within 1m, 10 s at time scale 0.1)"
    )
    took = wait.finished_t - wait.started_t
    assert wait.detail.startswith("every replica is ready after ")
    assert wait.detail.endswith(" real time)")
    assert 0.2 < took < 2  # the replacement starts in 0.3 s
    started = [e.details["step"] for e in result.events if e.kind == "step_started"]
    assert started[0] == "sleep 2s (0.2 s at time scale 0.1)"


def test_at_time_scale_1_steps_read_as_written() -> None:
    platform = FakePlatform(time_scale=1.0)

    _, result = run("name: case\nsummary: x\nsteps:\n  - sleep: 100ms\n", platform)

    [sleep] = result.steps
    assert (sleep.description, sleep.detail) == ("sleep 100ms", "waited 0.1 s")


def test_a_wait_says_how_long_it_took_and_what_that_is_in_real_time() -> None:
    platform = FakePlatform(time_scale=0.1)

    def alert_fires() -> None:
        platform.alert_states["HighErrorRate"] = "firing"

    platform.on_call["set_faults"] = alert_fires
    _, result = run(
        """
name: case
summary: an alert
steps:
  - inject: {error_rate: 0.2, targets: all}
  - wait_for_alert: {alert: HighErrorRate, state: firing, within: 4m}
""",
        platform,
    )

    wait = result.steps[1]
    assert wait.description == "wait for HighErrorRate firing (within 4m, 24 s at time scale 0.1)"
    note = r"HighErrorRate firing after (\d+\.\d) s \((\S+) s real time\)"
    took = re.fullmatch(note, wait.detail)
    assert took is not None, wait.detail
    assert abs(float(took[2]) - float(took[1]) / 0.1) <= 1.0
    load = FakeLoad(platform)
    ctx = StepContext(platform, load, Observer(platform, load, objective=0.999), Changes(2, 1))
    assert ctx.measured_text(10.6) == "10.6 s (1m 46s real time)"
