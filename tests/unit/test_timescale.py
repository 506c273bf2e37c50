"""Time scaling of the monitoring files: exact scaling, clamps reported, nothing else touched."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sreshow.core.durations import format_duration, parse_duration
from sreshow.core.timescale import MIN_FOR_MS, scale_monitoring

PROMETHEUS = """\
global:
  scrape_interval: 15s   # all targets
  evaluation_interval: 15s
scrape_configs:
  - job_name: sre-app
    scrape_timeout: "10s"
"""
RULES = """\
groups:
  - name: sre-app
    rules:
      - alert: HighErrorRate
        expr: |
          sum(rate(http_requests_total{status=~"5.."}[1m]))
            / sum(rate(http_requests_total[1m])) > 0.05
        for: 2m
        annotations:
          summary: "More than 5% of requests fail"
      - record: ratio:rate1h
        expr: avg_over_time(x[1h:5m])
"""
ALERTMANAGER = """\
route:
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 12h
"""
HPA = """\
spec:
  behavior:
    scaleUp:
      policies:
        - type: Percent
          value: 50
          periodSeconds: 60
    scaleDown:
      stabilizationWindowSeconds: 300
"""
FILES = {
    "prometheus/prometheus.yml": PROMETHEUS,
    "prometheus/rules/sre-app-alerts.rules.yml": RULES,
    "alertmanager/alertmanager.yml": ALERTMANAGER,
    "hpa.yaml": HPA,
    "grafana/sre-app-dashboard.json": '{"expr": "rate(x[5m])"}',
}


def test_factor_one_returns_every_file_byte_for_byte() -> None:
    result = scale_monitoring(FILES, 1)
    assert result.files == FILES
    assert result.clamps == ()


def test_a_tenth_scales_every_clock_and_nothing_else() -> None:
    result = scale_monitoring(FILES, 0.1)
    assert result.files["prometheus/prometheus.yml"] == PROMETHEUS.replace("15s", "1500ms").replace(
        '"10s"', '"1s"'
    )
    assert result.files["prometheus/rules/sre-app-alerts.rules.yml"] == (
        RULES.replace("[1m]", "[6s]").replace("for: 2m", "for: 12s").replace("[1h:5m]", "[6m:30s]")
    )
    assert result.files["alertmanager/alertmanager.yml"] == (
        ALERTMANAGER.replace("30s", "3s").replace("5m", "30s").replace("12h", "1h12m")
    )
    assert result.files["hpa.yaml"] == HPA.replace("60", "6").replace("300", "30")
    assert result.files["grafana/sre-app-dashboard.json"] == FILES["grafana/sre-app-dashboard.json"]
    assert result.clamps == ()


def test_short_ranges_are_clamped_to_four_scrapes_and_reported() -> None:
    result = scale_monitoring(FILES, 0.05)
    rules = result.files["prometheus/rules/sre-app-alerts.rules.yml"]
    # scrape 15s → 750ms, clamped to 1s; a range must then cover 4s; 1m → 3s is too short.
    assert "[4s]" in rules
    # `for: 2m` → 6s would end before Prometheus applies a target change (5s batches)
    assert "for: 10s" in rules
    settings = {(c.file, c.setting, c.scaled, c.used) for c in result.clamps}
    assert ("prometheus/rules/sre-app-alerts.rules.yml", "for", "6s", "10s") in settings
    assert ("prometheus/prometheus.yml", "scrape_interval", "750ms", "1s") in settings
    assert ("prometheus/prometheus.yml", "evaluation_interval", "750ms", "1s") in settings
    assert (
        "prometheus/rules/sre-app-alerts.rules.yml",
        "range selector [1m]",
        "3s",
        "4s",
    ) in settings
    assert all(clamp.reason for clamp in result.clamps)


def test_hpa_periods_stay_whole_seconds_of_at_least_one() -> None:
    result = scale_monitoring({"hpa.yaml": HPA}, 0.01)
    assert "periodSeconds: 1\n" in result.files["hpa.yaml"]
    assert "stabilizationWindowSeconds: 3\n" in result.files["hpa.yaml"]
    assert [(c.setting, c.scaled, c.used) for c in result.clamps] == [
        ("periodSeconds", "600ms", "1s")
    ]


@pytest.mark.parametrize("factor", [0, -0.1, float("nan"), float("inf")])
def test_refuses_a_factor_that_is_not_positive(factor: float) -> None:
    with pytest.raises(ValueError, match="positive number"):
        scale_monitoring(FILES, factor)


durations = st.integers(min_value=1, max_value=3 * 24 * 3600).map(
    lambda s: format_duration(s * 1000)
)
factors = st.floats(min_value=0.001, max_value=1.0, exclude_max=True)


def _rules_with(range_: str, hold: str) -> str:
    return (
        "groups:\n  - name: g\n    rules:\n      - alert: A\n"
        f"        expr: rate(x[{range_}]) > 0\n        for: {hold}\n"
    )


@given(scrape=durations, range_=durations, hold=durations, factor=factors)
def test_every_scaled_range_is_the_exact_product_or_a_reported_clamp(
    scrape: str, range_: str, hold: str, factor: float
) -> None:
    files = {
        "prometheus.yml": f"global:\n  scrape_interval: {scrape}\n",
        "a.rules.yml": _rules_with(range_, hold),
    }
    result = scale_monitoring(files, factor)
    scaled_scrape = parse_duration(
        re.findall(r"scrape_interval: (\S+)", result.files["prometheus.yml"])[0]
    )
    scaled_range = parse_duration(re.findall(r"\[(\S+)\]", result.files["a.rules.yml"])[0])
    scaled_hold = parse_duration(re.findall(r"for: (\S+)", result.files["a.rules.yml"])[0])

    wanted_range = round(parse_duration(range_) * factor)
    wanted_hold = round(parse_duration(hold) * factor)
    if scaled_hold != wanted_hold:
        clamp = next(c for c in result.clamps if c.setting == "for")
        assert (clamp.scaled, clamp.used) == (
            format_duration(wanted_hold),
            format_duration(scaled_hold),
        )
        assert scaled_hold == min(MIN_FOR_MS, parse_duration(hold))
    if parse_duration(scrape) >= 1000:
        assert scaled_scrape >= 1000
    if scaled_range != wanted_range:
        clamp = next(c for c in result.clamps if c.setting.startswith("range selector"))
        assert (clamp.scaled, clamp.used) == (
            format_duration(wanted_range),
            format_duration(scaled_range),
        )
        assert scaled_range >= min(4 * scaled_scrape, parse_duration(range_))
    else:
        assert not any(c.setting.startswith("range selector") for c in result.clamps)
        assert scaled_range >= 4 * scaled_scrape or scaled_range == parse_duration(range_)


@given(factor=factors)
def test_text_around_the_durations_is_untouched(factor: float) -> None:
    result = scale_monitoring(FILES, factor)
    masked = re.compile(r"\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*|\b\d+\b")
    for name, text in FILES.items():
        assert masked.sub("D", result.files[name]) == masked.sub("D", text)


@given(factor=factors, smaller=st.floats(min_value=0.01, max_value=1.0))
def test_a_smaller_factor_never_gives_a_longer_duration(factor: float, smaller: float) -> None:
    fast = scale_monitoring(FILES, factor * smaller)
    slow = scale_monitoring(FILES, factor)
    pattern = re.compile(r"(?<![\w.])(\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)")
    for name in FILES:
        if name.endswith(".json"):
            continue
        fast_values = [parse_duration(d) for d in pattern.findall(fast.files[name])]
        slow_values = [parse_duration(d) for d in pattern.findall(slow.files[name])]
        assert all(f <= s for f, s in zip(fast_values, slow_values, strict=True))
