"""A run's alerts held against their predicted bands: within, early, late or never, and
for one outside its band the likely cause, named after the part of the band it left.

`judge(band, observed_fire_s, observed_notify_s)` judges one alert from seconds after
the fault; `judge_run(bands, events)` reads those from a run's timeline (`observed_in`)
and judges every band. `Judgement.as_json()` is what the journal stores:

    {"alert": "HighErrorRate",
     "pending_band_s": [1.125, 5.125], "fire_band_s": [11.625, 15.625],
     "notify_band_s": [14.625, 18.625],
     "observed_pending_s": 4.1, "observed_fire_s": 14.7, "observed_notify_s": 17.3,
     "fire_verdict": "within", "notify_verdict": "within", "likely_cause": null}

Seconds are after the fault (the run's first disruption), null where nothing was seen;
a verdict is `within`, `early`, `late` or `never`.

The causes follow the band's parts (`alert_band`'s model). Firing early: before the
`for` could have elapsed, the condition held before the fault (a steady state that was
not steady); otherwise the fault crossed sooner than the window fill says. Firing late:
with the pending time seen, either the condition came late (scrape, window, evaluation,
a weaker fault) or the hold did (`for`, skipped evaluations); never firing: the run did
not wait for the band, or the condition never held. A notification's part is its delay
after firing: group_wait for a new group, up to group_interval for an existing one
(the group_interval tick), more than that a failed delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sreshow.core.alert_band import AlertBand, Band
from sreshow.core.alert_config import Route
from sreshow.core.durations import format_duration
from sreshow.core.timeline import (
    EventKind,
    TimelineEvent,
    alert_name,
    first_disruption,
    format_seconds,
    is_firing_notification,
    is_remediation,
    notified_alerts,
    sort_events,
)

Verdict = Literal["within", "early", "late", "never"]


@dataclass(frozen=True)
class Observed:
    """What a run saw of one alert, in seconds after the fault (None: not seen)."""

    fire_s: float | None
    notify_s: float | None
    pending_s: float | None = None  # the pending that led to the firing
    watched_s: float | None = None  # how long the fault stayed before it was remedied
    ended_s: float | None = None  # when the run stopped watching


@dataclass(frozen=True)
class Judgement:
    """One alert's observations against its band, and the likely cause if outside."""

    band: AlertBand
    observed: Observed
    fire_verdict: Verdict
    notify_verdict: Verdict
    likely_cause: str | None

    def as_json(self) -> dict[str, Any]:
        """The journal's entry for this alert; see the module doc."""
        return {
            "alert": self.band.alert,
            "pending_band_s": self.band.pending.as_json(),
            "fire_band_s": self.band.fire.as_json(),
            "notify_band_s": self.band.notify.as_json(),
            "observed_pending_s": _rounded(self.observed.pending_s),
            "observed_fire_s": _rounded(self.observed.fire_s),
            "observed_notify_s": _rounded(self.observed.notify_s),
            "fire_verdict": self.fire_verdict,
            "notify_verdict": self.notify_verdict,
            "likely_cause": self.likely_cause,
        }


def judge(
    band: AlertBand,
    observed_fire_s: float | None,
    observed_notify_s: float | None,
    *,
    observed_pending_s: float | None = None,
    watched_s: float | None = None,
    ended_s: float | None = None,
) -> Judgement:
    """Where the observed firing and notification fall against `band`, and why.

    `observed_pending_s` (the pending that led to the firing) tells a late condition
    from a long hold; `watched_s` (how long the fault stayed) and `ended_s` (when the
    run stopped watching) tell "never" from "not waited for".
    """
    seen = Observed(observed_fire_s, observed_notify_s, observed_pending_s, watched_s, ended_s)
    fire_verdict = verdict(band.fire, observed_fire_s)
    notify_verdict = verdict(band.notify, observed_notify_s)
    causes = [
        cause
        for cause in (
            _fire_cause(band, seen, fire_verdict),
            _notify_cause(band, seen, fire_verdict, notify_verdict),
        )
        if cause
    ]
    return Judgement(band, seen, fire_verdict, notify_verdict, " ".join(causes) or None)


