"""The HPA controller on plain values: one test per upstream rule, each naming the
kubernetes/kubernetes function it follows (pkg/controller/podautoscaler/ unless said
otherwise), plus the Kubernetes documentation's examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sreshow.core.hpa import (
    DEFAULT_METRICS,
    DEFAULT_SCALE_UP,
    Behavior,
    ControllerConfig,
    HpaMemory,
    HpaSpec,
    MetricTarget,
    PodSample,
    PodUsage,
    ScalingPolicy,
    ScalingRules,
    Tolerances,
    decide,
    group_pods,
    metric_replicas,
    tolerances_for,
    usage_ratio,
    utilization_ratio,
)
from sreshow.core.hpa_manifest import spec_from_manifest
from sreshow.core.quantity import milli_value

ROOT = Path(__file__).resolve().parents[2]
MI = 1024 * 1024
MEMORY_REQUEST = 128 * MI * 1000  # 128Mi in milli-bytes
REQUESTS = {"cpu": 100, "memory": MEMORY_REQUEST}  # the Deployment's, in milli-units
LONG_AGO = -3600.0  # started, and ready, well before the CPU initialisation period
CPU_50 = MetricTarget("cpu", "Utilization", 50)
MEMORY_80 = MetricTarget("memory", "Utilization", 80)
# No stabilisation, and rate limits too wide to matter: the metric alone decides.
FAST = Behavior(
    ScalingRules((ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)), "Max", 0),
    ScalingRules((ScalingPolicy("Percent", 100, 15),), "Max", 0),
)
TOLERANCE = Tolerances(0.1, 0.1)


def pod(
    name: str = "p",
    cpu: int | None = 10,
    memory: int | None = MEMORY_REQUEST // 10,
    *,
    phase: Any = "Running",
    ready: bool | None = True,
    ready_changed_at: float | None = LONG_AGO,
    started_at: float | None = LONG_AGO,
    measured_at: float = 0.0,
    window: float = 30.0,
    deleting: bool = False,
    requests: dict[str, int] | None = None,
) -> PodSample:
    """A pod using `cpu` millicores and `memory` milli-bytes (None: no such metric)."""
    values = {k: v for k, v in {"cpu": cpu, "memory": memory}.items() if v is not None}
    return PodSample(
        name=name,
        phase=phase,
        ready=ready,
        ready_changed_at=ready_changed_at,
        started_at=started_at,
        usage=PodUsage(values, measured_at, window) if values else None,
        requests=REQUESTS if requests is None else requests,
        deleting=deleting,
    )


def pods(count: int, cpu: int | None, **kwargs: Any) -> list[PodSample]:
    prefix = kwargs.pop("prefix", "p")
    return [pod(f"{prefix}{i}", cpu, **kwargs) for i in range(count)]


def missing(count: int) -> list[PodSample]:
    """Running pods the metrics API has nothing for yet."""
    return pods(count, None, memory=None, prefix="m")


def proposal(metric: MetricTarget, current: int, sample: list[PodSample]) -> tuple[int, int]:
    return metric_replicas(
        metric, current, sample, now=0.0, tolerances=TOLERANCE, config=ControllerConfig()
    )


def spec(**overrides: Any) -> HpaSpec:
    values: dict[str, Any] = {"max_replicas": 100, "metrics": (CPU_50,), "behavior": FAST}
    return HpaSpec(**(values | overrides))


def shipped() -> HpaSpec:
    return spec_from_manifest(yaml.safe_load((ROOT / "manifests/app/hpa.yaml").read_text()))


def manifest(spec_text: str) -> HpaSpec:
    body = yaml.safe_load(spec_text)
    return spec_from_manifest({"apiVersion": "autoscaling/v2", "spec": body})


# --- the replica calculator ------------------------------------------------------------


def test_utilization_is_truncated_to_a_whole_percent() -> None:
    """upstream: GetResourceUtilizationRatio, metrics/utilization.go —
    int32((metricsTotal * 100) / requestsTotal), then the ratio to the target."""
    assert utilization_ratio({"a": 119}, {"a": 1000}, 10) == (1.1, 11)  # 11.9% → 11%
    assert utilization_ratio({"a": 1099, "b": 1100}, {"a": 1000, "b": 1000}, 100) == (1.09, 109)
    # 11.9% of a 10% target would be 1.19, a move; truncated to 11% it is within 1.1.
    cpu_10 = MetricTarget("cpu", "Utilization", 10)
    assert proposal(cpu_10, 4, pods(4, 119, requests={"cpu": 1000})) == (4, 11)
    assert proposal(cpu_10, 4, pods(4, 120, requests={"cpu": 1000})) == (5, 12)


def test_average_value_is_truncated_to_a_whole_milli_unit() -> None:
    """upstream: GetMetricUsageRatio, metrics/utilization.go — metricsTotal / len (integers)."""
    assert usage_ratio({"a": 10, "b": 11}, 10) == (1.0, 10)
    assert usage_ratio({"a": 25, "b": 26}, 50) == (0.5, 25)


@pytest.mark.parametrize(
    ("usage", "cpu_request", "expected"),
    [
        (89, 100, 9),  # 0.89: below 1 - 0.1, ceil(8.9)
        (90, 100, 10),  # exactly 1 - 0.1: within
        (110, 100, 10),  # exactly 1 + 0.1: within (110% of the target does not scale)
        (1109, 1000, 10),  # 110.9% truncates to 110%: within
        (111, 100, 12),  # 111%: ceil(11.1)
    ],
)
def test_the_tolerance_is_an_inclusive_band(usage: int, cpu_request: int, expected: int) -> None:
    """upstream: Tolerances.isWithin, replica_calculator.go —
    (1.0-scaleDown) <= ratio && ratio <= (1.0+scaleUp), in float64."""
    assert 1.0 + 0.1 == 1.1  # so 110/100 is on the edge, inside
    assert 1.0 - 0.1 == 0.9
    target = MetricTarget("cpu", "Utilization", 100)
    assert proposal(target, 10, pods(10, usage, requests={"cpu": cpu_request}))[0] == expected


def test_scale_up_and_scale_down_tolerances_come_from_the_behavior() -> None:
    """upstream: tolerancesForHpa, horizontal.go (HPAConfigurableTolerance, on in 1.35)."""
    autoscaler = manifest(
        """
        maxReplicas: 20
        metrics:
          - type: Resource
            resource: {name: cpu, target: {type: Utilization, averageUtilization: 100}}
        behavior:
          scaleUp: {tolerance: "0.05"}
          scaleDown: {tolerance: 0.2, stabilizationWindowSeconds: 0}
        """
    )
    assert tolerances_for(autoscaler, ControllerConfig()) == Tolerances(0.2, 0.05)
    assert autoscaler.behavior is not None
    assert autoscaler.behavior.scale_up.policies == DEFAULT_SCALE_UP.policies

    up = decide(autoscaler, 10, pods(10, 106), HpaMemory(), now=0)
    assert (up.desired, up.reason) == (11, "above target: scaling up")  # 1.06 > 1.05
    held = decide(autoscaler, 10, pods(10, 81), HpaMemory(), now=0)
    assert (held.desired, held.reason) == (10, "within tolerance of the target")  # 0.81 >= 0.8
    down = decide(autoscaler, 10, pods(10, 79), HpaMemory(), now=0)
    assert (down.desired, down.reason) == (8, "below target: scaling down")
    # Without a behavior both are the controller's 0.1: 106% does not move.
    legacy = HpaSpec(max_replicas=20, metrics=autoscaler.metrics)
    assert decide(legacy, 10, pods(10, 106), HpaMemory(), now=0).desired == 10


def test_twice_the_target_doubles_and_half_halves() -> None:
    """upstream: GetResourceReplicas — ceil(ratio * readyPodCount). From the docs: "if the
    current metric value is 200m, and the desired value is 100m, the number of replicas
    will be doubled ... if the current value is instead 50m, you'll halve"."""
    assert proposal(CPU_50, 4, pods(4, 100)) == (8, 100)
    assert proposal(CPU_50, 4, pods(4, 25)) == (2, 25)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # 10% asks to shrink; the two missing pods at 100% of their request make it 55%:
        # within 1.1 of the target, and the other way: no scale-down.
        (50, 4),
        # 0% asks to shrink; the three missing pods at 150% (the target, above 100%)
        # make it 112%, 0.75 of the target: ceil(0.75 x 4) = 3 (at 100% it would be 2).
        (150, 3),
    ],
)
def test_missing_pods_count_at_their_request_or_a_higher_target_on_a_scale_down(
    target: int, expected: int
) -> None:
    """upstream: GetResourceReplicas — missing pods on a scale-down count as
    requests * max(100, targetUtilization) / 100."""
    measured = pods(2, 10) if target == 50 else pods(1, 0)
    sample = measured + missing(4 - len(measured))
    assert proposal(MetricTarget("cpu", "Utilization", target), 4, sample)[0] == expected


