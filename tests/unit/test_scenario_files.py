"""Scenario files: every shipped one loads; every bad one is refused in one line that
names the file, the line and the field where they are known, and the fix."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from sreshow.errors import UsageError
from sreshow.scenarios import loader
from sreshow.scenarios.loader import (
    MAX_FILE_BYTES,
    load_scenario,
    resolve_scenario,
    shipped_names,
    shipped_scenarios,
)
from sreshow.scenarios.plan import RunClock, describe_expectation, describe_step, plan_lines
from sreshow.scenarios.spec import STEP_KINDS, ScenarioSpec

# The names the contract promises (docs/architecture.md).
REQUIRED = (
    "inject-errors",
    "high-error-rate",
    "high-latency",
    "spike-load",
    "kill-pods",
    "rollback",
    "bad-config",
    "health-check-failing",
)

# A valid file named case.yaml; the cases below change one thing each.
#   line 1 name, 4-6 the steps, 8-9 the first expectation, 10 the first line appended.
GOOD = """\
name: case
summary: A scenario for the tests
steps:
  - inject: {error_rate: 0.2, targets: all}
  - wait_for_alert: {alert: HighErrorRate, state: firing, within: 3m}
  - clear_faults: {}
expectations:
  - alert: HighErrorRate
    firing_within: 3m
