"""Predicted vs observed: each alert's band worked out by hand from the monitoring files,
and runs judged against it (within, early, late, never) with the cause named."""

from __future__ import annotations

import pytest

from sreshow.adapters.manifests import MANIFESTS_DIR, monitoring_files
from sreshow.core.alert_band import (
    MAINTENANCE_S,
    RESOLVED_RESEND_S,
    AlertBand,
    Allowances,
    Band,
    FaultHint,
    fault_hint,
    group_state,
    predict_band,
    predict_bands,
    ratio_fill,
)
from sreshow.core.alert_config import alert_timings, matching_routes
from sreshow.core.alert_judge import judge, judge_run, observed_in
from sreshow.core.timescale import scale_monitoring
from tests.unit.test_timeline import HIGH_ERROR_RATE, ev

PROMETHEUS = """\
global:
  scrape_interval: 15s
  evaluation_interval: 15s
scrape_configs:
  - job_name: app
  - job_name: probes
    scrape_interval: 30s
"""
RULES = """\
groups:
  - name: app
    rules:
      - alert: Errors
        expr: |
          sum(rate(requests_total{job="app", code=~"5.."}[1m]))
            / sum(rate(requests_total{job="app"}[1m])) > 0.05
        for: 1m
        labels:
          severity: critical
      - alert: ProbeFailing
        expr: probe_success{job="probes"} == 0
        for: 20s
        labels:
          severity: warning
  - name: slow
    interval: 20s
    rules:
      - record: job:errors:ratio_rate5m
        expr: |
          sum(rate(requests_total{job="app", code=~"5.."}[5m]))
            / sum(rate(requests_total{job="app"}[5m]))
      - alert: BudgetBurn
        expr: job:errors:ratio_rate5m > 0.01
  - name: fast
    rules:
      - alert: BudgetBurnElsewhere
        expr: job:errors:ratio_rate5m > 0.01
"""
ALERTMANAGER = """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 12h
  routes:
    - matchers: ['severity="warning"']
      receiver: tickets
      group_wait: 10s
      group_interval: 1m
"""
FILES = {
    "prometheus/prometheus.yml": PROMETHEUS,
    "prometheus/rules/app.rules.yml": RULES,
    "alertmanager/alertmanager.yml": ALERTMANAGER,
}
NO_ALLOWANCES = Allowances(observe_s=0.0, deliver_s=0.0)


def band_of(alert: str, hint: FaultHint | None = None, files: dict[str, str] = FILES) -> AlertBand:
    (timing,) = alert_timings(files, [alert])
    return predict_band(timing, hint)


def spans(band: AlertBand) -> dict[str, list[float | None]]:
    return {
        "condition": band.condition.as_json(),
        "pending": band.pending.as_json(),
        "fire": band.fire.as_json(),
        "notify": band.notify.as_json(),
    }


# --- bands worked out by hand ---------------------------------------------------------


def test_a_ratio_alert_without_a_hint_may_need_its_whole_window() -> None:
    band = band_of("Errors")

    # scrape S = 15 s, evaluation E = 15 s, window W = 1m: 4 samples, span 45 s.
    # condition: earliest 0 (a large fault shows in the first scrape after it),
    #            latest 45 (the whole span) + 15 (the scrape showing it) = 60
    # pending:   [0, 60 + E 15 + observe 1] = [0, 76]
    # hold:      for 1m on 15 s evaluations = 60
    # fire:      [0 + 60, 60 + 15 + 60 + observe 1] = [60, 136]
    # notify:    a new group: [60 + group_wait 30, 135 + 30 + deliver 1] = [90, 166]
    assert band.hold_s == 60
    assert spans(band) == {
        "condition": [0.0, 60.0],
        "pending": [0.0, 76.0],
        "fire": [60.0, 136.0],
        "notify": [90.0, 166.0],
    }
    assert band.route is not None
    assert band.route.path == "route"


