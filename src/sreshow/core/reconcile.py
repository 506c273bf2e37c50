"""The Deployment and ReplicaSet controllers' decisions, as pure functions.

sreshow's own supervisor observes its replicas, asks `reconcile()` what to do,
and does it. Like Kubernetes it keeps a replica count per revision: a dead replica is
replaced under a new name, surplus replicas are stopped, and a new revision rolls out
with `maxSurge`/`maxUnavailable` (25%/25% by default) gated on readiness, so a release
that never becomes ready stalls the rollout instead of taking the service down.
Voluntary disruptions go through the disruption budget (`eviction_allowed()`).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

# The characters Kubernetes uses for generated names (no vowels, no look-alikes).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Replica:
    """One running (or starting) replica as the supervisor observes it."""

    name: str
    revision: int
    ready: bool
    created_at: float = 0.0


@dataclass(frozen=True)
class StartReplica:
    revision: int
    reason: str


@dataclass(frozen=True)
class StopReplica:
    name: str
    reason: str


Action = StartReplica | StopReplica


def rolling_update_limits(
    replicas: int, max_surge: float = 0.25, max_unavailable: float = 0.25
) -> tuple[int, int]:
    """(surge, unavailable) in replicas, rounded as Kubernetes does: surge up, unavailable
    down, and at least one of them non-zero so a rollout can always move."""
    surge = math.ceil(replicas * max_surge)
    unavailable = math.floor(replicas * max_unavailable)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def reconcile(
    desired: int,
    revision: int,
    replicas: Sequence[Replica],
    *,
    max_surge: float = 0.25,
    max_unavailable: float = 0.25,
) -> list[Action]:
    """What to start and stop so `replicas` converge on `desired` replicas of `revision`."""
    current = [r for r in replicas if r.revision == revision]
    old = [r for r in replicas if r.revision != revision]
    if not old:
        return _scale(desired, revision, current)

    surge, unavailable = rolling_update_limits(desired, max_surge, max_unavailable)
    actions: list[Action] = []
    if len(current) > desired:
        actions += _stop_surplus(current, len(current) - desired, "more replicas than desired")
    else:
        room = desired + surge - len(replicas)
        for _ in range(max(0, min(room, desired - len(current)))):
            actions.append(StartReplica(revision, f"rolling out revision {revision}"))

    # As the Deployment controller: old replicas may go while the ready ones left
    # (minus the new revision's not-yet-ready ones) stay at desired - maxUnavailable.
    min_available = desired - unavailable
    unready_current = sum(1 for r in current if not r.ready)
    budget = len(replicas) - min_available - unready_current
    unready_old = [r for r in old if not r.ready]
    for replica in unready_old[: max(budget, 0)]:
        actions.append(StopReplica(replica.name, "old revision, not ready"))
    budget -= len(unready_old)
    ready_now = sum(1 for r in replicas if r.ready)
    can_remove_ready = min(budget, ready_now - min_available)
    ready_old = sorted((r for r in old if r.ready), key=lambda r: (r.revision, r.created_at))
    for replica in ready_old[: max(can_remove_ready, 0)]:
        actions.append(StopReplica(replica.name, f"replaced by revision {revision}"))
    return actions


def rollout_complete(desired: int, revision: int, replicas: Sequence[Replica]) -> bool:
    """Every replica is of `revision`, there are `desired` of them, and all are ready."""
    return len(replicas) == desired and all(r.revision == revision and r.ready for r in replicas)


def eviction_allowed(replicas: Sequence[Replica], name: str, min_available: int) -> bool:
    """Whether the disruption budget lets `name` go now (Kubernetes' eviction rule).

    A ready replica may go if the ready ones left still meet `min_available`; a replica
    that is not ready may go while the budget is met (it serves nothing anyway).
    """
    healthy = sum(1 for r in replicas if r.ready)
    target = next((r for r in replicas if r.name == name), None)
    if target is None:
        return False
    if target.ready:
        return healthy - 1 >= min_available
    return healthy >= min_available


def template_hash(version: str, broken: str = "") -> str:
    """A short, stable hash of what a revision runs (Kubernetes' pod-template-hash)."""
    digest = hashlib.sha256(f"{version}\0{broken}".encode()).digest()
    return "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in digest[:5])


def replica_name(deployment: str, template: str, rng: random.Random) -> str:
    """`sre-app-7d9f5-x2kq4`: the deployment, the template hash and a random suffix."""
    suffix = "".join(rng.choice(_NAME_ALPHABET) for _ in range(5))
    return f"{deployment}-{template}-{suffix}"


def _scale(desired: int, revision: int, current: Sequence[Replica]) -> list[Action]:
    if len(current) < desired:
        missing = desired - len(current)
        return [StartReplica(revision, "fewer replicas than desired") for _ in range(missing)]
    if len(current) > desired:
        return list(_stop_surplus(current, len(current) - desired, "more replicas than desired"))
    return []


def _stop_surplus(current: Sequence[Replica], count: int, reason: str) -> list[StopReplica]:
    # As the ReplicaSet controller: not-ready replicas go first, then the newest.
    victims = sorted(current, key=lambda r: (r.ready, -r.created_at))[:count]
    return [StopReplica(r.name, reason) for r in victims]
