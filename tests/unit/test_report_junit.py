"""JUnit XML: a fixed journal renders exactly the committed file, which junitparser (a
real consumer's parser) reads as one suite with a test case per expectation plus the
run's own, failures carrying the measured value and the bound; a failed step or a run
stopped short fails the run's case, so a pipeline gating on the file cannot pass it."""

from __future__ import annotations

import copy
import stat
from pathlib import Path
from typing import Any

import pytest
from junitparser import Error, Failure, JUnitXml, TestCase

from sreshow.errors import UsageError
from sreshow.report.junit import RUN_CASE, render_junit
from sreshow.report.render import check_junit_path, write_junit
from tests.fixtures import FIXTURES, JOURNALS, expected, journal


def parsed(record: dict[str, Any], tmp_path: Path) -> JUnitXml:
    path = write_junit(record, tmp_path / "out" / "drill.xml")
    return JUnitXml.fromfile(str(path))


def cases(xml: JUnitXml) -> dict[str, TestCase]:
    [suite] = list(xml)
    return {case.name: case for case in suite}


@pytest.mark.parametrize("name", JOURNALS)
def test_a_fixed_journal_renders_the_committed_xml(name: str) -> None:
    # On a deliberate change: `.venv/bin/python -m tests.fixtures`, then read the diff.
    assert render_junit(journal(name)) == expected(f"junit-{name}.xml")


def test_junitparser_reads_one_case_per_expectation_and_the_run(tmp_path: Path) -> None:
    record = journal("high-error-rate")

    xml = parsed(record, tmp_path)

    [suite] = list(xml)
    assert (suite.name, suite.tests, suite.failures, suite.errors) == ("high-error-rate", 7, 2, 0)
    assert suite.time == pytest.approx(44.1)
    assert {p.name: p.value for p in suite.properties()} == {
        "platform": "local",
        "time_scale": "0.1",
        "verdict": "failed",
    }
    found = cases(xml)
    assert list(found) == [e["expectation"] for e in record["expectations"]] + [RUN_CASE]
    assert {case.classname for case in found.values()} == {"high-error-rate"}
    failed = {name for name, case in found.items() if not case.is_passed}
    assert failed == {
        "HighErrorRate is notified within 4m (24 s at time scale 0.1)",
        "error budget burned at most 1%",
    }


def test_a_failure_carries_the_measured_value_and_the_bound(tmp_path: Path) -> None:
    found = cases(parsed(journal("high-error-rate"), tmp_path))

    [late] = found["HighErrorRate is notified within 4m (24 s at time scale 0.1)"].result
    assert isinstance(late, Failure)
    assert late.type == "notified"
    assert late.message == "measured 28.7 s (4m 47s real-time), bound 24 s (4m real-time)"
    assert late.text.startswith("notified after 28.7 s (4m 47s real-time)\nnext step: ")
    [budget] = found["error budget burned at most 1%"].result
    assert budget.message == "measured 3.32%, bound 1%"


def test_something_that_never_happened_says_so_with_the_bound(tmp_path: Path) -> None:
    record = copy.deepcopy(journal("high-error-rate"))
    notified = record["expectations"][1]
    notified.update(
        passed=False, measured=None, detail="no firing notification named it (not notified)"
    )

    [failure] = cases(parsed(record, tmp_path))[notified["expectation"]].result

    assert failure.message == (
        "no firing notification named it (not notified), bound 24 s (4m real-time)"
    )
    assert "Alertmanager's route" in failure.text


def test_an_older_journal_fails_with_its_text(tmp_path: Path) -> None:
    found = cases(parsed(journal("without-series"), tmp_path))

    [failure] = found["error budget burned at most 1%"].result
    assert failure.type == "expectation"
    assert failure.message == (
        "burned 3.32% of the error budget (expected: error budget burned at most 1%)"
    )


def test_a_failed_step_fails_the_runs_own_case(tmp_path: Path) -> None:
    record = copy.deepcopy(journal("high-error-rate"))
    step = record["steps"][4]
    step.update(passed=False, detail="HighErrorRate not firing within 24 s")
    record["steady_state"]["after"] = "failed"

    xml = parsed(record, tmp_path)

    [failure] = cases(xml)[RUN_CASE].result
    assert isinstance(failure, Failure)
    assert failure.message == (
        "step 5 (wait for HighErrorRate firing (within 4m, 24 s at time scale 0.1)) failed: "
        "HighErrorRate not firing within 24 s; steady state after: failed"
    )
    assert xml.failures == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"interrupted": True}, "the run was interrupted (its cleanup ran)"),
        (
            {"error": "Prometheus at http://127.0.0.1:9090 did not answer"},
            "stopped by: Prometheus at http://127.0.0.1:9090 did not answer",
        ),
    ],
)
def test_a_run_stopped_short_is_an_error(
    change: dict[str, Any], message: str, tmp_path: Path
) -> None:
    record = {**journal("high-error-rate"), **change}

    xml = parsed(record, tmp_path)

    [error] = cases(xml)[RUN_CASE].result
    assert isinstance(error, Error)
    assert error.message == message
    assert (xml.errors, xml.failures) == (1, 2)


def test_the_file_is_private(tmp_path: Path) -> None:
    path = write_junit(journal("high-error-rate"), tmp_path / "drill.xml")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_path_that_cannot_hold_the_file_is_refused_up_front(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")

    with pytest.raises(UsageError, match=r"is a directory; give a file name"):
        check_junit_path(tmp_path)
    with pytest.raises(UsageError, match=r"a-file is a file, so the XML cannot go there"):
        check_junit_path(tmp_path / "a-file" / "drill.xml")
    check_junit_path(tmp_path / "new" / "folder" / "drill.xml")  # made when written
    check_junit_path(FIXTURES / "junit-high-error-rate.xml")  # replaced when written