def test_the_fault_size_narrows_the_band_to_where_the_ratio_crosses() -> None:
    # 20% errors against 5%: the fault must cover 0.05 / 0.2 = 25% of the span.
    band = band_of("Errors", FaultHint(window_fill=ratio_fill(0.05, 0.2)))

    # condition: 0.25 x 45 = 11.25 (a scrape right then) .. 11.25 + S 15 = 26.25
    # fire:      [11.25 + 60, 26.25 + 15 + 60 + 1] = [71.25, 102.25]
    # notify:    [71.25 + 30, 101.25 + 30 + 1] = [101.25, 132.25]
    assert spans(band) == {
        "condition": [11.25, 26.25],
        "pending": [11.25, 42.25],
        "fire": [71.25, 102.25],
        "notify": [101.25, 132.25],
    }


def test_a_window_that_is_no_whole_number_of_scrapes_holds_one_sample_more_or_less() -> None:
    files = {**FILES, "prometheus/rules/app.rules.yml": RULES.replace("[1m]", "[50s]")}
    band = band_of("Errors", FaultHint(window_fill=0.5), files)

    # 50 s / 15 s = 3.33: 3 or 4 samples, spans of 30 or 45 s.
    # condition: 0.5 x 30 = 15 .. 0.5 x 45 + 15 = 37.5
    assert band.condition == Band(15.0, 37.5)


def test_an_instant_condition_holds_at_the_next_scrape_of_its_own_job() -> None:
    band = band_of("ProbeFailing")

    # job `probes` scrapes every 30 s (its own interval), no window:
    # condition [0, 30]; `for: 20s` on 15 s evaluations is 2 of them: 30
    # fire   [0 + 30, 30 + 15 + 30 + 1] = [30, 76]
    # route: severity=warning takes the child route: group_wait 10s
    # notify [30 + 10, 75 + 10 + 1] = [40, 86]
    assert band.timing.scrape_interval_s == 30
    assert band.hold_s == 30
    assert spans(band)["fire"] == [30.0, 76.0]
    assert spans(band)["notify"] == [40.0, 86.0]
    assert band.route is not None
    assert (band.route.path, band.route.receiver) == ("route.routes[0]", "tickets")


def test_an_existing_group_waits_for_its_group_interval_tick() -> None:
    existing = band_of("Errors", FaultHint(group="existing"))
    unknown = band_of("Errors", FaultHint(group="unknown"))

    # fire [60, 135] before observing; the next tick of a group that has flushed comes
    # within group_interval 5m: [60 + 0, 135 + 300 + deliver 1] = [60, 436]
    assert existing.notify == Band(60.0, 436.0)
    # unknown: either a new group (group_wait 30 s) or an existing one (5m): both
    assert unknown.notify == Band(60.0, 436.0)


def test_recorded_series_bring_their_window_and_their_group_lag() -> None:
    same_group = band_of("BudgetBurn")
    other_group = band_of("BudgetBurnElsewhere")

    # The recording rule reads [5m] of job app; same group: evaluated in order, no lag.
    assert same_group.timing.window_s == 300
    assert same_group.timing.jobs == ("app",)
    assert same_group.timing.evaluation_interval_s == 20  # the group's own interval
    assert same_group.timing.record_lag_s == 0
    # From another group: the recorded series can be one of its 20 s intervals old.
    assert other_group.timing.record_lag_s == 20
    # condition latest: span (20 - 1) x 15 = 285 + scrape 15 + lag 20 = 320
    assert other_group.condition == Band(0.0, 320.0)


def test_zero_allowances_leave_the_configured_timers_alone() -> None:
    (timing,) = alert_timings(FILES, ["Errors"])
    band = predict_band(timing, allowances=NO_ALLOWANCES)

    assert band.fire == Band(60.0, 135.0)
    assert band.notify == Band(90.0, 165.0)


# --- routing as Alertmanager does it ---------------------------------------------------

