"""`sreshow scenario ...` as a user runs it: a real subprocess, a temporary state dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.unit.test_scenario_files import BILLION_LAUGHS, GOOD, REQUIRED


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


Sreshow = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def sreshow(state_dir: Path) -> Sreshow:
    """`sreshow ARGS...` in a subprocess with its own state dir."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sreshow", *args],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "SRESHOW_STATE_DIR": str(state_dir)},
        )

    return run


def test_list_json_is_a_list_of_name_and_summary(sreshow: Sreshow) -> None:
    result = sreshow("scenario", "list", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    listing = json.loads(result.stdout)
    assert all(set(item) == {"name", "summary"} for item in listing)
    names = [item["name"] for item in listing]
    assert names == sorted(names)
    assert set(REQUIRED) <= set(names)
    assert all(isinstance(item["summary"], str) and item["summary"] for item in listing)


def test_list_shows_every_name(sreshow: Sreshow) -> None:
    result = sreshow("scenario", "list")
    assert result.returncode == 0
    assert all(name in result.stdout for name in REQUIRED)


def test_show_tells_the_whole_story(sreshow: Sreshow) -> None:
    result = sreshow("scenario", "show", "high-error-rate")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("high-error-rate: ")
    for heading in ("Steady state", "Steps:", "Expectations:", "Rollback"):
        assert any(line.startswith(heading) for line in lines), heading
    assert any(line.endswith(". wait for HighErrorRate firing (within 4m)") for line in lines), (
        result.stdout
    )
    assert "dry run" not in result.stdout


def test_schema_is_a_json_schema_every_shipped_file_meets(sreshow: Sreshow) -> None:
    result = sreshow("scenario", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "sreshow scenario file"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    shipped = Path(__file__).resolve().parents[2] / "scenarios"
    for name in REQUIRED:
        document = yaml.safe_load((shipped / f"{name}.yaml").read_text())
        assert list(validator.iter_errors(document)) == [], name
    bad = yaml.safe_load(GOOD.replace("within: 3m", "within: 5 parsecs", 1))
    assert list(validator.iter_errors(bad))


def write(tmp_path: Path, content: str | bytes, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BAD = {
    "directory": None,
    "invalid-yaml": "name: case\nsummary: [unclosed\nsteps: []\n",
    "alias-bomb": BILLION_LAUGHS,
    "binary": b"name: case\n\x00\x00\x00",
    "parsecs": GOOD.replace("within: 3m", "within: 5 parsecs", 1),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("form", [("scenario", "run"), ("scenario",)], ids=["run", "short"])
def test_a_bad_file_is_exit_2_and_one_line(
    sreshow: Sreshow,
    tmp_path: Path,
    case: str,
    form: tuple[str, ...],
) -> None:
    content = BAD[case]
    path = tmp_path if content is None else write(tmp_path, content)
    result = sreshow(*form, str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}")
    assert lines[0].endswith(")")
    assert "Traceback" not in result.stderr


def test_dry_run_prints_the_plan_and_touches_nothing(sreshow: Sreshow, state_dir: Path) -> None:
    result = sreshow("scenario", "run", "high-error-rate", "--dry-run")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("high-error-rate: ")
    assert "Steps:" in lines
    assert any("wait for HighErrorRate firing (within 4m)" in line for line in lines)
    # When the alert should fire by the shipped files: after its `for: 1m`, at the latest
    # a window, an evaluation and the `for` later.
    [predicted] = [line for line in lines if line.startswith("predicted in real time: ")]
    assert predicted.startswith("predicted in real time: HighErrorRate: fires 1m")
    assert "after the fault, notified" in predicted
    assert lines[-1] == "dry run: nothing was touched"
    assert not state_dir.exists()


@pytest.mark.parametrize("name", REQUIRED)
def test_the_short_form_is_the_run_command(sreshow: Sreshow, name: str) -> None:
    short = sreshow("scenario", name, "--dry-run")
    full = sreshow("scenario", "run", name, "--dry-run")
    assert short.returncode == 0, short.stderr
    assert (short.returncode, short.stdout, short.stderr) == (
        full.returncode,
        full.stdout,
        full.stderr,
    )


def test_a_file_of_ones_own_runs_dry_by_path(sreshow: Sreshow, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = sreshow("scenario", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "  3. clear every fault" in result.stdout.splitlines()


@pytest.mark.parametrize("form", [("scenario", "run"), ("scenario",), ("scenario", "show")])
def test_an_unknown_name_is_exit_2_listing_the_known_ones(
    sreshow: Sreshow, form: tuple[str, ...]
) -> None:
    result = sreshow(*form, "high-error-rat")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown scenario 'high-error-rat' (known: ")
    assert all(name in lines[0] for name in REQUIRED)
    assert "`sreshow scenario list`" in lines[0]


def test_scenario_alone_shows_its_help(sreshow: Sreshow) -> None:
    result = sreshow("scenario")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("Usage: sreshow scenario")
    assert all(command in result.stdout for command in ("list", "show", "schema", "run"))


def test_running_without_a_stack_is_exit_3_saying_how_to_start_one(
    sreshow: Sreshow, state_dir: Path
) -> None:
    result = sreshow("scenario", "run", "high-error-rate", "--auto")

    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        f"error: no local stack is up (state in {state_dir}); start one with "
        "`sreshow up --time-scale 0.1`, then run the scenario again"
    ]
    assert not (state_dir / "runs").exists()


def test_a_report_path_that_is_a_file_is_exit_2(sreshow: Sreshow, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")

    result = sreshow("scenario", "run", "kill-pods", "--report", str(taken))

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: --report {taken} is a file; give a directory for the journal"
    ]
