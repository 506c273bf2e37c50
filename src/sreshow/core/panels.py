"""The Grafana dashboard's panels as plain PromQL.

Grafana does not run on every platform, so the live dashboard (`sreshow dashboard`)
draws the panels itself, from the one dashboard file's queries with Grafana's
variables filled in as Grafana would for "all pods".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sreshow.core.durations import format_duration


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


def _fill(expr: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["plain"]
        return values.get(name, match[0])

    return re.sub(r"\$\{(?P<braced>\w+)(?::\w+)?\}|\$(?P<plain>\w+)", replace, expr)
