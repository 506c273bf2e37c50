"""When an alert should fire and be notified after a fault: a band, from the very files.

`predict_bands(files, alerts, hints=...)` reads the scaled monitoring files
(`alert_config.alert_timings`) and gives each expected alert its `AlertBand`: the
earliest and latest second after the fault (t = 0, on the stack's clock, like the
timeline) at which the run should see it pending and firing and receive its
notification. `alert_judge` holds a run's observations against the bands.

The model, with S the scrape interval of the jobs the rule reads, E its group's
evaluation interval, W its largest range window, F its `for`, and GW, GI the
group_wait and group_interval of the Alertmanager route that takes it:

1. The data shows the condition at c. The fault reaches the data after its onset d
   (0 for an error or a failed probe; a request slowed by L s is counted when it ends,
   L later: `FaultHint.onset_s`). An instant condition (`up == 0`, no range) holds at
   the first scrape after that, within S: c in [d, d + S].
   A range window holds the samples of a span of (floor(W/S) - 1)·S to
   (ceil(W/S) - 1)·S (W - S when W is a multiple of S). A ratio of rates over it
   (5xx over all requests, slow buckets over all) has the same extrapolation above and
   below the line, so it is the share of requests in the span; with the fault's share
   p it crosses the threshold θ once the fault covers θ/p of the span (the "window
   fill", `FaultHint.window_fill`, `ratio_fill()`), measured from the onset, at the
   first scrape after that. Without a hint any fill is possible: a large fault shows
   in the first scrape after the fault (earliest), a barely large enough one needs the
   whole span (latest). Recorded series from another rule group add up to one of that
   group's intervals.
2. Pending at the first rule evaluation at or after c. A group evaluates on a fixed
   grid (its own phase, every E), so within E: [c, c + E).
3. Firing at the first evaluation at least F after the pending one: pending + H, with
   H = ceil(F / E)·E (F rounded up to whole evaluations; 0 without `for`).
   `keep_firing_for` only holds an alert when its condition ends: no part here.
4. Prometheus sends the alert to Alertmanager at that evaluation (firing alerts go out
   after every group evaluation; `startsAt` is the firing time, so a new group waits
   its full group_wait). Alertmanager puts it in the aggregation group of its route
   and `group_by` labels:
   - a new group flushes group_wait after it was created: + GW;
   - a group that exists and has flushed ticks every group_interval from then on, and
     an alert that joins it waits for the next tick: + (0, GI]. A group exists while
     any alert of it is in Alertmanager — one still firing, or a resolved one: those
     stay until the flush that notifies them, Prometheus re-sends resolved alerts
     every resend delay for 15 minutes (fixed, `RESOLVED_RESEND_S`), each re-creating
     the group, and the dispatcher removes empty groups only on its maintenance tick,
     every 30 s whatever the configuration (`MAINTENANCE_S`). `group_state()` says
     which applies; "unknown" spans both.
   - then the delivery itself, Prometheus → Alertmanager → receiver
     (`Allowances.deliver_s`).
5. The run sees pending and firing by polling the rule states
   (`Allowances.observe_s`); a notification is dated when the receiver got it.

So, with c in [c_e, c_l]:

    pending  [c_e,          c_l + E + observe]
    fire     [c_e + H,      c_l + E + H + observe]
    notify   [c_e + H + GW, c_l + E + H + GW + deliver]        a new group
             [c_e + H,      c_l + E + H + GI + deliver]        an existing one

With several routes (`continue: true`) the first delivery counts: the smallest
earliest and the smallest latest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sreshow.core.alert_config import AlertTiming, Route, alert_timings

OBSERVE_S = 1.0  # the run polls rule states every 0.5 s; plus the query itself
DELIVER_S = 1.0  # Prometheus → Alertmanager → the receiver, once the group flushes
MAINTENANCE_S = 30.0  # Alertmanager's dispatcher drops empty groups on this tick (fixed)
RESOLVED_RESEND_S = 15 * 60.0  # Prometheus re-sends a resolved alert this long (fixed)

GroupState = Literal["new", "existing", "unknown"]


@dataclass(frozen=True)
class Allowances:
    """Small real-time delays outside the configured timers."""

    observe_s: float = OBSERVE_S
    deliver_s: float = DELIVER_S


@dataclass(frozen=True)
class FaultHint:
    """What the run knows about its fault, to narrow an alert's band."""

    # The share of the rate window the fault must cover before the expression crosses
    # its threshold (`ratio_fill`); None: anything from a sliver to the whole window.
    window_fill: float | None = None
    # The fault reaches the data this long after it is injected (earliest, latest).
    onset_s: tuple[float, float] = (0.0, 0.0)
    # Whether the alert's Alertmanager group exists when it fires (`group_state`).
    group: GroupState = "new"

    def __post_init__(self) -> None:
        if self.window_fill is not None and not 0 < self.window_fill <= 1:
            raise ValueError(f"a window fill is a share in (0, 1], not {self.window_fill}")
        earliest, latest = self.onset_s
        if not 0 <= earliest <= latest:
            raise ValueError(f"an onset is 0 <= earliest <= latest, not {self.onset_s}")


