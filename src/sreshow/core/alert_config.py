"""What the monitoring files say about how fast one alert can fire and be notified.

`alert_timings()` reads the (scaled) files — `prometheus.yml`, every `*.rules.yml`,
`alertmanager.yml`, by file name as `scale_monitoring()` returns them — and gives, per
alerting rule, the settings that decide its timing:

    scrape_interval_s      the slowest scrape interval among the jobs its expression
                           reads (`job="..."` / `job=~"..."` matchers, also inside the
                           recorded series it reads); every job's when it names none.
                           A job's own `scrape_interval`, else the global one, else 1m.
    evaluation_interval_s  its group's `interval`, else the global `evaluation_interval`,
                           else 1m.
    window_s               the largest range selector (`[1m]`, `[5m:30s]` counts 5m) in
                           its expression or in the recording rules it reads; None when
                           it has none (an instant condition such as `up == 0`).
    record_lag_s           recording rules it reads from another group are refreshed on
                           that group's schedule, up to one of its intervals late.
    for_s                  `for:` (0 without).
    routes                 the Alertmanager routes that take it, as Alertmanager matches
                           them: from the root, the first child whose matchers match
                           (`match`, `match_re`, `matchers`) and, with `continue: true`,
                           later siblings too; a node none of whose children match
                           takes the alert itself. Each route has its timers and
                           `group_by`, inherited from its parent when not set (root
                           defaults: group_wait 30s, group_interval 5m, repeat 4h).

Routing sees only the labels known before the run: the rule's own `labels` and
`alertname`. Labels that come from the series (`pod`, `instance`) are unknown here,
so a route that matches on them is not taken (Alertmanager, too, treats a missing label
as the empty string).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from sreshow.core.durations import DURATION, parse_duration

PROMETHEUS_DEFAULT_INTERVAL = "1m"  # scrape_interval and evaluation_interval
ALERTMANAGER_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
GROUP_BY_ALL = "..."

_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")
_RANGE_RE = re.compile(rf"\[(?P<range>(?=\d){DURATION})(?::(?:(?=\d){DURATION})?)?\]")
_JOB_RE = re.compile(r"\bjob\s*(?P<op>=~|=(?![=~]))\s*(?P<value>\"(?:[^\"\\]|\\.)*\"|'[^']*')")
_NAME_RE = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_THRESHOLD_RE = re.compile(r"(?:>=|<=|>|<)\s*(?:bool\s+)?(?P<value>[0-9.]+(?:[eE][-+]?\d+)?)\s*$")
_QUANTILE_RE = re.compile(r"\bhistogram_quantile\s*\(\s*(?P<value>[0-9.]+)\s*,")
_MATCHER_RE = re.compile(
    r"^\s*\{?\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|[^,}]*?)\s*\}?\s*$"
)


@dataclass(frozen=True)
class Route:
    """One Alertmanager route that takes an alert, with its (inherited) timers."""

    path: str  # where it is in alertmanager.yml: `route`, `route.routes[1]` ...
    receiver: str
    group_by: tuple[str, ...]  # ("...",) groups by every label; () puts all in one group
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float


@dataclass(frozen=True)
class AlertTiming:
    """The settings that decide when one alerting rule fires and is notified."""

    alert: str
    rules_file: str
    group: str
    expr: str
    for_s: float
    scrape_interval_s: float
    evaluation_interval_s: float
    window_s: float | None
    routes: tuple[Route, ...]
    jobs: tuple[str, ...] = ()
    record_lag_s: float = 0.0
    # The number the expression is compared with last (`... > 0.05`), and the quantile
    # of a `histogram_quantile(0.95, ...)`: what a fault's size is held against.
    threshold: float | None = None
    quantile: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def alert_timings(files: Mapping[str, str], alerts: Sequence[str]) -> list[AlertTiming]:
    """The timing settings of each of `alerts`, in that order, read from `files`
    (name → text, as `scale_monitoring` returns them); ValueError if a file cannot be
    read or an alert has no rule."""
    prometheus = _parsed(files, lambda base: base == "prometheus.yml")
    rule_files = _all_parsed(files, lambda base: base.endswith(".rules.yml"))
    scrape = _scrape_intervals(prometheus)
    global_evaluation = _seconds(
        prometheus.get("global") or {}, "evaluation_interval", PROMETHEUS_DEFAULT_INTERVAL
    )
    rules = _rules(rule_files, global_evaluation)
    root = _parsed(files, lambda base: base == "alertmanager.yml").get("route") or {}

    timings = []
    for alert in alerts:
        rule = rules.get(("alert", alert))
        if rule is None:
            known = sorted(name for kind, name in rules if kind == "alert")
            raise ValueError(
                f"no alerting rule {alert!r} in {', '.join(sorted(rule_files)) or 'no rule file'}"
                f"; the alerts there: {', '.join(known) or 'none'}"
            )
        timings.append(_timing(rule, rules, scrape, root))
    return timings


@dataclass(frozen=True)
class _Rule:
    name: str
    file: str
    group: str
    interval_s: float
    expr: str
    for_s: float
    labels: Mapping[str, str]


def _timing(
    rule: _Rule,
    rules: Mapping[tuple[str, str], _Rule],
    scrape: Mapping[str | None, float],
    root: Mapping[str, Any],
) -> AlertTiming:
    read = [rule, *_recorded_series_read(rule, rules)]
    windows = [w for r in read if (w := _largest_range(r.expr)) is not None]
    jobs = tuple(dict.fromkeys(job for r in read for job in _jobs(r.expr, scrape)))
    intervals = [scrape.get(job, scrape[None]) for job in jobs] or list(scrape.values())
    lag = max((r.interval_s for r in read[1:] if r.group != rule.group), default=0.0)
    bare = _unquoted(rule.expr).strip()
    threshold = _THRESHOLD_RE.search(bare)
    quantile = _QUANTILE_RE.search(bare)
    labels = {**rule.labels, "alertname": rule.name}
    return AlertTiming(
        alert=rule.name,
        rules_file=rule.file,
        group=rule.group,
        expr=rule.expr,
        for_s=rule.for_s,
        scrape_interval_s=max(intervals),
        evaluation_interval_s=rule.interval_s,
        window_s=max(windows, default=None),
        routes=tuple(matching_routes(root, labels)),
        jobs=jobs,
        record_lag_s=lag,
        threshold=float(threshold["value"]) if threshold else None,
        quantile=float(quantile["value"]) if quantile else None,
        labels=labels,
    )


def _recorded_series_read(rule: _Rule, rules: Mapping[tuple[str, str], _Rule]) -> list[_Rule]:
    """The recording rules `rule` reads, directly or through others (each once)."""
    found: dict[str, _Rule] = {}
    pending = [rule]
    while pending:
        current = pending.pop()
        for name in _NAME_RE.findall(_unquoted(current.expr)):
            recorded = rules.get(("record", name))
            if recorded is not None and name not in found:
                found[name] = recorded
                pending.append(recorded)
    return list(found.values())


def _largest_range(expr: str) -> float | None:
    ranges = [parse_duration(m["range"]) / 1000 for m in _RANGE_RE.finditer(_unquoted(expr))]
    return max(ranges, default=None)


def _jobs(expr: str, scrape: Mapping[str | None, float]) -> Iterable[str]:
    known = [job for job in scrape if job is not None]
    for match in _JOB_RE.finditer(expr):
        value = match["value"][1:-1]
        if match["op"] == "=":
            yield value
        else:
            yield from (job for job in known if re.fullmatch(value, job))


def _unquoted(expr: str) -> str:
    return _STRING_RE.sub('""', expr)


# --- the files ---------------------------------------------------------------------------


def _all_parsed(
    files: Mapping[str, str], wanted: Callable[[str], bool]
) -> dict[str, dict[str, Any]]:
    """Every file whose base name is `wanted`, parsed, by its name."""
    return {
        name: _mapping(_load(name, text), name)
        for name, text in files.items()
        if wanted(PurePosixPath(name).name)
    }


def _parsed(files: Mapping[str, str], wanted: Callable[[str], bool]) -> dict[str, Any]:
    """The first file whose base name is `wanted`, parsed; {} (defaults) without one."""
    return next(iter(_all_parsed(files, wanted).values()), {})


def _load(name: str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(f"{name}: not valid YAML ({e})") from e


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _seconds(config: Mapping[str, Any], key: str, default: str) -> float:
    value = config.get(key, default)
    try:
        return parse_duration(str(value)) / 1000
    except ValueError as e:
        raise ValueError(f"{key}: {e}") from e


def _scrape_intervals(prometheus: Mapping[str, Any]) -> dict[str | None, float]:
    """Each job's scrape interval in seconds; key None: the global one."""
    default = _seconds(
        prometheus.get("global") or {}, "scrape_interval", PROMETHEUS_DEFAULT_INTERVAL
    )
    intervals: dict[str | None, float] = {None: default}
    for job in prometheus.get("scrape_configs") or []:
        if isinstance(job, dict) and "job_name" in job:
            own = job.get("scrape_interval")
            intervals[str(job["job_name"])] = (
                default if own is None else parse_duration(str(own)) / 1000
            )
    return intervals


