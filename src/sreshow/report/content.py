"""What a report says about one run, whatever it is rendered as (Markdown, HTML, JUnit).

Everything here reads a journal as `journal.json` holds it (a dict) and returns plain
values. Journals are read leniently: an older journal, or one from a run cut short,
lacks keys, and a report of it still renders, saying "—" or "not recorded" where a
figure is missing. Times are shown as measured on the stack's clock with their
real-time equivalent when the run was time-scaled.

Reports never print a URL's path or credentials (`redact`): the journal holds no
secret, and should a webhook URL ever reach an error text, its secret part (the path)
is not repeated.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sreshow.core.timeline import NOT_AVAILABLE, TimelineEvent, format_seconds, run_metrics
from sreshow.core.verdict import format_share
from sreshow.report.advice import next_step
from sreshow.report.narrative import describe_event

METRIC_LABELS = {
    "time_to_detect_s": "time to detect",
    "time_to_notify_s": "time to notify",
    "time_to_recover_s": "time to recover",
    "rto_s": "RTO",
}

_TIMED_ALERT_KINDS = ("firing", "notified", "resolved")
_URL = re.compile(r"\b(https?)://(?:[^\s/@\"'<>]*@)?([^\s/?#\"'<>]+)([^\s\"'<>]*)")


def redact(text: str) -> str:
    """`text` with every http(s) URL cut to its scheme and host: a webhook's secret is
    its path, a password sits before the `@`."""

    def shorten(match: re.Match[str]) -> str:
        scheme, host, rest = match.groups()
        return f"{scheme}://{host}" + ("/…" if rest.strip("/") else "")

    return _URL.sub(shorten, text)


@dataclass(frozen=True)
class ExpectationLine:
    """One expectation as a report shows it."""

    expectation: str
    passed: bool
    detail: str
    kind: str | None  # firing, notified, … (None in journals before kinds were kept)
    measured: str  # "25.3 s (4m 13s real-time)", "1.31%", or "—"
    bound: str  # "18 s (3m real-time)", "10%", "never", or "—"
    next_step: str | None  # for a failed one


@dataclass(frozen=True)
class MetricRow:
    label: str
    measured: str
    real_time: str
    note: str  # why a figure is missing, or what a share is of


@dataclass(frozen=True)
class PredictedRow:
    alert: str
    fire_band: str
    observed_fire: str
    fire_verdict: str
    notify_band: str
    observed_notify: str
    notify_verdict: str
    likely_cause: str


@dataclass(frozen=True)
class EventRow:
    t: str  # "12.9 s": when it happened
    kind: str
    text: str  # the event as a sentence, and when it was seen if that was later


def time_scale(journal: Mapping[str, Any]) -> float:
    """The run's time scale (1 when missing or odd)."""
    scale = _float(journal.get("time_scale"))
    return scale if scale is not None and scale > 0 else 1.0


def seconds_text(seconds: float | None, scale: float) -> str:
    """`25.3 s (4m 13s real-time)` at a time scale, `25.3 s` at 1, `—` for None."""
    if seconds is None:
        return NOT_AVAILABLE
    measured = format_seconds(seconds)
    if scale == 1:
        return measured
    return f"{measured} ({format_seconds(seconds / scale)} real-time)"


def title(journal: Mapping[str, Any]) -> str:
    """`high-error-rate: FAILED`."""
    return f"{_text(journal.get('scenario'), 'unnamed run')}: {verdict(journal).upper()}"


def verdict(journal: Mapping[str, Any]) -> str:
    value = journal.get("verdict")
    return value if value in ("passed", "failed") else "unknown"


