"""The HPA algorithm on plain values, including the Kubernetes documentation's examples."""

from __future__ import annotations

from pathlib import Path

import yaml

from sreshow.core.hpa import (
    HpaMemory,
    HpaSpec,
    MetricTarget,
    PodSample,
    ScalingPolicy,
    ScalingRules,
    decide,
    metric_replicas,
    spec_from_manifest,
)

ROOT = Path(__file__).resolve().parents[2]
CPU_50 = MetricTarget("cpu", 50)
FAST = ScalingRules(0, (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)))


def pods(count: int, cpu: float | None, *, ready: bool = True) -> list[PodSample]:
    """`count` pods at `cpu` millicores of a 100m request; memory at 10% of its 128Mi."""
    usage = None if cpu is None else {"cpu": cpu, "memory": 12.8}
    return [PodSample(f"p{i}", ready, usage, {"cpu": 100, "memory": 128}) for i in range(count)]


def spec(**overrides: object) -> HpaSpec:
    values: dict[str, object] = {
        "min_replicas": 1,
        "max_replicas": 100,
        "metrics": (CPU_50,),
        "scale_up": FAST,
        "scale_down": ScalingRules(0, (ScalingPolicy("Percent", 100, 15),)),
    }
    return HpaSpec(**(values | overrides))  # type: ignore[arg-type]


def test_twice_the_target_doubles_and_half_halves() -> None:
    # "if the current metric value is 200m, and the desired value is 100m, the number of
    # replicas will be doubled ... if the current value is instead 50m, you'll halve"
    assert metric_replicas(4, pods(4, 100), CPU_50, 0.1) == (8, 100)
    assert metric_replicas(4, pods(4, 25), CPU_50, 0.1) == (2, 25)


def test_within_the_tolerance_nothing_moves() -> None:
    assert metric_replicas(4, pods(4, 54), CPU_50, 0.1)[0] == 4  # ratio 1.08
    assert metric_replicas(4, pods(4, 46), CPU_50, 0.1)[0] == 4  # ratio 0.92
    assert metric_replicas(4, pods(4, 56), CPU_50, 0.1)[0] == 5  # ratio 1.12


def test_pods_without_metrics_count_against_a_scale_down() -> None:
    # Two idle pods ask to halve; two pods without metrics are assumed at 100% of their
    # request, which turns the ratio above 1: no scale-down.
    sample = pods(2, 10) + pods(2, None)
    assert metric_replicas(4, sample, CPU_50, 0.1)[0] == 4


def test_unready_pods_are_assumed_idle_when_scaling_up() -> None:
    # Ready pods at 100% (ratio 2) alone would ask for 4; with two unready pods counted at
    # 0% the ratio is 1.0 over four pods: nothing to do.
    sample = pods(2, 100) + pods(2, 80, ready=False)
    assert metric_replicas(4, sample, CPU_50, 0.1)[0] == 4
    assert metric_replicas(2, pods(2, 100), CPU_50, 0.1)[0] == 4


def test_the_largest_metric_wins() -> None:
    memory_metric = MetricTarget("memory", 80)
    usage, requests = {"cpu": 10, "memory": 160}, {"cpu": 100, "memory": 128}
    sample = [PodSample(f"p{i}", True, usage, requests) for i in range(2)]
    decision = decide(spec(metrics=(CPU_50, memory_metric)), 2, sample, HpaMemory(), now=0)
    assert decision.desired == 4  # memory at 125% of request vs 80% target: ceil(2 * 1.5625)
    assert decision.utilization == {"cpu": 10, "memory": 125}


def test_docs_scale_down_example_percent_policy_per_period() -> None:
    # Pods 4 / Percent 10 per 60 s, selectPolicy Max: from 80 replicas, 8 go first; at 72
    # the 10% (7.2) still removes 8.
    rules = ScalingRules(0, (ScalingPolicy("Pods", 4, 60), ScalingPolicy("Percent", 10, 60)))
    autoscaler = spec(scale_down=rules, min_replicas=10)
    first = decide(autoscaler, 80, pods(80, 1), HpaMemory(), now=0)
    assert first.desired == 72
    held = decide(autoscaler, 72, pods(72, 1), first.memory, now=30)
    assert held.desired == 72
    assert held.reason == "scale-down rate limit"
    second = decide(autoscaler, 72, pods(72, 1), first.memory, now=61)
    assert second.desired == 64


def test_the_shipped_autoscaler_scales_up_by_half_per_minute_to_max() -> None:
    shipped = spec_from_manifest(yaml.safe_load((ROOT / "manifests/app/hpa.yaml").read_text()))
    assert (shipped.min_replicas, shipped.max_replicas) == (2, 10)
    busy = 40  # 40% CPU against a 10% target: the raw recommendation is 4x
    memory = HpaMemory()
    replicas, seen = 2, []
    for now in range(0, 301, 30):
        decision = decide(shipped, replicas, pods(replicas, busy), memory, now)
        replicas, memory = decision.desired, decision.memory
        seen.append(replicas)
    # +50% per 60 s, counted from the replicas at the start of each 60 s period: 2 → 3 →
    # 5 → 8 → 10 (maxReplicas), one step per minute.
    assert seen == [3, 3, 5, 5, 8, 8, 10, 10, 10, 10, 10]


def test_the_shipped_autoscaler_waits_300s_then_removes_one_pod_per_minute() -> None:
    shipped = spec_from_manifest(yaml.safe_load((ROOT / "manifests/app/hpa.yaml").read_text()))
    memory = decide(shipped, 6, pods(6, 10), HpaMemory(), now=0).memory  # at target: 6
    replicas, seen = 6, []
    for now in range(30, 631, 60):
        decision = decide(shipped, replicas, pods(replicas, 1), memory, now)
        replicas, memory = decision.desired, decision.memory
        seen.append((now, replicas))
    # The 6-replica recommendation at t=0 holds the count until it leaves the 300 s
    # window; then one pod per 60 s down to minReplicas.
    held = decide(shipped, 6, pods(6, 1), HpaMemory(((0, 6),)), now=30)
    assert (held.desired, held.reason) == (6, "held by the stabilisation window")
    assert seen == [
        (30, 6), (90, 6), (150, 6), (210, 6), (270, 6),
        (330, 5), (390, 4), (450, 3), (510, 2), (570, 2), (630, 2),
    ]  # fmt: skip


def test_a_metric_that_cannot_be_read_blocks_a_scale_down() -> None:
    # As in Kubernetes: memory unknown, CPU asks to scale down → the count holds.
    sample = [PodSample(f"p{i}", True, {"cpu": 1}, {"cpu": 100, "memory": 128}) for i in range(4)]
    both = spec(metrics=(CPU_50, MetricTarget("memory", 80)))
    assert decide(both, 4, sample, HpaMemory(), now=0).desired == 4


def test_bounds_and_zero() -> None:
    capped = decide(spec(max_replicas=10), 8, pods(8, 500), HpaMemory(), now=0)
    assert (capped.desired, capped.reason) == (10, "at maxReplicas")
    floored = decide(spec(min_replicas=2), 3, pods(3, 1), HpaMemory(), now=0)
    assert (floored.desired, floored.reason) == (2, "at minReplicas")
    assert decide(spec(), 0, [], HpaMemory(), now=0).desired == 0
