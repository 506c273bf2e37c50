"""What a shipped scenario's run must show on any platform: checked the same way on the
local stack (tests/integration/test_scenarios.py) and on the test node
(tests/k8s/test_scenarios.py), from the exit code, the output and the journal."""

from __future__ import annotations

from typing import Any

import pytest

from sreshow.scenarios.loader import shipped_scenarios
from sreshow.scenarios.spec import AlertExpectation

SHIPPED = {spec.name: spec for spec, _ in shipped_scenarios()}
JOURNAL_METRICS = {
    "time_to_detect_s",
    "time_to_notify_s",
    "time_to_recover_s",
    "rto_s",
    "error_budget_burned",
}


def kinds(journal: dict[str, Any], kind: str, **details: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in journal["events"]
        if e["kind"] == kind and all(e.get(k) == v for k, v in details.items())
    ]


def assert_passed_end_to_end(
    name: str, code: int, output: str, journal: dict[str, Any], time_scale: float
) -> None:
    """Exit 0 and a passed verdict, each expected alert really firing (or never), resolved
    and notified as its expectation says, the journal's metrics there; for kill-pods, the
    budget's refusal and the replacement measured."""
    assert code == 0, output
    assert journal["scenario"] == name
    assert journal["verdict"] == "passed", output
    assert journal["time_scale"] == time_scale
    assert all(e["passed"] for e in journal["expectations"]), journal["expectations"]
    for expectation in SHIPPED[name].expectations:
        if not isinstance(expectation, AlertExpectation):
            continue
        fired = kinds(journal, "alert_firing", alert=expectation.alert)
        if expectation.never_fires:
            assert fired == [], output
            continue
        assert fired, f"{expectation.alert} never fired:\n{output}"
        if expectation.resolved_within is not None:
            assert kinds(journal, "alert_resolved", alert=expectation.alert), output
        if expectation.notified_within is not None:
            delivered = [
                e
                for e in kinds(journal, "notification_delivered", status="firing")
                if expectation.alert in e["alerts"]
            ]
            assert delivered, output
    assert set(journal["metrics"]) >= JOURNAL_METRICS
    if name == "kill-pods":  # evicting every replica at once: the budget keeps one
        assert kinds(journal, "eviction_refused"), output
        assert len(kinds(journal, "pod_killed")) == 2, output
        # Its number: how fast the ReplicaSet made the deployment whole again.
        whole = kinds(journal, "replicas_whole")
        assert whole, output
        recovered = journal["metrics"]["time_to_recover_s"]
        first_kill = kinds(journal, "pod_killed")[0]["t"]
        assert recovered == pytest.approx(whole[-1]["t"] - first_kill, abs=0.01), output
        assert "time to recover" in output
    assert f"{name}: PASSED" in output
    if kinds(journal, "left_to_autoscaler"):
        assert "left to the autoscaler" in output
    assert_charted(name, journal)


def assert_charted(name: str, journal: dict[str, Any]) -> None:
    """The journal keeps what its report charts: the Service's request rate and ready
    replicas from Prometheus over the run, and the load generator's own samples; each
    expected alert held against its predicted band."""
    series = journal["series"]
    assert series["missing"].keys() <= {"load"}, series["missing"]
    for charted in ("request_rate", "replicas"):
        values = [value for _, value in series[charted] if value is not None]
        assert values, (charted, series[charted])
    if "load" in series:
        assert any(rps for _, rps in series["load"]["achieved_rps"]), series["load"]
    expected = [
        e.alert
        for e in SHIPPED[name].expectations
        if isinstance(e, AlertExpectation) and not e.never_fires
    ]
    assert [entry["alert"] for entry in journal["predicted"]] == expected