def summary_rows(journal: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run at a glance: scenario, verdict, platform, start, length, time scale,
    requests, and what stopped it, if something did."""
    scale = time_scale(journal)
    rows = [
        ("scenario", _text(journal.get("scenario"))),
        ("verdict", verdict(journal)),
        ("platform", _text(journal.get("platform"))),
        ("started", _started(journal.get("started_at"))),
        ("duration", seconds_text(_float(journal.get("duration_s")), scale)),
        ("time scale", _scale_text(scale)),
        ("requests", _requests_text(journal.get("requests"))),
        ("steps", _steps_text(journal.get("steps"))),
        ("steady state", _steady_text(journal.get("steady_state"))),
    ]
    if journal.get("interrupted"):
        rows.append(("interrupted", "yes: the run was cut short, its cleanup ran"))
    if error := _text(journal.get("error"), ""):
        rows.append(("stopped by", error))
    return rows


def expectation_lines(journal: Mapping[str, Any]) -> list[ExpectationLine]:
    """Each expectation, what was measured against which bound, and for a failed one
    the next step."""
    scale = time_scale(journal)
    lines = []
    for entry in _dicts(journal.get("expectations")):
        expectation = _text(entry.get("expectation"))
        passed = entry.get("passed") is True
        kind = entry.get("kind") if isinstance(entry.get("kind"), str) else None
        measured, limit = _float(entry.get("measured")), _float(entry.get("limit"))
        detail = _text(entry.get("detail"), "")
        lines.append(
            ExpectationLine(
                expectation=expectation,
                passed=passed,
                detail=detail,
                kind=kind,
                measured=_figure(kind, measured, scale, detail),
                bound=_bound(kind, limit, scale),
                next_step=None
                if passed
                else next_step(
                    kind,
                    expectation,
                    happened=_happened(kind, measured, detail),
                    measured=measured,
                    limit=limit,
                ),
            )
        )
    return lines


def metric_rows(journal: Mapping[str, Any]) -> list[MetricRow]:
    """Time to detect, notify, recover, RTO and the error budget burned."""
    metrics = _mapping(journal.get("metrics"))
    scale = time_scale(journal)
    rows = []
    for key, label in METRIC_LABELS.items():
        value = _float(metrics.get(key))
        rows.append(
            MetricRow(
                label,
                format_seconds(value),
                NOT_AVAILABLE if value is None else format_seconds(value / scale),
                "" if value is not None else _why_missing(key, journal),
            )
        )
    burned = _float(metrics.get("error_budget_burned"))
    settings = _mapping(journal.get("settings"))
    objective, window = _float(settings.get("slo_objective")), _float(settings.get("slo_window_s"))
    of = (
        f"of a {100 * objective:g}% objective over {_window_text(window)}"
        if objective is not None and window is not None
        else ""
    )
    measured = NOT_AVAILABLE if burned is None else format_share(burned)
    rows.append(MetricRow("error budget burned", measured, "", of))
    return rows


def predicted_rows(journal: Mapping[str, Any]) -> list[PredictedRow]:
    """The alerts' predicted bands against what was observed (none in older journals)."""
    scale = time_scale(journal)
    rows = []
    for entry in _dicts(journal.get("predicted")):
        rows.append(
            PredictedRow(
                alert=_text(entry.get("alert")),
                fire_band=_band(entry.get("fire_band_s"), scale),
                observed_fire=seconds_text(_float(entry.get("observed_fire_s")), scale),
                fire_verdict=_text(entry.get("fire_verdict")),
                notify_band=_band(entry.get("notify_band_s"), scale),
                observed_notify=seconds_text(_float(entry.get("observed_notify_s")), scale),
                notify_verdict=_text(entry.get("notify_verdict")),
                likely_cause=_text(entry.get("likely_cause"), ""),
            )
        )
    return rows


def journal_events(journal: Mapping[str, Any]) -> list[TimelineEvent]:
    """The journal's events as `TimelineEvent`s, in the journal's order; an entry that is
    not an event of a known kind is left out."""
    events = []
    for entry in _dicts(journal.get("events")):
        try:
            events.append(TimelineEvent.from_json(entry))
        except ValueError:
            continue
    return events


def event_rows(journal: Mapping[str, Any]) -> list[EventRow]:
    """Every event as a sentence at the time it happened (one seen later says when)."""
    rows = []
    for event in journal_events(journal):
        # Told at `t`, so the sentence itself need not say when it happened.
        text = describe_event(TimelineEvent(event.t, event.kind, event.details))
        if event.dated_back:
            text += f" (seen at {format_seconds(event.shown_t)})"
        rows.append(EventRow(format_seconds(event.t), event.kind.value, text))
    return rows


def started_iso(journal: Mapping[str, Any]) -> str | None:
    """`2026-12-05T00:18:01` (UTC), or None."""
    started = _float(journal.get("started_at"))
    if started is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started))


