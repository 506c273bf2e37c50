"""The runner on an in-memory platform: Ctrl-C at any moment ends with exit 130 after a
complete cleanup, the verdict judged and kept; a run at time scale 0.1 says what its
written durations became."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable

import pytest
import yaml

from sreshow.errors import ExitCode
from sreshow.report.narrative import describe_event
from sreshow.scenarios import steps
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


# --- a step that fails, a wait that runs out, an interrupted wait ----------------------

FAILS_HALFWAY = """
name: case
summary: a release, more replicas and errors, then a step that cannot be done
steps:
  - load: {rps: 20}
  - deploy: {version: 2.0.0}
  - scale: {replicas: 0}
  - inject: {error_rate: 0.5, targets: all}
  - narrate: never reached
rollback:
  - clear_faults: {}
  - stop_load: {}
"""


def test_a_step_that_fails_ends_the_steps_and_the_rollback_block_and_restore_still_run() -> None:
    platform = FakePlatform()

    runner, result = run(FAILS_HALFWAY, platform)

    assert (result.exit_code, result.verdict, result.interrupted) == (
        ExitCode.VERDICT_FAILED,
        "failed",
        False,
    )
    assert result.error == "no ready replica to inject a fault into"
    outcomes = [(o.phase, o.kind, o.passed) for o in result.steps]
    assert outcomes == [
        ("steps", "load", True),
        ("steps", "deploy", True),
        ("steps", "scale", True),
        ("steps", "inject", False),  # the narration after it never ran
        ("rollback", "clear_faults", True),
        ("rollback", "stop_load", True),
    ]
    assert result.steps[3].detail == "no ready replica to inject a fault into"
    # What the rollback block did not undo, the runner did: the release and the count.
    assert_cleaned_up(runner, platform)
    assert ("rollback", (1,)) in platform.calls
    assert ("scale", (2,)) in platform.calls
    order = kinds(result)
    assert order.index("step_failed") < order.index("rollback_started")
    assert "rolled_back" in order[order.index("rollback_started") :]


def test_ctrl_c_while_a_step_waits_runs_the_rollback_actions_and_restores_the_rest() -> None:
    platform = FakePlatform()
    platform.query_value = None  # the PromQL wait would wait its whole minute
    platform.on_call["query"] = on_nth_call(2, sigint)  # Ctrl-C on its second look

    started = time.monotonic()
    runner, result = run(
        """
name: case
summary: Ctrl-C while a step waits
steps:
  - load: {rps: 20}
  - deploy: {version: 2.0.0}
  - scale: {replicas: 3}
  - inject: {error_rate: 0.5, targets: all}
  - wait_for: {promql: 'up == 1', within: 1m}
rollback:
  - clear_faults: {}
  - wait_for: {replicas_ready: all, within: 1m}
  - stop_load: {}
""",
        platform,
    )

    assert time.monotonic() - started < 10  # neither minute-long wait was waited out
    assert (result.exit_code, result.interrupted, result.verdict, result.error) == (
        ExitCode.INTERRUPTED,
        True,
        "failed",
        "interrupted",
    )
    assert [o.kind for o in result.steps if o.phase == "rollback"] == ["clear_faults", "stop_load"]
    assert [o.kind for o in result.steps if o.phase == "steps"] == [
        "load",
        "deploy",
        "scale",
        "inject",  # the interrupted wait has no outcome: it neither passed nor failed
    ]
    assert_cleaned_up(runner, platform)
    order = kinds(result)
    assert order.index("interrupted") < order.index("rollback_started")
    assert {"rolled_back", "replicas_restored"} <= set(order[order.index("rollback_started") :])


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "wait_for: {replicas_ready: 3, within: 30s}",
            "at least 3 replicas are ready did not happen within 0.3 s (2/2 ready)",
        ),
        (
            "wait_for_alert: {alert: HighErrorRate, state: firing, within: 1m}",
            "HighErrorRate firing did not happen within 0.6 s (it is inactive)",
        ),
        (
            "wait_for_alert: {alert: HighErrorRate, state: resolved, within: 1m}",
            "HighErrorRate resolved did not happen within 0.6 s (it never fired)",
        ),
        (
            "wait_for_notification: {alert: PodsDown, within: 50s}",
            "a firing notification about PodsDown did not happen within 0.5 s",
        ),
    ],
    ids=["wait_for", "wait_for_alert", "wait_for_alert-resolved", "wait_for_notification"],
)
def test_a_wait_that_runs_out_fails_the_run_naming_what_it_waited_for_and_how_long(
    monkeypatch: pytest.MonkeyPatch, step: str, message: str
) -> None:
    # Every wait gets at least 10 s on a real platform (a process start, a scrape, a rule
    # evaluation take real time); the fake needs none, so each timeout here costs < 1 s.
    monkeypatch.setattr(steps, "MIN_WAIT_SECONDS", 0.0)
    platform = FakePlatform(time_scale=0.01)

    runner, result = run(
        f"""
name: case
summary: a wait that runs out
steps:
  - load: {{rps: 20}}
  - {step}
  - narrate: never reached
rollback:
  - stop_load: {{}}
