"""What Grafana's Prometheus data source does with a dashboard, for tests without Grafana.

There is no Grafana package for the machines sreshow is built on, so the tests do what
the data source does: resolve the template variables from Prometheus, substitute
`$__range`, `$__interval`, `$__rate_interval` and the variables, and send every panel
query and the alert annotation query to Prometheus's HTTP API. Each must succeed and
return series that are not all NaN and carry the labels its legend names.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tests.manifests.stack import MONITORING, PrometheusAPI, Series, to_series

GRAFANA = MONITORING / "grafana"
DASHBOARD = GRAFANA / "sre-app-dashboard.json"
# The scrape interval of the data source (its `timeInterval`) in the tests: the
# Prometheus the dashboard test starts scrapes this often.
SCRAPE_SECONDS = 1


# --- the dashboard's parts -------------------------------------------------------------


def load_dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def panel(dashboard: Mapping[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in dashboard["panels"] if p["title"] == title]
    assert len(found) == 1, f"the dashboard has {len(found)} panels titled {title!r}"
    return found[0]


def firing_alerts_annotation(dashboard: Mapping[str, Any]) -> dict[str, Any]:
    found = [a for a in dashboard["annotations"]["list"] if a.get("expr")]
    assert len(found) == 1, "the dashboard needs exactly one Prometheus annotation query"
    annotation: dict[str, Any] = found[0]
    return annotation


def step_seconds(annotation: Mapping[str, Any]) -> int:
    """The annotation query's step ("15s"), in seconds."""
    step = re.fullmatch(r"(\d+)s", annotation["step"])
    assert step, f"annotation step {annotation['step']!r} is not whole seconds"
    return int(step.group(1))


def legend_labels(template: str) -> set[str]:
    """The labels a legend or annotation format names as {{label}}."""
    return set(re.findall(r"\{\{\s*(\w+)\s*\}\}", template))


def datasource_references(node: Any) -> Iterator[Any]:
    """Every `datasource` value anywhere in a dashboard (panels, targets, annotations...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from datasource_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_references(item)


# --- what Grafana does with the dashboard ----------------------------------------------


@dataclass(frozen=True)
class DashboardView:
    """A dashboard as a user sees it: an absolute time range and the variables' values.

    Intervals follow Grafana's Prometheus data source: `$__interval` is the range over
    the panel's data points, at least the data source's scrape interval;
    `$__rate_interval` is max($__interval + scrape interval, 4 x scrape interval).
    """

    start: float
    end: float
    variables: Mapping[str, str]
    scrape_seconds: int = SCRAPE_SECONDS
    max_data_points: int = 1000

    @property
    def range_seconds(self) -> int:
        return round(self.end - self.start)

    @property
    def interval_seconds(self) -> int:
        return max(self.scrape_seconds, math.ceil(self.range_seconds / self.max_data_points))

    @property
    def rate_interval_seconds(self) -> int:
        return max(self.interval_seconds + self.scrape_seconds, 4 * self.scrape_seconds)

    def aligned(self, step: int) -> tuple[float, float, int]:
        """Start, end and step of a range query: Grafana rounds both ends down to the step."""
        return self.start // step * step, self.end // step * step, step

    def interpolate(self, text: str, where: str) -> str:
        """Substitute $name, ${name} and [[name]] as Grafana does; unknown names fail."""
        builtins = {
            "__interval": f"{self.interval_seconds}s",
            "__interval_ms": str(self.interval_seconds * 1000),
            "__rate_interval": f"{self.rate_interval_seconds}s",
            "__range": f"{self.range_seconds}s",
            "__range_s": str(self.range_seconds),
            "__range_ms": str(self.range_seconds * 1000),
        }
        known = {**builtins, **self.variables}

        def value(match: re.Match[str]) -> str:
            name = next(g for g in match.groups() if g)
            assert name in known, f"{where} uses ${name}, which the dashboard does not define"
            return known[name]

        return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", value, text)


def regex_escape(value: str) -> str:
    """Grafana's escaping of a multi-value variable inside a PromQL regex matcher."""
    return re.sub(r"([$^*{}\[\]'+?.()|\\])", r"\\\\\1", value)


