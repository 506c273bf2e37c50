"""How long an HPA takes to bring idle replicas back in, played out sync by sync by the
same rules the autoscaler follows (`core.hpa.decide`, upstream's controller).

Not just "the window, then one replica per period": the memory metric does not fall
with the load. At 40% of the request against an 80% target it recommends
ceil(replicas / 2) at every sync, so 7 replicas hold a recommendation of 4 in the
scale-down window and 5 hold one of 3; each such recommendation keeps the count up
for a whole window after the count it came from is gone. Both test tiers derive their
scale-in bound from this, with the measured memory use.
"""

from __future__ import annotations

from dataclasses import replace

from sreshow.core.hpa import ControllerConfig, HpaMemory, HpaSpec, PodSample, PodUsage, decide

REQUEST = 1000  # milli-units of each resource; only the ratios matter
MAX_SYNCS = 100_000


def scale_in_seconds(
    spec: HpaSpec,
    peak: int,
    to: int,
    *,
    memory_percent: float,
    sync: float,
    config: ControllerConfig,
) -> float:
    """Seconds from the first sync that reads the replicas idle (the last one that
    recommended `peak` is at 0) until the HPA sets `to`, syncing every `sync` seconds
    with `memory_percent` of the memory request in use on every pod."""
    config = replace(config, sync_period=sync)
    memory = HpaMemory(recommendations=((0.0, peak),))
    current, now = peak, 0.0
    for _ in range(MAX_SYNCS):
        if current == to:
            return now
        now += sync
        pods = [_idle_pod(f"pod-{i}", now, memory_percent) for i in range(current)]
        decision = decide(spec, current, pods, memory, now, config=config)
        memory = decision.memory
        current = decision.desired
    raise AssertionError(f"{peak} replicas never reach {to} by {spec}'s rules")


def _idle_pod(name: str, now: float, memory_percent: float) -> PodSample:
    values = {"cpu": 0, "memory": round(REQUEST * memory_percent / 100)}
    return PodSample(
        name=name,
        phase="Running",
        ready=True,
        ready_changed_at=-1e9,  # long ready: no CPU initialisation left
        started_at=-1e9,
        usage=PodUsage(values, measured_at=now, window=1.0),
        requests={"cpu": REQUEST, "memory": REQUEST},
    )