def test_missing_and_unready_pods_are_assumed_idle_on_a_scale_up() -> None:
    """upstream: GetResourceReplicas — on a scale-up missing and unready pods count as 0."""
    # Ready pods at 100% (ratio 2) alone would ask for 4; with two never-ready pods at 0%
    # the ratio is 1.0 over four pods: nothing to do.
    never_ready = pods(2, 80, ready=False, prefix="u")
    assert proposal(CPU_50, 4, pods(2, 100) + never_ready)[0] == 4
    assert proposal(CPU_50, 4, pods(2, 100) + missing(2))[0] == 4
    assert proposal(CPU_50, 2, pods(2, 100))[0] == 4


def test_a_pending_pod_is_unready_whatever_its_metrics() -> None:
    """upstream: groupPods — phase Pending → unready, before metrics and for every resource;
    on a scale-up it then counts as 0 (GetResourceReplicas, scaleUpWithUnready)."""
    pending = pod("pending", 100, MEMORY_REQUEST * 8 // 5, phase="Pending")
    # CPU: 2 pods at 100%, twice the 50% target; the pending one at 0: 66% → ceil(1.32 x 3)
    # = 4 (counted with its 100m it would be 6).
    assert proposal(CPU_50, 3, [*pods(2, 100), pending]) == (4, 100)
    # Memory ignores readiness, not the phase: 160% of 80% → 106% → ceil(1.325 x 3) = 4.
    busy = pods(2, 10, memory=MEMORY_REQUEST * 8 // 5)
    assert proposal(MEMORY_80, 3, [*busy, pending]) == (4, 160)


NOW = 0.0


@pytest.mark.parametrize(
    ("overrides", "group"),
    [
        ({"ready": None, "ready_changed_at": None}, "unready"),  # no Ready condition
        ({"started_at": None}, "unready"),  # no start time
        # Within the CPU initialisation period (5 min since start):
        ({"started_at": -100.0, "ready_changed_at": -60.0}, "ready"),  # a window after ready
        ({"started_at": -100.0, "ready_changed_at": -20.0}, "unready"),  # measured too soon
        ({"started_at": -100.0, "ready": False, "ready_changed_at": -90.0}, "unready"),
        # After it: left out only if not ready and never been ready (readiness delay 30 s).
        ({"started_at": -1000.0, "ready": False, "ready_changed_at": -990.0}, "unready"),
        ({"started_at": -1000.0, "ready": False, "ready_changed_at": -500.0}, "ready"),
        ({"started_at": -1000.0, "ready_changed_at": -999.0}, "ready"),
        ({"phase": "Pending"}, "unready"),
        ({"phase": "Failed"}, "ignored"),
        ({"deleting": True}, "ignored"),
        ({"cpu": None, "memory": None}, "missing"),
    ],
)
def test_cpu_pods_are_grouped_by_phase_readiness_and_metrics(
    overrides: dict[str, Any], group: str
) -> None:
    """upstream: groupPods, replica_calculator.go (cpuInitializationPeriod 5 min,
    delayOfInitialReadinessStatus 30 s; the metrics measured at NOW over a 30 s window)."""
    groups = group_pods([pod("p", **overrides)], "cpu", NOW, ControllerConfig())
    assert [name for name in vars(groups) if getattr(groups, name)] == [group]


def test_memory_counts_a_running_pod_that_is_not_ready() -> None:
    """upstream: groupPods — the readiness rules apply to the cpu resource only."""
    not_ready = pod("u", 100, MEMORY_REQUEST * 8 // 5, ready=False)
    sample = [pod("r", 100, MEMORY_REQUEST * 8 // 5), not_ready]
    assert group_pods(sample, "memory", NOW, ControllerConfig()).ready == tuple(sample)
    # Memory at 160% of 80% over both pods: 4. CPU at 200% of 50% over the ready pod,
    # the unready one at 0%: 100% → within.
    assert decide(spec(metrics=(MEMORY_80,)), 2, sample, HpaMemory(), now=0).desired == 4
    assert decide(spec(), 2, sample, HpaMemory(), now=0).desired == 2


def test_deleting_and_failed_pods_are_left_out_entirely() -> None:
    """upstream: groupPods — DeletionTimestamp set or phase Failed → ignored, not missing."""
    gone = [pod("gone", None, None, deleting=True), pod("dead", None, None, phase="Failed")]
    # Counted as missing they would hold the scale-down (at 100%); ignored, 10% of a 50%
    # target over the two live pods asks for ceil(0.2 x 2) = 1.
    assert proposal(CPU_50, 4, pods(2, 10) + gone) == (1, 10)


def test_average_value_targets_for_cpu_and_memory() -> None:
    """upstream: computeStatusForResourceMetricGeneric (target.averageValue) →
    GetRawResourceReplicas → calcPlainMetricReplicas; Quantity.MilliValue."""
    autoscaler = manifest(
        """
        maxReplicas: 10
        metrics:
          - type: Resource
            resource: {name: cpu, target: {type: AverageValue, averageValue: 50m}}
          - type: Resource
            resource: {name: memory, target: {type: AverageValue, averageValue: 100Mi}}
        """
    )
    cpu, memory = autoscaler.metrics
    assert cpu == MetricTarget("cpu", "AverageValue", 50)
    assert memory == MetricTarget("memory", "AverageValue", 100 * MI * 1000)
    # CPU at 100m of 50m asks for 4; memory at 50Mi of 100Mi for 1: the larger wins.
    decision = decide(autoscaler, 2, pods(2, 100, memory=50 * MI * 1000), HpaMemory(), now=0)
    assert decision.desired == 4
    assert decision.utilization == {"cpu": 100, "memory": 50 * MI * 1000}
    # On a scale-down a missing pod counts at exactly the target: (0 + 3 x 50) / 4 = 37
    # → 0.74 → ceil(2.96) = 3.
    assert proposal(cpu, 4, pods(1, 0) + missing(3)) == (3, 0)


@pytest.mark.parametrize(
    ("quantity", "milli"),
    [
        ("50m", 50),
        ("100Mi", 100 * MI * 1000),
        ("128Mi", MEMORY_REQUEST),
        ("1", 1000),
        (2, 2000),
        ("0.5", 500),
        (0.05, 50),
        ("1.5k", 1_500_000),
        ("1G", 10**12),
        ("2Gi", 2 * 1024**3 * 1000),
        ("1e3", 1_000_000),
        ("0.1m", 1),  # rounded up, as MilliValue does
    ],
)
def test_kubernetes_quantities_in_milli_units(quantity: str | float, milli: int) -> None:
    """upstream: resource.Quantity parsing and MilliValue (apimachinery)."""
    assert milli_value(quantity) == milli


def test_an_unknown_quantity_says_what_it_expected() -> None:
    with pytest.raises(ValueError, match=r"'12 cores' is not a Kubernetes quantity"):
        milli_value("12 cores")


# --- the controller --------------------------------------------------------------------


def test_the_largest_metric_wins() -> None:
    """upstream: computeReplicasForMetrics, horizontal.go — the largest valid proposal."""
    sample = pods(2, 10, memory=MEMORY_REQUEST * 5 // 4)
    decision = decide(spec(metrics=(CPU_50, MEMORY_80)), 2, sample, HpaMemory(), now=0)
    assert decision.desired == 4  # memory at 125% vs 80%: ceil(2 x 1.5625)
    assert decision.utilization == {"cpu": 10, "memory": 125}


def test_an_invalid_metric_blocks_a_scale_down_but_not_a_scale_up() -> None:
    """upstream: computeReplicasForMetrics — invalidMetricsCount > 0 && replicas <
    specReplicas is an error: no rescale, no recommendation recorded."""
    both = spec(metrics=(CPU_50, MEMORY_80))
    down = decide(both, 4, pods(4, 1, memory=None), HpaMemory(), now=0)
    assert (down.desired, down.rescale) == (4, False)
    assert down.reason == "not scaling down without memory: no metrics for any pod yet"
    assert down.utilization == {"cpu": 1, "memory": None}
    assert down.memory.recommendations == ((0, 4),)  # the first sync's seed only
    up = decide(both, 4, pods(4, 100, memory=None), HpaMemory(), now=0)
    assert (up.desired, up.rescale) == (8, True)


def test_no_metrics_for_any_pod_is_no_rescale() -> None:
    """upstream: GetResourceReplicas — "did not receive metrics for targeted pods (pods
    might be unready)"; every metric invalid → computeReplicasForMetrics fails."""
    decision = decide(spec(), 2, missing(2), HpaMemory(), now=0)
    assert (decision.desired, decision.reason) == (2, "no metrics for any pod yet")
    assert not decision.rescale
    unready = pods(2, 100, ready=False)
    assert decide(spec(), 2, unready, HpaMemory(), now=0).reason == "no metrics for any pod yet"


def test_scaling_is_disabled_at_zero_replicas() -> None:
    """upstream: reconcileAutoscaler — currentReplicas == 0 && minReplicas != 0 →
    ScalingDisabled, no rescale (the first sync's recommendation is still seeded)."""
    decision = decide(spec(), 0, [], HpaMemory(), now=0)
    assert (decision.desired, decision.reason, decision.rescale) == (
        0,
        "scaling is disabled at zero replicas",
        False,
    )
    assert decision.memory.recommendations == ((0, 0),)


def test_the_first_sync_is_seeded_so_a_scale_down_waits_for_the_window() -> None:
    """upstream: recordInitialRecommendation, horizontal.go — recommendations start as
    [{currentReplicas, now}], so a fresh controller cannot shrink within the window."""
    window = Behavior(FAST.scale_up, ScalingRules((ScalingPolicy("Percent", 100, 15),), "Max", 300))
    autoscaler = spec(behavior=window)
    first = decide(autoscaler, 6, pods(6, 1), HpaMemory(), now=0)  # idle: asks for 1
    assert (first.desired, first.reason) == (6, "held by the stabilisation window")
    assert first.memory.recommendations == ((0, 6), (0, 1))
    held = decide(autoscaler, 6, pods(6, 1), first.memory, now=299)
    assert held.desired == 6
    released = decide(autoscaler, 6, pods(6, 1), held.memory, now=301)
    assert (released.desired, released.reason) == (1, "below target: scaling down")


def test_without_behavior_scale_up_is_at_most_twice_or_four() -> None:
    """upstream: normalizeDesiredReplicas → convertDesiredReplicasWithRules,
    calculateScaleUpLimit = max(2 x current, 4); storeScaleEvent keeps nothing."""
    legacy = spec(behavior=None)
    one = decide(legacy, 1, pods(1, 500), HpaMemory(), now=0)  # asks for 10
    assert (one.desired, one.reason) == (4, "scale-up rate limit")
    assert one.memory.scale_ups == ()
    three = decide(legacy, 3, pods(3, 500), HpaMemory(), now=0)  # asks for 30
    assert (three.desired, three.reason) == (6, "scale-up rate limit")
    capped = decide(spec(behavior=None, max_replicas=5), 3, pods(3, 500), HpaMemory(), now=0)
    assert (capped.desired, capped.reason) == (5, "at maxReplicas")


def test_without_behavior_scale_down_waits_five_minutes_then_goes_all_the_way() -> None:
    """upstream: stabilizeRecommendation — the highest recommendation not older than
    --horizontal-pod-autoscaler-downscale-stabilization (5 min); no scale-down rate."""
    legacy = spec(behavior=None)
    memory = decide(legacy, 8, pods(8, 50), HpaMemory(), now=0).memory  # at target: 8
    held = decide(legacy, 8, pods(8, 1), memory, now=60)  # idle: asks for 1
    assert (held.desired, held.reason) == (8, "held by the stabilisation window")
    edge = decide(legacy, 8, pods(8, 1), held.memory, now=300)  # t=0 is not yet before
    assert edge.desired == 8
    down = decide(legacy, 8, pods(8, 1), edge.memory, now=301)
    assert (down.desired, down.reason) == (1, "below target: scaling down")
    quick = ControllerConfig(downscale_stabilization=30)
    assert decide(legacy, 8, pods(8, 1), memory, now=31, config=quick).desired == 1


def test_a_clamp_to_min_or_max_is_a_scale_event() -> None:
    """upstream: reconcileAutoscaler — "Current number of replicas below Spec.MinReplicas"
    / "above Spec.MaxReplicas" rescale without metrics, and storeScaleEvent records them,
    so they count against the next scale-up policy period."""
    two_per_minute = Behavior(ScalingRules((ScalingPolicy("Pods", 2, 60),), "Max", 0))
    autoscaler = spec(min_replicas=4, max_replicas=10, behavior=two_per_minute)
    raised = decide(autoscaler, 2, pods(2, 100), HpaMemory(), now=0)
    assert (raised.desired, raised.reason, raised.rescale) == (4, "below minReplicas", True)
    assert raised.utilization == {"cpu": None}
    assert raised.memory.scale_ups == ((0, 2),)
    # Busy (8 wanted), but +2 per 60 s from the 2 the period started with is 4 already.
    held = decide(autoscaler, 4, pods(4, 100), raised.memory, now=30)
    assert (held.desired, held.reason, held.rescale) == (4, "scale-up rate limit", False)
    later = decide(autoscaler, 4, pods(4, 100), held.memory, now=61)
    assert later.desired == 6

    lowered = decide(autoscaler, 12, pods(12, 50), HpaMemory(), now=0)
    assert (lowered.desired, lowered.reason) == (10, "above maxReplicas")
    assert lowered.memory.scale_downs == ((0, 2),)
    legacy = decide(spec(min_replicas=4, behavior=None), 2, pods(2, 100), HpaMemory(), now=0)
    assert (legacy.desired, legacy.memory.scale_ups) == (4, ())


def test_an_autoscaler_without_metrics_scales_on_cpu_at_80_percent() -> None:
    """upstream: SetDefaults_HorizontalPodAutoscaler, pkg/apis/autoscaling/v2/defaults.go —
    minReplicas 1 and one Resource cpu Utilization 80 metric; behavior stays nil."""
    autoscaler = manifest("maxReplicas: 10")
    assert autoscaler == HpaSpec(max_replicas=10, min_replicas=1, metrics=DEFAULT_METRICS)
    assert autoscaler.metrics == (MetricTarget("cpu", "Utilization", 80),)
    busy = decide(autoscaler, 2, pods(2, 160), HpaMemory(), now=0)  # 160% of 80%
    assert (busy.desired, busy.reason) == (4, "above target: scaling up")
    assert decide(autoscaler, 2, pods(2, 88), HpaMemory(), now=0).desired == 2  # 110%


def test_a_direction_without_rules_takes_the_defaults_and_the_controller_window() -> None:
    """upstream: GenerateHPAScaleUpRules / GenerateHPAScaleDownRules (v2 defaults.go) and
    maybeInitScaleDownStabilizationWindow: no scale-down window → the controller's flag."""
    autoscaler = manifest(
        """
        maxReplicas: 10
        behavior:
          scaleDown:
            policies: [{type: Pods, value: 1, periodSeconds: 60}]
        """
    )
    assert autoscaler.behavior == Behavior(
        DEFAULT_SCALE_UP, ScalingRules((ScalingPolicy("Pods", 1, 60),), "Max", None)
    )
    idle = pods(4, 1)
    memory = decide(autoscaler, 4, idle, HpaMemory(), now=0).memory
    assert decide(autoscaler, 4, idle, memory, now=61).desired == 4  # 5 min by default
    one_minute = ControllerConfig(downscale_stabilization=60)
    assert decide(autoscaler, 4, idle, memory, now=61, config=one_minute).desired == 3


def test_a_scale_up_window_takes_the_lowest_recent_recommendation() -> None:
    """upstream: stabilizeRecommendationWithBehaviors — min of the recommendations after
    upCutoff, max after downCutoff, the current count clamped between them."""
    rules = Behavior(ScalingRules(DEFAULT_SCALE_UP.policies, "Max", 60), FAST.scale_down)
    autoscaler = spec(behavior=rules)
    memory = decide(autoscaler, 4, pods(4, 50), HpaMemory(), now=0).memory  # at target
    held = decide(autoscaler, 4, pods(4, 100), memory, now=30)  # asks for 8
    assert (held.desired, held.reason) == (4, "held by the stabilisation window")
    assert decide(autoscaler, 4, pods(4, 100), held.memory, now=61).desired == 8


@pytest.mark.parametrize(
    ("select", "expected", "reason"),
    [
        ("Max", 20, "scale-up rate limit"),  # the larger of +4 pods and +100%
        ("Min", 14, "scale-up rate limit"),  # the smaller
        ("Disabled", 10, "scale-up rate limit"),  # no scale-up at all
    ],
)
def test_select_policy_picks_among_the_scale_up_policies(
    select: Any, expected: int, reason: str
) -> None:
    """upstream: calculateScaleUpLimitWithScalingRules and
    convertDesiredReplicasWithBehaviorRate (ScaleUpLimit)."""
    up = ScalingRules(DEFAULT_SCALE_UP.policies, select, 0)
    decision = decide(spec(behavior=Behavior(up)), 10, pods(10, 500), HpaMemory(), now=0)
    assert (decision.desired, decision.reason) == (expected, reason)


def test_docs_scale_down_example_percent_policy_per_period() -> None:
    """upstream: calculateScaleDownLimitWithBehaviors — Percent truncates, int32(start x
    (1 - v/100)). The docs' example: Pods 4 / Percent 10 per 60 s, selectPolicy Max: from
    80 replicas, 8 go first; at 72 the 10% (7.2) still removes 8."""
    rules = ScalingRules((ScalingPolicy("Pods", 4, 60), ScalingPolicy("Percent", 10, 60)), "Max", 0)
    autoscaler = spec(behavior=Behavior(FAST.scale_up, rules), min_replicas=10)
    first = decide(autoscaler, 80, pods(80, 1), HpaMemory(), now=0)
    assert first.desired == 72
    held = decide(autoscaler, 72, pods(72, 1), first.memory, now=30)
    assert (held.desired, held.reason) == (72, "scale-down rate limit")
    second = decide(autoscaler, 72, pods(72, 1), first.memory, now=61)
    assert second.desired == 64


def test_the_shipped_autoscaler_scales_up_by_half_per_minute_to_max() -> None:
    """upstream: calculateScaleUpLimitWithScalingRules — Percent rounds up,
    ceil(periodStart x 1.5), periodStart = current - added within the period."""
    autoscaler = shipped()
    assert (autoscaler.min_replicas, autoscaler.max_replicas) == (2, 10)
    memory, replicas, seen = HpaMemory(), 2, []
    for now in range(0, 301, 30):
        decision = decide(autoscaler, replicas, pods(replicas, 40), memory, now)  # 4x target
        replicas, memory = decision.desired, decision.memory
        seen.append(replicas)
    # 2 → 3 → 5 → 8 → 10 (maxReplicas), one step per minute.
    assert seen == [3, 3, 5, 5, 8, 8, 10, 10, 10, 10, 10]


def test_the_shipped_autoscaler_waits_300s_then_removes_one_pod_per_minute() -> None:
    """upstream: stabilizeRecommendationWithBehaviors (300 s scale-down window) and
    calculateScaleDownLimitWithBehaviors (Pods 1 per 60 s)."""
    autoscaler = shipped()
    memory = decide(autoscaler, 6, pods(6, 10), HpaMemory(), now=0).memory  # at target
    replicas, seen = 6, []
    for now in range(30, 631, 60):
        decision = decide(autoscaler, replicas, pods(replicas, 1), memory, now)
        replicas, memory = decision.desired, decision.memory
        seen.append((now, replicas))
    # The 6-replica recommendations at t=0 hold the count until they leave the window;
    # then one pod per 60 s down to minReplicas.
    assert seen == [
        (30, 6), (90, 6), (150, 6), (210, 6), (270, 6),
        (330, 5), (390, 4), (450, 3), (510, 2), (570, 2), (630, 2),
    ]  # fmt: skip


def test_controller_flags_scale_with_the_demo_clock() -> None:
    """upstream: the kube-controller-manager's HPA flags and their defaults
    (pkg/controller/podautoscaler/config/v1alpha1/defaults.go)."""
    assert ControllerConfig() == ControllerConfig(15, 0.1, 300, 30, 300)
    assert ControllerConfig().scaled(0.1) == ControllerConfig(1.5, 0.1, 30, 3, 30)


def test_metrics_other_than_resource_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"HPA metric type 'Pods' is not supported locally"):
        manifest("{maxReplicas: 3, metrics: [{type: Pods, pods: {}}]}")