""",
        platform,
    )

    assert (result.exit_code, result.verdict, result.error) == (
        ExitCode.VERDICT_FAILED,
        "failed",
        message,
    )
    _, wait, cleanup = result.steps
    assert (wait.passed, wait.detail) == (False, message)
    assert wait.description.endswith(" at time scale 0.01)")
    bound = float(re.findall(r"within (\d+\.\d) s", message)[0])
    took = wait.finished_t - wait.started_t
    assert bound - 0.05 <= took <= bound + 1.0  # waited its scaled bound, not the floor
    assert (cleanup.phase, cleanup.kind, cleanup.passed) == ("rollback", "stop_load", True)
    assert not runner.load.running


# --- expectations ----------------------------------------------------------------------

ERRORS_FIRE_AND_RESOLVE = """
name: case
summary: errors fire HighErrorRate; clearing them resolves it
steps:
  - inject: {error_rate: 0.5, targets: all}
  - wait_for_alert: {alert: HighErrorRate, state: firing, within: 1m}
  - clear_faults: {}
  - wait_for_alert: {alert: HighErrorRate, state: resolved, within: 1m}
"""


def alert_follows_faults(platform: FakePlatform, alert: str) -> None:
    """`alert` fires when faults are injected and resolves when they are cleared."""
    platform.on_call["set_faults"] = lambda: platform.alert_states.update({alert: "firing"})
    platform.on_call["clear_faults"] = lambda: platform.alert_states.update({alert: "inactive"})


def judged(result: ScenarioResult) -> list[tuple[str, bool, str]]:
    return [(e.expectation, e.passed, e.detail) for e in result.expectations]


def test_expected_alerts_that_fire_and_resolve_in_time_pass_the_verdict() -> None:
    platform = FakePlatform(time_scale=0.1)
    alert_follows_faults(platform, "HighErrorRate")

    _, result = run(
        ERRORS_FIRE_AND_RESOLVE
        + """
expectations:
  - alert: HighErrorRate
    firing_within: 1m
    resolved_within: 1m
  - alert: HighLatency
    never_fires: true
""",
        platform,
    )

    assert (result.exit_code, result.verdict, result.error) == (ExitCode.PASSED, "passed", "")
    (fired, resolved, never) = judged(result)
    assert fired[:2] == ("HighErrorRate fires within 1m (6 s at time scale 0.1)", True)
    assert re.fullmatch(r"fired after \d+\.\d s \(\d+(\.\d)? s real-time\)", fired[2]), fired
    assert resolved[:2] == ("HighErrorRate resolves within 1m (6 s at time scale 0.1)", True)
    after_fix = (
        r"resolved \d+\.\d s \(\S+ s real-time\) after the remediation at \S+ s \(faults_cleared\)"
    )
    assert re.fullmatch(after_fix, resolved[2]), resolved
    assert never == ("HighLatency never fires", True, "never fired")


def test_an_expected_alert_that_never_fires_fails_the_verdict_with_exit_1() -> None:
    platform = FakePlatform(time_scale=0.1)
    alert_follows_faults(platform, "HighErrorRate")

    _, result = run(
        ERRORS_FIRE_AND_RESOLVE
        + """
expectations:
  - alert: HighErrorRate
    firing_within: 1m
  - alert: PodsDown
    firing_within: 1m
""",
        platform,
    )

    assert (result.exit_code, result.verdict) == (ExitCode.VERDICT_FAILED, "failed")
    assert result.error == ""  # every step passed: the expectation alone fails the run
    assert all(o.passed for o in result.steps)
    (fired, missed) = judged(result)
    assert fired[1] is True
    assert missed == (
        "PodsDown fires within 1m (6 s at time scale 0.1)",
        False,
        "never fired (not detected)",
    )


def test_an_alert_expected_never_to_fire_that_fires_fails_the_verdict_with_exit_1() -> None:
    platform = FakePlatform(time_scale=0.1)
    alert_follows_faults(platform, "HighErrorRate")

    _, result = run(
        ERRORS_FIRE_AND_RESOLVE + "expectations:\n  - {alert: HighErrorRate, never_fires: true}\n",
        platform,
    )

    assert (result.exit_code, result.verdict, result.error) == (
        ExitCode.VERDICT_FAILED,
        "failed",
        "",
    )
    [(expectation, passed, detail)] = judged(result)
    assert (expectation, passed) == ("HighErrorRate never fires", False)
    assert re.fullmatch(r"fired \d+\.\d s \(\d+(\.\d)? s real-time\) into the run", detail), detail


def test_replicas_the_autoscaler_added_are_left_to_it_and_replicas_set_by_hand_restored() -> None:
    """Scaling back by hand what the autoscaler grew would be undone at its next sync (its
    scale-down window remembers the peak): the run says who scales them in instead."""
    grown = FakePlatform(time_scale=0.1)
    grown.on_call["query"] = lambda: (
        grown.autoscale(4, "cpu 40% of 10%", start=True) if grown.desired == 2 else None
    )

    _, result = run(
        """
name: case
summary: the autoscaler grows the deployment
steps:
  - wait_for: {promql: 'vector(1)', within: 10s}
""",
        grown,
    )

    assert [c for c, _ in grown.calls if c == "scale"] == []
    assert grown.desired == 4
    left = [e for e in result.events if e.kind == "left_to_autoscaler"]
    assert [(e.details["replicas"], e.details["to"]) for e in left] == [(4, 2)]
    assert describe_event(left[0]) == (
        "4 replicas left to the autoscaler, which scales them in to 2 once its scale-down "
        "stabilisation window has passed"
    )

    by_hand = FakePlatform(time_scale=0.1)
    by_hand.autoscale(2, "at its minimum")
    _, result = run(
        """
name: case
summary: the run scales up by hand
steps:
  - scale: {replicas: 3}
""",
        by_hand,
    )
    assert ("scale", (2,)) in by_hand.calls
    assert by_hand.desired == 2
    assert "left_to_autoscaler" not in kinds(result)