def resolve_variables(
    prometheus: PrometheusAPI, dashboard: Mapping[str, Any], start: float, end: float
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each variable's value formatted for PromQL, and each query variable's options.

    Query variables (`label_values(selector, label)`) are resolved in order through
    Prometheus's label values API, as Grafana does; a variable keeps its saved value
    when Prometheus offers it ("All" included), else takes the first option.
    """
    values: dict[str, str] = {}
    options: dict[str, list[str]] = {}
    view = DashboardView(start, end, values)  # sees each value as soon as it is resolved
    for variable in dashboard["templating"]["list"]:
        name = variable["name"]
        if variable["type"] == "datasource":
            values[name] = str(variable["current"]["value"])
            continue
        assert variable["type"] == "query", f"variable {name}: unexpected type"
        definition = variable["query"]["query"]
        parsed = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", definition)
        assert parsed, f"variable {name}: {definition!r} is not label_values(selector, label)"
        selector = view.interpolate(parsed.group(1), f"variable {name}")
        found = sorted(prometheus.label_values(parsed.group(2), selector, start, end))
        assert found, f"variable {name}: Prometheus offers no value for {definition}"
        options[name] = found
        current = variable["current"].get("value")
        saved = current if isinstance(current, list) else [current]
        picked = ["$__all"] if "$__all" in saved else [v for v in saved if v in found]
        picked = picked or found[:1]
        if variable.get("multi") or variable.get("includeAll"):
            if picked == ["$__all"]:
                values[name] = variable.get("allValue") or "|".join(map(regex_escape, found))
            else:
                escaped = [regex_escape(v) for v in picked]
                values[name] = escaped[0] if len(escaped) == 1 else f"({'|'.join(escaped)})"
        else:
            values[name] = picked[0]
    return values, options


def expect_series(
    answer: Mapping[str, Any], where: str, expr: str, labels: set[str]
) -> list[Series]:
    """The series of a successful, non-empty answer whose series carry `labels`."""
    assert answer.get("status") == "success", (
        f"{where}: Prometheus refused the query ({answer.get('errorType')}: "
        f"{answer.get('error')}):\n{expr}"
    )
    series = to_series(answer["data"])
    assert series, f"{where} returned no series (wrong metric or label?):\n{expr}"
    for one in series:
        missing = labels - one.labels.keys()
        assert not missing, f"{where}: series {one.labels} lack the legend's labels {missing}"
        assert any(math.isfinite(v) for v in one.values), (
            f"{where}: series {one.labels} has no finite value:\n{expr}"
        )
    return series


def run_panel_queries(
    prometheus: PrometheusAPI, view: DashboardView, dashboard: Mapping[str, Any]
) -> dict[str, list[Series]]:
    """Every target of every panel, run as Grafana runs it; results by "title/refId"."""
    results: dict[str, list[Series]] = {}
    for each in dashboard["panels"]:
        assert each.get("targets"), f"panel {each['title']!r} has no query"
        for target in each["targets"]:
            where = f"panel {each['title']!r} query {target['refId']}"
            expr = view.interpolate(target["expr"], where)
            labels = legend_labels(target.get("legendFormat", ""))
            assert target.get("instant") or target.get("range"), f"{where}: neither kind"
            if target.get("instant"):
                answer = prometheus.query(expr, view.end)
                results[f"{each['title']}/{target['refId']}"] = expect_series(
                    answer, f"{where} (instant)", expr, labels
                )
            if target.get("range"):
                answer = prometheus.query_range(expr, *view.aligned(view.interval_seconds))
                results[f"{each['title']}/{target['refId']}"] = expect_series(
                    answer, f"{where} (range)", expr, labels
                )
    return results


def run_annotation_query(
    prometheus: PrometheusAPI, view: DashboardView, dashboard: Mapping[str, Any]
) -> list[Series]:
    """The dashboard's alert annotation query, run over the view as Grafana runs it."""
    annotation = firing_alerts_annotation(dashboard)
    where = f"annotation {annotation['name']!r}"
    expr = view.interpolate(annotation["expr"], where)
    step = step_seconds(annotation)
    labels = (
        legend_labels(annotation.get("titleFormat", ""))
        | legend_labels(annotation.get("textFormat", ""))
        | {key.strip() for key in annotation.get("tagKeys", "").split(",") if key.strip()}
    )
    answer = prometheus.query_range(expr, *view.aligned(step))
    return expect_series(answer, where, expr, labels)
