"""Charts: static inline SVG (no script, no URL, nothing fetched), a path per line with
its points, markers as labelled vertical lines, long runs thinned without losing a
spike, and a journal's standard charts drawn or said missing."""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

import pytest

from sreshow.core.timeline import TimelineEvent
from sreshow.report.charts import (
    MAX_POINTS,
    Marker,
    chart_series,
    event_markers,
    journal_charts,
    line_chart,
)
from tests.fixtures import journal


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output)


def line_paths(svg: str) -> dict[int, list[str]]:
    """Each series' drawn line paths (`d`), by its index."""
    root = parse(svg)
    found: dict[int, list[str]] = {}
    for group in root.iter("g"):
        index = re.search(r"\bserie-(\d+)\b", group.get("class", ""))
        if index is None:
            continue
        for path in group.iter("path"):
            if "line" in path.get("class", "").split():
                found.setdefault(int(index[1]), []).append(path.get("d", ""))
    return found


def coordinates(d: str) -> list[tuple[float, float]]:
    """The points of a path's `d` (`M x y L x y x y …`)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def points_in(d: str) -> int:
    return len(coordinates(d))


def test_a_chart_is_static_svg_with_a_path_per_line() -> None:
    lines = {
        "p50": [(float(t), 0.004) for t in range(60)],
        "p95": [(float(t), 0.009 + t / 10_000) for t in range(60)],
    }

    svg = line_chart("Latency", lines, unit="seconds")

    assert svg.startswith("<svg ")
    assert "<script" not in svg
    assert "<!--" not in svg
    assert "http" not in svg
    assert "kozea" not in svg.lower()
    paths = line_paths(svg)
    assert sorted(paths) == [0, 1]
    assert [points_in(d) for [d] in paths.values()] == [60, 60]
    assert ">Latency<" in svg
    assert ">seconds<" in svg


def test_a_gap_in_a_line_breaks_it() -> None:
    points = [(float(t), None if t in (10, 11) else 5.0) for t in range(30)]

    [segments] = line_paths(line_chart("Rate", {"req/s": points}, unit="req/s")).values()

    assert [points_in(d) for d in segments] == [10, 18]


def test_markers_are_labelled_vertical_lines_one_series_per_kind() -> None:
    markers = [
        Marker(5.0, "error_rate 0.2", "fault"),
        Marker(17.0, "HighErrorRate", "alert_firing"),
        Marker(25.0, "HighErrorRate", "notification"),
        Marker(40.0, "HighErrorRate", "alert_resolved"),
        Marker(99.0, "outside the span", "fault"),
    ]

    svg = line_chart(
        "Errors",
        {"5xx %": [(float(t), 20.0) for t in range(50)]},
        unit="%",
        markers=markers,
        span=(0.0, 50.0),
    )

    paths = line_paths(svg)
    assert sorted(paths) == [0, 1, 2, 3, 4]  # the line, then fault, alert firing, …
    assert all(points_in(d) == 2 for index in (1, 2, 3, 4) for d in paths[index])
    assert len(paths[1]) == 1  # the fault outside the span is left out
    legends = [t.text for t in parse(svg).iter("text") if t.text]
    for word in ("fault", "alert firing", "notification", "alert resolved"):
        assert word in legends
    assert "error_rate 0.2" in legends
    assert "outside the span" not in legends


def test_a_long_line_is_thinned_and_keeps_its_spike() -> None:
    points = [(float(t), 100.0 if t == 1234 else 1.0) for t in range(1800)]

    svg = line_chart("Latency", {"p95": points}, unit="ms")

    [[d]] = line_paths(svg).values()
    assert points_in(d) <= MAX_POINTS
    assert (
        len({y for _, y in coordinates(d)}) == 2
    )  # the spike's height is drawn, not averaged away


def test_events_become_markers() -> None:
    events = [
        TimelineEvent(2.0, "fault_injected", {"pods": ["a"], "faults": {"error_rate": 0.2}}),
        TimelineEvent(3.0, "pod_killed", {"pod": "a", "force": True}),
        TimelineEvent(4.0, "scaled", {"previous": 3, "replicas": 1}),
        TimelineEvent(5.0, "alert_pending", {"alert": "HighErrorRate"}),
        TimelineEvent(6.0, "alert_firing", {"alert": "HighErrorRate"}),
        TimelineEvent(7.0, "notification_delivered", {"status": "firing", "alerts": ["X", "Y"]}),
        TimelineEvent(8.0, "faults_cleared", {"pods": ["a"]}),
        TimelineEvent(9.0, "alert_resolved", {"alert": "HighErrorRate"}),
        TimelineEvent(9.5, "notification_delivered", {"status": "resolved", "alerts": ["X"]}),
        TimelineEvent(10.0, "scaled", {"previous": 1, "replicas": 3}),
    ]

    assert event_markers(events) == [
        Marker(2.0, "error_rate 0.2", "fault"),
        Marker(3.0, "kill a", "fault"),
        Marker(4.0, "scale 3 → 1", "fault"),
        Marker(6.0, "HighErrorRate", "alert_firing"),
        Marker(7.0, "X, Y", "notification"),
        Marker(8.0, "faults cleared", "remediation"),
        Marker(9.0, "HighErrorRate", "alert_resolved"),
        Marker(9.5, "X resolved", "notification"),
        Marker(10.0, "scaled", "remediation"),
    ]


def test_a_journal_with_series_draws_every_standard_chart() -> None:
    charts = journal_charts(journal("high-error-rate"))

    assert [(c.key, c.lines, c.missing) for c in charts] == [
        ("request_rate", 1, ()),
        ("error_percent", 1, ()),
        ("latency", 3, ()),
        ("replicas", 1, ()),
        ("load", 2, ()),
        ("load_latency", 1, ()),
    ]
    for chart in charts:
        assert chart.svg is not None
        paths = line_paths(chart.svg)
        for index in range(chart.lines):
            assert sum(points_in(d) for d in paths[index]) >= 40, (chart.key, index)


def test_a_journal_without_series_draws_none_and_says_why() -> None:
    charts = journal_charts(journal("without-series"))

    assert all(chart.svg is None for chart in charts)
    assert {why for chart in charts for _, why in chart.missing} == {"not recorded in this journal"}


@pytest.mark.parametrize(
    ("series", "why"),
    [
        ({"latency_p99_s": []}, "recorded, but with no value"),
        ({"latency_p99_s": [[0, None], [1, "NaN"]]}, "recorded, but with no value"),
        ({"missing": {"latency_p99_s": "no samples"}}, "no samples"),
        ({"latency_p99_s": "odd", "missing": {"latency_p99_s": 3}}, "recorded, but with no value"),
        ({}, "not recorded in this journal"),
    ],
)
def test_why_a_series_is_missing(series: dict[str, object], why: str) -> None:
    [latency] = [c for c in chart_series({"series": series}) if c.key == "latency"]

    assert dict(latency.missing)["latency_p99_s"] == why


@pytest.mark.parametrize("lines", [{}, {"req/s": [(0.0, None), (1.0, None)]}])
def test_a_chart_with_nothing_to_draw_says_so(lines: dict[str, list[tuple[float, None]]]) -> None:
    svg = line_chart("Rate", lines, unit="req/s", markers=[Marker(0.5, "fault", "fault")])

    assert ">no data<" in svg
    assert line_paths(svg) == {}


def test_the_live_page_can_count_back_from_now() -> None:
    svg = line_chart(
        "Rate",
        {"req/s": [(-300.0 + t, 5.0) for t in range(301)]},
        unit="req/s",
        markers=[Marker(-100.0, "HighErrorRate", "alert_firing")],
        span=(-300.0, 0.0),
        x_title="seconds before now",
    )

    texts = [t.text for t in parse(svg).iter("text")]
    assert "seconds before now" in texts
    assert {"-5m", "-2m", "0 s", "HighErrorRate"} <= set(texts)
