"""Scale the monitoring stack's clocks by one factor, so an alert that takes minutes
on a real cluster takes seconds on stage or in CI.

`scale_monitoring()` rewrites durations in the files' text rather than in parsed
YAML: everything but the durations — comments, order, quoting — stays as written,
and factor 1 returns the input byte for byte. What it scales, by file name:

    prometheus.yml      scrape_interval, scrape_timeout, evaluation_interval
    *.rules.yml         `for:`, group `interval:`, range selectors `[1m]`, `[5m:30s]`
    alertmanager.yml    group_wait, group_interval, repeat_interval, resolve_timeout
    hpa.yaml            periodSeconds, stabilizationWindowSeconds (whole seconds)

Other files pass through unchanged. Clamps keep every interval at least 1 s, every
range selector at least four scrape intervals (so `rate()` always has samples) and
every `for:` at least 10 s: Prometheus hands target changes (also its first targets,
at start-up) to scraping in batches every 5 s whatever the scale, and the first scrape
and evaluation add up to two more (scaled) intervals; a shorter `for:` fires PodsDown
while a fresh Prometheus has not scraped yet, or HealthCheckFailing on the last failed
probes of a pod just replaced — which a real-time `for:` never does. Each clamp is
reported, never silent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sreshow.core.durations import DURATION, format_duration, parse_duration

MIN_INTERVAL_MS = 1000
# Prometheus's discovery manager hands target changes to scraping every 5 s (fixed);
# then a scrape and an evaluation (1.5 s each at time scale 0.1), and a margin.
MIN_FOR_MS = 10_000
SAMPLES_PER_RANGE = 4
PROMETHEUS_DEFAULT_SCRAPE_MS = 60_000


@dataclass(frozen=True)
class Clamp:
    """A duration that scaling would have made too short, and what was used instead."""

    file: str
    setting: str
    scaled: str
    used: str
    reason: str


@dataclass(frozen=True)
class ScaledMonitoring:
    """The scaled files (same names as given) and every clamp applied."""

    factor: float
    files: dict[str, str]
    clamps: tuple[Clamp, ...] = field(default=())


def scale_monitoring(files: Mapping[str, str], factor: float) -> ScaledMonitoring:
    """Scale every clock in `files` (name → text) by `factor`; see the module doc."""
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"the time scale must be a positive number, not {factor}")
    if factor == 1:
        return ScaledMonitoring(factor, dict(files))

    clamps: list[Clamp] = []
    scaler = _Scaler(factor, clamps)
    scrape_ms = _scaled_scrape_interval(files, scaler)
    scaled = {name: _scale_file(name, text, scaler, scrape_ms) for name, text in files.items()}
    return ScaledMonitoring(factor, scaled, tuple(clamps))


def _scale_file(name: str, text: str, scaler: _Scaler, scrape_ms: int) -> str:
    kind = _kind(name)
    if kind == "prometheus":
        return scaler.keys(name, text, _PROMETHEUS_KEYS, minimum=MIN_INTERVAL_MS)
    if kind == "rules":
        held = scaler.keys(name, text, ("for",), minimum=MIN_FOR_MS)
        grouped = scaler.keys(name, held, ("interval",), minimum=MIN_INTERVAL_MS)
        return scaler.ranges(name, grouped, minimum=SAMPLES_PER_RANGE * scrape_ms)
    if kind == "alertmanager":
        return scaler.keys(name, text, _ALERTMANAGER_KEYS, minimum=MIN_INTERVAL_MS)
    if kind == "hpa":
        return scaler.seconds(name, text, _HPA_KEYS)
    return text


_PROMETHEUS_KEYS = ("scrape_interval", "scrape_timeout", "evaluation_interval")
_ALERTMANAGER_KEYS = ("group_wait", "group_interval", "repeat_interval", "resolve_timeout")
_HPA_KEYS = ("periodSeconds", "stabilizationWindowSeconds")
_RANGE_RE = re.compile(rf"\[(?P<range>(?=\d){DURATION})(?P<step>:(?:(?=\d){DURATION})?)?\]")


def _kind(name: str) -> str:
    base = PurePosixPath(name).name
    if base == "prometheus.yml":
        return "prometheus"
    if base.endswith(".rules.yml"):
        return "rules"
    if base == "alertmanager.yml":
        return "alertmanager"
    if base == "hpa.yaml":
        return "hpa"
    return "other"


def _key_re(keys: tuple[str, ...], value: str) -> re.Pattern[str]:
    """`key: value` on its own line (optionally a list item, quoted, or commented)."""
    names = "|".join(keys)
    return re.compile(
        rf"^(?P<head>[ \t]*(?:-[ \t]+)?(?P<key>{names})[ \t]*:[ \t]*(?P<quote>[\"']?))"
        rf"(?P<value>{value})(?P=quote)(?=[ \t]*(?:#.*)?$)",
        re.MULTILINE,
    )


def _scaled_scrape_interval(files: Mapping[str, str], scaler: _Scaler) -> int:
    """The longest scrape interval after scaling (what a range must cover four times)."""
    pattern = _key_re(("scrape_interval",), rf"(?=\d){DURATION}")
    found = [
        parse_duration(match["value"])
        for name, text in files.items()
        if _kind(name) == "prometheus"
        for match in pattern.finditer(text)
    ]
    longest = max(found, default=PROMETHEUS_DEFAULT_SCRAPE_MS)
    return max(scaler.raw(longest), MIN_INTERVAL_MS)


@dataclass
class _Scaler:
    factor: float
    clamps: list[Clamp]

    def raw(self, milliseconds: int) -> int:
        return round(milliseconds * self.factor)

    def duration(self, file: str, setting: str, text: str, minimum: int) -> str:
        """`text` scaled, clamped to `minimum`; the original text if the value is unchanged."""
        original = parse_duration(text)
        scaled = self.raw(original)
        used = max(scaled, minimum) if original >= minimum else original
        if used != scaled:
            self.clamps.append(
                Clamp(file, setting, format_duration(scaled), format_duration(used), _why(minimum))
            )
        return text if used == original else format_duration(used)

    def keys(self, file: str, text: str, keys: tuple[str, ...], minimum: int) -> str:
        def replace(match: re.Match[str]) -> str:
            value = self.duration(file, match["key"], match["value"], minimum)
            return f"{match['head']}{value}{match['quote']}"

        return _key_re(keys, rf"(?=\d){DURATION}").sub(replace, text)

    def ranges(self, file: str, text: str, minimum: int) -> str:
        def replace(match: re.Match[str]) -> str:
            setting = f"range selector {match[0]}"
            scaled_range = self.duration(file, setting, match["range"], minimum)
            step = match["step"] or ""
            if len(step) > 1:
                step = ":" + self.duration(file, setting, step[1:], MIN_INTERVAL_MS)
            return f"[{scaled_range}{step}]"

        return _RANGE_RE.sub(replace, text)

    def seconds(self, file: str, text: str, keys: tuple[str, ...]) -> str:
        def replace(match: re.Match[str]) -> str:
            original = int(match["value"])
            scaled_ms = self.raw(original * 1000)
            minimum = 1 if match["key"] == "periodSeconds" else 0
            used = max(round(scaled_ms / 1000), minimum)
            if used * 1000 != scaled_ms:
                self.clamps.append(
                    Clamp(
                        file,
                        match["key"],
                        format_duration(scaled_ms),
                        format_duration(used * 1000),
                        "Kubernetes takes whole seconds" + (", at least 1" if minimum else ""),
                    )
                )
            value = match["value"] if used == original else str(used)
            return f"{match['head']}{value}{match['quote']}"

        return _key_re(keys, r"\d+").sub(replace, text)


def _why(minimum: int) -> str:
    if minimum == MIN_INTERVAL_MS:
        return "intervals stay at least 1s"
    if minimum == MIN_FOR_MS:
        return "`for:` outlasts Prometheus's 5s target-discovery batches and a scrape"
    return f"ranges stay at least {SAMPLES_PER_RANGE} scrape intervals ({format_duration(minimum)})"
