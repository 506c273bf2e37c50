"""Prometheus's HTTP API: the one place sreshow sends queries from.

Errors become PlatformError naming the server and the query, with the next step.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

from sreshow.errors import PlatformError
from sreshow.ports import RangeSeries

AlertState = Literal["inactive", "pending", "firing"]


@dataclass(frozen=True)
class Sample:
    """One instant-vector element: its labels and value."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class AlertRule:
    """An alerting rule and its state now; `active_at` is when it became pending."""

    name: str
    state: AlertState
    labels: dict[str, str]
    active_at: str | None


@dataclass(frozen=True)
class Target:
    """One scrape target of a job: its labels after relabelling and its last scrape."""

    job: str
    labels: dict[str, str]
    health: Literal["up", "down", "unknown"]


@dataclass(frozen=True)
class RuleGroup:
    name: str
    last_evaluation: float | None  # Unix time; None before the first evaluation


class PrometheusClient:
    def __init__(
        self, url: str, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        self._timeout = timeout

    def close(self) -> None:
        self._client.close()

    def query(self, expr: str) -> list[Sample]:
        """Evaluate `expr` now; NaN values are left out."""
        data = self._get("/api/v1/query", {"query": expr})
        if data.get("resultType") == "scalar":
            value = float(data["result"][1])
            return [] if math.isnan(value) else [Sample({}, value)]
        samples = [Sample(item["metric"], float(item["value"][1])) for item in data["result"]]
        return [s for s in samples if not math.isnan(s.value)]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[RangeSeries]:
        """`expr` from `start` to `end` (Unix times) every `step` seconds: each series with
        its points, NaN as None."""
        data = self._get(
            "/api/v1/query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )
        if data.get("resultType") != "matrix":
            return []
        return [
            RangeSeries(
                dict(item["metric"]),
                tuple((float(at), _finite(value)) for at, value in item["values"]),
            )
            for item in data["result"]
        ]

    def scalar(self, expr: str) -> float | None:
        """The single value of `expr`, or None when it has no (or no finite) value."""
        samples = self.query(expr)
        return samples[0].value if samples else None

    def alert_rules(self) -> list[AlertRule]:
        """Every alerting rule with its state; a rule firing for several series counts
        once, at its most advanced state."""
        data = self._get("/api/v1/rules", {"type": "alert"})
        rules = []
        for group in data["groups"]:
            for rule in group["rules"]:
                alerts = rule.get("alerts") or []
                first = min(alerts, key=lambda a: a.get("activeAt") or "", default=None)
                rules.append(
                    AlertRule(
                        name=rule["name"],
                        state=rule.get("state", "inactive"),
                        labels=dict(first["labels"]) if first else {},
                        active_at=first.get("activeAt") if first else None,
                    )
                )
        return rules

    def targets(self) -> list[Target]:
        """Every active scrape target and its health."""
        data = self._get("/api/v1/targets", {"state": "active"})
        return [
            Target(
                job=str(target["labels"].get("job", "")),
                labels=dict(target["labels"]),
                health=target.get("health", "unknown"),
            )
            for target in data["activeTargets"]
        ]

    def rule_groups(self) -> list[RuleGroup]:
        """Every rule group and when it was last evaluated."""
        data = self._get("/api/v1/rules", {})
        return [
            RuleGroup(group["name"], _unix_time(group.get("lastEvaluation")))
            for group in data["groups"]
        ]

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._client.get(path, params=params)
            body: dict[str, Any] = response.json()
        except httpx.TimeoutException as e:
            raise PlatformError(
                f"Prometheus at {self.url} did not answer within {self._timeout:g} s — is the "
                "stack up? run `sreshow status`"
            ) from e
        except httpx.TransportError as e:
            raise PlatformError(
                f"Prometheus at {self.url} cannot be reached — is the stack up? run "
                "`sreshow status`"
            ) from e
        except ValueError as e:
            raise PlatformError(f"Prometheus at {self.url} answered {path} with non-JSON") from e
        if body.get("status") != "success":
            raise PlatformError(
                f"Prometheus at {self.url} refused {params.get('query', path)!r}: "
                f"{body.get('error', 'unknown error')}"
            )
        data: dict[str, Any] = body["data"]
        return data


def _finite(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) or math.isinf(value) else value


def _unix_time(text: str | None) -> float | None:
    """An RFC 3339 time as Prometheus writes it (nanoseconds, `Z` or an offset); None for
    none or Go's zero time (never evaluated)."""
    match = _RFC3339.fullmatch(text or "")
    if match is None or match["date"].startswith("0001-"):
        return None
    offset = "+00:00" if match["offset"] == "Z" else match["offset"]
    seconds = datetime.fromisoformat(match["date"] + offset).timestamp()
    return seconds + float("0." + (match["fraction"] or "0"))


_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(?P<fraction>\d+))?(?P<offset>Z|[+-]\d\d:\d\d)"
)
