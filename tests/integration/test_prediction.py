"""Predicted vs observed in a real run: a stack whose HighErrorRate rule was changed
after it started — its `for` ten times longer than the shipped file says — runs a
scenario that expects the alert; the journal's `predicted` entry (and report.md) flag
the alert outside its band and name the rule's `for` as the likely cause."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sreshow.core.durations import format_duration, parse_duration
from tests.integration.localstack import running_stack, sreshow, wait_until

pytestmark = pytest.mark.integration

ALERT = "HighErrorRate"
TOO_LONG = 10  # times the rule's `for`

SCENARIO = {
    "name": "mis-tuned-alert",
    "summary": "Errors on every replica while the error-rate rule waits too long",
    "steady_state": {"within": "2m", "checks": [{"alerts_inactive": [ALERT]}]},
    "steps": [
        {"load": {"rps": 5}},
        {"sleep": "20s"},
        {"inject": {"error_rate": 0.5, "targets": "all"}},
        {"wait_for_alert": {"alert": ALERT, "state": "pending", "within": "2m"}},
        # The shipped `for` is 1m: the band ends well before this wait does.
        {"sleep": "3m"},
    ],
    "expectations": [{"alert": ALERT, "firing_within": "4m"}],
    "rollback": [{"clear_faults": {}}, {"stop_load": {}}],
}


def test_a_rule_whose_for_is_ten_times_too_long_is_flagged(tmp_path: Path) -> None:
    with running_stack(tmp_path / "state") as stack:
        rules_file = _rules_file_with(stack.root, ALERT)
        held = _mistune(rules_file, ALERT)
        prometheus = stack.endpoint("prometheus")
        assert stack.http.post(f"{prometheus}/-/reload").status_code == 200
        wait_until(
            lambda: _running_for(stack.http.get(f"{prometheus}/api/v1/rules").json()) == held,
            within=10,
            waiting_for=f"Prometheus to run {ALERT} with `for` {held:g} s",
        )
        scenario = tmp_path / f"{SCENARIO['name']}.yaml"
        scenario.write_text(yaml.safe_dump(SCENARIO))
        report = tmp_path / "report"
        result = sreshow(
            stack.state_dir, "scenario", "run", str(scenario), "--auto", "--report", str(report)
        )

    assert result.returncode == 1, result.stdout + result.stderr  # the expectation failed
    journal = json.loads((report / "journal.json").read_text())
    [entry] = journal["predicted"]
    assert entry["alert"] == ALERT
    assert entry["fire_verdict"] == "never", entry
    assert entry["observed_pending_s"] is not None  # the condition held: the hold is wrong
    assert "`for`" in entry["likely_cause"], entry
    assert "`for`" in (report / "report.md").read_text()


def _rules_file_with(root: Path, alert: str) -> Path:
    """The scaled rules file the local Prometheus runs that holds `alert`."""
    for path in root.rglob("*.rules.yml"):
        if f"alert: {alert}" in path.read_text():
            return path
    raise AssertionError(f"no rules file under {root} holds {alert}")


def _mistune(path: Path, alert: str) -> float:
    """Make `alert`'s `for` TOO_LONG times longer in place; the new hold in seconds."""
    rules = yaml.safe_load(path.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                longer = parse_duration(rule["for"]) * TOO_LONG
                rule["for"] = format_duration(longer)
                path.write_text(yaml.safe_dump(rules))
                return longer / 1000
    raise AssertionError(f"{alert} not in {path}")


def _running_for(rules: dict[str, object]) -> float | None:
    """The hold (`duration`) of the running HighErrorRate rule, in seconds."""
    data = rules.get("data")
    groups = data.get("groups", []) if isinstance(data, dict) else []
    for group in groups:
        for rule in group.get("rules", []):
            if rule.get("name") == ALERT:
                return float(rule.get("duration", 0))
    return None
