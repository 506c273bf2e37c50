"""A scenario's expectations judged against what its run measured.

Limits are written in real time, as in the scenario file; the run is measured on the
stack's clock, so a limit L is L * time_scale measured seconds. Every text shows both
(`HighErrorRate fires within 3m (18 s at time scale 0.1)`). A measurement exactly
at its limit passes. Alert expectations, for one alert:

    firing_within    from the first disruption (t = 0 without one) to the alert's
                     first `alert_firing` after it.
    notified_within  from the same start to the first firing notification naming it.
    resolved_within  from the first remediation after that firing (the firing itself
                     without one) to the `alert_resolved` that ends the alert's last
                     firing, so an alert that fires again must resolve again.
    never_fires      passes iff the alert never fired at all during the run.

Something that never happened fails, and the detail says so ("not detected",
"never resolved", "nothing was measured: no requests"). Each result also carries, for
reports and JUnit, its kind, the figure measured (None when nothing happened) and the
limit, in seconds on the stack's clock (a share for the error budget).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sreshow.core.slo import check_time_scale
from sreshow.core.timeline import (
    EventKind,
    RunMetrics,
    TimelineEvent,
    alert_name,
    first_disruption,
    format_seconds,
    is_firing_notification,
    is_remediation,
    notified_alerts,
    sort_events,
)

Verdict = Literal["passed", "failed"]
# What an expectation checks: `measured` and `limit` are seconds on the stack's clock,
# a share of the error budget for `budget`.
ExpectationKind = Literal[
    "firing", "notified", "resolved", "never_fires", "budget", "recovery", "rto"
]

# Measurements and limits are floats (0.7 * 0.1 is 0.06999…): a hair over still passes.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation, whether it held, and what was measured."""

    expectation: str  # "HighErrorRate fires within 3m (18 s at time scale 0.1)"
    passed: bool
    detail: str  # "fired after 10.9 s (1m 49s real-time)", "never fired (not detected)"
    # For reports and JUnit: what was checked, the figure (None: nothing happened; for
    # never_fires, when it fired) and its bound (None for never_fires).
    kind: ExpectationKind | None = field(default=None, compare=False)
    measured: float | None = field(default=None, compare=False)
    limit: float | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "passed": self.passed,
            "detail": self.detail,
            "kind": self.kind,
            "measured": self.measured,
            "limit": self.limit,
        }


def judge_alert(
    events: Sequence[TimelineEvent],
    *,
    alert: str,
    firing_within: float | None = None,
    notified_within: float | None = None,
    resolved_within: float | None = None,
    never_fires: bool = False,
    time_scale: float,
) -> list[ExpectationResult]:
    """One result per limit given (firing, notified, resolved, in that order), or one for
    `never_fires`; limits in real-time seconds. See the module doc for what is measured."""
    check_time_scale(time_scale)
    limits = {"firing_within": firing_within, "notified_within": notified_within}
    limits["resolved_within"] = resolved_within
    for name, limit in limits.items():
        if limit is not None:
            _check_limit(name, limit)
    given = [limit for limit in limits.values() if limit is not None]
    if never_fires and given:
        raise ValueError("never_fires cannot go with firing_within/notified_within/resolved_within")
    if not never_fires and not given:
        raise ValueError(f"nothing to judge for {alert}: give a limit or never_fires")

    ordered = sort_events(events)
    firings = [
        index
        for index, event in enumerate(ordered)
        if event.kind == EventKind.ALERT_FIRING and alert_name(event) == alert
    ]
    if never_fires:
        return [_judge_never_fires(ordered, firings, alert, time_scale)]

    disruption_at = first_disruption(ordered)
    start = 0.0 if disruption_at is None else disruption_at
    firings = [index for index in firings if ordered[index].t >= start]
    results = []
    if firing_within is not None:
        results.append(
            _judge_firing(
                ordered, firings, alert, start=start, within=firing_within, time_scale=time_scale
            )
        )
    if notified_within is not None:
        results.append(_judge_notified(ordered, alert, start, notified_within, time_scale))
    if resolved_within is not None:
        results.append(_judge_resolved(ordered, firings, alert, resolved_within, time_scale))
    return results