ROUTES = {
    "receiver": "root",
    "group_by": ["alertname"],
    "group_wait": "30s",
    "routes": [
        {"match": {"team": "db"}, "receiver": "db"},
        {"match_re": {"severity": "crit.*"}, "receiver": "pager", "continue": True,
         "group_wait": "5s"},
        {"matchers": ['alertname =~ "High.*"'], "receiver": "slack", "group_by": ["..."],
         "routes": [{"matchers": ["severity!=critical"], "receiver": "quiet"}]},
        {"matchers": ["severity=critical"], "receiver": "never-reached"},
    ],
}  # fmt: skip


def test_routes_follow_first_match_continue_and_inheritance() -> None:
    routes = matching_routes(ROUTES, {"alertname": "HighErrorRate", "severity": "critical"})

    # pager matches and continues; slack matches (its child does not: severity is
    # critical) and stops the search, so the last sibling is never reached.
    assert [(r.path, r.receiver, r.group_by, r.group_wait_s) for r in routes] == [
        ("route.routes[1]", "pager", ("alertname",), 5.0),
        ("route.routes[2]", "slack", ("...",), 30.0),
    ]
    # The defaults of a root that sets nothing: group_interval 5m, repeat 4h.
    assert routes[0].group_interval_s == 300
    assert routes[0].repeat_interval_s == 4 * 3600


def test_an_alert_no_child_takes_stays_on_the_parent() -> None:
    (route,) = matching_routes(ROUTES, {"alertname": "PodsDown", "severity": "warning"})
    (child,) = matching_routes(ROUTES, {"alertname": "HighLatency", "severity": "warning"})

    assert (route.path, route.receiver) == ("route", "root")
    assert (child.path, child.receiver, child.group_by) == (
        "route.routes[2].routes[0]",
        "quiet",
        ("...",),
    )


def test_the_first_delivery_of_several_routes_counts() -> None:
    files = {
        **FILES,
        "alertmanager/alertmanager.yml": ALERTMANAGER.replace(
            "    - matchers: ['severity=\"warning\"']",
            "    - matchers: ['severity=\"critical\"']\n      continue: true\n"
            "      receiver: pager\n      group_wait: 5s\n"
            "    - matchers: ['severity=\"warning\"']",
        ),
    }
    band = band_of("Errors", files=files)

    # pager (group_wait 5s) and the root (30s) both deliver; the first counts.
    assert band.route is not None
    assert band.route.receiver == "pager"
    assert band.notify == Band(65.0, 141.0)  # [60 + 5, 135 + 5 + 1]


# --- the shipped files -----------------------------------------------------------------

SHIPPED = monitoring_files(MANIFESTS_DIR / "monitoring")
CONTRACT_ALERTS = ["HighErrorRate", "HighLatency", "PodsDown", "HealthCheckFailing"]


def shipped_bands(
    time_scale: float, **hints: FaultHint
) -> dict[str, dict[str, list[float | None]]]:
    scaled = scale_monitoring(SHIPPED, time_scale).files
    return {band.alert: spans(band) for band in predict_bands(scaled, CONTRACT_ALERTS, hints=hints)}


def test_the_shipped_alerts_in_real_time() -> None:
    # scrape and evaluation 15 s, windows [1m] (span 45 s), group_wait 30s, new groups.
    # HighErrorRate: fire [60, 45 + 15 + 15 + 60 + 1 = 136], notify [90, 166]
    # HighLatency:   for 2m: fire [120, 196], notify [150, 226]
    # PodsDown:      instant (`up`), condition [0, 15]: fire [60, 91], notify [90, 121]
    # HealthCheckFailing: instant (`probe_success`), for 30s: fire [30, 61], notify [60, 91]
    bands = shipped_bands(1.0)

    assert {alert: (b["fire"], b["notify"]) for alert, b in bands.items()} == {
        "HighErrorRate": ([60.0, 136.0], [90.0, 166.0]),
        "HighLatency": ([120.0, 196.0], [150.0, 226.0]),
        "PodsDown": ([60.0, 91.0], [90.0, 121.0]),
        "HealthCheckFailing": ([30.0, 61.0], [60.0, 91.0]),
    }


