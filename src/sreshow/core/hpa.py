"""The Kubernetes HorizontalPodAutoscaler algorithm (autoscaling/v2), as pure functions.

The local platform's supervisor autoscales with it, so `spike-load` behaves as it
would on a cluster. It follows the controller's own steps:

1. per metric, the replica count the pods' average utilisation asks for
   (`ceil(ready pods * utilisation / target)`, nothing within the 10% tolerance,
   missing metrics and unready pods counted against the move);
2. the largest of those, then stabilised: the highest recommendation of the
   scale-down window, the lowest of the scale-up window;
3. limited by the behaviour policies (e.g. +50% per 60 s, -1 pod per 60 s), counted
   from the replica changes made within each policy's period, and by min/max.

Time is plain seconds (any monotonic clock); the caller keeps the `HpaMemory` between
calls, as the controller keeps it between syncs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_TOLERANCE = 0.1


@dataclass(frozen=True)
class ScalingPolicy:
    """`Pods` (add/remove N) or `Percent` (N% of the replicas) per `period_seconds`."""

    kind: Literal["Pods", "Percent"]
    value: int
    period_seconds: float


@dataclass(frozen=True)
class ScalingRules:
    stabilization_window_seconds: float
    policies: tuple[ScalingPolicy, ...]
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"


@dataclass(frozen=True)
class MetricTarget:
    """A resource metric (`cpu`, `memory`) and its target average utilisation in %."""

    resource: str
    average_utilization: float


@dataclass(frozen=True)
class HpaSpec:
    min_replicas: int
    max_replicas: int
    metrics: tuple[MetricTarget, ...]
    scale_up: ScalingRules
    scale_down: ScalingRules
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class PodSample:
    """One pod's resource usage and requests, in the same units per resource."""

    name: str
    ready: bool
    usage: Mapping[str, float] | None  # None: no metrics for this pod yet
    requests: Mapping[str, float]


@dataclass(frozen=True)
class HpaMemory:
    """What the controller remembers between syncs: recommendations and scale events."""

    recommendations: tuple[tuple[float, int], ...] = ()  # (time, replicas)
    scale_ups: tuple[tuple[float, int], ...] = ()  # (time, replicas added)
    scale_downs: tuple[tuple[float, int], ...] = ()  # (time, replicas removed)


@dataclass(frozen=True)
class HpaDecision:
    desired: int
    reason: str
    utilization: Mapping[str, float | None]  # current average utilisation per resource, %
    memory: HpaMemory = field(repr=False)


def metric_replicas(
    current: int, pods: Sequence[PodSample], metric: MetricTarget, tolerance: float
) -> tuple[int, float | None]:
    """Replicas one resource metric asks for, and the measured average utilisation (%).

    The replica calculator's rules: unready pods and pods without metrics are left out
    of the average, then counted against the move (0% when scaling up, 100% of their
    request when scaling down); a move within the tolerance, or one the extra pods
    reverse, keeps the current count.
    """
    resource = metric.resource
    measured = [p for p in pods if p.ready and p.usage is not None and resource in p.usage]
    if not measured:
        return current, None
    missing = [p for p in pods if p.usage is None or resource not in p.usage]
    unready = [p for p in pods if not p.ready and p not in missing]

    usage = sum(_usage(p, resource) for p in measured)
    requested = sum(p.requests[resource] for p in measured)
    utilization = 100 * usage / requested
    ratio = utilization / metric.average_utilization
    if not missing and not unready:
        if abs(ratio - 1) <= tolerance:
            return current, utilization
        return math.ceil(ratio * len(measured)), utilization

    scale_up = ratio > 1
    if scale_up:  # the pods we could not measure are assumed idle
        requested += sum(p.requests[resource] for p in missing + unready)
    else:  # ... or fully busy, whichever argues against the move
        usage += sum(p.requests[resource] for p in missing)
        requested += sum(p.requests[resource] for p in missing)
    new_ratio = 100 * usage / requested / metric.average_utilization
    counted = len(measured) + len(missing) + (len(unready) if scale_up else 0)
    if abs(new_ratio - 1) <= tolerance or (ratio > 1) != (new_ratio > 1):
        return current, utilization
    replicas = math.ceil(new_ratio * counted)
    if (new_ratio < 1 and replicas > current) or (new_ratio > 1 and replicas < current):
        return current, utilization
    return replicas, utilization


def decide(
    spec: HpaSpec, current: int, pods: Sequence[PodSample], memory: HpaMemory, now: float
) -> HpaDecision:
    """The replica count the autoscaler sets now, and why."""
    utilization: dict[str, float | None] = {}
    proposals = []
    for metric in spec.metrics:
        replicas, measured = metric_replicas(current, pods, metric, spec.tolerance)
        utilization[metric.resource] = measured
        proposals.append(replicas)
    if current == 0:  # scaled to zero by hand: the autoscaler stays out of it
        return HpaDecision(0, "scaling is disabled at zero replicas", utilization, memory)
    if current > spec.max_replicas:
        return HpaDecision(spec.max_replicas, "above maxReplicas", utilization, memory)
    if current < spec.min_replicas:
        return HpaDecision(spec.min_replicas, "below minReplicas", utilization, memory)

    raw = max(proposals, default=current)
    stabilized = _stabilize(spec, current, raw, memory, now)
    desired, reason = _limit_rate(spec, current, stabilized, memory, now)
    if stabilized == current != raw:
        reason = "held by the stabilisation window"
    remembered = _remember(spec, memory, now, raw, current, desired)
    return HpaDecision(desired, reason, utilization, remembered)


