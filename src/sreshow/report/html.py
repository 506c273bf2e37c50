"""report.html: one run as a page that opens anywhere, offline, with scripts off.

Self-contained: the CSS is inline, the charts are inline SVG (`charts.py`), and the
page has no `<script>` and no URL of any kind, so opening it fetches nothing. It
holds the summary, the verdicts (a next step under each failed one), the charts
(request rate, errors, latency, replicas, the load generator; faults, alerts and
pages as markers), the timeline metrics, the predicted alert bands and every event.
A chart whose series the journal lacks is named, with why, instead of drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from sreshow import __version__
from sreshow.report import content
from sreshow.report.charts import Chart, journal_charts, missing_series

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d232a; margin: 0 auto;
       max-width: 1000px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 1px solid #d8dde3;
     padding-bottom: 4px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff;
           font-size: 15px; vertical-align: middle; }
.passed { background: #2e7d32; } .failed { background: #c62828; }
.unknown { background: #6b7280; }
p.summary { color: #4b5563; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff2;
         vertical-align: top; }
th { background: #f5f7f9; }
td.t { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums;
       color: #4b5563; }
table.facts th { width: 140px; background: none; }
ul.verdicts { list-style: none; padding: 0; }
ul.verdicts li { margin: 6px 0; padding: 6px 10px; border-left: 4px solid #2e7d32;
                 background: #f3f8f3; }
ul.verdicts li.failed { border-color: #c62828; background: #fdf2f2; }
.mark { font-weight: bold; }
.figures, .next { font-size: 14px; margin-top: 2px; }
.next { color: #7f1d1d; }
figure.chart { margin: 0 0 18px; }
figure.chart svg { width: 100%; height: auto; }
.missing { background: #fff8e1; border-left: 4px solid #f9a825; padding: 6px 12px; }
footer { margin-top: 40px; color: #6b7280; font-size: 12px; }
"""


def render_html(journal: Mapping[str, Any]) -> str:
    """The whole of report.html for one journal."""
    verdict = content.verdict(journal)
    scenario = escape(str(journal.get("scenario") or "unnamed run"))
    summary = journal.get("summary")
    sections = [
        f'<h1>{scenario} <span class="verdict {verdict}">{verdict.upper()}</span></h1>',
        f'<p class="summary">{escape(summary)}</p>' if isinstance(summary, str) else "",
        _facts(content.summary_rows(journal)),
        '<h2 id="verdicts">Verdicts</h2>',
        _verdicts(journal),
        '<h2 id="charts">Charts</h2>',
        _charts(journal_charts(journal)),
        '<h2 id="metrics">Timeline metrics</h2>',
        _metrics(journal),
    ]
    predicted = content.predicted_rows(journal)
    if predicted:
        sections += ['<h2 id="predicted">Predicted alert bands</h2>', _predicted(predicted)]
    sections += ['<h2 id="timeline">Timeline</h2>', _events(journal)]
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(content.title(journal))} · sreshow report</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *(section for section in sections if section),
            f"<footer>sreshow {escape(__version__)}: rendered from journal.json; "
            "re-render with <code>sreshow report RUN_ID</code></footer>",
            "</body>",
            "</html>",
        ]
    )
    return content.redact(page) + "\n"


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def _verdicts(journal: Mapping[str, Any]) -> str:
    lines = content.expectation_lines(journal)
    if not lines:
        return "<p>The scenario sets no expectations: its verdict rests on its steps.</p>"
    items = []
    for line in lines:
        state = "passed" if line.passed else "failed"
        parts = [
            f'<span class="mark">{"✓" if line.passed else "✗"}</span> '
            f"<b>{escape(line.expectation)}</b>: {escape(line.detail)}"
        ]
        if not line.passed and line.kind is not None:
            parts.append(
                f'<div class="figures">measured: {escape(line.measured)}; '
                f"bound: {escape(line.bound)}</div>"
            )
        if line.next_step:
            parts.append(f'<div class="next">next step: {escape(line.next_step)}</div>')
        items.append(f'<li class="{state}">{"".join(parts)}</li>')
    return f'<ul class="verdicts">{"".join(items)}</ul>'


def _charts(charts: Sequence[Chart]) -> str:
    figures = [
        f'<figure class="chart" data-chart="{chart.key}" data-lines="{chart.lines}">'
        f"{chart.svg}</figure>"
        for chart in charts
        if chart.svg is not None
    ]
    parts = list(figures)
    missing = missing_series(charts)
    if missing:
        items = "".join(f"<li>{escape(line)}</li>" for line in missing)
        parts.append(f'<div class="missing"><p>Not drawn:</p><ul>{items}</ul></div>')
    return "\n".join(parts)


def _metrics(journal: Mapping[str, Any]) -> str:
    rows = [
        (row.label, row.measured, row.real_time, row.note) for row in content.metric_rows(journal)
    ]
    return _table(("metric", "measured", "real time", "note"), rows)


def _predicted(rows: Sequence[content.PredictedRow]) -> str:
    header = ("alert", "fires: predicted", "fired", "", "notified: predicted", "notified", "")
    body = [
        (
            row.alert,
            row.fire_band,
            row.observed_fire,
            row.fire_verdict,
            row.notify_band,
            row.observed_notify,
            row.notify_verdict,
        )
        for row in rows
    ]
    causes = "".join(
        f"<li><b>{escape(row.alert)}</b>: {escape(row.likely_cause)}</li>"
        for row in rows
        if row.likely_cause
    )
    note = "<p>Seconds from the first disruption, as measured (real time in brackets).</p>"
    return (
        note + _table(header, body) + (f"<p>Likely causes:</p><ul>{causes}</ul>" if causes else "")
    )


def _events(journal: Mapping[str, Any]) -> str:
    rows = content.event_rows(journal)
    if not rows:
        return "<p>No events were recorded.</p>"
    body = "".join(
        f'<tr class="{escape(row.kind)}"><td class="t">{escape(row.t)}</td>'
        f"<td>{escape(row.text)}</td></tr>"
        for row in rows
    )
    return f'<table class="events"><tr><th>t</th><th>event</th></tr>{body}</table>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
