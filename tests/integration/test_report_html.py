"""report.html opened in a real browser (headless Chromium, the Debian package): it
renders offline and holds no script, the screenshot is a PNG of the window's size, every
chart in the DOM has its lines drawn (non-empty paths), and a journal whose series
are missing still renders and says what is missing."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from sreshow.report.render import write_reports
from tests.browser import HEIGHT, WIDTH, chromium, dom, png_size
from tests.fixtures import journal

pytestmark = pytest.mark.integration


def test_the_report_opens_offline_and_every_chart_is_drawn(tmp_path: Path) -> None:
    [_, page] = write_reports(journal("high-error-rate"), tmp_path / "run")
    html = page.read_text()
    # Self-contained: nothing to fetch, nothing to run.
    assert "<script" not in html
    assert not re.search(r"https?://", html)
    assert not re.search(r"""\b(src|href)\s*=|url\(|@import|<link\b|<iframe\b""", html)

    screenshot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={screenshot}", page.as_uri())
    found = dom(tmp_path, page)

    assert png_size(screenshot) == (WIDTH, HEIGHT)
    assert [chart["key"] for chart in found.charts] == [
        "request_rate",
        "error_percent",
        "latency",
        "replicas",
        "load",
        "load_latency",
    ]
    for chart in found.charts:
        for index in range(chart["lines"]):
            # 45 points a second (one gap in some) thinned to none: all are drawn
            assert chart["drawn"].get(index, 0) >= 40, (chart["key"], index, chart["drawn"])
    text = " ".join(" ".join(found.text).split())
    assert "high-error-rate FAILED" in text
    assert "next step: the page for HighErrorRate came late (4.7 s over)" in text


def test_a_journal_with_missing_series_renders_and_says_what_is_missing(
    tmp_path: Path,
) -> None:
    record = copy.deepcopy(journal("high-error-rate"))
    del record["series"]["latency_p99_s"], record["series"]["load"]
    record["series"]["missing"] = {"load": "the scenario sends no load"}
    [_, partial] = write_reports(record, tmp_path / "partial")
    [_, none] = write_reports(journal("without-series"), tmp_path / "none")

    some = dom(tmp_path, partial)
    nothing = dom(tmp_path, none)

    assert [(c["key"], c["lines"]) for c in some.charts] == [
        ("request_rate", 1),
        ("error_percent", 1),
        ("latency", 2),
        ("replicas", 1),
    ]
    some_text = " ".join(" ".join(some.text).split())
    assert "Latency at the Service, latency_p99_s: not recorded in this journal" in some_text
    assert "Load generator: p95 latency: the scenario sends no load" in some_text
    assert nothing.charts == []
    nothing_text = " ".join(" ".join(nothing.text).split())
    assert "Not drawn:" in nothing_text
    assert "Ready replicas: not recorded in this journal" in nothing_text