def ratio_fill(threshold: float, share: float) -> float:
    """The window fill at which a fault of `share` (errors, slow requests) pushes the
    windowed ratio over `threshold`; ValueError if it never does."""
    if not 0 < share <= 1:
        raise ValueError(f"a fault's share is in (0, 1], not {share}")
    if share <= threshold:
        raise ValueError(
            f"a fault of {share:.0%} never pushes the ratio over its threshold {threshold:.0%}"
        )
    return threshold / share


def fault_hint(
    timing: AlertTiming,
    *,
    error_share: float | None = None,
    latency_s: float | None = None,
    replica_share: float = 1.0,
    group: GroupState = "new",
) -> FaultHint:
    """The hint for a fault the app injects on `replica_share` of the traffic:
    `error_share` of requests failing (held against a ratio rule's threshold, e.g.
    HighErrorRate's 0.05), or `latency_s` added to each (held against a
    `histogram_quantile(q, ...) > T` rule: slower than T, a share 1 - q must be slow;
    counted when they end, `latency_s` later). A fault that says nothing about the
    rule (errors against a latency rule, anything against an instant one) gives no
    window fill. ValueError if the fault cannot cross."""
    if timing.quantile is not None and latency_s is not None and timing.threshold is not None:
        if latency_s <= timing.threshold:
            raise ValueError(
                f"{latency_s} s added never takes {timing.alert}'s quantile over "
                f"{timing.threshold} s"
            )
        fill = ratio_fill(1 - timing.quantile, replica_share)
        return FaultHint(window_fill=fill, onset_s=(latency_s, latency_s), group=group)
    ratio_rule = timing.quantile is None and bool(timing.window_s)
    if error_share is not None and ratio_rule and timing.threshold is not None:
        fill = ratio_fill(timing.threshold, error_share * replica_share)
        return FaultHint(window_fill=fill, group=group)
    return FaultHint(group=group)


def group_state(*, group_active: bool = False, resolved_ago_s: float | None = None) -> GroupState:
    """Whether an alert's Alertmanager group exists when it fires: "existing" while an
    alert of the group is active; "unknown" while one resolved less than 15 min 30 s
    ago (Prometheus still re-sends it, re-creating the group, and an empty group lives
    until the next 30 s maintenance tick); otherwise "new"."""
    if group_active:
        return "existing"
    if resolved_ago_s is not None and resolved_ago_s < RESOLVED_RESEND_S + MAINTENANCE_S:
        return "unknown"
    return "new"


@dataclass(frozen=True)
class Band:
    """Seconds after the fault, both ends included."""

    earliest_s: float
    latest_s: float

    def contains(self, seconds: float) -> bool:
        """Whether `seconds` lies in the band."""
        return self.earliest_s <= seconds <= self.latest_s

    def as_json(self) -> list[float | None]:
        """`[earliest_s, latest_s]`, rounded to milliseconds; None for an end that never
        comes (an alert no route takes is never notified)."""
        return [_json_seconds(self.earliest_s), _json_seconds(self.latest_s)]


def _json_seconds(seconds: float) -> float | None:
    return round(seconds, 3) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class AlertBand:
    """When one alert should be seen pending and firing, and be notified."""

    timing: AlertTiming
    condition: Band  # the data shows the condition
    pending: Band
    fire: Band
    notify: Band
    hold_s: float  # `for` rounded up to whole evaluations
    route: Route | None  # the route whose delivery comes first; None: no route
    hint: FaultHint = field(default_factory=FaultHint)
    allowances: Allowances = field(default_factory=Allowances)

    @property
    def alert(self) -> str:
        """The alert's name."""
        return self.timing.alert


