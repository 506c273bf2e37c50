"""The Kubernetes HorizontalPodAutoscaler controller (autoscaling/v2), as pure functions.

sreshow's own supervisor autoscales with it, so `spike-load` behaves as it would
on a cluster. Each step follows one upstream function, rule for rule (kubernetes/
kubernetes, pkg/controller/podautoscaler/ unless said otherwise):

1. `group_pods` (groupPods): ignored (deleting, failed), unready (pending; for CPU,
   not ready or measured too soon after becoming ready), missing (no metrics), ready;
2. `metric_replicas` (GetResourceReplicas, calcPlainMetricReplicas): the replicas one
   metric asks for, `ceil(ratio * ready pods)`, nothing within the tolerance, missing
   and unready pods counted against the move;
3. `decide` (reconcileAutoscaler): the largest proposal, stabilised and limited by the
   HPA's behaviour, or without one by the legacy rule (the highest recommendation of
   the downscale window, at most max(2 x current, 4)), then clamped to min/max.

Values are integer milli-units, as the controller's (CPU in millicores, memory in
milli-bytes); utilisation is a whole percentage. Time is plain seconds on one clock,
passed in; the caller keeps the `HpaMemory` between calls, as the controller keeps its
recommendations and scale events between syncs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
DEFAULT_CPU_UTILIZATION = 80  # autoscaling.DefaultCPUUtilization


@dataclass(frozen=True)
class ControllerConfig:
    """The kube-controller-manager's HPA flags, with upstream's defaults (seconds)."""

    sync_period: float = 15.0  # --horizontal-pod-autoscaler-sync-period
    tolerance: float = 0.1  # --horizontal-pod-autoscaler-tolerance
    cpu_initialization_period: float = 300.0  # ...-cpu-initialization-period
    initial_readiness_delay: float = 30.0  # ...-initial-readiness-delay
    downscale_stabilization: float = 300.0  # ...-downscale-stabilization

    def scaled(self, factor: float) -> ControllerConfig:
        """Every duration times `factor` (a demo's time scale); the tolerance as it is."""
        return replace(
            self,
            sync_period=self.sync_period * factor,
            cpu_initialization_period=self.cpu_initialization_period * factor,
            initial_readiness_delay=self.initial_readiness_delay * factor,
            downscale_stabilization=self.downscale_stabilization * factor,
        )


@dataclass(frozen=True)
class MetricTarget:
    """A Resource metric's target: `Utilization` in whole % of the pods' requests, or
    `AverageValue` in milli-units per pod."""

    resource: str
    kind: Literal["Utilization", "AverageValue"]
    value: int


DEFAULT_METRICS = (MetricTarget("cpu", "Utilization", DEFAULT_CPU_UTILIZATION),)


@dataclass(frozen=True)
class ScalingPolicy:
    """`Pods` (add/remove N) or `Percent` (N% of the replicas) per `period_seconds`."""

    kind: Literal["Pods", "Percent"]
    value: int
    period_seconds: float


@dataclass(frozen=True)
class ScalingRules:
    """One direction of `spec.behavior`. A window of None is the API's default for scale-up
    (0) and the controller's downscale stabilisation for scale-down; a tolerance of None
    is the controller's."""

    policies: tuple[ScalingPolicy, ...]
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"
    stabilization_window_seconds: float | None = None
    tolerance: float | None = None


# upstream: GenerateHPAScaleUpRules / GenerateHPAScaleDownRules, autoscaling/v2 defaults.go
DEFAULT_SCALE_UP = ScalingRules(
    (ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15)), "Max", 0.0
)
DEFAULT_SCALE_DOWN = ScalingRules((ScalingPolicy("Percent", 100, 15),), "Max", None)


@dataclass(frozen=True)
class Behavior:
    """`spec.behavior`; a direction the manifest leaves out takes the API's defaults."""

    scale_up: ScalingRules = DEFAULT_SCALE_UP
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN


@dataclass(frozen=True)
class HpaSpec:
    """An HPA's spec after the API's defaulting; `behavior=None` is the legacy path."""

    max_replicas: int
    min_replicas: int = 1
    metrics: tuple[MetricTarget, ...] = DEFAULT_METRICS
    behavior: Behavior | None = None