def _started(value: object) -> str:
    started = _float(value)
    if started is None:
        return NOT_AVAILABLE
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started))


def _scale_text(scale: float) -> str:
    if scale == 1:
        return "1 (real time)"
    return (
        f"{scale:g}: the stack's clocks ran {1 / scale:g}x fast; figures are as measured, "
        f"with their real-time equivalents (measured / {scale:g})"
    )


def _requests_text(requests: object) -> str:
    counts = _mapping(requests)
    if not counts:
        return NOT_AVAILABLE
    sent, bad = counts.get("sent", 0), counts.get("bad", 0)
    dropped = counts.get("dropped", counts.get("skipped", 0))  # `skipped` before the generator
    return f"{sent} sent, {bad} bad, {dropped} dropped by the load generator"


def _steps_text(steps: object) -> str:
    ran = [step for step in _dicts(steps) if step.get("phase", "steps") == "steps"]
    if not ran:
        return NOT_AVAILABLE
    failed = [step for step in ran if step.get("passed") is not True]
    text = f"{len(ran) - len(failed)} of {len(ran)} passed"
    if failed:
        step = failed[0]
        text += (
            f"; step {step.get('index')} ({_text(step.get('description'))}) failed: "
            f"{_text(step.get('detail'), '')}"
        )
    return text


def _steady_text(steady: object) -> str:
    checks = _mapping(steady)
    if not checks:
        return NOT_AVAILABLE
    return ", ".join(f"{when}: {state}" for when, state in checks.items())


def _why_missing(key: str, journal: Mapping[str, Any]) -> str:
    """Why a metric is None: the journal keeps the figures, not the reasons, so the
    timeline is read again for the alerts the expectations name, as the run did."""
    alerts = {
        line.expectation.split(" ", 1)[0]
        for line in expectation_lines(journal)
        if line.kind in _TIMED_ALERT_KINDS
    }
    reason = run_metrics(journal_events(journal), alerts=alerts).reasons.get(key)
    return reason or "not measured"


def _window_text(seconds: float) -> str:
    days = seconds / 86400
    return f"{days:g} days" if days >= 1 else format_seconds(seconds)


# Details of a thing that never happened (verdict.py's words), for journals before kinds.
_NEVER = ("never", "not detected", "not notified", "nothing was measured")


def _happened(kind: str | None, measured: float | None, detail: str) -> bool:
    if kind is not None:
        return measured is not None
    return not any(words in detail for words in _NEVER)


def _figure(kind: str | None, measured: float | None, scale: float, detail: str) -> str:
    if measured is None:
        return NOT_AVAILABLE
    if kind == "budget":
        return format_share(measured)
    if kind == "never_fires":
        return f"fired at {seconds_text(measured, scale)}"
    return seconds_text(measured, scale) if kind is not None else detail


def _bound(kind: str | None, limit: float | None, scale: float) -> str:
    if kind == "never_fires":
        return "never"
    if limit is None:
        return NOT_AVAILABLE
    if kind == "budget":
        return format_share(limit)
    return seconds_text(limit, scale)


def _band(band: object, scale: float) -> str:
    if not isinstance(band, Sequence) or isinstance(band, str) or len(band) != 2:
        return NOT_AVAILABLE
    early, late = _float(band[0]), _float(band[1])
    if early is None or late is None:
        return NOT_AVAILABLE
    text = f"{format_seconds(early)} to {format_seconds(late)}"
    if scale != 1:
        text += f" ({format_seconds(early / scale)} to {format_seconds(late / scale)} real-time)"
    return text


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _float(value: object) -> float | None:
    return float(value) if _number(value) else None  # type: ignore[arg-type]


def _text(value: object, missing: str = NOT_AVAILABLE) -> str:
    return value if isinstance(value, str) and value else missing


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]