def test_the_shipped_alerts_at_time_scale_0_1() -> None:
    # scrape and evaluation 1.5 s, windows [6s] (4 samples, span 4.5 s), group_wait 3s.
    # Every `for` is clamped to at least 10 s (HighLatency's 2m scales to 12 s):
    # 10 s on 1.5 s evaluations is 7 of them, 10.5 s; 12 s is exactly 8.
    # HighErrorRate: condition [0, 4.5 + 1.5 = 6]; fire [10.5, 6 + 1.5 + 10.5 + 1 = 19]
    #                notify [10.5 + 3, 18 + 3 + 1] = [13.5, 22]
    # HighLatency:   fire [12, 6 + 1.5 + 12 + 1 = 20.5], notify [15, 23.5]
    # PodsDown, HealthCheckFailing: condition [0, 1.5]; fire [10.5, 1.5 + 1.5 + 10.5 + 1
    #                = 14.5], notify [13.5, 17.5]
    bands = shipped_bands(0.1)

    assert {alert: (b["fire"], b["notify"]) for alert, b in bands.items()} == {
        "HighErrorRate": ([10.5, 19.0], [13.5, 22.0]),
        "HighLatency": ([12.0, 20.5], [15.0, 23.5]),
        "PodsDown": ([10.5, 14.5], [13.5, 17.5]),
        "HealthCheckFailing": ([10.5, 14.5], [13.5, 17.5]),
    }


def test_the_shipped_scenarios_faults_at_time_scale_0_1() -> None:
    scaled = scale_monitoring(SHIPPED, 0.1).files
    errors, latency = alert_timings(scaled, ["HighErrorRate", "HighLatency"])
    bands = shipped_bands(
        0.1,
        # high-error-rate: 20% on every replica against 5%: 25% of the span
        HighErrorRate=fault_hint(errors, error_share=0.2),
        # high-latency: +1.5 s on every request against p95 > 1 s: 5% of the span,
        # counted 1.5 s late (when the slow requests end)
        HighLatency=fault_hint(latency, latency_s=1.5),
    )

    # HighErrorRate: condition 0.25 x 4.5 = 1.125 .. + 1.5 = 2.625
    #   pending [1.125, 2.625 + 1.5 + 1 = 5.125], fire [1.125 + 10.5, 2.625 + 1.5 + 10.5
    #   + 1] = [11.625, 15.625], notify [14.625, 14.625 + 3 + 1 = 18.625]
    assert bands["HighErrorRate"] == {
        "condition": [1.125, 2.625],
        "pending": [1.125, 5.125],
        "fire": [11.625, 15.625],
        "notify": [14.625, 18.625],
    }
    # HighLatency: condition 1.5 + 0.05 x (4.5 - 1.5) = 1.65 .. 1.65 + 1.5 = 3.15
    #   fire [1.65 + 12, 3.15 + 1.5 + 12 + 1] = [13.65, 17.65], notify [16.65, 20.65]
    assert bands["HighLatency"]["fire"] == [13.65, 17.65]
    assert bands["HighLatency"]["notify"] == [16.65, 20.65]


def test_a_measured_run_of_high_error_rate_lies_within_its_band() -> None:
    # Measured on the local stack at time scale 0.1 (walkthrough, 2026-12-05).
    scaled = scale_monitoring(SHIPPED, 0.1).files
    (timing,) = alert_timings(scaled, ["HighErrorRate"])
    band = predict_band(timing, fault_hint(timing, error_share=0.2))

    judgement = judge(band, 14.703, 17.335, observed_pending_s=4.098, watched_s=17.8)

    assert (judgement.fire_verdict, judgement.notify_verdict) == ("within", "within")
    assert judgement.likely_cause is None


# --- a mis-tuned rule ------------------------------------------------------------------