@dataclass(frozen=True)
class PodUsage:
    """A pod's metrics: milli-units per resource, measured over `window` up to `measured_at`."""

    values: Mapping[str, int]
    measured_at: float
    window: float


@dataclass(frozen=True, kw_only=True)
class PodSample:
    """One pod as groupPods sees it. `ready` is the Ready condition (None: none yet, and
    then `ready_changed_at`, its lastTransitionTime, is ignored); requests in milli-units."""

    name: str
    phase: Literal["Pending", "Running", "Failed"]
    ready: bool | None
    ready_changed_at: float | None
    started_at: float | None
    usage: PodUsage | None
    requests: Mapping[str, int]
    deleting: bool = False


@dataclass(frozen=True)
class HpaMemory:
    """What the controller keeps between syncs: (time, replicas) recommendations, and
    (time, replicas added/removed) scale events."""

    recommendations: tuple[tuple[float, int], ...] = ()
    scale_ups: tuple[tuple[float, int], ...] = ()
    scale_downs: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True)
class HpaDecision:
    """The replica count after a sync and why; `utilization` is each metric's current
    value (whole % for Utilization, milli-units for AverageValue), None if not measured."""

    desired: int
    reason: str
    utilization: Mapping[str, int | None]
    memory: HpaMemory = field(repr=False)
    rescale: bool = False


class MetricUnavailable(Exception):
    """A metric cannot propose a replica count this sync (upstream: an invalid metric)."""


@dataclass(frozen=True)
class Tolerances:
    """How far the usage ratio may stray from 1.0 either way before the count moves."""

    scale_down: float
    scale_up: float

    def within(self, ratio: float) -> bool:
        """upstream: Tolerances.isWithin, replica_calculator.go."""
        return (1.0 - self.scale_down) <= ratio <= (1.0 + self.scale_up)


def tolerances_for(spec: HpaSpec, config: ControllerConfig) -> Tolerances:
    """upstream: tolerancesForHpa, horizontal.go (HPAConfigurableTolerance on)."""
    default = Tolerances(config.tolerance, config.tolerance)
    if spec.behavior is None:
        return default
    down, up = spec.behavior.scale_down.tolerance, spec.behavior.scale_up.tolerance
    return Tolerances(
        default.scale_down if down is None else down, default.scale_up if up is None else up
    )


@dataclass(frozen=True)
class PodGroups:
    """The pods by how the replica calculator counts them for one resource."""

    ready: tuple[PodSample, ...]
    unready: tuple[PodSample, ...]
    missing: tuple[PodSample, ...]
    ignored: tuple[PodSample, ...]


def group_pods(
    pods: Sequence[PodSample], resource: str, now: float, config: ControllerConfig
) -> PodGroups:
    """upstream: groupPods, replica_calculator.go. Readiness matters only for CPU."""
    ready: list[PodSample] = []
    unready: list[PodSample] = []
    missing: list[PodSample] = []
    ignored: list[PodSample] = []
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            ignored.append(pod)
        elif pod.phase == "Pending":
            unready.append(pod)
        elif pod.usage is None or resource not in pod.usage.values:
            missing.append(pod)
        elif resource == "cpu" and _cpu_unready(pod, pod.usage, now, config):
            unready.append(pod)
        else:
            ready.append(pod)
    return PodGroups(tuple(ready), tuple(unready), tuple(missing), tuple(ignored))


def _cpu_unready(pod: PodSample, usage: PodUsage, now: float, config: ControllerConfig) -> bool:
    if pod.ready is None or pod.ready_changed_at is None or pod.started_at is None:
        return True
    if pod.started_at + config.cpu_initialization_period > now:
        # Still initialising: a sample counts once a whole window follows the transition.
        return pod.ready is False or usage.measured_at < pod.ready_changed_at + usage.window
    # Afterwards only a pod that has never been ready is left out.
    return pod.ready is False and pod.started_at + config.initial_readiness_delay > (
        pod.ready_changed_at
    )