def judge_budget(metrics: RunMetrics, *, max_burn: float) -> ExpectationResult:
    """The run burned at most `max_burn` (a share: 0.05 = 5 %) of the error budget."""
    if isinstance(max_burn, bool) or not _finite(max_burn) or max_burn < 0:
        raise ValueError(f"max_burn must be a share >= 0 (0.05 = 5 %), not {max_burn!r}")
    expectation = f"error budget burned at most {format_share(max_burn)}"
    burned = metrics.error_budget_burned
    figures: dict[str, Any] = {"kind": "budget", "measured": burned, "limit": max_burn}
    if burned is None:
        reason = metrics.reasons.get("error_budget_burned", "nothing was measured: no requests")
        return ExpectationResult(expectation, False, reason, **figures)
    detail = f"burned {format_share(burned)} of the error budget"
    return ExpectationResult(expectation, _at_most(burned, max_burn), detail, **figures)


def judge_recovery(metrics: RunMetrics, *, within: float, time_scale: float) -> ExpectationResult:
    """Recovered (alerts resolved, service healthy) within `within` real-time seconds of
    the remediation (of the disruption, if the system healed itself)."""
    check_time_scale(time_scale)
    _check_limit("within", within)
    expectation = f"recovers within {_limit_text(within, time_scale)}"
    measured = metrics.time_to_recover_s
    figures: dict[str, Any] = {"kind": "recovery", "measured": measured}
    figures["limit"] = within * time_scale
    if measured is None:
        reason = metrics.reasons.get("time_to_recover_s", "never recovered")
        return ExpectationResult(expectation, False, reason, **figures)
    return ExpectationResult(
        expectation,
        _at_most(measured, within * time_scale),
        f"recovered after {_measured_text(measured, time_scale)}",
        **figures,
    )


def judge_rto(metrics: RunMetrics, *, within: float, time_scale: float) -> ExpectationResult:
    """The service was healthy again within `within` real-time seconds of the disruption."""
    check_time_scale(time_scale)
    _check_limit("within", within)
    expectation = f"service healthy again within {_limit_text(within, time_scale)} (RTO)"
    measured = metrics.rto_s
    figures: dict[str, Any] = {"kind": "rto", "measured": measured, "limit": within * time_scale}
    if measured is None:
        reason = metrics.reasons.get("rto_s", "the service never became healthy again")
        return ExpectationResult(expectation, False, reason, **figures)
    detail = (
        "the service stayed healthy (RTO 0 s)"
        if measured == 0
        else f"healthy again after {_measured_text(measured, time_scale)}"
    )
    passed = _at_most(measured, within * time_scale)
    return ExpectationResult(expectation, passed, detail, **figures)


def overall_verdict(
    results: Sequence[ExpectationResult], *, steps_failed: bool, steady_state_failed: bool
) -> Verdict:
    """Passed only if every step ran, the steady state held and every expectation held."""
    if steps_failed or steady_state_failed or not all(result.passed for result in results):
        return "failed"
    return "passed"


def format_share(share: float) -> str:
    """A budget share as a percentage: `0.231%`, `5%`, `250%`."""
    percent = share * 100
    if percent == 0:
        return "0%"
    if percent < 0.001:
        return "< 0.001%"
    if percent >= 100:
        return f"{percent:.0f}%"
    return f"{percent:.3g}%"


def _judge_never_fires(
    ordered: Sequence[TimelineEvent], firings: Sequence[int], alert: str, time_scale: float
) -> ExpectationResult:
    expectation = f"{alert} never fires"
    if not firings:
        return ExpectationResult(expectation, True, "never fired", kind="never_fires")
    fired_at = ordered[firings[0]].t
    detail = f"fired {_measured_text(fired_at, time_scale)} into the run"
    return ExpectationResult(expectation, False, detail, kind="never_fires", measured=fired_at)