"""


def changed(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def step(text: str) -> str:
    """GOOD with its third step (line 6, steps[2]) replaced."""
    return changed("  - clear_faults: {}\n", f"  - {text}\n")


BILLION_LAUGHS = "".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n',
        *(
            f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
            for a, b in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)

# (id, content, line, field, what is wrong, the fix): None where the file has no
# line or field to name.
BAD_FILES: list[tuple[str, str | bytes, int | None, str | None, str, str]] = [
    # --- the bytes ---
    ("empty", "", None, None, "is empty", "write name, summary and steps"),
    ("only-comments", "# nothing here\n\n", None, None, "is empty", "write name, summary"),
    ("binary", b"name: case\n\x00\x01\x02", 2, None, "is binary", "YAML file"),
    ("latin-1", b"name: case\nsummary: caf\xe9\n", 2, None, "not UTF-8", "save the file as UTF-8"),
    ("control-char", GOOD + "description: a\x07b\n", 10, None, "U+0007", "remove it"),
    ("huge", "#" * (MAX_FILE_BYTES + 1), None, None, "is 257 KiB, over the 256 KiB", "right file"),
    # --- the YAML ---
    ("unclosed-list", changed("all}", "all"), 5, None, "invalid YAML", "indentation"),
    ("tab-indent", "name: case\n\tsummary: x\n", 2, None, "invalid YAML", "indentation"),
    ("two-documents", GOOD + "---\nname: other\n", 10, None, "more than one YAML document", "---"),
    ("top-level-list", "- sleep: 20s\n", 1, None, "top level is a list", "name:, summary:"),
    ("top-level-text", "a scenario\n", 1, None, "top level is text", "left margin"),
    (
        "alias",
        changed("  - inject: {", "  - inject: &fault {") + "rollback:\n  - inject: *fault\n",
        4,
        None,
        "&fault: YAML anchors and aliases are not allowed",
        "write the value out in full",
    ),
    ("billion-laughs", BILLION_LAUGHS, 1, None, "anchors and aliases", "in full"),
    ("deep-nesting", GOOD + "x: " + "[" * 200 + "]" * 200, 10, None, "deeper than 50", "levels"),
    ("duplicate-key", GOOD + "summary: again\n", 10, "summary", "already on line 2", "keep one"),
    (
        "duplicate-nested-key",
        changed("{error_rate: 0.2,", "{error_rate: 0.2, error_rate: 0.3,"),
        4,
        "steps[0].inject.error_rate",
        "duplicate key",
        "keep one",
    ),
    ("number-as-key", GOOD + "1: one\n", 10, None, "the key '1' is a number", "keys are names"),
    (
        "python-tag",
        GOOD + "description: !!python/name:os.system\n",
        10,
        "description",
        "tag",
        "remove",
    ),
    ("custom-tag", GOOD + "description: !shout hello\n", 10, "description", "!shout", "remove"),
    (
        "huge-number",
        changed("error_rate: 0.2", "error_rate: " + "9" * 5000),
        4,
        "steps[0].inject.error_rate",
        "too long to read",
        "shorter",
    ),
    # --- the fields ---
    ("unknown-key", GOOD + "stepz: []\n", 10, "stepz", "unknown key", "did you mean steps?"),
    (
        "unknown-nested-key",
        changed("error_rate: 0.2", "error_rat: 0.2"),
        4,
        "steps[0].inject.error_rat",
        "unknown key",
        "did you mean error_rate? allowed here: error_rate, latency_seconds",
    ),
    ("missing-name", GOOD.replace("name: case\n", ""), 1, "name", "missing", "add name: case"),
    (
        "missing-summary",
        changed("summary: A scenario for the tests\n", ""),
        1,
        "summary",
        "missing",
        "add summary:",
    ),
    (
        "missing-within",
        changed(", within: 3m}", "}"),
        5,
        "steps[1].wait_for_alert.within",
        "missing",
        "add within: 3m",
    ),
    ("no-steps", "name: case\nsummary: x\nsteps: []\n", 3, "steps", "is empty", "add at least 1"),
    ("steps-null", "name: case\nsummary: x\nsteps:\n", 3, "steps", "has no value", "write a list"),
    (
        "name-mismatch",
        changed("name: case", "name: other"),
        1,
        "name",
        "'other'",
        "rename the file",
    ),
    ("name-pattern", changed("name: case", "name: My Case"), 1, "name", "not allowed", "lowercase"),
    ("summary-empty", changed("A scenario for the tests", "''"), 2, "summary", "is empty", "write"),
    ("summary-long", changed("A scenario for the tests", "x" * 201), 2, "summary", "201", "200"),
    (
        "version-number",
        step("deploy: {version: 2}"),
        6,
        "steps[2].deploy.version",
        "2 is not text",
        'quote it, like version: "2"',
    ),
    (
        "rps-text",
        step("load: {rps: lots}"),
        6,
        "steps[2].load.rps",
        "'lots' is not a number",
        "rps: 20",
    ),
    (
        "load-path",
        step("load: {rps: 20, path: api}"),
        6,
        "steps[2].load.path",
        "'api'",
        "starts with /",
    ),
    # --- durations ---
    (
        "duration-parsecs",
        changed("within: 3m", "within: 5 parsecs"),
        5,
        "steps[1].wait_for_alert.within",
        "'5 parsecs' is not a duration",
        "like 30s",
    ),
    (
        "duration-negative",
        changed("within: 3m", "within: -5s"),
        5,
        "steps[1].wait_for_alert.within",
        "negative",
        "positive duration",
    ),
    (
        "duration-zero",
        changed("within: 3m", "within: 0s"),
        5,
        "steps[1].wait_for_alert.within",
        "no time at all",
        "longer than 0s",
    ),
    (
        "duration-bare-number",
        changed("within: 3m", "within: 30"),
        5,
        "steps[1].wait_for_alert.within",
        "bare number",
        "like 30s",
    ),
    ("duration-fraction", step("sleep: 1.5s"), 6, "steps[2].sleep", "not a duration", "1m30s"),
    # --- steps ---
    (
        "unknown-step-kind",
        step("clear_fault: {}"),
        6,
        "steps[2]",
        "unknown step kind 'clear_fault'",
        "did you mean clear_faults?",
    ),
    (
        "step-two-keys",
        step("clear_faults: {}\n    sleep: 5s"),
        6,
        "steps[2]",
        "this one has 2: clear_faults, sleep",
        "one step per kind",
    ),
    (
        "step-settings-not-indented",
        step("wait_for_alert:\n    alert: PodsDown"),
        6,
        "steps[2]",
        "this one has 2",
        "indent the settings",
    ),
    (
        "step-bare-word",
        step("clear_faults"),
        6,
        "steps[2]",
        "has no settings",
        "- clear_faults: {}",
    ),
    (
        "step-no-body",
        step("clear_faults:"),
        6,
        "steps[2].clear_faults",
        "has no value",
        "clear_faults: {}",
    ),
    ("step-number", step("42"), 6, "steps[2]", "42 is not a step", "one key, its kind"),
    (
        "step-empty-narration",
        step("narrate: ''"),
        6,
        "steps[2].narrate",
        "is empty",
        "write some text",
    ),
    (
        "unknown-alert",
        changed("alert: HighErrorRate, state", "alert: HighErrorRat, state"),
        5,
        "steps[1].wait_for_alert.alert",
        "unknown alert 'HighErrorRat'",
        "did you mean HighErrorRate?",
    ),
    (
        "unknown-alert-state",
        changed("state: firing", "state: burning"),
        5,
        "steps[1].wait_for_alert.state",
        "'burning'",
        "pending, firing or resolved",
    ),
    (
        "fault-out-of-range",
        changed("error_rate: 0.2", "error_rate: 1.5"),
        4,
        "steps[0].inject.error_rate",
        "1.5 is out of range",
        "from 0 to 1",
    ),
    (
        "no-fault",
        changed("error_rate: 0.2, targets: all", "targets: all"),
        4,
        "steps[0].inject",
        "no fault given",
        "error_rate",
    ),
    (
        "targets-word",
        changed("targets: all", "targets: some"),
        4,
        "steps[0].inject.targets",
        "'some' is not a target",
        "like 50%",
    ),
    (
        "targets-too-many",
        changed("targets: all", "targets: 20"),
        4,
        "steps[0].inject.targets",
        "20 is out of range",
        "from 1 to 10",
    ),
    (
        "kill-count-and-percent",
        step("kill: {count: 1, percent: 50}"),
        6,
        "steps[2].kill",
        "both count and percent",
        "either count",
    ),
    (
        "kill-neither",
        step("kill: {force: true}"),
        6,
        "steps[2].kill",
        "neither count nor percent",
        "either count",
    ),
    (
        "scale-negative",
        step("scale: {replicas: -1}"),
        6,
        "steps[2].scale.replicas",
        "-1 is out of range",
        "from 0 to 10",
    ),
    (
        "wait-for-no-condition",
        step("wait_for: {within: 1m}"),
        6,
        "steps[2].wait_for",
        "0 conditions",
        "exactly one of replicas_ready",
    ),
    (
        "wait-for-two-conditions",
        step("wait_for: {replicas_ready: all, rollout: complete, within: 1m}"),
        6,
        "steps[2].wait_for",
        "2 conditions given: replicas_ready, rollout",
        "exactly one",
    ),
    # --- steady state and expectations ---
    (
        "check-unknown",
        GOOD + "steady_state:\n  checks:\n    - foo: 1\n",
        12,
        "steady_state.checks[0]",
        "no known key in this check",
        "replicas_ready",
    ),
    (
        "check-bad-replicas",
        GOOD + "steady_state:\n  checks:\n    - replicas_ready: most\n",
        12,
        "steady_state.checks[0].replicas_ready",
        "'most' is not a replica count",
        "or all",
    ),
    (
        "check-unknown-alert",
        GOOD + "steady_state:\n  checks:\n    - alerts_inactive: [Foo]\n",
        12,
        "steady_state.checks[0].alerts_inactive",
        "unknown alert 'Foo'",
        "HighErrorRate",
    ),
    (
        "expectation-unknown",
        GOOD + "  - foo: 1\n",
        10,
        "expectations[1]",
        "no known key in this expectation",
        "alert, max_error_budget_burn, recovered_within or rto_within",
    ),
    (
        "expectation-word",
        GOOD + "  - HighErrorRate\n",
        10,
        "expectations[1]",
        "'HighErrorRate' is not an expectation",
        "alert",
    ),
    (
        "expectation-typo",
        GOOD + "  - alert: PodsDown\n    firing_withn: 1m\n",
        11,
        "expectations[1].firing_withn",
        "unknown key",
        "did you mean firing_within?",
    ),
    (
        "expectation-nothing-to-check",
        GOOD + "  - alert: PodsDown\n",
        10,
        "expectations[1]",
        "nothing to check",
        "never_fires: true",
    ),
    (
        "expectation-never-fires-and-timing",
        changed("    firing_within: 3m\n", "    firing_within: 3m\n    never_fires: true\n"),
        8,
        "expectations[0]",
        "never_fires goes with no timings",
        "remove never_fires",
    ),
    (
        "budget-word",
        GOOD + "  - max_error_budget_burn: lots\n",
        10,
        "expectations[1].max_error_budget_burn",
        "'lots' is not a percentage",
        "like 5%",
    ),
    (
        "rto-duration",
        GOOD + "  - rto_within: soon\n",
        10,
        "expectations[1].rto_within",
        "'soon' is not a duration",
        "like 30s",
    ),
]


def assert_refused(path: Path, line: int | None, field: str | None, what: str, fix: str) -> str:
    with pytest.raises(UsageError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert "\n" not in message
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert message.startswith(prefix), message
    rest = message.removeprefix(prefix)
    if field:
        assert rest.startswith(f"{field}: "), message
    else:
        assert not re.match(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+)*: ", rest), message
    assert message.endswith(")"), message
    wrong, the_fix = rest.removesuffix(")").rsplit(" (", 1)
    assert what in wrong, message
    assert fix in the_fix, message
    return message


@pytest.mark.parametrize(
    ("content", "expected"),
    [pytest.param(case[1], case[2:], id=case[0]) for case in BAD_FILES],
)
def test_a_bad_file_is_refused_in_one_line_with_its_place_and_fix(
    tmp_path: Path, content: str | bytes, expected: tuple[int | None, str | None, str, str]
) -> None:
    path = tmp_path / "case.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert_refused(path, *expected)


def test_the_cases_are_distinct_changes_of_a_good_file(tmp_path: Path) -> None:
    contents = [case[1] for case in BAD_FILES]
    assert len(set(contents)) == len(contents) >= 30
    (tmp_path / "case.yaml").write_text(GOOD)
    assert load_scenario(tmp_path / "case.yaml").name == "case"


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path / "nope.yaml", None, None, "no such file", "sreshow scenario list")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, None, None, "is a directory", f"{tmp_path}/NAME.yaml")


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    assert_refused(fifo, None, None, "not a regular file", "YAML file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(GOOD)
    path.chmod(0)
    assert_refused(path, None, None, "permission denied", "chmod u+r")


def test_a_file_at_the_size_limit_is_parsed_and_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    body = "name: case\nsummary: many steps\nsteps:\n"
    steps = "  - sleep: 20s\n" * ((MAX_FILE_BYTES - len(body)) // len("  - sleep: 20s\n"))
    path.write_text(body + steps)
    assert path.stat().st_size <= MAX_FILE_BYTES
    assert_refused(path, 3, "steps", "items", "keep at most 200")


# --- good files ------------------------------------------------------------------------


def test_every_scenario_the_contract_names_is_shipped() -> None:
    assert set(REQUIRED) <= set(shipped_names())


@pytest.mark.parametrize("name", REQUIRED)
def test_a_shipped_scenario_loads_by_name(name: str) -> None:
    spec, path = resolve_scenario(name)
    assert (spec.name, path.stem, path.parent) == (name, name, loader.SCENARIOS_DIR)
    assert spec.summary
    assert spec.rollback, "a shipped scenario undoes what it does"


def test_shipped_scenarios_are_every_file_sorted_by_name() -> None:
    scenarios = shipped_scenarios()
    names = [spec.name for spec, _ in scenarios]
    assert names == sorted(names) == shipped_names()
    assert [path.stem for _, path in scenarios] == names


def test_a_broken_shipped_file_is_a_bug_that_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "case.yaml").write_text(changed("within: 3m", "within: 3 parsecs"))
    monkeypatch.setattr(loader, "SCENARIOS_DIR", tmp_path)
    with pytest.raises(UsageError, match=r"case\.yaml:5: steps\[1\]\.wait_for_alert\.within"):
        shipped_scenarios()


def test_a_file_resolves_by_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "case.yaml").write_text(GOOD)
    spec, path = resolve_scenario(str(tmp_path / "case.yaml"))
    assert (spec.name, path) == ("case", tmp_path / "case.yaml")
    monkeypatch.chdir(tmp_path)
    assert resolve_scenario("case.yaml")[0].name == "case"
    assert resolve_scenario("./case.yaml")[0].name == "case"


def test_a_yml_file_and_a_bom_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "case.yml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_scenario(path).name == "case"


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as raised:
        resolve_scenario("high-error-rat")
    message = str(raised.value)
    assert message.startswith("unknown scenario 'high-error-rat' (known: ")
    assert all(name in message for name in REQUIRED)
    assert "`sreshow scenario list`" in message
    assert "\n" not in message


def test_a_missing_path_is_not_taken_for_a_name(tmp_path: Path) -> None:
    assert_refused(tmp_path / "high-error-rate.yaml", None, None, "no such file", "check the path")


# --- what a file says, in words -----------------------------------------------------------


def parse_step(text: str) -> BaseModel:
    data = yaml.safe_load(f"name: x\nsummary: x\nsteps:\n  - {text}\n")
    return ScenarioSpec.model_validate(data).steps[0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("inject: {error_rate: 0.2, targets: all}", "inject error rate 20% on every replica"),
        ("inject: {latency_seconds: 1.5, targets: 1}", "inject latency +1.5s on 1 replica"),
        ("inject: {unhealthy: true, targets: 50%}", "inject unhealthy on 50% of the replicas"),
        ("clear_faults: {}", "clear every fault"),
        ("load: {rps: 20, duration: 2m}", "start load: 20 requests per second on /api/data for 2m"),
        ("stop_load: {}", "stop the load"),
        ("kill: {count: 1}", "kill 1 replica (evicted, the disruption budget permitting)"),
        ("kill: {percent: 50, force: true}", "force-kill 50% of the replicas"),
        (
            "deploy: {version: v2, broken: crash}",
            "deploy version v2, a bad release (it crashes on start)",
        ),
        ("rollback: {}", "roll back to the previous revision"),
        ("scale: {replicas: 0}", "scale to 0 replicas"),
        (
            "wait_for_alert: {alert: HighErrorRate, state: firing, within: 3m}",
            "wait for HighErrorRate firing (within 3m)",
        ),
        (
            "wait_for_notification: {alert: PodsDown, within: 4m}",
            "wait for the PodsDown firing notification (within 4m)",
        ),
        (
            "wait_for: {replicas_ready: all, within: 1m30s}",
            "wait until every replica is ready (within 1m30s)",
        ),
        (
            "wait_for: {rollout: stalled, within: 2m}",
            "wait until the rollout is stalled (within 2m)",
        ),
        ("sleep: 20s", "sleep 20s"),
        ("narrate: Watch the alert.", "say: Watch the alert."),
        ("pause: {}", "pause: 'Press Enter to go on' (skipped with --auto)"),
    ],
)
def test_each_step_reads_as_one_line(text: str, words: str) -> None:
    assert describe_step(parse_step(text)) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sleep: 20s", "sleep 20s (2 s at time scale 0.1)"),
        (
            "wait_for_alert: {alert: HighErrorRate, state: firing, within: 4m}",
            "wait for HighErrorRate firing (within 4m, 24 s at time scale 0.1)",
        ),
        (  # 6 s scaled, but no wait is bounded under 10 s: the bound it gets
            "wait_for: {replicas_ready: all, within: 1m}",
            "wait until every replica is ready (within 1m, 10 s at time scale 0.1)",
        ),
        (
            "wait_for_notification: {alert: PodsDown, within: 9m}",
            "wait for the PodsDown firing notification (within 9m, 54 s at time scale 0.1)",
        ),
        (
            "load: {rps: 5, duration: 2m}",
            "start load: 5 requests per second on /api/data for 2m (12 s at time scale 0.1)",
        ),
        ("scale: {replicas: 0}", "scale to 0 replicas"),
    ],
)
def test_during_a_run_a_step_says_what_its_durations_became(text: str, words: str) -> None:
    assert describe_step(parse_step(text), RunClock(time_scale=0.1, min_wait=10)) == words


def test_at_time_scale_1_a_step_reads_as_written_unless_a_bound_was_raised() -> None:
    clock = RunClock(time_scale=1, min_wait=10)

    assert describe_step(parse_step("sleep: 20s"), clock) == "sleep 20s"
    assert describe_step(parse_step("wait_for: {rollout: stalled, within: 2m}"), clock) == (
        "wait until the rollout is stalled (within 2m)"
    )
    assert describe_step(parse_step("wait_for: {rollout: stalled, within: 5s}"), clock) == (
        "wait until the rollout is stalled (within 5s, 10 s at time scale 1)"
    )


def test_a_platform_whose_clocks_do_not_scale_gives_every_wait_that_much_more() -> None:
    clock = RunClock(time_scale=0.1, min_wait=10, unscaled=45)
    step = parse_step("wait_for: {autoscaler_desired_at_least: 4, within: 3m}")

    assert clock.bound(180) == 18 + 45
    assert describe_step(step, clock) == (
        "wait until the autoscaler wants at least 4 replicas "
        "(within 3m, 18 s at time scale 0.1 + 45 s for the platform's own clocks)"
    )


def test_every_step_kind_has_its_own_words() -> None:
    assert set(EXAMPLE_STEPS) == set(STEP_KINDS)
    lines = [describe_step(parse_step(text)) for text in EXAMPLE_STEPS.values()]
    assert all(lines)
    assert len(set(lines)) == len(lines)


EXAMPLE_STEPS = {
    "inject": "inject: {cpu_burn: 0.5}",
    "clear_faults": "clear_faults: {}",
    "load": "load: {rps: 1}",
    "stop_load": "stop_load: {}",
    "kill": "kill: {count: 2}",
    "deploy": "deploy: {version: v3}",
    "rollback": "rollback: {revision: 2}",
    "scale": "scale: {replicas: 1}",
    "wait_for_alert": "wait_for_alert: {alert: PodsDown, state: resolved, within: 1m}",
    "wait_for_notification": (
        "wait_for_notification: {alert: PodsDown, status: resolved, within: 1m}"
    ),
    "wait_for": "wait_for: {promql: up == 1, within: 1m}",
    "sleep": "sleep: 1s",
    "narrate": "narrate: hello",
    "pause": "pause: {prompt: Ready to go}",
}


def test_expectations_and_the_plan_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        GOOD
        + "  - max_error_budget_burn: 50%\n  - rto_within: 1m\n  - recovered_within: 2m\n"
        + "rollback:\n  - clear_faults: {}\n"
    )
    spec = load_scenario(path)
    assert [describe_expectation(e) for e in spec.expectations] == [
        "HighErrorRate fires within 3m",
        "at most 50% of the error budget is burned (SLO 99.9% over 30d)",
        "the service is healthy again within 1m of the first disruption (RTO)",
        "the service recovers within 2m",
    ]
    lines = plan_lines(spec)
    assert lines[lines.index("Steps:") + 2] == "  2. wait for HighErrorRate firing (within 3m)"
    assert lines[-2:] == [
        "Rollback (always runs, also on failure and Ctrl-C):",
        "  1. clear every fault",
    ]
