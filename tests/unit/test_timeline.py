"""Timeline events and the metrics a run's report shows: detect, notify, recover, RTO."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sreshow.core.slo import BudgetInputs
from sreshow.core.timeline import (
    EventKind,
    RunMetrics,
    TimelineEvent,
    format_seconds,
    is_disruption,
    is_remediation,
    real_time_equivalent,
    run_metrics,
)

PODS = ["sre-app-0", "sre-app-1"]


def ev(t: float, kind: str, **details: Any) -> TimelineEvent:
    return TimelineEvent(t, kind, details)


# `high-error-rate` at time scale 0.1: half the requests fail until the faults are cleared.
HIGH_ERROR_RATE = (
    ev(0.0, "run_started", scenario="high-error-rate"),
    ev(0.4, "steady_state_checked", passed=True),
    ev(1.0, "load_started", rps=20, path="/api/data"),
    ev(2.0, "fault_injected", pods=PODS, faults={"error_rate": 0.5}),
    ev(4.5, "sli_breached", sli="error_ratio", value=0.5),
    ev(6.9, "alert_pending", alert="HighErrorRate"),
    ev(12.9, "alert_firing", alert="HighErrorRate"),
    ev(14.2, "notification_delivered", status="firing", alerts=["HighErrorRate"]),
    ev(20.0, "faults_cleared", pods=PODS),
    ev(23.0, "sli_recovered", sli="error_ratio", value=0.0),
    ev(31.5, "alert_resolved", alert="HighErrorRate"),
    ev(33.0, "notification_delivered", status="resolved", alerts=["HighErrorRate"]),
    ev(34.0, "load_stopped"),
    ev(35.0, "run_finished", verdict="passed"),
)

# `kill-pods`: one replica is killed, the service dips and heals itself; no alert fires.
KILL_PODS = (
    ev(0.0, "run_started", scenario="kill-pods"),
    ev(1.0, "load_started", rps=20, path="/api/data"),
    ev(3.0, "pod_killed", pod="sre-app-1", force=True),
    ev(3.1, "pod_gone", pod="sre-app-1"),
    ev(3.2, "service_unhealthy", reason="1 of 2 replicas ready"),
    ev(4.0, "pod_started", pod="sre-app-2", version="1.0.0"),
    ev(6.5, "pod_ready", pod="sre-app-2"),
    ev(6.6, "service_healthy"),
    ev(9.0, "load_stopped"),
    ev(10.0, "run_finished", verdict="passed"),
)

# `kill-pods` as the observer records it: one eviction, then all (the budget refuses one);
# the service stays healthy, capacity is short until each replacement is ready.
KILL_PODS_CAPACITY = (
    ev(0.0, "run_started", scenario="kill-pods"),
    ev(1.0, "load_started", rps=5, path="/api/data"),
    ev(3.0, "pod_killed", pod="sre-app-1", force=False),
    ev(3.2, "replicas_short", ready=1, desired=2),
    ev(3.3, "pod_gone", pod="sre-app-1"),
    ev(3.4, "pod_started", pod="sre-app-2", version="1.0.0"),
    ev(5.9, "pod_ready", pod="sre-app-2"),
    ev(6.0, "replicas_whole", ready=2, desired=2),
    ev(8.0, "pod_killed", pod="sre-app-0", force=False),
    ev(8.1, "eviction_refused", pod="sre-app-2", reason="disruption budget"),
    ev(8.2, "replicas_short", ready=1, desired=2),
    ev(11.5, "replicas_whole", ready=2, desired=2),
    ev(14.0, "load_stopped"),
)

# `bad-config`: scaled 2 -> 0, PodsDown fires, scaled back 0 -> 2, PodsDown resolves.
BAD_CONFIG = (
    ev(0.0, "run_started", scenario="bad-config"),
    ev(2.0, "scaled", previous=2, replicas=0),
    ev(2.3, "pod_gone", pod="sre-app-0"),
    ev(2.4, "pod_gone", pod="sre-app-1"),
    ev(2.5, "service_unhealthy", reason="no replica ready"),
    ev(4.0, "alert_pending", alert="PodsDown"),
    ev(10.0, "alert_firing", alert="PodsDown"),
    ev(11.0, "notification_delivered", status="firing", alerts=["PodsDown"]),
    ev(15.0, "scaled", previous=0, replicas=2),
    ev(15.5, "pod_started", pod="sre-app-2", version="1.0.0"),
    ev(15.6, "pod_started", pod="sre-app-3", version="1.0.0"),
    ev(18.0, "pod_ready", pod="sre-app-2"),
    ev(18.2, "service_healthy"),
    ev(22.0, "alert_resolved", alert="PodsDown"),
    ev(23.0, "notification_delivered", status="resolved", alerts=["PodsDown"]),
    ev(24.0, "run_finished", verdict="passed"),
)

# Faults injected, but the error rate stays under the threshold: nothing ever fires.
NEVER_FIRES = (
    ev(0.0, "run_started", scenario="inject-errors"),
    ev(2.0, "fault_injected", pods=PODS, faults={"error_rate": 0.01}),
    ev(30.0, "faults_cleared", pods=PODS),
    ev(31.0, "run_finished", verdict="failed"),
)

# HighErrorRate fires, resolves after the fix, fires again on a second burst, resolves.
FIRES_TWICE = (
    ev(2.0, "fault_injected", pods=PODS, faults={"error_rate": 0.5}),
    ev(12.0, "alert_firing", alert="HighErrorRate"),
    ev(20.0, "faults_cleared", pods=PODS),
    ev(25.0, "alert_resolved", alert="HighErrorRate"),
    ev(26.0, "fault_injected", pods=PODS, faults={"error_rate": 0.5}),
    ev(28.0, "alert_firing", alert="HighErrorRate"),
    ev(30.0, "faults_cleared", pods=PODS),
    ev(40.0, "alert_resolved", alert="HighErrorRate"),
)


def test_a_high_error_rate_run() -> None:
    metrics = run_metrics(HIGH_ERROR_RATE, alerts=("HighErrorRate",))

    assert metrics.time_to_detect_s == pytest.approx(10.9)  # 12.9 - 2.0
    assert metrics.time_to_notify_s == pytest.approx(12.2)  # 14.2 - 2.0
    assert metrics.time_to_recover_s == pytest.approx(11.5)  # resolved 31.5 - cleared 20.0
    assert metrics.rto_s == 0.0  # the service answered throughout, with errors
    assert metrics.error_budget_burned is None
    assert metrics.reasons == {
        "error_budget_burned": "nothing was measured: no request counts",
    }


def test_a_kill_pods_run_heals_itself_without_an_alert() -> None:
    metrics = run_metrics(KILL_PODS, alerts=("PodsDown",))

    assert metrics.time_to_detect_s is None
    assert metrics.time_to_notify_s is None
    # No remediation: recovery counts from the kill to the service healthy again.
    assert metrics.time_to_recover_s == pytest.approx(3.6)
    assert metrics.rto_s == pytest.approx(3.6)
    assert metrics.reasons["time_to_detect_s"] == "not detected: PodsDown never fired"
    assert metrics.reasons["time_to_notify_s"] == (
        "not notified: no firing notification was delivered"
    )


def test_a_kill_pods_run_recovers_when_every_replica_is_ready_again() -> None:
    metrics = run_metrics(KILL_PODS_CAPACITY, alerts=("PodsDown",))

    # From the first kill (no remediation) to whole again after the last shortfall.
    assert metrics.time_to_recover_s == pytest.approx(8.5)
    assert metrics.rto_s == 0.0  # clients were served throughout: the RTO rule is unchanged
    assert "time_to_recover_s" not in metrics.reasons


def test_replicas_still_short_at_the_end_never_recovered() -> None:
    metrics = run_metrics(KILL_PODS_CAPACITY[:-2], alerts=("PodsDown",))

    assert metrics.time_to_recover_s is None
    assert metrics.reasons["time_to_recover_s"] == (
        "never recovered: the replicas were never all ready again"
    )


def test_recovery_is_the_latest_of_resolved_healthy_and_whole() -> None:
    events = [
        *BAD_CONFIG,
        ev(15.1, "replicas_short", ready=0, desired=2),
        ev(19.0, "replicas_whole", ready=2, desired=2),
    ]
    assert run_metrics(events, alerts=("PodsDown",)).time_to_recover_s == pytest.approx(7.0)

    late_replica = [*events[:-1], ev(25.0, "replicas_whole", ready=2, desired=2)]
    assert run_metrics(late_replica, alerts=("PodsDown",)).time_to_recover_s == pytest.approx(10.0)


def test_a_shortfall_before_the_first_disruption_does_not_count() -> None:
    events = [
        ev(0.5, "replicas_short", ready=1, desired=2),
        ev(1.5, "replicas_whole", ready=2, desired=2),
        ev(2.0, "fault_injected", pods=PODS, faults={"error_rate": 0.01}),
    ]

    metrics = run_metrics(events)
    assert metrics.time_to_recover_s is None
    assert metrics.reasons["time_to_recover_s"].startswith("nothing to recover from")


def test_a_bad_config_run_scaling_to_zero_and_back() -> None:
    metrics = run_metrics(BAD_CONFIG, alerts=("PodsDown",))

    assert metrics.time_to_detect_s == pytest.approx(8.0)
    assert metrics.time_to_notify_s == pytest.approx(9.0)
    # From the scale-up (15.0) to the later of healthy (18.2) and resolved (22.0).
    assert metrics.time_to_recover_s == pytest.approx(7.0)
    # From the scale-down (2.0) to the service healthy again (18.2).
    assert metrics.rto_s == pytest.approx(16.2)


def test_an_alert_that_never_fires_is_not_detected_rather_than_an_error() -> None:
    metrics = run_metrics(NEVER_FIRES, alerts=("HighErrorRate",))

    assert metrics.as_json() == {
        "time_to_detect_s": None,
        "time_to_notify_s": None,
        "time_to_recover_s": None,
        "rto_s": 0.0,
        "error_budget_burned": None,
    }
    assert metrics.reasons["time_to_detect_s"] == "not detected: HighErrorRate never fired"
    assert metrics.reasons["time_to_recover_s"] == (
        "nothing to recover from: no alert fired, the service stayed healthy "
        "and every replica stayed ready"
    )


def test_unsorted_events_give_the_same_metrics() -> None:
    shuffled = list(BAD_CONFIG)
    random.Random(7).shuffle(shuffled)
    assert shuffled != list(BAD_CONFIG)

    assert run_metrics(shuffled, alerts=("PodsDown",)) == run_metrics(
        BAD_CONFIG, alerts=("PodsDown",)
    )


def test_an_alert_firing_twice_must_resolve_after_its_last_firing() -> None:
    metrics = run_metrics(FIRES_TWICE, alerts=("HighErrorRate",))

    assert metrics.time_to_detect_s == pytest.approx(10.0)  # the first firing
    # From the first remediation (20.0) to the resolve after the last firing (40.0).
    assert metrics.time_to_recover_s == pytest.approx(20.0)

    still_firing = run_metrics(FIRES_TWICE[:-1], alerts=("HighErrorRate",))
    assert still_firing.time_to_recover_s is None
    assert still_firing.reasons["time_to_recover_s"] == (
        "never recovered: HighErrorRate never resolved"
    )


def test_notifications_about_other_alerts_are_ignored() -> None:
    events = [
        ev(2.0, "fault_injected", pods=PODS, faults={"error_rate": 0.5}),
        ev(4.0, "notification_delivered", status="firing", alerts=["HighLatency"]),
        ev(5.0, "notification_delivered", status="resolved", alerts=["HighErrorRate"]),
        ev(12.0, "alert_firing", alert="HighErrorRate"),
        ev(
            13.5, "notification_delivered", status="firing", alerts=["HighLatency", "HighErrorRate"]
        ),
    ]

    assert run_metrics(events, alerts=("HighErrorRate",)).time_to_notify_s == pytest.approx(11.5)
    # Without a list of alerts, any firing notification counts.
    assert run_metrics(events).time_to_notify_s == pytest.approx(2.0)


def test_alerts_not_asked_about_neither_detect_nor_block_recovery() -> None:
    events = [
        *HIGH_ERROR_RATE,
        ev(8.0, "alert_firing", alert="HighLatency"),  # fires and never resolves
    ]

    metrics = run_metrics(events, alerts=("HighErrorRate",))
    assert metrics.time_to_detect_s == pytest.approx(10.9)
    assert metrics.time_to_recover_s == pytest.approx(11.5)

    every_alert = run_metrics(events)
    assert every_alert.time_to_detect_s == pytest.approx(6.0)
    assert every_alert.time_to_recover_s is None
    assert every_alert.reasons["time_to_recover_s"] == "never recovered: HighLatency never resolved"


def test_what_happened_before_the_first_disruption_does_not_count() -> None:
    events = [
        ev(0.5, "alert_firing", alert="HighErrorRate"),  # left over from a previous run
        ev(1.0, "scaled", previous=2, replicas=4),  # a scale-up disrupts nothing
        ev(1.5, "service_unhealthy", reason="warming up"),
        ev(1.8, "alert_resolved", alert="HighErrorRate"),
        ev(3.0, "pod_killed", pod="sre-app-0", force=False),
        ev(9.0, "service_unhealthy", reason="1 of 2 replicas ready"),
        ev(12.0, "service_healthy"),
    ]

    metrics = run_metrics(events)
    assert metrics.time_to_detect_s is None
    assert metrics.time_to_recover_s == pytest.approx(9.0)
    assert metrics.rto_s == pytest.approx(9.0)


def test_recovery_waits_for_the_last_time_the_service_went_unhealthy() -> None:
    events = [
        ev(2.0, "deployed", version="2.0.0-bad", revision=2, broken=True),
        ev(3.0, "service_unhealthy", reason="no replica ready"),
        ev(5.0, "service_healthy"),
        ev(6.0, "service_unhealthy", reason="no replica ready"),
        ev(10.0, "rolled_back", revision=1),
        ev(14.0, "service_healthy"),
    ]

    metrics = run_metrics(events)
    assert metrics.rto_s == pytest.approx(12.0)
    assert metrics.time_to_recover_s == pytest.approx(4.0)

    never_healthy = run_metrics(events[:-1])
    assert never_healthy.rto_s is None
    assert never_healthy.time_to_recover_s is None
    assert never_healthy.reasons["rto_s"] == "the service never became healthy again"
    assert never_healthy.reasons["time_to_recover_s"] == (
        "never recovered: the service never became healthy again"
    )


def test_recovery_before_the_remediation_counts_as_zero() -> None:
    events = [
        ev(2.0, "fault_injected", pods=PODS, faults={"unhealthy": True}),
        ev(3.0, "service_unhealthy", reason="health checks failing"),
        ev(6.0, "service_healthy"),
        ev(9.0, "faults_cleared", pods=PODS),
    ]

    assert run_metrics(events).time_to_recover_s == 0.0


def test_without_a_disruption_there_is_nothing_to_time() -> None:
    events = [ev(0.0, "run_started"), ev(1.0, "alert_firing", alert="HighErrorRate")]
    budget = BudgetInputs(bad_requests=0, total_requests=600, duration_s=30, time_scale=0.1)

    metrics = run_metrics(events, budget=budget)

    assert metrics.as_json() == {
        "time_to_detect_s": None,
        "time_to_notify_s": None,
        "time_to_recover_s": None,
        "rto_s": None,
        "error_budget_burned": 0.0,
    }
    assert metrics.reasons["rto_s"] == "nothing was disrupted"
    assert run_metrics([]).time_to_detect_s is None


def test_budget_burned_comes_from_the_budget_inputs() -> None:
    budget = BudgetInputs(bad_requests=12, total_requests=1200, duration_s=60, time_scale=0.1)
    assert run_metrics(HIGH_ERROR_RATE, budget=budget).error_budget_burned == pytest.approx(1 / 432)

    no_requests = BudgetInputs(bad_requests=0, total_requests=0, duration_s=60, time_scale=0.1)
    metrics = run_metrics(HIGH_ERROR_RATE, budget=no_requests)
    assert metrics.error_budget_burned is None
    assert metrics.reasons["error_budget_burned"] == "nothing was measured: no requests"


def test_events_with_odd_details_are_ignored_not_fatal() -> None:
    events = [
        ev(1.0, "scaled", replicas=0),  # no previous: not a disruption
        ev(1.5, "scaled", previous="2", replicas=0),
        ev(1.7, "scaled", previous=True, replicas=0),
        ev(2.0, "fault_injected"),
        ev(3.0, "alert_firing"),  # names no alert
        ev(4.0, "alert_firing", alert=["HighErrorRate"]),
        ev(5.0, "notification_delivered", alerts=["HighErrorRate"]),  # no status
        ev(6.0, "notification_delivered", status="firing", alerts=None),
        ev(7.0, "notification_delivered", status="firing", alerts="HighErrorRate"),
        ev(8.0, "alert_firing", alert="HighErrorRate"),
        ev(9.0, "alert_resolved"),
        ev(10.0, "alert_resolved", alert="HighErrorRate"),
        ev(11.0, "narration", whatever={"x": 1}),
    ]

    metrics = run_metrics(events, alerts=("HighErrorRate",))
    assert metrics.time_to_detect_s == pytest.approx(6.0)
    assert metrics.time_to_notify_s == pytest.approx(5.0)  # a lone name counts as a list
    assert metrics.time_to_recover_s == pytest.approx(8.0)


def test_events_at_the_same_time_keep_their_order() -> None:
    events = [
        ev(2.0, "pod_killed", pod="sre-app-0", force=True),
        ev(5.0, "alert_firing", alert="HealthCheckFailing"),
        ev(5.0, "alert_resolved", alert="HealthCheckFailing"),
    ]
    assert run_metrics(events).time_to_recover_s == pytest.approx(3.0)
    assert run_metrics([events[0], events[2], events[1]]).time_to_recover_s is None


@pytest.mark.parametrize(
    ("event", "disruption", "remediation"),
    [
        (ev(0, "fault_injected", pods=PODS, faults={}), True, False),
        (ev(0, "pod_killed", pod="p", force=False), True, False),
        (ev(0, "deployed", version="2", revision=2, broken=False), True, False),
        (ev(0, "scaled", previous=2, replicas=1), True, False),
        (ev(0, "scaled", previous=2, replicas=2), False, False),
        (ev(0, "scaled", previous=0, replicas=2), False, True),
        (ev(0, "faults_cleared", pods=PODS), False, True),
        (ev(0, "rolled_back", revision=1), False, True),
        (ev(0, "autoscaled", previous=2, desired=1), False, False),
        (ev(0, "pod_gone", pod="p"), False, False),
    ],
)
def test_disruptions_and_remediations(
    event: TimelineEvent, disruption: bool, remediation: bool
) -> None:
    assert (is_disruption(event), is_remediation(event)) == (disruption, remediation)


class TestTimelineEvent:
    def test_journal_form_puts_t_and_kind_first_and_rounds_t_to_milliseconds(self) -> None:
        event = TimelineEvent(12.34567, EventKind.ALERT_FIRING, {"alert": "HighErrorRate"})

        assert json.dumps(event.as_json()) == (
            '{"t": 12.346, "kind": "alert_firing", "alert": "HighErrorRate"}'
        )

    def test_round_trips_through_json(self) -> None:
        event = ev(14.2, "notification_delivered", status="firing", alerts=["HighErrorRate"])

        assert TimelineEvent.from_json(json.loads(json.dumps(event.as_json()))) == event
        assert TimelineEvent.from_json({"t": 3, "kind": "load_stopped"}) == TimelineEvent(
            3.0, "load_stopped"
        )

    @pytest.mark.parametrize(
        "data",
        [
            {"kind": "pod_ready"},
            {"t": "1.0", "kind": "pod_ready"},
            {"t": True, "kind": "x"},
            {"t": 1},
        ],
    )
    def test_from_json_refuses_an_event_without_time_or_kind(self, data: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match="a number `t` and a string `kind`"):
            TimelineEvent.from_json(data)

    def test_a_kind_read_as_a_string_is_its_event_kind_and_written_the_same(self) -> None:
        event = TimelineEvent.from_json({"t": 1, "kind": "pod_ready", "pod": "p"})

        assert event.kind is EventKind.POD_READY
        assert json.dumps(event.as_json()) == '{"t": 1.0, "kind": "pod_ready", "pod": "p"}'

    @pytest.mark.parametrize("kind", ["pod_redy", "", "POD_READY"])
    def test_an_unknown_kind_is_refused_naming_it(self, kind: str) -> None:
        with pytest.raises(ValueError, match=f"unknown timeline event kind '{kind}'"):
            TimelineEvent.from_json({"t": 1, "kind": kind})
        with pytest.raises(ValueError, match=f"unknown timeline event kind '{kind}'"):
            TimelineEvent(1.0, kind)  # type: ignore[arg-type]

    def test_details_cannot_shadow_t_or_kind(self) -> None:
        with pytest.raises(ValueError, match="cannot be named t"):
            TimelineEvent(1.0, "pod_ready", {"t": 5, "pod": "p"})
        with pytest.raises(ValueError, match="cannot be named seen_t"):
            TimelineEvent(1.0, "pod_ready", {"seen_t": 5})

    def test_an_event_seen_late_keeps_when_it_happened_and_says_when_it_was_seen(self) -> None:
        late = TimelineEvent(9.0, "sli_recovered", {"sli": "availability"}, seen_t=17.44)
        on_time = TimelineEvent(9.0, "pod_ready", {"pod": "p"}, seen_t=9.3)

        assert (late.shown_t, late.dated_back) == (17.44, True)
        assert (on_time.shown_t, on_time.dated_back) == (9.3, False)
        assert late.as_json() == {
            "t": 9.0,
            "kind": "sli_recovered",
            "sli": "availability",
            "seen_t": 17.44,
        }
        assert on_time.as_json() == {"t": 9.0, "kind": "pod_ready", "pod": "p"}
        assert TimelineEvent.from_json(late.as_json()) == late
        assert TimelineEvent(2.0, "pod_ready").shown_t == 2.0

    @pytest.mark.parametrize("seen_t", [float("nan"), True, "3"])
    def test_seen_time_must_be_a_finite_number(self, seen_t: Any) -> None:
        with pytest.raises(ValueError, match="seen_t must be"):
            TimelineEvent(1.0, "pod_ready", seen_t=seen_t)

    @pytest.mark.parametrize("t", [float("nan"), float("inf"), "1"])
    def test_time_must_be_a_finite_number(self, t: Any) -> None:
        with pytest.raises(ValueError, match="t must be"):
            TimelineEvent(t, "pod_ready")

    def test_details_are_a_copy_that_cannot_change(self) -> None:
        details = {"pod": "sre-app-0"}
        event = TimelineEvent(1.0, "pod_ready", details)
        details["pod"] = "changed"

        assert event.details["pod"] == "sre-app-0"
        with pytest.raises(TypeError):
            event.details["pod"] = "x"  # type: ignore[index]


class TestRunMetrics:
    def test_real_time_divides_durations_but_not_the_budget_share(self) -> None:
        metrics = RunMetrics(10.9, 12.2, None, 0.0, 0.25)

        assert metrics.real_time(0.1) == {
            "time_to_detect_s": pytest.approx(109.0),
            "time_to_notify_s": pytest.approx(122.0),
            "time_to_recover_s": None,
            "rto_s": 0.0,
            "error_budget_burned": 0.25,
        }

    @pytest.mark.parametrize("scale", [0, -0.1, 1.5])
    def test_real_time_refuses_a_scale_outside_zero_to_one(self, scale: float) -> None:
        with pytest.raises(ValueError, match="time scale must be in"):
            RunMetrics(1, 1, 1, 1, 1).real_time(scale)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (0, "0 s"),
        (0.04, "0 s"),
        (0.05, "0.1 s"),
        (10.9, "10.9 s"),
        (18, "18 s"),
        (18.00001, "18 s"),
        (59.94, "59.9 s"),
        (59.96, "1m"),
        (60, "1m"),
        (109, "1m 49s"),
        (125, "2m 05s"),
        (180, "3m"),
        (3600, "1h"),
        (3605, "1h 00m 05s"),
        (5400, "1h 30m"),
        (-3.2, "-3.2 s"),
    ],
)
def test_format_seconds(seconds: float | None, text: str) -> None:
    assert format_seconds(seconds) == text


def test_real_time_equivalent() -> None:
    assert real_time_equivalent(10.9, 0.1) == pytest.approx(109.0)
    assert real_time_equivalent(10.9, 1) == 10.9
    with pytest.raises(ValueError, match="time scale"):
        real_time_equivalent(10.9, 0)


# Random runs: every kind the metrics read, at distinct times so the order is unique.
_ALERTS = st.sampled_from(["HighErrorRate", "PodsDown"])
_EVENT_BODIES = st.one_of(
    st.just(("fault_injected", {"pods": PODS, "faults": {}})),
    st.just(("pod_killed", {"pod": "sre-app-0", "force": True})),
    st.just(("faults_cleared", {"pods": PODS})),
    st.just(("rolled_back", {"revision": 1})),
    st.tuples(
        st.just("scaled"),
        st.fixed_dictionaries({"previous": st.integers(0, 4), "replicas": st.integers(0, 4)}),
    ),
    st.tuples(st.just("alert_firing"), st.fixed_dictionaries({"alert": _ALERTS})),
    st.tuples(st.just("alert_resolved"), st.fixed_dictionaries({"alert": _ALERTS})),
    st.tuples(
        st.just("notification_delivered"),
        st.fixed_dictionaries(
            {"status": st.sampled_from(["firing", "resolved"]), "alerts": st.lists(_ALERTS)}
        ),
    ),
    st.just(("service_unhealthy", {"reason": "no replica ready"})),
    st.just(("service_healthy", {})),
    st.just(("replicas_short", {"ready": 1, "desired": 2})),
    st.just(("replicas_whole", {"ready": 2, "desired": 2})),
    st.just(("narration", {"text": "meanwhile"})),
)
_RUNS = st.lists(
    st.tuples(st.floats(0, 600, allow_nan=False), _EVENT_BODIES),
    max_size=30,
    unique_by=lambda item: item[0],
).map(lambda items: [TimelineEvent(t, kind, details) for t, (kind, details) in items])


@given(_RUNS, st.lists(_ALERTS, max_size=2))
def test_metrics_are_never_negative(events: list[TimelineEvent], alerts: list[str]) -> None:
    for key, value in run_metrics(events, alerts=alerts).as_json().items():
        assert value is None or value >= 0, key


@given(_RUNS.flatmap(lambda events: st.tuples(st.just(events), st.permutations(events))))
def test_shuffling_events_does_not_change_the_metrics(
    runs: tuple[list[TimelineEvent], list[TimelineEvent]],
) -> None:
    events, shuffled = runs
    assert run_metrics(shuffled) == run_metrics(events)