TEN_TIMES_TOO_LONG = {
    name: text.replace("        for: 1m\n        labels:\n          severity: critical\n"
                       "        annotations:\n          summary: More than 5%",
                       "        for: 10m\n        labels:\n          severity: critical\n"
                       "        annotations:\n          summary: More than 5%")
    for name, text in SHIPPED.items()
}  # fmt: skip


def test_the_mis_tuned_file_predicts_a_band_the_run_does_not_wait_for() -> None:
    scaled = scale_monitoring(TEN_TIMES_TOO_LONG, 0.1).files
    (timing,) = alert_timings(scaled, ["HighErrorRate"])
    band = predict_band(timing, fault_hint(timing, error_share=0.2))
    assert timing.for_s == 60  # 10m at time scale 0.1

    # high-error-rate waits `firing_within: 4m` = 24 s; pending came, firing never.
    judgement = judge(band, None, None, observed_pending_s=4.1, watched_s=24.0)

    assert (judgement.fire_verdict, judgement.notify_verdict) == ("never", "never")
    assert judgement.likely_cause == (
        "HighErrorRate was pending 4.1 s after the fault, but its `for: 1m` is longer "
        "than the run waited (the fault stayed 24 s)."
    )


def test_a_stack_running_a_for_ten_times_too_long_fires_late_and_says_for() -> None:
    scaled = scale_monitoring(SHIPPED, 0.1).files
    (timing,) = alert_timings(scaled, ["HighErrorRate"])
    band = predict_band(timing, fault_hint(timing, error_share=0.2))

    # Pending in its band (4.1 s), then 60 s of `for` instead of 10 s.
    judgement = judge(band, 64.6, 67.6, observed_pending_s=4.1, watched_s=70.0)

    assert (judgement.fire_verdict, judgement.notify_verdict) == ("late", "late")
    assert judgement.likely_cause == (
        "HighErrorRate was pending 4.1 s after the fault, in its band, but took 1m "
        "more to fire, against its `for: 10s` (10.5 s on 1500ms evaluations): the "
        "running rule's `for` is longer than the file's, or evaluations were skipped "
        "(the rule group takes longer than its 1500ms interval). "
        "The notification follows the firing by 3 s, as group_wait predicts."
    )


def test_without_the_pending_time_a_late_firing_names_both_suspects() -> None:
    band = band_of("Errors")

    judgement = judge(band, 600.0, 630.0)

    assert judgement.fire_verdict == "late"
    assert judgement.likely_cause is not None
    assert judgement.likely_cause.startswith(
        "Errors fired 10m after the fault, after the band's 2m 16s: either its condition "
        "came late (the scrape interval 15s of app, the [1m] window and the evaluation "
        "interval 15s) or its hold did (`for: 1m` in the running rule)"
    )


def test_a_run_that_stopped_before_the_band_blames_the_largest_part() -> None:
    files = {**FILES, "prometheus/rules/app.rules.yml": RULES.replace("for: 1m", "for: 10m")}
    band = band_of("Errors", files=files)

    judgement = judge(band, None, None, watched_s=240.0)

    assert judgement.likely_cause == (
        "`for: 10m` on Errors is longer than the run waited: Errors's band reaches "
        "11m 16s, the fault stayed 4m."
    )


# --- judging ---------------------------------------------------------------------------


def test_the_group_interval_tick_explains_a_late_notification() -> None:
    band = band_of("Errors", FaultHint(window_fill=0.25))

    # Fired in its band (80 s); notified 4m later: the next tick of an existing group.
    judgement = judge(band, 80.0, 320.0, observed_pending_s=20.0)

    assert (judgement.fire_verdict, judgement.notify_verdict) == ("within", "late")
    assert judgement.likely_cause == (
        "group_interval tick: Errors joined an existing aggregation group (route "
        "`route`, receiver default, group_by [alertname]) and waited 4m after firing for "
        "its next group_interval (5m) tick instead of group_wait (30s): an alert of "
        "that group was still active or resolved less than 15 minutes before "
        "(Prometheus re-sends resolved alerts for 15 minutes, and Alertmanager drops "
        "an empty group only on its 30 s maintenance tick)."
    )
    # Told that the group exists, the band expects it.
    assert judge(band_of("Errors", FaultHint(group="existing")), 80.0, 320.0).notify_verdict == (
        "within"
    )