def verdict(band: Band, seconds: float | None) -> Verdict:
    """`never` without an observation, else where it falls against `band`."""
    if seconds is None:
        return "never"
    if seconds < band.earliest_s:
        return "early"
    if seconds > band.latest_s:
        return "late"
    return "within"


def observed_in(events: Sequence[TimelineEvent], alert: str) -> Observed:
    """What the run's timeline shows of `alert`, in seconds after its first disruption
    (the run's start without one): the first firing after it (or, already firing then,
    the firing before it: a negative time), the pending that led there, the first
    firing notification naming it, and how long until the first remediation (or the
    last event), and when the run ended (its last event)."""
    ordered = sort_events(events)
    start = first_disruption(ordered)
    start = 0.0 if start is None else start
    own = [e for e in ordered if alert_name(e) == alert]
    fired = _first(e.t for e in own if e.kind == EventKind.ALERT_FIRING and e.t >= start)
    if fired is None:
        before = [e for e in own if e.t < start and e.kind != EventKind.ALERT_PENDING]
        if before and before[-1].kind == EventKind.ALERT_FIRING:
            fired = before[-1].t
    pendings = [e.t for e in own if e.kind == EventKind.ALERT_PENDING]
    if fired is not None:
        pending = max((t for t in pendings if t <= fired), default=None)
    else:
        pending = _first(t for t in pendings if t >= start)
    notified = _first(
        e.t
        for e in ordered
        if is_firing_notification(e) and alert in notified_alerts(e) and e.t >= start
    )
    remedied = _first(e.t for e in ordered if is_remediation(e) and e.t >= start)
    ended = ordered[-1].t if ordered else start
    return Observed(
        fire_s=_since(fired, start),
        notify_s=_since(notified, start),
        pending_s=_since(pending, start),
        watched_s=max((ended if remedied is None else remedied) - start, 0.0),
        ended_s=max(ended - start, 0.0),
    )


def judge_run(bands: Sequence[AlertBand], events: Sequence[TimelineEvent]) -> list[Judgement]:
    """Every band judged against what the run's timeline shows (`observed_in`)."""
    judgements = []
    for band in bands:
        seen = observed_in(events, band.alert)
        judgements.append(
            judge(
                band,
                seen.fire_s,
                seen.notify_s,
                observed_pending_s=seen.pending_s,
                watched_s=seen.watched_s,
                ended_s=seen.ended_s,
            )
        )
    return judgements


# --- firing ------------------------------------------------------------------------------


def _fire_cause(band: AlertBand, seen: Observed, fire_verdict: Verdict) -> str | None:
    if fire_verdict == "within":
        return None
    if fire_verdict == "early":
        return _early_fire(band, seen)
    if fire_verdict == "late":
        return _late_fire(band, seen)
    return _never_fired(band, seen)


def _early_fire(band: AlertBand, seen: Observed) -> str:
    alert, fired = band.alert, _s(seen.fire_s)
    held_before = (seen.pending_s is not None and seen.pending_s < 0) or (
        seen.fire_s is not None and seen.fire_s < band.hold_s
    )
    if seen.fire_s is not None and seen.fire_s < 0:
        return (
            f"{alert} was already firing {_s(-seen.fire_s)} before the fault: its "
            "condition held before the fault (a steady state that was not steady)."
        )
    if held_before:
        return (
            f"{alert} fired {fired} after the fault, sooner than its {_for(band)} allows: "
            "its condition already held before the fault (a steady state that was not "
            "steady), or the running rule's `for` is shorter than the file's."
        )
    return (
        f"{alert} fired {fired} after the fault, before the band's {_s(band.fire.earliest_s)}: "
        f"its condition crossed sooner than {_condition_parts(band)} allow — the fault is "
        f"stronger than expected{_fill_text(band)}, or the running Prometheus scrapes or "
        "evaluates faster than configured."
    )


