"""report.md: a fixed journal renders exactly the committed file; every failed
expectation gets a next step that fits what it checked; a journal without series (or
with some missing) still renders and says what is missing and why; no URL's secret
part reaches the report."""

from __future__ import annotations

import copy

import pytest

from sreshow.report.advice import next_step
from sreshow.report.markdown import render_markdown
from tests.fixtures import JOURNALS, expected, journal


@pytest.mark.parametrize("name", JOURNALS)
def test_a_fixed_journal_renders_the_committed_report(name: str) -> None:
    # On a deliberate change: `.venv/bin/python -m tests.fixtures`, then read the diff.
    assert render_markdown(journal(name)) == expected(f"report-{name}.md")


def test_each_failed_expectation_has_its_figures_and_a_next_step() -> None:
    text = render_markdown(journal("high-error-rate"))

    page = text.split("## Verdicts", 1)[1].split("## Timeline metrics", 1)[0]
    assert (
        "- ✗ **FAILED** HighErrorRate is notified within 4m (24 s at time scale 0.1): "
        "notified after 28.7 s (4m 47s real-time)\n"
        "  - measured: 28.7 s (4m 47s real-time); bound: 24 s (4m real-time)\n"
        "  - next step: the page for HighErrorRate came late (4.7 s over): Alertmanager "
        "waits `group_wait`"
    ) in page
    assert "  - measured: 3.32%; bound: 1%\n  - next step: too many requests failed" in page
    assert page.count("next step:") == 2  # the passed ones have none


@pytest.mark.parametrize(
    ("kind", "expectation", "happened", "words"),
    [
        ("firing", "HighErrorRate fires within 3m", False, ("never fired", "`for:`", "rules/")),
        ("firing", "HighErrorRate fires within 3m", True, ("fired late", "evaluation interval")),
        ("notified", "PodsDown is notified within 2m", False, ("route", "group_wait", "webhook")),
        ("notified", "PodsDown is notified within 2m", True, ("came late", "group_wait")),
        ("resolved", "HighLatency resolves within 2m", False, ("never resolved", "remediation")),
        ("resolved", "HighLatency resolves within 2m", True, ("resolved late", "range window")),
        ("never_fires", "PodsDown never fires", True, ("should not", "threshold")),
        ("budget", "error budget burned at most 5%", True, ("max_error_budget_burn",)),
        ("recovery", "recovers within 3m", False, ("readiness probe",)),
        ("rto", "service healthy again within 30 s (RTO)", True, ("slowest phase",)),
    ],
)
def test_the_next_step_fits_what_was_checked(
    kind: str, expectation: str, happened: bool, words: tuple[str, ...]
) -> None:
    step = next_step(kind, expectation, happened=happened)
    # A journal from before kinds were kept gets the same step, read from the words.
    from_words = next_step(None, expectation, happened=happened)

    assert step == from_words
    for word in words:
        assert word in step


def test_a_late_alert_says_by_how_much() -> None:
    step = next_step(
        "firing", "HighErrorRate fires within 3m", happened=True, measured=25.3, limit=18
    )

    assert step.startswith("HighErrorRate fired late (7.3 s over): ")


def test_a_journal_without_series_says_every_chart_is_missing() -> None:
    text = render_markdown(journal("without-series"))

    charts = text.split("## Charts", 1)[1].split("## Events", 1)[0]
    assert "No chart could be drawn." in charts
    assert "- Latency at the Service: not recorded in this journal" in charts
    assert "## Predicted alert bands" not in text


def test_missing_series_are_named_with_the_reason_the_journal_gives() -> None:
    record = copy.deepcopy(journal("high-error-rate"))
    series = record["series"]
    del series["latency_p99_s"], series["replicas"], series["load"]
    series["missing"] = {
        "latency_p99_s": "Prometheus answered no data for the p99 query",
        "load": "the scenario sends no load",
    }
    series["error_percent"] = [[t, None] for t, _ in series["error_percent"]]

    charts = render_markdown(record).split("## Charts", 1)[1].split("## Events", 1)[0]

    assert "In report.html: Request rate at the Service, Latency at the Service." in charts
    assert (
        "- Errors (5xx share): recorded, but with no value\n"
        "- Latency at the Service, latency_p99_s: Prometheus answered no data for the p99 "
        "query\n"
        "- Ready replicas: not recorded in this journal\n"
        "- Load generator: requests sent and dropped: the scenario sends no load\n"
        "- Load generator: p95 latency: the scenario sends no load"
    ) in charts


def test_a_webhook_in_an_error_is_cut_to_its_host() -> None:
    record = copy.deepcopy(journal("high-error-rate"))
    webhook = "https://hooks.slack.com/services/T0MARKER/B0MARKER/s3cr3tMARKERpath"
    record["error"] = f"Slack at {webhook} answered 404; check SRESHOW_SLACK_WEBHOOK_URL"
    record["events"].append(
        {"t": 44.2, "kind": "observation_failed", "reason": f"POST {webhook}: 500"}
    )

    text = render_markdown(record)

    assert "MARKER" not in text
    assert "| stopped by | Slack at https://hooks.slack.com/… answered 404;" in text


def test_an_event_kind_it_does_not_know_is_left_out_not_fatal() -> None:
    record = copy.deepcopy(journal("without-series"))
    record["events"].insert(0, {"t": 0.0, "kind": "from_the_future", "x": 1})
    record["events"].insert(0, {"kind": "no time"})

    text = render_markdown(record)

    assert "from_the_future" not in text
    assert "| 0 s | scenario high-error-rate starts on local (time scale 0.1) |" in text


def test_an_almost_empty_journal_still_renders() -> None:
    text = render_markdown({"scenario": "odd"})

    assert text.startswith("# odd: UNKNOWN\n")
    assert "The scenario sets no expectations" in text
    assert "No events were recorded." in text
    assert "| time to detect | — | — |" in text