def test_a_condition_that_held_before_the_fault_fires_early() -> None:
    band = band_of("Errors")

    judgement = judge(band, 20.0, 50.0, observed_pending_s=-40.0)

    assert (judgement.fire_verdict, judgement.notify_verdict) == ("early", "early")
    assert judgement.likely_cause == (
        "Errors fired 20 s after the fault, sooner than its `for: 1m` allows: its "
        "condition already held before the fault (a steady state that was not steady), "
        "or the running rule's `for` is shorter than the file's. "
        "The notification follows the firing by 30 s, as group_wait predicts."
    )


def test_a_late_condition_is_told_from_a_long_hold() -> None:
    band = band_of("Errors", FaultHint(window_fill=0.25))

    judgement = judge(band, 150.0, 180.0, observed_pending_s=90.0)

    assert judgement.fire_verdict == "late"
    assert judgement.likely_cause is not None
    assert judgement.likely_cause.startswith(
        "Errors's condition held only 1m 30s after the fault (pending by 42.3 s "
        "expected): the data came later than the scrape interval 15s of app, the [1m] "
        "window and the evaluation interval 15s allow — the fault reached the data "
        "later or weaker than expected (it should cover 25% of the window)"
    )


def test_a_condition_that_never_held() -> None:
    judgement = judge(band_of("Errors"), None, None, watched_s=600.0, ended_s=620.0)

    assert (judgement.fire_verdict, judgement.notify_verdict) == ("never", "never")
    assert judgement.likely_cause == (
        "Errors's condition never held: the fault did not take its expression over its "
        "threshold 0.05, or Prometheus did not scrape app."
    )


def test_a_notification_the_run_did_not_wait_for_is_not_blamed_on_alertmanager() -> None:
    band = band_of("Errors")

    ended_early = judge(band, 100.0, None, watched_s=100.0, ended_s=110.0)
    lost = judge(band, 100.0, None, watched_s=300.0, ended_s=400.0)

    assert ended_early.notify_verdict == "never"
    assert ended_early.likely_cause == (
        "The run ended 1m 50s after the fault, before Errors's notification was due (by 2m 46s)."
    )
    assert lost.likely_cause == (
        "Errors fired but no notification reached the receiver (due by 2m 46s): check "
        "route `route`, receiver default and the receiver's webhook."
    )


def test_an_alert_no_route_takes_is_never_due() -> None:
    files = {**FILES, "alertmanager/alertmanager.yml": "route:\n  matchers: [team=db]\n"}
    band = band_of("Errors", files=files)

    assert band.route is None
    assert band.notify.as_json() == [None, None]
    assert judge(band, 100.0, None).likely_cause == (
        "No Alertmanager route takes Errors (alertname=Errors, severity=critical)."
    )


# --- from a run's timeline to the journal ----------------------------------------------


def test_observations_are_read_from_the_timeline_after_the_first_disruption() -> None:
    seen = observed_in(HIGH_ERROR_RATE, "HighErrorRate")

    # fault at 2.0: pending 6.9, firing 12.9, notified 14.2, cleared 20.0, last event 35.0
    assert seen.pending_s == pytest.approx(4.9)
    assert seen.fire_s == pytest.approx(10.9)
    assert seen.notify_s == pytest.approx(12.2)
    assert seen.watched_s == pytest.approx(18.0)
    assert seen.ended_s == pytest.approx(33.0)


