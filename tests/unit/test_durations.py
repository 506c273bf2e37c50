"""Prometheus durations: parse what Prometheus parses, write what promtool accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sreshow.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [
        ("0s", 0),
        ("1500ms", 1500),
        ("15s", 15_000),
        ("1m", 60_000),
        ("1m30s", 90_000),
        ("2h24m", 8_640_000),
        ("1d", 86_400_000),
        ("1w", 604_800_000),
        ("1y", 31_536_000_000),
        ("1h0m5s10ms", 3_605_010),
    ],
)
def test_parses_prometheus_durations(text: str, milliseconds: int) -> None:
    assert parse_duration(text) == milliseconds


@pytest.mark.parametrize("text", ["", "1.5s", "5 m", "m", "1s1m", "-5s", "5parsecs", "1mm"])
def test_refuses_what_prometheus_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [(0, "0s"), (1500, "1500ms"), (6000, "6s"), (90_000, "1m30s"), (8_640_000, "2h24m")],
)
def test_writes_the_shortest_form_and_whole_milliseconds(milliseconds: int, text: str) -> None:
    assert format_duration(milliseconds) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_writing_then_parsing_gives_the_same_duration(milliseconds: int) -> None:
    assert parse_duration(format_duration(milliseconds)) == milliseconds