def _rules(
    rule_files: Mapping[str, Mapping[str, Any]], global_evaluation: float
) -> dict[tuple[str, str], _Rule]:
    """Every rule by ("alert" | "record", name); the first of a name wins."""
    rules: dict[tuple[str, str], _Rule] = {}
    for name, content in rule_files.items():
        for group in content.get("groups") or []:
            interval = group.get("interval")
            interval_s = (
                global_evaluation if interval is None else parse_duration(str(interval)) / 1000
            )
            for rule in group.get("rules") or []:
                kind = "alert" if "alert" in rule else "record"
                rules.setdefault(
                    (kind, str(rule[kind])),
                    _Rule(
                        name=str(rule[kind]),
                        file=name,
                        group=str(group.get("name", "")),
                        interval_s=interval_s,
                        expr=str(rule.get("expr", "")),
                        for_s=parse_duration(str(rule.get("for", "0s"))) / 1000,
                        labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
                    ),
                )
    return rules


# --- Alertmanager routing ----------------------------------------------------------------


def matching_routes(root: Mapping[str, Any], labels: Mapping[str, str]) -> list[Route]:
    """The routes of the tree under `root` (alertmanager.yml's `route`) that take an
    alert with `labels`, as Alertmanager's dispatcher matches them."""
    inherited = {key: str(value) for key, value in ALERTMANAGER_DEFAULTS.items()}
    return _match(root, labels, inherited=inherited, group_by=(), receiver="", path="route")


