"""Tour files: the shipped tour resolves step by step; a bad tour file is refused as a
bad scenario file is, in one line naming the file, the line, the field and the fix,
with exit 2 (through `sreshow walkthrough` itself)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sreshow.cli.app import main
from sreshow.errors import UsageError
from sreshow.scenarios import spec as s
from sreshow.scenarios.loader import SCENARIOS_DIR
from sreshow.walkthrough.tour import (
    BASELINE_RPS,
    DEFAULT_TOUR,
    TOURS_DIR,
    baseline_spec,
    resolve_tour,
    shipped_tours,
    tour_stops,
)

HEADER = """\
name: {name}
title: A tour
summary: what it shows
steps:
"""
BASELINE = """\
  - title: A healthy baseline
    cue: Normal looks like this.
    baseline: 10s
"""


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "state"
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(directory))
    return directory


def tour_file(directory: Path, name: str, steps: str, *, header: str = HEADER) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(header.format(name=name) + steps, encoding="utf-8")
    return path


def refused(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str | None = None
) -> str:
    """`sreshow walkthrough --notes FILE TOUR`: exit 2, nothing written, one line on
    stderr; that line without its `error: ` prefix."""
    notes = tmp_path / "notes.md"
    code = main(["walkthrough", "--notes", str(notes), name or str(path)])
    captured = capsys.readouterr()

    assert code == 2, captured
    assert captured.out == ""
    assert not notes.exists()
    [line] = captured.err.splitlines()
    assert line.startswith("error: ")
    return line.removeprefix("error: ")


# --- the shipped tour ------------------------------------------------------------------


def test_the_shipped_tour_loads_and_every_step_resolves() -> None:
    tour, path = resolve_tour(None)

    assert (tour.name, path) == (DEFAULT_TOUR, TOURS_DIR / f"{DEFAULT_TOUR}.yaml")
    assert DEFAULT_TOUR in shipped_tours()
    stops = tour_stops(tour, path)
    assert [stop.number for stop in stops] == list(range(1, len(tour.steps) + 1))
    assert [stop.step for stop in stops] == list(tour.steps)
    runs = [stop.spec.name if stop.spec is not None else None for stop in stops]
    assert runs == [
        "baseline",
        "high-error-rate",
        "kill-pods",
        "spike-load",
        "rollback",
        None,  # the scorecard runs nothing
    ]
    for stop in stops:  # a scenario step runs the shipped scenario of that name
        if stop.step.scenario is not None:
            assert stop.spec is not None
            assert (SCENARIOS_DIR / f"{stop.step.scenario}.yaml").is_file()
    assert stops[-1].step.scorecard
    assert resolve_tour(DEFAULT_TOUR) == (tour, path)
    assert resolve_tour(str(path)) == (tour, path)  # by its path too


def test_a_baseline_of_30s_is_a_valid_scenario_that_sleeps_30_s_under_steady_load() -> None:
    spec = baseline_spec(30)

    assert spec.name == "baseline"
    assert spec.summary == "A healthy system under steady load for 30s"
    kinds = [s.step_kind(step) for step in spec.steps]
    assert kinds == ["load", "narrate", "sleep"]
    sleep = spec.steps[kinds.index("sleep")]
    assert s.step_body(sleep) == 30.0
    assert s.step_body(spec.steps[0]).rps == BASELINE_RPS
    assert [s.step_kind(step) for step in spec.rollback] == ["stop_load"]
    assert spec.steady_state.checks  # a baseline begins and ends on a healthy stack


def test_a_step_naming_a_scenario_file_beside_the_tour_runs_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tours = tmp_path / "tours"
    (tours / "cases").mkdir(parents=True)
    (tours / "cases" / "my-case.yaml").write_text(
        "name: my-case\nsummary: my own case\nsteps:\n  - sleep: 1s\n", encoding="utf-8"
    )
    path = tour_file(
        tours,
        "mine",
        "  - title: My case\n    cue: Mine.\n    scenario: cases/my-case.yaml\n",
    )
    monkeypatch.chdir(tmp_path)  # beside the tour, not beside the working directory

    tour, found = resolve_tour(str(path))
    [stop] = tour_stops(tour, found)

    assert stop.spec is not None
    assert (stop.spec.name, stop.spec.summary) == ("my-case", "my own case")


# --- bad tours, refused in one line ----------------------------------------------------


def test_a_step_of_two_kinds_is_refused_naming_both_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tour_file(
        tmp_path,
        "two",
        BASELINE + "  - title: Both\n    cue: Say it.\n    scenario: high-error-rate\n"
        "    baseline: 30s\n",
    )

    assert refused(path, tmp_path, capsys) == (
        f"{path}:8: steps[1]: 2 kinds given: scenario, baseline (give exactly one of "
        "scenario: NAME, baseline: 30s or scorecard: true)"
    )
    with pytest.raises(UsageError, match=re.escape(f"{path}:8: steps[1]: 2 kinds given")):
        resolve_tour(str(path))


def test_a_step_of_no_kind_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tour_file(tmp_path, "none", "  - title: Nothing\n    cue: Say it.\n")

    assert refused(path, tmp_path, capsys) == (
        f"{path}:5: steps[0]: 0 kinds given (give exactly one of scenario: NAME, "
        "baseline: 30s or scorecard: true)"
    )


def test_an_unknown_scenario_is_refused_naming_the_step_its_line_and_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tour_file(
        tmp_path,
        "unknown-scenario",
        BASELINE + "  - title: Mystery\n    cue: Say it.\n    scenario: no-such-scenario\n",
    )

    line = refused(path, tmp_path, capsys)

    # The step begins on line 8; its `scenario:` is on line 10. Either is the line.
    where = re.match(rf"{re.escape(str(path))}:(8|10): steps\[1\](\.scenario)?[: ]", line)
    assert where is not None, f"no file:line and field in: {line}"
    assert "Mystery" in line  # the step, by its title
    assert "unknown scenario 'no-such-scenario'" in line
    assert "known: bad-config, health-check-failing, high-error-rate," in line  # the fix


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            BASELINE + "    colour: red\n",
            "{path}:8: steps[0].colour: unknown key (allowed here: title, cue, scenario, "
            "baseline, scorecard)",
        ),
        (
            BASELINE + "colour: red\n",
            "{path}:8: colour: unknown key (allowed here: name, title, summary, auto_pause, steps)",
        ),
    ],
    ids=["in-a-step", "at-the-top"],
)
def test_an_unknown_key_is_refused_naming_it_and_the_keys_allowed_there(
    steps: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tour_file(tmp_path, "unknown-key", steps)

    assert refused(path, tmp_path, capsys) == expected.format(path=path)


def test_a_name_that_is_not_the_file_name_is_refused_with_both_fixes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(HEADER.format(name="other-name") + BASELINE, encoding="utf-8")

    assert refused(path, tmp_path, capsys) == (
        f"{path}:1: name: 'other-name' is not the file's name 'wrong' (write name: wrong, "
        "or rename the file to other-name.yaml)"
    )


def test_an_unknown_tour_name_is_refused_listing_the_shipped_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(tmp_path / "unused", tmp_path, capsys, name="no-such-tour")

    assert line == (
        "unknown walkthrough 'no-such-tour' (known: sre-showcase; or give the path of a "
        "tour's YAML file)"
    )
    with pytest.raises(UsageError, match="known: sre-showcase"):
        resolve_tour("no-such-tour")
