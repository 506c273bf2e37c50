"""`sreshow report` and `sreshow runs` on a state dir of stored runs, and a scenario run
writing its reports and JUnit XML: paths printed, files private, an unknown run or a
bad `--junit` is exit 2 on one line, and the user's admin token and Slack webhook never
reach a report."""

from __future__ import annotations

import io
import json
import shutil
import stat
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml

from sreshow.cli.app import main
from sreshow.cli.commands.scenario_run import run_and_report
from sreshow.cli.terminal import Terminal
from sreshow.errors import PlatformError
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.settings import Settings
from tests.fixtures import FIXTURES, expected, journal
from tests.unit.fakes import FakeLoad, FakePlatform

LATEST = "20261205T001801Z-high-error-rate"
OLDER = "20261204T101010Z-high-error-rate"
WALK = "20261205T020000Z-walkthrough-sre-showcase/02-kill-pods"


def store(state: Path, run_id: str, fixture: str, **changes: object) -> Path:
    folder = state / "runs" / run_id
    folder.mkdir(parents=True)
    record = {**journal(fixture), **changes}
    (folder / "journal.json").write_text(json.dumps(record))
    return folder


@pytest.fixture
def runs(state: Path) -> Path:
    """Three stored runs: two of high-error-rate (the older one slower to detect) and a
    walkthrough's kill-pods step."""
    older = journal("without-series")
    older["metrics_real_time"] = {**older["metrics_real_time"], "time_to_detect_s": 170.0}
    store(
        state,
        OLDER,
        "without-series",
        started_at=1796390000.0,
        metrics_real_time=older["metrics_real_time"],
    )
    store(state, LATEST, "high-error-rate")
    store(
        state,
        WALK,
        "without-series",
        scenario="kill-pods",
        verdict="passed",
        started_at=1796436000.0,
    )
    return state / "runs"


