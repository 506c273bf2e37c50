"""report.md: one run in Markdown, for a pull request, a wiki or a terminal.

    # high-error-rate: FAILED
    summary · verdicts (a next step under each failed one) · timeline metrics ·
    predicted alert bands · charts (which are in report.html, which are missing and
    why) · events

The text is a function of the journal alone (no clock, no environment), so a stored
run renders the same file every time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sreshow.report import content
from sreshow.report.charts import chart_series, missing_series


def render_markdown(journal: Mapping[str, Any]) -> str:
    """The whole of report.md for one journal."""
    parts = [
        f"# {content.title(journal)}",
        _paragraph(journal.get("summary")),
        _table(("", ""), content.summary_rows(journal)),
        "## Verdicts",
        _verdicts(journal),
        "## Timeline metrics",
        _metrics(journal),
    ]
    predicted = content.predicted_rows(journal)
    if predicted:
        parts += ["## Predicted alert bands", _predicted(predicted)]
    parts += ["## Charts", _charts(journal), "## Events", _events(journal)]
    return content.redact("\n\n".join(part for part in parts if part) + "\n")


def _verdicts(journal: Mapping[str, Any]) -> str:
    lines = content.expectation_lines(journal)
    if not lines:
        return "The scenario sets no expectations: its verdict rests on its steps."
    out = []
    for line in lines:
        mark = "✓" if line.passed else "✗ **FAILED**"
        out.append(f"- {mark} {_inline(line.expectation)}: {_inline(line.detail)}")
        if line.passed:
            continue
        if line.kind is not None:  # older journals have only the text, which says it
            out.append(f"  - measured: {line.measured}; bound: {line.bound}")
        out.append(f"  - next step: {_inline(line.next_step or '')}")
    return "\n".join(out)


def _metrics(journal: Mapping[str, Any]) -> str:
    rows = [
        (row.label, row.measured, row.real_time, row.note) for row in content.metric_rows(journal)
    ]
    return _table(("metric", "measured", "real time", "note"), rows)


def _predicted(rows: Sequence[content.PredictedRow]) -> str:
    header = (
        "alert",
        "fires: predicted",
        "fired",
        "",
        "notified: predicted",
        "notified",
        "",
        "likely cause",
    )
    body = [
        (
            row.alert,
            row.fire_band,
            row.observed_fire,
            row.fire_verdict,
            row.notify_band,
            row.observed_notify,
            row.notify_verdict,
            row.likely_cause,
        )
        for row in rows
    ]
    note = "Bands are seconds from the first disruption, as measured (real time in brackets)."
    return f"{note}\n\n{_table(header, body)}"


def _charts(journal: Mapping[str, Any]) -> str:
    charts = chart_series(journal)
    drawn = [chart.title for chart in charts if chart.lines]
    text = f"In report.html: {', '.join(drawn)}." if drawn else "No chart could be drawn."
    missing = [f"- {line}" for line in missing_series(charts)]
    if missing:
        text += "\n\nMissing:\n\n" + "\n".join(_inline(line) for line in missing)
    return text


def _events(journal: Mapping[str, Any]) -> str:
    rows = [(row.t, row.text) for row in content.event_rows(journal)]
    if not rows:
        return "No events were recorded."
    return _table(("t", "event"), rows, align=("right", "left"))


def _paragraph(text: object) -> str:
    return _inline(text) if isinstance(text, str) else ""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str] = ()) -> str:
    rules = [
        "---:" if (align[i] if i < len(align) else "left") == "right" else "---"
        for i in range(len(header))
    ]
    lines = [_row(header), _row(rules)]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")


def _inline(text: object) -> str:
    """One line of text, with HTML's angle brackets escaped (Markdown passes HTML on)."""
    value = text if isinstance(text, str) else ""
    return " ".join(value.split()).replace("<", "&lt;").replace(">", "&gt;")