def _late_fire(band: AlertBand, seen: Observed) -> str:
    alert, fired = band.alert, _s(seen.fire_s)
    if seen.pending_s is None:
        return (
            f"{alert} fired {fired} after the fault, after the band's "
            f"{_s(band.fire.latest_s)}: either its condition came late "
            f"({_condition_parts(band)}) or its hold did ({_for(band)} in the running "
            "rule); the timeline's alert_pending tells which."
        )
    if seen.pending_s > band.pending.latest_s:
        return (
            f"{alert}'s condition held only {_s(seen.pending_s)} after the fault (pending "
            f"by {_s(band.pending.latest_s)} expected): the data came later than "
            f"{_condition_parts(band)} allow — the fault reached the data later or "
            f"weaker than expected{_fill_text(band)}, or the running Prometheus scrapes "
            "or evaluates slower than configured."
        )
    held = (seen.fire_s or 0.0) - seen.pending_s
    return (
        f"{alert} was pending {_s(seen.pending_s)} after the fault, in its band, but "
        f"took {_s(held)} more to fire, against its {_for(band)}: the running rule's "
        "`for` is longer than the file's, or evaluations were skipped (the rule group "
        f"takes longer than its {_d(band.timing.evaluation_interval_s)} interval)."
    )


def _never_fired(band: AlertBand, seen: Observed) -> str:
    alert, timing = band.alert, band.timing
    if seen.watched_s is not None and seen.watched_s < band.fire.latest_s:
        waited = f"the fault stayed {_s(seen.watched_s)}"
        if seen.pending_s is not None and seen.pending_s + band.hold_s > seen.watched_s:
            return (
                f"{alert} was pending {_s(seen.pending_s)} after the fault, but its "
                f"{_for(band)} is longer than the run waited ({waited})."
            )
        if seen.pending_s is None:
            return (
                f"{_largest_part(band)} is longer than the run waited: {alert}'s band "
                f"reaches {_s(band.fire.latest_s)}, {waited}."
            )
    if seen.pending_s is not None:
        return (
            f"{alert} was pending {_s(seen.pending_s)} after the fault but never fired: "
            f"its condition stopped holding before its {_for(band)} elapsed (a fault "
            "near the threshold flaps), or the running rule's `for` is longer than "
            "the file's."
        )
    jobs = ", ".join(timing.jobs) or "any job"
    return (
        f"{alert}'s condition never held: the fault did not take its expression over "
        f"its threshold{_threshold_text(band)}, or Prometheus did not scrape {jobs}."
    )


# --- notification ------------------------------------------------------------------------


def _notify_cause(
    band: AlertBand, seen: Observed, fire_verdict: Verdict, notify_verdict: Verdict
) -> str | None:
    if notify_verdict == "within" or (notify_verdict == "never" and seen.fire_s is None):
        return None
    route = band.route
    if route is None:
        return f"No Alertmanager route takes {band.alert} ({_labels(band)})."
    if notify_verdict == "never":
        return _never_notified(band, route, seen)
    if seen.fire_s is None or seen.notify_s is None:
        return (
            f"{band.alert} was notified {_s(seen.notify_s)} after the fault, outside "
            f"{_s(band.notify.earliest_s)} to {_s(band.notify.latest_s)}: check "
            f"group_wait {_d(route.group_wait_s)} and group_interval "
            f"{_d(route.group_interval_s)} of {_where(route)}."
        )
    return _delay_cause(band, route, seen.notify_s - seen.fire_s, fire_verdict)


def _never_notified(band: AlertBand, route: Route, seen: Observed) -> str:
    if seen.ended_s is not None and seen.ended_s < band.notify.latest_s:
        return (
            f"The run ended {_s(seen.ended_s)} after the fault, before {band.alert}'s "
            f"notification was due (by {_s(band.notify.latest_s)})."
        )
    return (
        f"{band.alert} fired but no notification reached the receiver (due by "
        f"{_s(band.notify.latest_s)}): check {_where(route)} and the receiver's webhook."
    )