def utilization_ratio(
    metrics: Mapping[str, int], requests: Mapping[str, int], target: int
) -> tuple[float, int]:
    """(usage ratio, utilisation truncated to a whole %). upstream:
    GetResourceUtilizationRatio, metrics/utilization.go."""
    counted = [(value, requests[name]) for name, value in metrics.items() if name in requests]
    requests_total = sum(request for _, request in counted)
    if requests_total == 0:
        raise MetricUnavailable("no metrics matched known pods")
    utilization = sum(value for value, _ in counted) * 100 // requests_total
    return utilization / target, utilization


def usage_ratio(metrics: Mapping[str, int], target: int) -> tuple[float, int]:
    """(usage ratio, average milli-value, truncated). upstream: GetMetricUsageRatio."""
    usage = sum(metrics.values()) // len(metrics)
    return usage / target, usage


def metric_replicas(
    metric: MetricTarget,
    current: int,
    pods: Sequence[PodSample],
    *,
    now: float,
    tolerances: Tolerances,
    config: ControllerConfig,
) -> tuple[int, int]:
    """(replicas this metric proposes, its current value); raises MetricUnavailable.

    upstream: GetResourceReplicas (Utilization) and GetRawResourceReplicas →
    calcPlainMetricReplicas (AverageValue), replica_calculator.go.
    """
    if not pods:
        raise MetricUnavailable("no pods to measure")
    groups = group_pods(pods, metric.resource, now, config)
    metrics = {pod.name: _value(pod, metric.resource) for pod in groups.ready}
    if not metrics:
        raise MetricUnavailable("no metrics for any pod yet")
    if metric.kind == "Utilization":
        requests = _requests(pods, metric.resource)
        ratio_of = partial(utilization_ratio, requests=requests, target=metric.value)
        # Missing pods on a scale-down: at their request, or at a target above 100%.
        busy = {p.name: requests[p.name] * max(100, metric.value) // 100 for p in groups.missing}
    else:
        ratio_of = partial(usage_ratio, target=metric.value)
        busy = {p.name: metric.value for p in groups.missing}  # at the target

    ratio, measured = ratio_of(metrics)
    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if tolerances.within(ratio):
            return current, measured
        return math.ceil(ratio * len(groups.ready)), measured

    if groups.missing and ratio < 1.0:
        metrics |= busy
    elif groups.missing and ratio > 1.0:
        metrics |= {pod.name: 0 for pod in groups.missing}
    if scale_up_with_unready:
        metrics |= {pod.name: 0 for pod in groups.unready}
    new_ratio, _ = ratio_of(metrics)
    if tolerances.within(new_ratio) or ratio < 1.0 < new_ratio or new_ratio < 1.0 < ratio:
        return current, measured  # too small a move, or the extra pods reverse it
    replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, measured
    return replicas, measured


def _value(pod: PodSample, resource: str) -> int:
    measured = pod.usage.values if pod.usage else {}
    return measured[resource]  # group_pods counted it as measured


def _requests(pods: Sequence[PodSample], resource: str) -> dict[str, int]:
    """upstream: calculateRequests."""
    for pod in pods:
        if resource not in pod.requests:
            raise MetricUnavailable(f"missing request for {resource} in pod {pod.name}")
    return {pod.name: pod.requests[resource] for pod in pods}


def decide(
    spec: HpaSpec,
    current: int,
    pods: Sequence[PodSample],
    memory: HpaMemory,
    now: float,
    *,
    config: ControllerConfig = ControllerConfig(),
) -> HpaDecision:
    """The replica count the autoscaler sets at `now`, and why.

    upstream: reconcileAutoscaler, horizontal.go.
    """
    if not memory.recommendations:  # recordInitialRecommendation: the first sync
        memory = replace(memory, recommendations=((now, current),))
    unmeasured: dict[str, int | None] = {m.resource: None for m in spec.metrics}
    if current == 0 and spec.min_replicas != 0:
        return HpaDecision(0, "scaling is disabled at zero replicas", unmeasured, memory)
    if current > spec.max_replicas:  # clamps skip the metrics, but are a rescale
        return _rescale(
            spec, memory, now, current, spec.max_replicas, "above maxReplicas", unmeasured
        )
    if current < spec.min_replicas:
        return _rescale(
            spec, memory, now, current, spec.min_replicas, "below minReplicas", unmeasured
        )

    proposed, values, error = _replicas_for_metrics(spec, current, pods, now, config)
    if proposed is None:
        return HpaDecision(current, error, values, memory)
    if spec.behavior is None:
        stabilized, memory = _stabilize(memory, proposed, now, config.downscale_stabilization)
        desired, limit = _limit(spec, current, stabilized)
    else:
        stabilized, memory = _stabilize_with_behavior(
            spec.behavior, memory, current, proposed, now, config
        )
        desired, limit = _limit_with_behavior(spec, spec.behavior, memory, current, stabilized, now)
    if desired == current:
        held = "held by the stabilisation window" if proposed != current else None
        reason = limit or held or "within tolerance of the target"
        return HpaDecision(current, reason, values, memory)
    direction = "above target: scaling up" if desired > current else "below target: scaling down"
    return _rescale(spec, memory, now, current, desired, limit or direction, values)


def _replicas_for_metrics(
    spec: HpaSpec, current: int, pods: Sequence[PodSample], now: float, config: ControllerConfig
) -> tuple[int | None, dict[str, int | None], str]:
    """(largest proposal or None: no rescale, values, why not). upstream:
    computeReplicasForMetrics, horizontal.go."""
    tolerances = tolerances_for(spec, config)
    values: dict[str, int | None] = {}
    proposals: list[int] = []
    errors: list[tuple[str, str]] = []
    for metric in spec.metrics:
        values.setdefault(metric.resource, None)
        try:
            replicas, values[metric.resource] = metric_replicas(
                metric, current, pods, now=now, tolerances=tolerances, config=config
            )
        except MetricUnavailable as e:
            errors.append((metric.resource, str(e)))
            continue
        proposals.append(replicas)
    if len(errors) >= len(spec.metrics):
        return None, values, errors[0][1] if errors else "no metrics to scale on"
    replicas = max(proposals)
    if errors and replicas < current:
        resource, error = errors[0]
        return None, values, f"not scaling down without {resource}: {error}"
    return replicas, values, ""


def _rescale(  # noqa: PLR0917 (the values of one sync)
    spec: HpaSpec,
    memory: HpaMemory,
    now: float,
    current: int,
    desired: int,
    reason: str,
    values: Mapping[str, int | None],
) -> HpaDecision:
    memory = _store_scale_event(spec.behavior, memory, current, desired, now)
    return HpaDecision(desired, reason, values, memory, rescale=True)


def _record(
    entries: tuple[tuple[float, int], ...], outdated: list[int], entry: tuple[float, int]
) -> tuple[tuple[float, int], ...]:
    """Replace the last outdated entry with the new one, or append it (as upstream does)."""
    if not outdated:
        return (*entries, entry)
    at = outdated[-1]
    return (*entries[:at], entry, *entries[at + 1 :])


def _stabilize(memory: HpaMemory, raw: int, now: float, window: float) -> tuple[int, HpaMemory]:
    """The highest recommendation of the window. upstream: stabilizeRecommendation."""
    cutoff = now - window
    entries = memory.recommendations
    recent = [replicas for at, replicas in entries if at >= cutoff]
    outdated = [i for i, (at, _) in enumerate(entries) if at < cutoff]
    recorded = _record(entries, outdated, (now, raw))
    return max([raw, *recent]), replace(memory, recommendations=recorded)


def _stabilize_with_behavior(  # noqa: PLR0917 (the values of one sync)
    behavior: Behavior,
    memory: HpaMemory,
    current: int,
    raw: int,
    now: float,
    config: ControllerConfig,
) -> tuple[int, HpaMemory]:
    """upstream: stabilizeRecommendationWithBehaviors (+ maybeInitScaleDownStabilizationWindow)."""
    up_window = behavior.scale_up.stabilization_window_seconds
    down_window = behavior.scale_down.stabilization_window_seconds
    up_cutoff = now - (0.0 if up_window is None else up_window)
    down_cutoff = now - (config.downscale_stabilization if down_window is None else down_window)
    entries = memory.recommendations
    up = min([raw, *(replicas for at, replicas in entries if at > up_cutoff)])
    down = max([raw, *(replicas for at, replicas in entries if at > down_cutoff)])
    outdated = [i for i, (at, _) in enumerate(entries) if at < up_cutoff and at < down_cutoff]
    recorded = _record(entries, outdated, (now, raw))
    return min(max(current, up), down), replace(memory, recommendations=recorded)


def _limit(spec: HpaSpec, current: int, desired: int) -> tuple[int, str | None]:
    """upstream: convertDesiredReplicasWithRules and calculateScaleUpLimit (no behavior)."""
    scale_up_limit = int(max(2.0 * current, 4.0))
    if spec.max_replicas > scale_up_limit:
        allowed, reason = scale_up_limit, "scale-up rate limit"
    else:
        allowed, reason = spec.max_replicas, "at maxReplicas"
    if desired < spec.min_replicas:
        return spec.min_replicas, "at minReplicas"
    if desired > allowed:
        return allowed, reason
    return desired, None


def _limit_with_behavior(  # noqa: PLR0917 (the values of one sync)
    spec: HpaSpec, behavior: Behavior, memory: HpaMemory, current: int, desired: int, now: float
) -> tuple[int, str | None]:
    """upstream: convertDesiredReplicasWithBehaviorRate."""
    if desired > current:
        limit = max(_policy_limit(behavior.scale_up, memory, current, now, up=True), current)
        if spec.max_replicas > limit:
            allowed, reason = limit, "scale-up rate limit"
        else:
            allowed, reason = spec.max_replicas, "at maxReplicas"
        if desired > allowed:
            return allowed, reason
    elif desired < current:
        limit = min(_policy_limit(behavior.scale_down, memory, current, now, up=False), current)
        if spec.min_replicas < limit:
            allowed, reason = limit, "scale-down rate limit"
        else:
            allowed, reason = spec.min_replicas, "at minReplicas"
        if desired < allowed:
            return allowed, reason
    return desired, None


def _policy_limit(
    rules: ScalingRules, memory: HpaMemory, current: int, now: float, *, up: bool
) -> int:
    """The furthest the policies let the count move now. upstream:
    calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors."""
    if rules.select_policy == "Disabled":
        return current
    proposals = []
    for policy in rules.policies:
        added = _changed_within(memory.scale_ups, policy.period_seconds, now)
        removed = _changed_within(memory.scale_downs, policy.period_seconds, now)
        start = current - added + removed  # the replicas when the period began
        if policy.kind == "Pods":
            proposals.append(start + policy.value if up else start - policy.value)
        elif up:
            proposals.append(math.ceil(start * (1 + policy.value / 100)))
        else:
            proposals.append(int(start * (1 - policy.value / 100)))
    # "Max" picks the policy allowing the biggest change, "Min" the smallest.
    biggest = (rules.select_policy == "Max") == up
    if biggest:
        return max(proposals, default=INT32_MIN)
    return min(proposals, default=INT32_MAX)


def _changed_within(events: tuple[tuple[float, int], ...], period: float, now: float) -> int:
    """upstream: getReplicasChangePerPeriod."""
    return sum(change for at, change in events if at > now - period)


def _store_scale_event(
    behavior: Behavior | None, memory: HpaMemory, previous: int, desired: int, now: float
) -> HpaMemory:
    """upstream: storeScaleEvent (nothing without a behavior) and markScaleEventsOutdated."""
    if behavior is None:
        return memory
    up = desired > previous
    rules, events = (
        (behavior.scale_up, memory.scale_ups) if up else (behavior.scale_down, memory.scale_downs)
    )
    longest = max((policy.period_seconds for policy in rules.policies), default=0.0)
    outdated = [i for i, (at, _) in enumerate(events) if at < now - longest]
    recorded = _record(events, outdated, (now, abs(desired - previous)))
    if up:
        return replace(memory, scale_ups=recorded)
    return replace(memory, scale_downs=recorded)