def predict_bands(
    files: Mapping[str, str],
    alerts: Sequence[str],
    *,
    hints: Mapping[str, FaultHint] | None = None,
    allowances: Allowances | None = None,
) -> list[AlertBand]:
    """Each of `alerts`' band, in order, from the monitoring files (name → text, as
    `scale_monitoring` returns them) and each alert's hint, if any; see the module doc.
    `alerts` are those the run expects to fire (a `never_fires` alert has no band).
    ValueError if a file cannot be read or an alert has no rule."""
    given = hints or {}
    return [
        predict_band(timing, given.get(timing.alert), allowances)
        for timing in alert_timings(files, alerts)
    ]


def predict_band(
    timing: AlertTiming, hint: FaultHint | None = None, allowances: Allowances | None = None
) -> AlertBand:
    """One alert's band from its timing settings; see the module doc."""
    hint = hint or FaultHint()
    allowances = allowances or Allowances()
    condition = _condition(timing, hint)
    every = timing.evaluation_interval_s
    hold = _hold(timing.for_s, every)
    fired = Band(condition.earliest_s + hold, condition.latest_s + every + hold)
    notify, route = _notify(fired, timing.routes, hint.group, allowances.deliver_s)
    return AlertBand(
        timing=timing,
        condition=condition,
        pending=Band(condition.earliest_s, condition.latest_s + every + allowances.observe_s),
        fire=Band(fired.earliest_s, fired.latest_s + allowances.observe_s),
        notify=notify,
        hold_s=hold,
        route=route,
        hint=hint,
        allowances=allowances,
    )


def window_span(timing: AlertTiming) -> tuple[float, float]:
    """The shortest and longest time between the first and last sample in the alert's
    range window (0, 0 without one)."""
    if timing.window_s is None:
        return 0.0, 0.0
    samples = timing.window_s / timing.scrape_interval_s
    # A window that is a whole number of scrape intervals always holds that many samples.
    fewest, most = math.floor(samples + 1e-9), math.ceil(samples - 1e-9)
    step = timing.scrape_interval_s
    return max(fewest - 1, 0) * step, max(most - 1, 0) * step


def _condition(timing: AlertTiming, hint: FaultHint) -> Band:
    shortest, longest = window_span(timing)
    onset_earliest, onset_latest = hint.onset_s
    fill_earliest = 0.0 if hint.window_fill is None else hint.window_fill
    fill_latest = 1.0 if hint.window_fill is None else hint.window_fill
    earliest = onset_earliest + fill_earliest * max(shortest - onset_earliest, 0.0)
    latest = onset_latest + fill_latest * max(longest - onset_latest, 0.0)
    return Band(earliest, latest + timing.scrape_interval_s + timing.record_lag_s)


def _hold(for_s: float, every_s: float) -> float:
    """`for` rounded up to whole evaluation intervals (in milliseconds, so 10 s on
    1.5 s evaluations is exactly 7 of them: 10.5 s)."""
    for_ms, every_ms = round(for_s * 1000), round(every_s * 1000)
    if for_ms <= 0:
        return 0.0
    return -(-for_ms // every_ms) * every_ms / 1000


def _notify(
    fired: Band, routes: Sequence[Route], group: GroupState, deliver_s: float
) -> tuple[Band, Route | None]:
    if not routes:
        return Band(math.inf, math.inf), None
    bands = [(_route_notify(fired, route, group, deliver_s), route) for route in routes]
    first = min(bands, key=lambda pair: pair[0].latest_s)
    return Band(min(band.earliest_s for band, _ in bands), first[0].latest_s), first[1]


def _route_notify(fired: Band, route: Route, group: GroupState, deliver_s: float) -> Band:
    if group == "new":
        return Band(
            fired.earliest_s + route.group_wait_s,
            fired.latest_s + route.group_wait_s + deliver_s,
        )
    longest = route.group_interval_s
    if group == "unknown":
        longest = max(route.group_wait_s, route.group_interval_s)
    return Band(fired.earliest_s, fired.latest_s + longest + deliver_s)
