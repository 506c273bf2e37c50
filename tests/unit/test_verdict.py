"""Expectations judged against realistic runs: the texts a presenter reads, both sides of
every limit, and what a missing measurement says."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sreshow.core.slo import BudgetInputs
from sreshow.core.timeline import RunMetrics, TimelineEvent, run_metrics
from sreshow.core.verdict import (
    ExpectationResult,
    format_share,
    judge_alert,
    judge_budget,
    judge_recovery,
    judge_rto,
    overall_verdict,
)
from tests.unit.test_timeline import (
    BAD_CONFIG,
    FIRES_TWICE,
    HIGH_ERROR_RATE,
    KILL_PODS,
    NEVER_FIRES,
    PODS,
    ev,
)

ALERT = "HighErrorRate"


def test_a_high_error_rate_run_meets_every_alert_limit() -> None:
    results = judge_alert(
        HIGH_ERROR_RATE,
        alert=ALERT,
        firing_within=180,
        notified_within=240,
        resolved_within=120,
        never_fires=False,
        time_scale=0.1,
    )

    assert [result.as_json() for result in results] == [
        {
            "expectation": "HighErrorRate fires within 3m (18 s at time scale 0.1)",
            "passed": True,
            "detail": "fired after 10.9 s (1m 49s real-time)",
            "kind": "firing",
            "measured": pytest.approx(10.9),
            "limit": pytest.approx(18),
        },
        {
            "expectation": "HighErrorRate is notified within 4m (24 s at time scale 0.1)",
            "passed": True,
            "detail": "notified after 12.2 s (2m 02s real-time)",
            "kind": "notified",
            "measured": pytest.approx(12.2),
            "limit": pytest.approx(24),
        },
        {
            "expectation": "HighErrorRate resolves within 2m (12 s at time scale 0.1)",
            "passed": True,
            "detail": (
                "resolved 11.5 s (1m 55s real-time) after the remediation at 20 s (faults_cleared)"
            ),
            "kind": "resolved",
            "measured": pytest.approx(11.5),
            "limit": pytest.approx(12),
        },
    ]


def test_at_real_time_the_texts_leave_out_the_conversion() -> None:
    events = [
        ev(5.0, "fault_injected", pods=PODS, faults={}),
        ev(65.0, "alert_firing", alert=ALERT),
    ]

    [result] = judge_alert(events, alert=ALERT, firing_within=60, time_scale=1)

    assert result == ExpectationResult("HighErrorRate fires within 1m", True, "fired after 1m")


@pytest.mark.parametrize(
    ("limit", "kind", "passed"),
    [
        (109, "firing_within", True),  # 10.9 s measured, 10.9 s allowed
        (108, "firing_within", False),
        (122, "notified_within", True),  # 12.2 s measured
        (121, "notified_within", False),
        (115, "resolved_within", True),  # 11.5 s measured
        (114, "resolved_within", False),
    ],
)
def test_both_sides_of_each_alert_limit(limit: float, kind: str, passed: bool) -> None:
    limits: dict[str, float | None] = {
        "firing_within": None,
        "notified_within": None,
        "resolved_within": None,
    }
    limits[kind] = limit

    [result] = judge_alert(
        HIGH_ERROR_RATE,
        alert=ALERT,
        firing_within=limits["firing_within"],
        notified_within=limits["notified_within"],
        resolved_within=limits["resolved_within"],
        time_scale=0.1,
    )

    assert result.passed is passed


def test_an_alert_that_never_fires_fails_every_limit_and_says_why() -> None:
    results = judge_alert(
        NEVER_FIRES,
        alert=ALERT,
        firing_within=180,
        notified_within=240,
        resolved_within=120,
        time_scale=0.1,
    )

    assert [(result.passed, result.detail) for result in results] == [
        (False, "never fired (not detected)"),
        (False, "no firing notification named it (not notified)"),
        (False, "never fired (not detected), so it never resolved"),
    ]


def test_an_alert_still_firing_at_the_end_never_resolved() -> None:
    unresolved = [event for event in HIGH_ERROR_RATE if event.kind != "alert_resolved"]

    [result] = judge_alert(unresolved, alert=ALERT, resolved_within=600, time_scale=0.1)

    assert not result.passed
    assert result.detail == "still firing at the end of the run (never resolved)"


def test_an_alert_firing_twice_must_resolve_again() -> None:
    [result] = judge_alert(FIRES_TWICE, alert=ALERT, resolved_within=200, time_scale=0.1)

    # From the first fix after the first firing (20.0) to the final resolve (40.0).
    assert result.passed
    assert result.detail == (
        "resolved 20 s (3m 20s real-time) after the remediation at 20 s (faults_cleared)"
    )

    [again] = judge_alert(FIRES_TWICE[:-1], alert=ALERT, resolved_within=200, time_scale=0.1)
    assert not again.passed
    assert again.detail == "still firing at the end of the run (never resolved)"


def test_resolving_without_a_later_remediation_counts_from_the_firing() -> None:
    events = [
        ev(2.0, "fault_injected", pods=PODS, faults={"error_rate": 0.5}),
        ev(5.0, "faults_cleared", pods=PODS),  # before the alert had fired
        ev(8.0, "alert_firing", alert=ALERT),
        ev(14.0, "alert_resolved", alert=ALERT),
    ]

    [result] = judge_alert(events, alert=ALERT, resolved_within=60, time_scale=0.1)

    assert result.passed
    assert result.detail == "resolved 6 s (1m real-time) after it fired"


def test_firing_before_the_disruption_is_not_detection() -> None:
    events = [
        ev(1.0, "alert_firing", alert=ALERT),
        ev(2.0, "alert_resolved", alert=ALERT),
        ev(3.0, "fault_injected", pods=PODS, faults={"error_rate": 0.5}),
    ]

    [result] = judge_alert(events, alert=ALERT, firing_within=600, time_scale=0.1)

    assert not result.passed
    assert result.detail == "fired only before the first disruption (not detected)"


def test_notifications_about_other_alerts_or_resolving_do_not_count() -> None:
    events = [
        *HIGH_ERROR_RATE,
        ev(3.0, "notification_delivered", status="firing", alerts=["HighLatency"]),
        ev(4.0, "notification_delivered", status="resolved", alerts=[ALERT]),
    ]

    [result] = judge_alert(events, alert=ALERT, notified_within=240, time_scale=0.1)

    assert result.detail == "notified after 12.2 s (2m 02s real-time)"


def test_unsorted_events_are_judged_the_same() -> None:
    shuffled = list(HIGH_ERROR_RATE)
    random.Random(3).shuffle(shuffled)

    def judged(events: Sequence[TimelineEvent]) -> list[ExpectationResult]:
        return judge_alert(
            events,
            alert=ALERT,
            firing_within=180,
            notified_within=240,
            resolved_within=120,
            time_scale=0.1,
        )

    assert judged(shuffled) == judged(HIGH_ERROR_RATE)


def test_never_fires() -> None:
    [quiet] = judge_alert(KILL_PODS, alert="PodsDown", never_fires=True, time_scale=0.1)
    [loud] = judge_alert(BAD_CONFIG, alert="PodsDown", never_fires=True, time_scale=0.1)

    assert quiet == ExpectationResult("PodsDown never fires", True, "never fired")
    assert loud == ExpectationResult(
        "PodsDown never fires", False, "fired 10 s (1m 40s real-time) into the run"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"never_fires": True, "firing_within": 60}, "never_fires cannot go with"),
        ({}, "nothing to judge for HighErrorRate"),
        ({"firing_within": -1}, "firing_within must be a number of seconds >= 0"),
        ({"resolved_within": float("nan")}, "resolved_within must be a number of seconds"),
        ({"firing_within": 60, "time_scale": 0}, r"time scale must be in \(0, 1\]"),
    ],
)
def test_judge_alert_refuses_odd_arguments(arguments: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"time_scale": 0.1} | arguments
    with pytest.raises(ValueError, match=message):
        judge_alert(HIGH_ERROR_RATE, alert=ALERT, **values)  # type: ignore[arg-type]


class TestBudget:
    BURNED = RunMetrics(None, None, None, None, 1 / 432)  # 1 % bad for 10 real minutes

    def test_within_the_allowed_burn(self) -> None:
        result = judge_budget(self.BURNED, max_burn=0.01)

        assert result == ExpectationResult(
            "error budget burned at most 1%", True, "burned 0.231% of the error budget"
        )

    def test_both_sides_of_the_limit(self) -> None:
        assert judge_budget(self.BURNED, max_burn=1 / 432).passed
        assert not judge_budget(self.BURNED, max_burn=0.0023).passed

    def test_a_run_without_requests_measured_nothing(self) -> None:
        empty = BudgetInputs(bad_requests=0, total_requests=0, duration_s=60, time_scale=0.1)
        metrics = run_metrics(HIGH_ERROR_RATE, budget=empty)

        result = judge_budget(metrics, max_burn=0.5)

        assert not result.passed
        assert result.detail == "nothing was measured: no requests"

    def test_max_burn_must_be_a_share(self) -> None:
        with pytest.raises(ValueError, match="max_burn must be a share >= 0"):
            judge_budget(self.BURNED, max_burn=-0.1)


@pytest.mark.parametrize(
    ("share", "text"),
    [(0, "0%"), (1 / 432, "0.231%"), (0.05, "5%"), (2.5, "250%"), (1e-6, "< 0.001%")],
)
def test_format_share(share: float, text: str) -> None:
    assert format_share(share) == text


class TestRecovery:
    def test_bad_config_recovers_within_its_limit(self) -> None:
        metrics = run_metrics(BAD_CONFIG, alerts=("PodsDown",))  # 7.0 s after the scale-up

        assert judge_recovery(metrics, within=70, time_scale=0.1) == ExpectationResult(
            "recovers within 1m 10s (7 s at time scale 0.1)",
            True,
            "recovered after 7 s (1m 10s real-time)",
        )
        assert not judge_recovery(metrics, within=69, time_scale=0.1).passed

    def test_not_recovered_says_what_is_still_wrong(self) -> None:
        metrics = run_metrics(FIRES_TWICE[:-1], alerts=(ALERT,))

        result = judge_recovery(metrics, within=600, time_scale=0.1)

        assert not result.passed
        assert result.detail == "never recovered: HighErrorRate never resolved"

    def test_nothing_to_recover_from_fails_too(self) -> None:
        metrics = run_metrics(NEVER_FIRES, alerts=(ALERT,))

        result = judge_recovery(metrics, within=600, time_scale=0.1)

        assert not result.passed
        assert result.detail == (
            "nothing to recover from: no alert fired, the service stayed healthy "
            "and every replica stayed ready"
        )

    def test_metrics_built_by_hand_still_explain_a_missing_value(self) -> None:
        result = judge_recovery(RunMetrics(None, None, None, None, None), within=60, time_scale=1)

        assert result.detail == "never recovered"


class TestRto:
    def test_bad_config_is_healthy_again_within_its_rto(self) -> None:
        metrics = run_metrics(BAD_CONFIG)  # healthy 16.2 s after the scale-down

        assert judge_rto(metrics, within=162, time_scale=0.1) == ExpectationResult(
            "service healthy again within 2m 42s (16.2 s at time scale 0.1) (RTO)",
            True,
            "healthy again after 16.2 s (2m 42s real-time)",
        )
        assert not judge_rto(metrics, within=161, time_scale=0.1).passed

    def test_a_service_that_stayed_healthy_has_no_downtime(self) -> None:
        result = judge_rto(run_metrics(HIGH_ERROR_RATE), within=0, time_scale=0.1)

        assert result.passed
        assert result.detail == "the service stayed healthy (RTO 0 s)"

    def test_never_healthy_again(self) -> None:
        still_down = [event for event in BAD_CONFIG if event.kind != "service_healthy"]

        result = judge_rto(run_metrics(still_down), within=600, time_scale=0.1)

        assert not result.passed
        assert result.detail == "the service never became healthy again"

    def test_limits_are_validated(self) -> None:
        with pytest.raises(ValueError, match="within must be a number of seconds >= 0"):
            judge_rto(RunMetrics(1, 1, 1, 1, 1), within=-5, time_scale=0.1)
        with pytest.raises(ValueError, match="time scale"):
            judge_recovery(RunMetrics(1, 1, 1, 1, 1), within=5, time_scale=2)


PASS = ExpectationResult("a", True, "ok")
FAIL = ExpectationResult("b", False, "not ok")


@pytest.mark.parametrize(
    ("results", "steps_failed", "steady_state_failed", "verdict"),
    [
        ([PASS, PASS], False, False, "passed"),
        ([], False, False, "passed"),
        ([PASS, FAIL], False, False, "failed"),
        ([PASS], True, False, "failed"),
        ([PASS], False, True, "failed"),
    ],
)
def test_overall_verdict(
    results: list[ExpectationResult], steps_failed: bool, steady_state_failed: bool, verdict: str
) -> None:
    assert (
        overall_verdict(results, steps_failed=steps_failed, steady_state_failed=steady_state_failed)
        == verdict
    )


@given(st.floats(0, 1000), st.floats(0, 1000), st.sampled_from([0.05, 0.1, 0.5, 1.0]))
def test_a_longer_limit_never_turns_a_pass_into_a_failure(
    shorter: float, longer: float, time_scale: float
) -> None:
    shorter, longer = sorted((shorter, longer))

    def passed(limit: float) -> list[bool]:
        results = judge_alert(
            BAD_CONFIG,
            alert="PodsDown",
            firing_within=limit,
            notified_within=limit,
            resolved_within=limit,
            time_scale=time_scale,
        )
        return [result.passed for result in results]

    for short_passed, long_passed in zip(passed(shorter), passed(longer), strict=True):
        assert long_passed or not short_passed


def test_each_result_carries_its_kind_figure_and_bound_for_reports() -> None:
    events = [
        ev(5.0, "fault_injected", pods=PODS, faults={}),
        ev(30.0, "alert_firing", alert="PodsDown"),
    ]
    metrics = RunMetrics(None, None, 4.5, 12.0, 0.02)

    figures = [
        (r.kind, r.measured, r.limit)
        for r in (
            *judge_alert(events, alert=ALERT, firing_within=60, notified_within=90, time_scale=0.1),
            *judge_alert(events, alert="PodsDown", never_fires=True, time_scale=0.1),
            judge_budget(metrics, max_burn=0.01),
            judge_recovery(metrics, within=60, time_scale=0.1),
            judge_rto(metrics, within=100, time_scale=0.1),
        )
    ]

    assert figures == [
        ("firing", None, pytest.approx(6)),  # never fired: nothing measured, the bound kept
        ("notified", None, pytest.approx(9)),
        ("never_fires", 30.0, None),  # when it fired
        ("budget", 0.02, 0.01),
        ("recovery", 4.5, pytest.approx(6)),
        ("rto", 12.0, pytest.approx(10)),
    ]
