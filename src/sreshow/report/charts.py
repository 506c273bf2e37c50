"""Charts of a run as inline SVG: report.html's, and the live dashboard's.

    line_chart(title, lines, unit=…, markers=…)  one chart: time series and markers
    Marker(t, label, kind)                       a vertical line: a fault, an alert, a page
    event_markers(events)                        a run's events as markers
    chart_series(journal)                        the standard charts' data, what is missing
    journal_charts(journal)                      … drawn (`Chart.svg`)
    missing_series(charts)                       what is missing, a line each

Charts are drawn by pygal (Kozea, maintained, pure Python, LGPL): an XY chart renders
straight to SVG text, with no native dependency and no browser, in about 75 ms for a
30-minute run at a point a second (bench/report_render.py). matplotlib's SVG backend
would do as well, but brings numpy, a font cache and a heavier import for a handful
of line charts.

pygal's defaults make an SVG for the web: it references JavaScript on
kozea.github.io for tooltips and embeds an inline `<script>` with the chart's config.
Here `js=[]` drops the former and an XML filter the latter (with pygal's comments and
the namespace declaration, which SVG inlined in HTML does not need), so a chart is
static SVG: no network, no script. It is meant to be inlined in an HTML page.

A time axis is seconds since the run started (the events' `t`). Lines are thinned to
at most `MAX_POINTS` points, keeping each bucket's lowest and highest value so a spike
survives; a None value leaves a gap. Markers are dashed vertical lines, one colour
per kind, labelled at the top (labels are staggered so neighbours stay readable).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree.ElementTree import Element

from sreshow.core.timeline import (
    EventKind,
    TimelineEvent,
    alert_name,
    format_seconds,
    is_disruption,
    is_remediation,
    notified_alerts,
)

MarkerKind = Literal[
    "fault", "load", "autoscaled", "remediation", "alert_firing", "alert_resolved", "notification"
]

# Each kind's legend and colour, in legend order.
MARKER_STYLES: Mapping[MarkerKind, tuple[str, str]] = {
    "fault": ("fault", "#d62728"),
    "load": ("load", "#7f7f7f"),
    "autoscaled": ("autoscaler", "#1f9e89"),
    "remediation": ("remediation", "#2ca02c"),
    "alert_firing": ("alert firing", "#ff7f0e"),
    "alert_resolved": ("alert resolved", "#17becf"),
    "notification": ("notification", "#9467bd"),
}
LINE_COLOURS = ("#1f77b4", "#8c564b", "#7f7f7f", "#bcbd22", "#e377c2")
MAX_POINTS = 600  # per line: more than a chart's width in pixels is not drawn anyway
WIDTH, HEIGHT = 960, 320

Point = tuple[float, float | None]  # (seconds since the run started, value or a gap)


@dataclass(frozen=True)
class Marker:
    """Something that happened at `t` (seconds since the run started), drawn as a
    vertical line labelled `label`."""

    t: float
    label: str
    kind: MarkerKind


@dataclass(frozen=True)
class ChartSeries:
    """What one of a run's standard charts draws: its lines (label → points) and each
    series of it that is missing, with why."""

    key: str  # "request_rate", "latency", …
    title: str
    unit: str
    lines: Mapping[str, Sequence[Point]]
    missing: tuple[tuple[str, str], ...] = ()  # (series name in the journal, why)


@dataclass(frozen=True)
class Chart:
    """One of a run's standard charts as SVG; None when none of its series was recorded."""

    key: str
    title: str
    svg: str | None
    lines: int  # lines drawn
    missing: tuple[tuple[str, str], ...] = ()  # (series name in the journal, why)


@dataclass(frozen=True)
class _Standard:
    key: str
    title: str
    unit: str
    series: tuple[tuple[str, str], ...]  # (series name in the journal, line label)


