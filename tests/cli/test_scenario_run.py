"""`scenario run` as a pipe sees it, on an in-memory platform: one line per event, in the
order the run saw them (the times never go back), the ones dated back saying when they
happened; a Ctrl-C after the verdict still writes the journal and exits 130."""

from __future__ import annotations

import io
import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from sreshow.cli.commands.scenario_run import run_and_report
from sreshow.cli.terminal import Terminal
from sreshow.core.notifications import Notification
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.settings import Settings
from tests.unit.fakes import FakeLoad, FakePlatform

SCENARIO = ScenarioSpec.model_validate(
    yaml.safe_load(
        """
name: case
summary: errors, a fix, and news that arrives late
steps:
  - load: {rps: 50}
  - inject: {error_rate: 0.2, targets: all}
  - sleep: 1s
  - clear_faults: {}
  - wait_for: {service: healthy, within: 30s}
rollback:
  - stop_load: {}
"""
    )
)
LINE = re.compile(r"^\[ *(?P<t>\d+\.\d)s\] (?P<text>.*)$")


def late_news(platform: FakePlatform) -> None:
    """A page and an autoscaler decision, each learnt of a while after it happened."""
    platform.delivered.append(
        Notification(time.time() - 0.8, "firing", ("HighErrorRate",), "", None)
    )
    platform.autoscale(3, "cpu", at=time.time() - 0.6)


def run_piped(platform: FakePlatform, report: Path) -> tuple[int, list[str], dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    terminal = Terminal(Settings.from_env(), out=out, err=err)
    code = run_and_report(
        SCENARIO,
        platform,
        FakeLoad(platform),
        auto=True,
        report_dir=report,
        runs_dir=report.parent / "runs",
        terminal=terminal,
    )
    journal = json.loads((report / "journal.json").read_text())
    return code, out.getvalue().splitlines(), journal


def test_piped_lines_read_in_time_order_and_late_ones_say_when(tmp_path: Path) -> None:
    platform = FakePlatform()
    platform.on_call["clear_faults"] = lambda: late_news(platform)

    code, lines, journal = run_piped(platform, tmp_path / "report")

    assert code == 0, "\n".join(lines)
    events = [m for m in map(LINE.match, lines) if m]
    times = [float(m["t"]) for m in events]
    assert times == sorted(times), "\n".join(lines)
    texts = [m["text"] for m in events]
    recovered = next(t for t in texts if t.startswith("clients: availability SLI recovered"))
    assert re.search(r", since \d+\.\d s$", recovered), recovered
    assert any(re.fullmatch(r"service healthy again, since \d+\.\d s", t) for t in texts), texts
    page = next(t for t in texts if t.startswith("notification delivered"))
    assert re.fullmatch(r"notification delivered: firing HighErrorRate, at \d+\.\d s", page)
    scaled = next(t for t in texts if t.startswith("autoscaler"))
    assert re.fullmatch(r"autoscaler: 2 → 3 replicas \(cpu\), at \d+\.\d s", scaled)
    # The journal keeps when each thing happened, in that order.
    happened = [e["t"] for e in journal["events"]]
    assert happened == sorted(happened)
    [sli] = [e for e in journal["events"] if e["kind"] == "sli_recovered"]
    assert sli["seen_t"] - sli["t"] > 0.5
    assert any(line.startswith("journal:") for line in lines)


def test_ctrl_c_after_the_verdict_still_writes_the_journal_and_exits_130(tmp_path: Path) -> None:
    platform = FakePlatform()
    platform.on_call["close"] = lambda: signal.raise_signal(signal.SIGINT)

    code, lines, journal = run_piped(platform, tmp_path / "report")

    assert code == 130
    assert platform.closed
    assert (journal["verdict"], journal["interrupted"], journal["exit_code"]) == (
        "passed",
        True,
        130,
    )
    assert "case: PASSED" in [line.strip() for line in lines]
