"""An autoscaling/v2 HorizontalPodAutoscaler object (parsed YAML) as an `HpaSpec`,
defaulted as the API server defaults it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sreshow.core.hpa import (
    DEFAULT_METRICS,
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    Behavior,
    HpaSpec,
    MetricTarget,
    ScalingPolicy,
    ScalingRules,
)
from sreshow.core.quantity import milli_value, parse_quantity


def spec_from_manifest(manifest: Mapping[str, Any]) -> HpaSpec:
    """An `HpaSpec` from an autoscaling/v2 HorizontalPodAutoscaler object (parsed YAML),
    defaulted as the API server does (upstream: SetDefaults_HorizontalPodAutoscaler,
    pkg/apis/autoscaling/v2/defaults.go)."""
    spec = manifest["spec"]
    min_replicas = spec.get("minReplicas")
    behavior = spec.get("behavior")
    return HpaSpec(
        max_replicas=int(spec["maxReplicas"]),
        min_replicas=1 if min_replicas is None else int(min_replicas),
        metrics=tuple(_metric(m) for m in spec.get("metrics") or ()) or DEFAULT_METRICS,
        behavior=None
        if behavior is None
        else Behavior(
            scale_up=_rules(behavior.get("scaleUp"), DEFAULT_SCALE_UP),
            scale_down=_rules(behavior.get("scaleDown"), DEFAULT_SCALE_DOWN),
        ),
    )


def _metric(raw: Mapping[str, Any]) -> MetricTarget:
    if raw.get("type") != "Resource":
        raise ValueError(
            f"HPA metric type {raw.get('type')!r} is not supported locally: use Resource"
            " metrics (cpu, memory)"
        )
    name, target = raw["resource"]["name"], raw["resource"]["target"]
    # upstream: computeStatusForResourceMetricGeneric looks at averageValue first.
    if target.get("averageValue") is not None:
        return MetricTarget(name, "AverageValue", milli_value(target["averageValue"]))
    if target.get("averageUtilization") is not None:
        return MetricTarget(name, "Utilization", int(target["averageUtilization"]))
    raise ValueError(
        f"HPA metric {name!r} sets neither averageUtilization nor averageValue in its target"
    )


def _rules(raw: Mapping[str, Any] | None, default: ScalingRules) -> ScalingRules:
    """A missing direction takes all the defaults, a missing field its own."""
    if raw is None:
        return default
    policies = raw.get("policies")
    window = raw.get("stabilizationWindowSeconds")
    tolerance = raw.get("tolerance")
    return ScalingRules(
        policies=default.policies
        if policies is None
        else tuple(
            ScalingPolicy(p["type"], int(p["value"]), float(p["periodSeconds"])) for p in policies
        ),
        select_policy=raw.get("selectPolicy") or default.select_policy,
        stabilization_window_seconds=default.stabilization_window_seconds
        if window is None
        else float(window),
        tolerance=None if tolerance is None else float(parse_quantity(tolerance)),
    )
