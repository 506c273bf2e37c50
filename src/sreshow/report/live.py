"""The live dashboard page for the projector: the Grafana dashboard's panels (active
pods, request rate, error rate, latency p50/p95/p99, requests in the window, the error
budget) drawn by the same chart code as report.html, from Prometheus's range API over
the last few minutes, with the alerts' states and markers where an alert started
firing and where a fault was injected.

The page is static HTML that reloads itself (`<meta http-equiv="refresh">`): no
script, nothing fetched from the network, so it shows in any browser on the stage.
Time on the charts is seconds before now.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sreshow.core.panels import Panel
from sreshow.errors import PlatformError
from sreshow.ports import AlertView, Platform, RangeSeries
from sreshow.report.charts import Marker, MarkerKind, line_chart

POINTS_PER_CHART = 300
STATE_ORDER = {"firing": 0, "pending": 1, "inactive": 2}


@dataclass(frozen=True)
class LiveChart:
    title: str
    svg: str | None  # None: no data in the window
    lines: int = 0
    problem: str | None = None


def live_page(
    platform: Platform,
    panels: Sequence[Panel],
    *,
    window_s: float,
    scrape_s: float,
    refresh_s: float,
    now: float | None = None,
) -> str:
    """The whole page: header, alert states and one chart per panel."""
    now = time.time() if now is None else now
    start = now - window_s
    step = max(scrape_s, window_s / POINTS_PER_CHART)
    problems: list[str] = []
    try:
        alerts = platform.alerts()
    except PlatformError as e:
        alerts, problems = [], [str(e)]
    markers = _markers(platform, start, now, step)
    charts = [
        _chart(platform, panel, start=start, end=now, step=step, markers=markers)
        for panel in panels
    ]
    return _html(platform, alerts, charts, problems, window_s=window_s, refresh_s=refresh_s)


def _chart(
    platform: Platform,
    panel: Panel,
    *,
    start: float,
    end: float,
    step: float,
    markers: Sequence[Marker],
) -> LiveChart:
    lines: dict[str, list[tuple[float, float | None]]] = {}
    try:
        for query in panel.queries:
            for found in platform.query_range(query, start, end, step):
                label = _label(found, panel, query)
                lines[label] = [(at - end, value) for at, value in found.points]
    except PlatformError as e:
        return LiveChart(panel.title, None, problem=str(e))
    if not any(v is not None for points in lines.values() for _, v in points):
        return LiveChart(panel.title, None, problem="no data in the window yet")
    svg = line_chart(
        panel.title,
        lines,
        unit=_unit(panel.title),
        markers=markers,
        span=(start - end, 0.0),
        x_title="seconds before now",
    )
    return LiveChart(panel.title, svg, lines=len(lines))


def _label(found: RangeSeries, panel: Panel, query: str) -> str:
    """A line's legend: its labels, or the quantile of a latency query."""
    if "histogram_quantile(" in query:
        quantile = query.split("histogram_quantile(", 1)[1].split(",", 1)[0].strip()
        return f"p{round(float(quantile) * 100)}"
    shown = {k: v for k, v in found.labels.items() if k not in ("__name__", "job", "namespace")}
    if not shown:
        return panel.title if len(panel.queries) == 1 else "all pods"
    return " ".join(shown[key] for key in sorted(shown))


def _unit(title: str) -> str:
    lowered = title.lower()
    if "latency" in lowered:
        return "seconds"
    if "rate" in lowered and "error" not in lowered:
        return "req/s"
    if "pods" in lowered:
        return "pods"
    if "requests in" in lowered:
        return "requests"
    return "ratio"


def _markers(platform: Platform, start: float, end: float, step: float) -> list[Marker]:
    """Where each alert started firing and each fault kind was injected, in the window."""
    wanted: dict[str, tuple[str, MarkerKind]] = {
        'max by (alertname) (ALERTS{alertstate="firing"})': ("alertname", "alert_firing"),
        'max by (kind) (app_fault{job="sre-app"} > 0)': ("kind", "fault"),
    }
    markers: list[Marker] = []
    for query, (label, kind) in wanted.items():
        try:
            found = platform.query_range(query, start, end, step)
        except PlatformError:
            continue
        for series in found:
            name = series.labels.get(label, "?")
            for at in _onsets(series.points, start, step):
                words = f"{name} firing" if kind == "alert_firing" else f"fault: {name}"
                markers.append(Marker(at - end, words, kind))
    return markers


def _onsets(points: Sequence[tuple[float, float | None]], start: float, step: float) -> list[float]:
    """When a series appears: after a gap, or after the window's start (a range query
    leaves out the steps where a series has no value)."""
    onsets, previous = [], start
    for at, value in points:
        if value is None:
            continue
        if at - previous > 1.5 * step:
            onsets.append(at)
        previous = at
    return onsets


def _html(
    platform: Platform,
    alerts: Sequence[AlertView],
    charts: Sequence[LiveChart],
    problems: Sequence[str],
    *,
    window_s: float,
    refresh_s: float,
) -> str:
    e = html.escape
    rows = "".join(
        f'<tr class="{e(a.state)}"><td>{e(a.name)}</td><td>{e(a.state)}</td></tr>'
        for a in sorted(alerts, key=lambda a: (STATE_ORDER.get(a.state, 3), a.name))
    )
    panels = "".join(
        f'<figure class="chart" data-chart="{e(c.title)}" data-lines="{c.lines}">{c.svg}</figure>'
        if c.svg
        else f'<section class="empty"><h2>{e(c.title)}</h2><p>{e(c.problem or "")}</p></section>'
        for c in charts
    )
    notes = "".join(f'<p class="problem">{e(p)}</p>' for p in problems)
    updated = time.strftime("%H:%M:%S")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{max(round(refresh_s), 1)}">
<title>sreshow — {e(platform.name)} live</title>
<style>{STYLE}</style></head>
<body><header><h1>sreshow live — {e(platform.name)}</h1>
<p>time scale {platform.time_scale:g} · last {window_s:g} s · updated {updated} ·
refreshes every {refresh_s:g} s</p></header>
{notes}
<section class="alerts"><h2>Alerts</h2><table><tbody>{rows}</tbody></table></section>
<main>{panels}</main></body></html>
"""


STYLE = """
body { font-family: sans-serif; margin: 1rem; background: #fafafa; color: #222; }
header h1 { margin: 0; font-size: 1.4rem; } header p { margin: .2rem 0 1rem; color: #555; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1rem; }
.chart, .empty { background: white; border: 1px solid #ddd; padding: .5rem; margin: 0; }
.chart svg { width: 100%; height: auto; }
.alerts table { border-collapse: collapse; margin-bottom: 1rem; }
.alerts td { padding: .2rem .8rem; border-bottom: 1px solid #ddd; }
tr.firing td { background: #fde0dc; font-weight: bold; } tr.pending td { background: #fff4d6; }
.problem { color: #b00020; }
"""