def test_report_renders_a_stored_run_again(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", LATEST])

    out = capsys.readouterr().out
    folder = runs / LATEST
    assert code == 0
    assert out.splitlines() == [
        f"report: {folder / 'report.md'}",
        f"report: {folder / 'report.html'}",
    ]
    assert (folder / "report.md").read_text() == expected("report-high-error-rate.md")
    assert "<svg" in (folder / "report.html").read_text()
    for name in ("report.md", "report.html"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600


def test_report_without_an_id_takes_the_latest_run(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report"]) == 0

    assert f"report: {runs / WALK / 'report.md'}" in capsys.readouterr().out


@pytest.mark.parametrize("form", ["folder", "journal"])
def test_report_takes_a_path(form: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ci-artifacts"
    folder.mkdir()
    shutil.copy(FIXTURES / "journal-high-error-rate.json", folder / "journal.json")
    target = folder if form == "folder" else folder / "journal.json"

    assert main(["report", str(target), "--junit", str(tmp_path / "junit" / "drill.xml")]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"report: {tmp_path / 'junit' / 'drill.xml'}"
    assert (folder / "report.md").is_file()
    assert JUnitXml.fromfile(str(tmp_path / "junit" / "drill.xml")).tests == 7


def test_an_unknown_run_is_exit_2_naming_it(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "20991231T000000Z-nope"])

    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"error: no run '20991231T000000Z-nope': neither a run id under {runs} nor a run "
        "folder or journal.json; `sreshow runs` lists the stored runs\n"
    )


@pytest.mark.usefixtures("state")
def test_no_stored_run_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report"])

    assert code == 2
    assert "no runs stored under" in capsys.readouterr().err


def test_a_file_that_is_not_a_journal_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "journal.json"
    bad.write_text("{not json")

    assert main(["report", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: not a journal (not JSON:")


@pytest.mark.usefixtures("runs")
def test_runs_lists_each_run_and_the_trend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs"]) == 0

    out = capsys.readouterr().out
    rows = [line.split("│") for line in out.splitlines() if "│" in line]
    listed = [[cell.strip() for cell in row] for row in rows]
    assert listed[:3] == [
        [OLDER, "high-error-rate", "failed", "0.1", "2m 50s", "4m 47s", "44 s"],
        [LATEST, "high-error-rate", "failed", "0.1", "2m 27s", "4m 47s", "44 s"],
        [WALK, "kill-pods", "passed", "0.1", "2m 27s", "4m 47s", "44 s"],
    ]
    assert listed[3] == ["high-error-rate", "2 (0)", "█▁", "-23 s", "0 s", "0 s"]
    assert listed[4] == ["kill-pods", "1 (1)", "▅", "—", "—", "—"]


@pytest.mark.usefixtures("runs")
def test_runs_json_and_a_scenario_filter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--json", "--scenario", "high-error-rate"]) == 0

    listing = json.loads(capsys.readouterr().out)
    assert [run["run_id"] for run in listing["runs"]] == [OLDER, LATEST]
    assert listing["runs"][1]["metrics_real_time"]["time_to_detect_s"] == pytest.approx(147.03)
    [trend] = listing["trends"]
    assert trend["scenario"] == "high-error-rate"
    assert (trend["runs"], trend["passed"], trend["last_run"]) == (2, 0, LATEST)
    assert trend["change_from_previous"]["time_to_detect_s"] == pytest.approx(-22.97)
    assert trend["time_to_detect_s"] == [170.0, pytest.approx(147.03)]


def test_runs_skips_an_unreadable_journal_and_says_so(
    runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = runs / "20261206T000000Z-cut-off"
    broken.mkdir()
    (broken / "journal.json").write_text('{"scenario": "high-err')

    assert main(["runs", "--json"]) == 0

    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["runs"]) == 3
    assert captured.err.startswith(f"skipped: {broken / 'journal.json'}: ")


@pytest.mark.usefixtures("state")
def test_runs_on_an_empty_state_dir_says_how_to_make_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["runs"]) == 0

    assert "run one with `sreshow scenario NAME`" in capsys.readouterr().out


@pytest.mark.usefixtures("state")
@pytest.mark.parametrize("form", [["scenario", "run"], ["scenario"], ["rto-drill", "--level"]])
def test_a_junit_path_that_cannot_be_written_is_exit_2_before_the_run(
    form: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = "app" if form[0] == "rto-drill" else "high-error-rate"

    code = main([*form, target, "--junit", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"error: --junit {tmp_path} is a directory; give a file name, e.g. {tmp_path}/drill.xml\n"
    )


# --- a run writes its reports --------------------------------------------------------

TOKEN = "tok-MARKER-4b1d9f"
WEBHOOK = "https://hooks.slack.com/services/T0MARKER/B0MARKER/webhookMARKERsecret"

SCENARIO = ScenarioSpec.model_validate(
    yaml.safe_load(
        """
name: case
summary: errors, then a fix that the platform refuses
steps:
  - load: {rps: 20}
  - inject: {error_rate: 0.5, targets: all}
  - sleep: 1s
  - clear_faults: {}
expectations:
  - alert: HighErrorRate
    firing_within: 1s
rollback:
  - stop_load: {}
"""
    )
)


def refuse_with_the_webhook() -> None:
    raise PlatformError(f"the sink at {WEBHOOK} refused the message (token {TOKEN[:4]}…)")


def test_a_run_writes_its_reports_and_junit_and_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRESHOW_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("SRESHOW_SLACK_WEBHOOK_URL", WEBHOOK)
    platform = FakePlatform()
    platform.on_call["clear_faults"] = refuse_with_the_webhook
    out, err = io.StringIO(), io.StringIO()
    report, junit = tmp_path / "report", tmp_path / "ci" / "drills.xml"

    code = run_and_report(
        SCENARIO,
        platform,
        FakeLoad(platform),
        auto=True,
        report_dir=report,
        runs_dir=tmp_path / "runs",
        terminal=Terminal(Settings.from_env(), out=out, err=err),
        junit=junit,
    )

    printed = out.getvalue().splitlines()
    assert code == 3  # a platform error stopped the run
    assert printed[-3:] == [
        f"report: {report / 'report.md'}",
        f"report: {report / 'report.html'}",
        f"report: {junit}",
    ]
    xml = JUnitXml.fromfile(str(junit))
    assert xml.tests == 2  # the one expectation and the run's own case
    reports = [report / "report.md", report / "report.html", junit]
    for path in reports:
        text = path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "MARKER" not in text, path.name
        assert "hooks.slack.com/…" in text, path.name  # the error is told, its secret is not