def _match(
    node: Mapping[str, Any],
    labels: Mapping[str, str],
    *,
    inherited: Mapping[str, str],
    group_by: tuple[str, ...],
    receiver: str,
    path: str,
) -> list[Route]:
    """The routes at or under `node` that take the alert; [] if `node` does not match."""
    if not _matches(node, labels):
        return []
    timers = {key: str(node.get(key, inherited[key])) for key in ALERTMANAGER_DEFAULTS}
    own_group_by = node.get("group_by")
    group_by = group_by if own_group_by is None else tuple(str(label) for label in own_group_by)
    receiver = str(node.get("receiver", receiver))
    found: list[Route] = []
    for index, child in enumerate(node.get("routes") or []):
        taken = _match(
            child,
            labels,
            inherited=timers,
            group_by=group_by,
            receiver=receiver,
            path=f"{path}.routes[{index}]",
        )
        if taken:
            found.extend(taken)
            if not child.get("continue", False):
                break
    if found:
        return found
    return [
        Route(
            path=path,
            receiver=receiver,
            group_by=group_by,
            group_wait_s=parse_duration(timers["group_wait"]) / 1000,
            group_interval_s=parse_duration(timers["group_interval"]) / 1000,
            repeat_interval_s=parse_duration(timers["repeat_interval"]) / 1000,
        )
    ]


def _matches(node: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for name, value in (node.get("match") or {}).items():
        if labels.get(str(name), "") != str(value):
            return False
    for name, pattern in (node.get("match_re") or {}).items():
        if not re.fullmatch(str(pattern), labels.get(str(name), "")):
            return False
    return all(_matcher(str(text), labels) for text in node.get("matchers") or [])


def _matcher(text: str, labels: Mapping[str, str]) -> bool:
    """One `matchers:` entry (`severity="critical"`, `alertname=~"High.*"`, `a != b`)."""
    parsed = _MATCHER_RE.match(text)
    if parsed is None:
        raise ValueError(f"alertmanager.yml: cannot read the matcher {text!r}")
    value = parsed["value"]
    if value[:1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    actual = labels.get(parsed["name"], "")
    op = parsed["op"]
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = re.fullmatch(value, actual) is not None
    return found if op == "=~" else not found