STANDARD_CHARTS = (
    _Standard("request_rate", "Request rate at the Service", "req/s", (("request_rate", "req/s"),)),
    _Standard("error_percent", "Errors (5xx share)", "%", (("error_percent", "5xx %"),)),
    _Standard(
        "latency",
        "Latency at the Service",
        "seconds",
        (("latency_p50_s", "p50"), ("latency_p95_s", "p95"), ("latency_p99_s", "p99")),
    ),
    _Standard("replicas", "Ready replicas", "replicas", (("replicas", "ready"),)),
    _Standard(
        "load",
        "Load generator: requests sent and dropped",
        "req/s",
        (("load.achieved_rps", "achieved"), ("load.dropped", "dropped")),
    ),
    _Standard("load_latency", "Load generator: p95 latency", "ms", (("load.p95_ms", "p95"),)),
)
NOT_RECORDED = "not recorded in this journal"


def line_chart(
    title: str,
    lines: Mapping[str, Sequence[Point]],
    *,
    unit: str,
    markers: Sequence[Marker] = (),
    span: tuple[float, float] | None = None,
    x_title: str = "time since the run started",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """An inline `<svg>` of `lines` (label → points) over time, `unit` on the y axis,
    with `markers`; `span` fixes the time axis (default: the data's and markers'),
    `x_title` names it. With no value to draw, the chart says "no data"."""
    import pygal
    from pygal.style import Style

    drawn = {label: _thin(points) for label, points in lines.items()}
    values = [v for points in drawn.values() for _, v in points if v is not None]
    if not values:  # pygal cannot place axis labels on nothing
        drawn, markers = {}, ()
    low, high = _value_range(values)
    start, end = span or _time_range(drawn.values(), markers)
    shown = sorted((m for m in markers if start <= m.t <= end), key=lambda m: m.t)
    kinds = [kind for kind in MARKER_STYLES if any(m.kind == kind for m in shown)]
    colours = [LINE_COLOURS[i % len(LINE_COLOURS)] for i in range(len(drawn))]
    chart = pygal.XY(
        js=[],
        disable_xml_declaration=True,
        width=width,
        height=height,
        explicit_size=True,
        style=Style(
            colors=(*colours, *(MARKER_STYLES[kind][1] for kind in kinds)),
            background="white",
            plot_background="white",
            font_family="sans-serif",
            label_font_size=11,
            major_label_font_size=11,
            legend_font_size=12,
            title_font_size=15,
            value_label_font_size=10,
        ),
        title=title,
        show_dots=False,
        allow_interruptions=True,
        print_labels=True,
        no_data_text="no data",
        x_value_formatter=format_seconds,
        y_title=unit,
        x_title=x_title,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(8, len(drawn) + len(kinds)) or 1,
        margin_right=90,  # room for the label of a marker near the end
        truncate_legend=-1,
        show_y_guides=True,
        show_x_guides=False,
    )
    if values:
        chart.config(
            range=(low, high),
            xrange=(start, end),
            y_labels=_ticks(low, high),
            x_labels=_time_ticks(start, end),
        )
    chart.add_xml_filter(_static)
    for label, points in drawn.items():
        chart.add(label, [(t, v) for t, v in points], stroke_style={"width": 1.5})
    for kind in kinds:
        chart.add(
            MARKER_STYLES[kind][0],
            _marker_segments([m for m in shown if m.kind == kind], shown, low, high),
            show_dots=True,
            dots_size=2,
            stroke_style={"width": 1.2, "dasharray": "5,4"},
        )
    svg: str = chart.render(is_unicode=True)
    return svg


def event_markers(events: Iterable[TimelineEvent]) -> list[Marker]:
    """The markers of a run's events: disruptions, remediations, alerts firing and
    resolved, notifications delivered."""
    markers = []
    for event in events:
        marker = _marker(event)
        if marker is not None:
            markers.append(marker)
    return markers


def chart_series(journal: Mapping[str, Any]) -> list[ChartSeries]:
    """The standard charts' data from a journal's `series` (request rate, errors,
    latency, replicas, the load generator's rate and latency), and what is missing."""
    series = journal.get("series")
    recorded = series if isinstance(series, Mapping) else None
    charts = []
    for standard in STANDARD_CHARTS:
        lines: dict[str, list[Point]] = {}
        missing = []
        for name, label in standard.series:
            points = _points(_lookup(recorded, name)) if recorded is not None else []
            if any(v is not None for _, v in points):
                lines[label] = points
            else:
                missing.append((name, _why_missing(recorded, name)))
        charts.append(
            ChartSeries(standard.key, standard.title, standard.unit, lines, tuple(missing))
        )
    return charts


def missing_series(charts: Sequence[ChartSeries | Chart]) -> list[str]:
    """What is missing, a line each: `Latency at the Service: not recorded in this
    journal` for a whole chart, `… p99 (latency_p99_s): why` for one series of it."""
    lines = []
    for chart in charts:
        reasons = {why for _, why in chart.missing}
        if not chart.lines and len(reasons) == 1:
            lines.append(f"{chart.title}: {reasons.pop()}")
            continue
        lines += [f"{chart.title}, {name}: {why}" for name, why in chart.missing]
    return lines


def journal_charts(journal: Mapping[str, Any]) -> list[Chart]:
    """The standard charts of a stored run as SVG, its events as markers, every chart
    over the run's whole length."""
    from sreshow.report.content import journal_events

    duration = journal.get("duration_s")
    markers = event_markers(journal_events(journal))
    charts = []
    for data in chart_series(journal):
        svg = None
        if data.lines:
            end = max(p[-1][0] for p in data.lines.values() if p)
            if isinstance(duration, int | float) and _finite(duration):
                end = max(end, float(duration))
            svg = line_chart(
                data.title, data.lines, unit=data.unit, markers=markers, span=(0.0, end)
            )
        charts.append(Chart(data.key, data.title, svg, len(data.lines), data.missing))
    return charts


def _marker(event: TimelineEvent) -> Marker | None:
    if is_disruption(event):
        return Marker(event.t, _disruption_label(event), "fault")
    if is_remediation(event):
        return Marker(event.t, event.kind.value.replace("_", " "), "remediation")
    found = _EVENT_MARKERS.get(event.kind)
    if found is None:
        return None
    kind, label = found
    return Marker(event.t, label(event), kind)


def _notification_label(event: TimelineEvent) -> str:
    names = ", ".join(notified_alerts(event)) or "a message"
    return f"{names} resolved" if event.details.get("status") == "resolved" else names


# The other events drawn: kind of marker and its label.
_EVENT_MARKERS: Mapping[EventKind, tuple[MarkerKind, Callable[[TimelineEvent], str]]] = {
    EventKind.LOAD_STARTED: ("load", lambda e: f"load {e.details.get('rps', 0):g} rps"),
    EventKind.AUTOSCALED: (
        "autoscaled",
        lambda e: f"autoscaler {e.details.get('previous')} → {e.details.get('desired')}",
    ),
    EventKind.ALERT_FIRING: ("alert_firing", lambda e: alert_name(e) or "alert"),
    EventKind.ALERT_RESOLVED: ("alert_resolved", lambda e: alert_name(e) or "alert"),
    EventKind.NOTIFICATION_DELIVERED: ("notification", _notification_label),
}


def _disruption_label(event: TimelineEvent) -> str:
    details = event.details
    if event.kind == EventKind.FAULT_INJECTED:
        faults = details.get("faults")
        if isinstance(faults, Mapping) and faults:
            return ", ".join(
                kind if value is True else f"{kind} {value}" for kind, value in faults.items()
            )
        return "fault"
    if event.kind == EventKind.POD_KILLED:
        return f"{'kill' if details.get('force') else 'evict'} {details.get('pod', 'a pod')}"
    if event.kind == EventKind.DEPLOYED:
        return f"deploy {details.get('version', '')}".strip()
    return f"scale {details.get('previous')} → {details.get('replicas')}"


def _marker_segments(
    markers: Sequence[Marker], shown: Sequence[Marker], low: float, high: float
) -> list[Any]:
    """One vertical segment per marker, None between them (a gap); its top, where the
    label goes, steps down for markers in a row so neighbouring labels do not collide."""
    values: list[Any] = []
    for marker in markers:
        row = shown.index(marker) % 4
        top = high - (high - low) * 0.09 * row
        values += [(marker.t, low), {"value": (marker.t, top), "label": marker.label}, None]
    return values[:-1]


def _static(root: Element) -> Element:
    """pygal's SVG without its `<script>`, comments and namespace declaration."""
    for parent in root.iter():
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag == "script":
                parent.remove(child)
    root.attrib.pop("xmlns", None)
    return root


def _thin(points: Sequence[Point]) -> list[Point]:
    """At most `MAX_POINTS` points: each bucket's lowest and highest value, in time
    order; a bucket with no value is a gap."""
    if len(points) <= MAX_POINTS:
        return list(points)
    size = math.ceil(len(points) / (MAX_POINTS // 2))
    thinned: list[Point] = []
    for index in range(0, len(points), size):
        bucket = points[index : index + size]
        valued = [(t, v) for t, v in bucket if v is not None]
        if not valued:
            thinned.append((bucket[0][0], None))
            continue
        lowest = min(valued, key=lambda p: p[1])
        highest = max(valued, key=lambda p: p[1])
        thinned += sorted({lowest, highest})
    return thinned


def _value_range(values: Sequence[float]) -> tuple[float, float]:
    """From 0 (or below, for negative values) to a round number above the highest."""
    low = min(0.0, *values) if values else 0.0
    high = max(values) if values else 1.0
    if high <= low:
        high = low + 1
    step = _nice_step((high - low) / 4)
    return low, math.ceil(high * 1.08 / step) * step


def _time_range(lines: Iterable[Sequence[Point]], markers: Sequence[Marker]) -> tuple[float, float]:
    times = [t for points in lines for t, _ in points] + [m.t for m in markers]
    if not times:
        return 0.0, 1.0
    start, end = min(0.0, *times), max(times)
    return start, end if end > start else start + 1


def _ticks(low: float, high: float) -> list[float]:
    step = _nice_step((high - low) / 4)
    first = math.floor(low / step)
    return [round(i * step, 10) for i in range(first, math.floor(high / step + 1e-9) + 1)]


def _time_ticks(start: float, end: float) -> list[float]:
    """Ticks at round durations (10 s, 1m, 5m …), at most 10."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
    step = next((s for s in steps if (end - start) / s <= 10), steps[-1])
    first = math.ceil(start / step)
    return [i * step for i in range(first, math.floor(end / step) + 1)]


def _nice_step(rough: float) -> float:
    """1, 2 or 5 times a power of ten, at least `rough`."""
    if rough <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


def _points(raw: object) -> list[Point]:
    """`[[t, v], …]` as points; malformed entries are left out, a non-number value is
    a gap."""
    if not isinstance(raw, list):
        return []
    points = []
    for entry in raw:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            continue
        t, value = entry
        if not _finite(t):
            continue
        points.append((float(t), float(value) if _finite(value) else None))
    return points


def _lookup(series: Mapping[str, Any], name: str) -> object:
    """`series[name]`, `load.achieved_rps` meaning `series["load"]["achieved_rps"]`."""
    group, _, key = name.partition(".")
    value = series.get(group)
    if key:
        return value.get(key) if isinstance(value, Mapping) else None
    return value


def _why_missing(series: Mapping[str, Any] | None, name: str) -> str:
    if series is None:
        return NOT_RECORDED
    reasons = series.get("missing")
    reasons = reasons if isinstance(reasons, Mapping) else {}
    reason = reasons.get(name) or reasons.get(name.partition(".")[0])
    if isinstance(reason, str) and reason:
        return reason
    if _lookup(series, name) is not None:
        return "recorded, but with no value"
    return NOT_RECORDED


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
