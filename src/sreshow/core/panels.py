"""The Grafana dashboard's panels as Prometheus graph links.

Grafana does not run on every platform, so `status` links every panel to
Prometheus's own graph page with the panel's queries, taken from the one dashboard
file and with Grafana's variables filled in as Grafana would for "all pods".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sreshow.core.durations import format_duration

RANGE_INPUT = "15m"


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[str, ...]


def dashboard_panels(
    dashboard: Mapping[str, Any], *, namespace: str, rate_interval_ms: int, range_ms: int
) -> list[Panel]:
    """Every panel with queries, its variables replaced (all pods of `namespace`)."""
    values = {
        "namespace": namespace,
        "pod": ".*",
        "__rate_interval": format_duration(rate_interval_ms),
        "__interval": format_duration(max(rate_interval_ms // 4, 1000)),
        "__range": format_duration(range_ms),
    }
    panels = []
    for panel in dashboard.get("panels", []):
        queries = tuple(
            _fill(target["expr"], values)
            for target in panel.get("targets", [])
            if target.get("expr")
        )
        if queries:
            panels.append(Panel(panel.get("title", "untitled"), queries))
    return panels


def graph_url(prometheus_url: str, queries: tuple[str, ...]) -> str:
    """One Prometheus graph page showing `queries` (one graph each) over the last 15m."""
    params: dict[str, str] = {}
    for index, query in enumerate(queries):
        params |= {
            f"g{index}.expr": query,
            f"g{index}.tab": "0",
            f"g{index}.range_input": RANGE_INPUT,
        }
    return f"{prometheus_url.rstrip('/')}/graph?{urlencode(params)}"


def _fill(expr: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["plain"]
        return values.get(name, match[0])

    return re.sub(r"\$\{(?P<braced>\w+)(?::\w+)?\}|\$(?P<plain>\w+)", replace, expr)