def test_an_alert_already_firing_at_the_fault_counts_as_early() -> None:
    events = [
        ev(0.0, "run_started"),
        ev(1.0, "alert_pending", alert="HighErrorRate"),
        ev(3.0, "alert_firing", alert="HighErrorRate"),
        ev(5.0, "fault_injected", faults={"error_rate": 0.2}),
        ev(30.0, "run_finished"),
    ]
    scaled = scale_monitoring(SHIPPED, 0.1).files

    (judgement,) = judge_run(predict_bands(scaled, ["HighErrorRate"]), events)

    assert (judgement.observed.pending_s, judgement.observed.fire_s) == (-4.0, -2.0)
    assert judgement.fire_verdict == "early"
    assert judgement.likely_cause is not None
    assert judgement.likely_cause.startswith(
        "HighErrorRate was already firing 2 s before the fault: its condition held "
        "before the fault (a steady state that was not steady)."
    )


def test_the_journal_entry() -> None:
    scaled = scale_monitoring(SHIPPED, 0.1).files
    (timing,) = alert_timings(scaled, ["HighErrorRate"])
    band = predict_band(timing, fault_hint(timing, error_share=0.5))
    events = [
        ev(0.0, "run_started"),
        ev(2.0, "fault_injected", faults={"error_rate": 0.5}),
        ev(5.0, "alert_pending", alert="HighErrorRate"),
        ev(15.4567, "alert_firing", alert="HighErrorRate"),
        ev(18.5, "notification_delivered", status="firing", alerts=["HighErrorRate"]),
        ev(20.0, "faults_cleared"),
    ]

    (judgement,) = judge_run([band], events)

    # fill 0.05 / 0.5 = 10%: condition 0.45 .. 1.95; fire [10.95, 1.95 + 1.5 + 10.5 + 1]
    assert judgement.as_json() == {
        "alert": "HighErrorRate",
        "pending_band_s": [0.45, 4.45],
        "fire_band_s": [10.95, 14.95],
        "notify_band_s": [13.95, 17.95],
        "observed_pending_s": 3.0,
        "observed_fire_s": 13.457,
        "observed_notify_s": 16.5,
        "fire_verdict": "within",
        "notify_verdict": "within",
        "likely_cause": None,
    }


# --- hints and their limits ------------------------------------------------------------


def test_a_fault_too_small_to_cross_is_refused() -> None:
    scaled = scale_monitoring(SHIPPED, 0.1).files
    errors, latency = alert_timings(scaled, ["HighErrorRate", "HighLatency"])

    # 20% errors on one replica of four: 5% of all requests, not over 5%.
    with pytest.raises(ValueError, match="never pushes the ratio over its threshold 5%"):
        fault_hint(errors, error_share=0.2, replica_share=0.25)
    with pytest.raises(ValueError, match=r"0\.5 s added never takes HighLatency's quantile"):
        fault_hint(latency, latency_s=0.5)
    # 50% on one of two replicas: 25% > 5%, a fill of 20%.
    assert fault_hint(errors, error_share=0.5, replica_share=0.5).window_fill == pytest.approx(0.2)
    # Errors say nothing about latency: no fill, the whole window stays possible.
    assert fault_hint(latency, error_share=0.5) == FaultHint()


def test_the_group_state_follows_alertmanager_and_prometheus_clocks() -> None:
    assert group_state() == "new"
    assert group_state(group_active=True) == "existing"
    # Resolved alerts are re-sent for 15 min; an empty group lives up to one 30 s tick.
    assert group_state(resolved_ago_s=RESOLVED_RESEND_S + MAINTENANCE_S - 1) == "unknown"
    assert group_state(resolved_ago_s=RESOLVED_RESEND_S + MAINTENANCE_S) == "new"


def test_a_bad_hint_or_an_unknown_alert_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"a window fill is a share in \(0, 1\], not 1.5"):
        FaultHint(window_fill=1.5)
    with pytest.raises(ValueError, match="an onset is 0 <= earliest <= latest"):
        FaultHint(onset_s=(2.0, 1.0))
    with pytest.raises(
        ValueError,
        match=r"no alerting rule 'Missing' in prometheus/rules/app.rules.yml; the alerts "
        r"there: BudgetBurn, BudgetBurnElsewhere, Errors, ProbeFailing",
    ):
        alert_timings(FILES, ["Missing"])