def _judge_firing(
    ordered: Sequence[TimelineEvent],
    firings: Sequence[int],
    alert: str,
    *,
    start: float,
    within: float,
    time_scale: float,
) -> ExpectationResult:
    expectation = f"{alert} fires within {_limit_text(within, time_scale)}"
    limit = within * time_scale
    if not firings:
        detail = _not_fired(ordered, alert)
        return ExpectationResult(expectation, False, detail, kind="firing", limit=limit)
    measured = ordered[firings[0]].t - start
    return ExpectationResult(
        expectation,
        _at_most(measured, limit),
        f"fired after {_measured_text(measured, time_scale)}",
        kind="firing",
        measured=measured,
        limit=limit,
    )


def _judge_notified(
    ordered: Sequence[TimelineEvent], alert: str, start: float, within: float, time_scale: float
) -> ExpectationResult:
    expectation = f"{alert} is notified within {_limit_text(within, time_scale)}"
    notification = next(
        (
            event
            for event in ordered
            if event.t >= start
            and is_firing_notification(event)
            and alert in notified_alerts(event)
        ),
        None,
    )
    limit = within * time_scale
    if notification is None:
        detail = "no firing notification named it (not notified)"
        return ExpectationResult(expectation, False, detail, kind="notified", limit=limit)
    measured = notification.t - start
    return ExpectationResult(
        expectation,
        _at_most(measured, limit),
        f"notified after {_measured_text(measured, time_scale)}",
        kind="notified",
        measured=measured,
        limit=limit,
    )


def _judge_resolved(
    ordered: Sequence[TimelineEvent],
    firings: Sequence[int],
    alert: str,
    within: float,
    time_scale: float,
) -> ExpectationResult:
    expectation = f"{alert} resolves within {_limit_text(within, time_scale)}"
    figures: dict[str, Any] = {"kind": "resolved", "limit": within * time_scale}
    if not firings:
        detail = _not_fired(ordered, alert) + ", so it never resolved"
        return ExpectationResult(expectation, False, detail, **figures)
    first, last = firings[0], firings[-1]
    resolved = next(
        (
            event
            for event in ordered[last + 1 :]
            if event.kind == EventKind.ALERT_RESOLVED and alert_name(event) == alert
        ),
        None,
    )
    if resolved is None:
        detail = "still firing at the end of the run (never resolved)"
        return ExpectationResult(expectation, False, detail, **figures)
    remediation = next((event for event in ordered[first + 1 :] if is_remediation(event)), None)
    if remediation is None:
        since, origin = ordered[first].t, "it fired"
    else:
        at = format_seconds(remediation.t)
        since, origin = remediation.t, f"the remediation at {at} ({remediation.kind})"
    measured = max(0.0, resolved.t - since)
    return ExpectationResult(
        expectation,
        _at_most(measured, within * time_scale),
        f"resolved {_measured_text(measured, time_scale)} after {origin}",
        measured=measured,
        **figures,
    )


def _not_fired(ordered: Sequence[TimelineEvent], alert: str) -> str:
    fired_before = any(
        event.kind == EventKind.ALERT_FIRING and alert_name(event) == alert for event in ordered
    )
    if fired_before:
        return "fired only before the first disruption (not detected)"
    return "never fired (not detected)"


def _limit_text(within: float, time_scale: float) -> str:
    real = format_seconds(within)
    if time_scale == 1:
        return real
    return f"{real} ({format_seconds(within * time_scale)} at time scale {time_scale:g})"


def _measured_text(seconds: float, time_scale: float) -> str:
    measured = format_seconds(seconds)
    if time_scale == 1:
        return measured
    return f"{measured} ({format_seconds(seconds / time_scale)} real-time)"


def _at_most(measured: float, limit: float) -> bool:
    return measured <= limit or math.isclose(
        measured, limit, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE
    )


def _check_limit(name: str, limit: float) -> None:
    if isinstance(limit, bool) or not _finite(limit) or limit < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, not {limit!r}")


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