def _usage(pod: PodSample, resource: str) -> float:
    return pod.usage[resource] if pod.usage else 0.0


def _stabilize(spec: HpaSpec, current: int, raw: int, memory: HpaMemory, now: float) -> int:
    up_cutoff = now - spec.scale_up.stabilization_window_seconds
    down_cutoff = now - spec.scale_down.stabilization_window_seconds
    up, down = raw, raw
    for at, replicas in memory.recommendations:
        if at > up_cutoff:
            up = min(up, replicas)
        if at > down_cutoff:
            down = max(down, replicas)
    return min(max(current, up), down)


def _changed_within(events: tuple[tuple[float, int], ...], period: float, now: float) -> int:
    return sum(change for at, change in events if at > now - period)


def _period_start(memory: HpaMemory, current: int, period: float, now: float) -> int:
    """Replicas at the start of a policy's period: current minus the changes within it."""
    added = _changed_within(memory.scale_ups, period, now)
    removed = _changed_within(memory.scale_downs, period, now)
    return current - added + removed


def _policy_limit(
    rules: ScalingRules, current: int, memory: HpaMemory, now: float, *, up: bool
) -> int:
    """The furthest the behaviour policies let the count move now, in one direction."""
    if rules.select_policy == "Disabled":
        return current
    proposals = []
    for policy in rules.policies:
        start = _period_start(memory, current, policy.period_seconds, now)
        if policy.kind == "Pods":
            proposals.append(start + policy.value if up else start - policy.value)
        elif up:
            proposals.append(math.ceil(start * (1 + policy.value / 100)))
        else:
            proposals.append(int(start * (1 - policy.value / 100)))
    # "Max" selects the policy allowing the biggest change, "Min" the smallest.
    biggest_change = max if up else min
    smallest_change = min if up else max
    pick = smallest_change if rules.select_policy == "Min" else biggest_change
    return pick(proposals, default=current)


def _limit_rate(
    spec: HpaSpec, current: int, desired: int, memory: HpaMemory, now: float
) -> tuple[int, str]:
    if desired > current:
        limit = max(_policy_limit(spec.scale_up, current, memory, now, up=True), current)
        allowed = min(spec.max_replicas, limit)
        if desired > allowed:
            return (
                allowed,
                "at maxReplicas" if limit >= spec.max_replicas else "scale-up rate limit",
            )
        return desired, "above target: scaling up"
    if desired < current:
        limit = min(_policy_limit(spec.scale_down, current, memory, now, up=False), current)
        allowed = max(spec.min_replicas, limit)
        if desired < allowed:
            return (
                allowed,
                "at minReplicas" if limit <= spec.min_replicas else "scale-down rate limit",
            )
        return desired, "below target: scaling down"
    return current, "within tolerance of the target"


def _remember(  # noqa: PLR0917 (one call site, all positional values of one sync)
    spec: HpaSpec, memory: HpaMemory, now: float, raw: int, current: int, desired: int
) -> HpaMemory:
    window = max(
        spec.scale_up.stabilization_window_seconds, spec.scale_down.stabilization_window_seconds
    )
    longest = max(
        (p.period_seconds for p in spec.scale_up.policies + spec.scale_down.policies), default=0
    )
    recommendations = tuple(r for r in memory.recommendations if r[0] > now - window)
    ups = tuple(e for e in memory.scale_ups if e[0] > now - longest)
    downs = tuple(e for e in memory.scale_downs if e[0] > now - longest)
    if desired > current:
        ups += ((now, desired - current),)
    elif desired < current:
        downs += ((now, current - desired),)
    return HpaMemory((*recommendations, (now, raw)), ups, downs)


def spec_from_manifest(manifest: Mapping[str, Any]) -> HpaSpec:
    """An `HpaSpec` from an autoscaling/v2 HorizontalPodAutoscaler object (parsed YAML)."""
    spec = manifest["spec"]
    behavior = spec.get("behavior") or {}
    metrics = tuple(
        MetricTarget(m["resource"]["name"], float(m["resource"]["target"]["averageUtilization"]))
        for m in spec.get("metrics") or []
        if m.get("type") == "Resource"
    )
    return HpaSpec(
        min_replicas=int(spec.get("minReplicas", 1)),
        max_replicas=int(spec["maxReplicas"]),
        metrics=metrics,
        scale_up=_rules(behavior.get("scaleUp"), default_window=0, up=True),
        scale_down=_rules(behavior.get("scaleDown"), default_window=300, up=False),
    )


def _rules(raw: Mapping[str, Any] | None, *, default_window: float, up: bool) -> ScalingRules:
    raw = raw or {}
    # Kubernetes' defaults when a direction sets no policies.
    default_policies = (
        (ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15))
        if up
        else (ScalingPolicy("Percent", 100, 15),)
    )
    policies = tuple(
        ScalingPolicy(p["type"], int(p["value"]), float(p["periodSeconds"]))
        for p in raw.get("policies") or []
    )
    return ScalingRules(
        stabilization_window_seconds=float(raw.get("stabilizationWindowSeconds", default_window)),
        policies=policies or default_policies,
        select_policy=raw.get("selectPolicy", "Max"),
    )