def _delay_cause(band: AlertBand, route: Route, after: float, fire_verdict: Verdict) -> str:
    """Why the notification came `after` seconds after the firing was seen."""
    allowances = band.allowances
    wait, interval = route.group_wait_s, route.group_interval_s
    group = f"group_by [{', '.join(route.group_by) or 'nothing: one group'}]"
    if wait - allowances.observe_s <= after <= wait + allowances.deliver_s:
        # Alertmanager did what its group_wait says: the firing was off its band.
        return f"The notification follows the firing by {_s(after)}, as group_wait predicts."
    if after < wait:
        return (
            f"{band.alert} was notified {_s(after)} after firing, sooner than group_wait "
            f"{_d(wait)} ({_where(route)}): its group ({group}) was already waiting for "
            "another alert, Alertmanager got the alert late (a new group flushes at once "
            "for an alert that started more than group_wait ago), or the running "
            "Alertmanager's group_wait is shorter."
        )
    if after <= interval + allowances.deliver_s + allowances.observe_s:
        return (
            f"group_interval tick: {band.alert} joined an existing aggregation group "
            f"({_where(route)}, {group}) and waited {_s(after)} after firing for its "
            f"next group_interval ({_d(interval)}) tick instead of group_wait "
            f"({_d(wait)}): an alert of that group was still active or resolved less "
            "than 15 minutes before (Prometheus re-sends resolved alerts for 15 minutes, "
            "and Alertmanager drops an empty group only on its 30 s maintenance tick)."
        )
    late_firing = " The firing was late too." if fire_verdict == "late" else ""
    return (
        f"Alertmanager took {_s(after)} from firing to delivery, more than group_interval "
        f"{_d(interval)} ({_where(route)}): the delivery failed and was retried, or "
        f"Prometheus could not reach Alertmanager.{late_firing}"
    )


def _where(route: Route) -> str:
    return f"route `{route.path}`, receiver {route.receiver}"


# --- texts -------------------------------------------------------------------------------


def _for(band: AlertBand) -> str:
    timing = band.timing
    configured = f"`for: {_d(timing.for_s)}`"
    if band.hold_s == timing.for_s:
        return configured
    return f"{configured} ({_s(band.hold_s)} on {_d(timing.evaluation_interval_s)} evaluations)"


def _condition_parts(band: AlertBand) -> str:
    timing = band.timing
    jobs = f" of {', '.join(timing.jobs)}" if timing.jobs else ""
    parts = [f"the scrape interval {_d(timing.scrape_interval_s)}{jobs}"]
    if timing.window_s is not None:
        parts.append(f"the [{_d(timing.window_s)}] window")
    parts.append(f"the evaluation interval {_d(timing.evaluation_interval_s)}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _largest_part(band: AlertBand) -> str:
    """The part of the fire band that weighs most, as a configuration to look at."""
    timing = band.timing
    condition = band.condition.latest_s
    parts = [
        (band.hold_s, f"{_for(band)} on {timing.alert}"),
        (condition, f"the condition of {timing.alert} ({_condition_parts(band)})"),
        (timing.evaluation_interval_s, f"the evaluation interval of group {timing.group}"),
    ]
    return max(parts, key=lambda part: part[0])[1]


def _fill_text(band: AlertBand) -> str:
    fill = band.hint.window_fill
    return "" if fill is None else f" (it should cover {fill:.0%} of the window)"


def _threshold_text(band: AlertBand) -> str:
    threshold = band.timing.threshold
    return "" if threshold is None else f" {threshold:g}"


def _labels(band: AlertBand) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(band.timing.labels.items()))


def _s(seconds: float | None) -> str:
    return format_seconds(seconds)


def _d(seconds: float) -> str:
    return format_duration(round(seconds * 1000))


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _since(t: float | None, start: float) -> float | None:
    return None if t is None else t - start


def _first(values: Iterable[float]) -> float | None:
    return next(iter(values), None)
