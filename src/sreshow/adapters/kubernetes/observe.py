"""The app's Deployment, ReplicaSets, pods and HPA read as sreshow's `Snapshot`.

Pure: plain API objects (dicts) in, port types out.
- Replicas are the pods of the Deployment's ReplicaSets that are not terminating, as
  the Deployment counts them; a pod's version is its container's `APP_VERSION`.
- Revisions: Kubernetes renumbers a ReplicaSet that a rollback brings back (revision
  1 rolled back to becomes 3, its old numbers kept in `revision-history`). sreshow
  numbers each ReplicaSet by the first revision it had, so a rollback returns to the
  number it left, as on every platform (`kubectl rollout history` shows the renumbered).
- The rollout reads as `kubectl rollout status` does: complete when every desired
  replica is an updated, available one and no old one is left; stalled when the
  Deployment's Progressing condition says ProgressDeadlineExceeded (the controller never
  says so once a rollout completed: a replica lost later only makes it progressing).
- The autoscaler is the HPA's status; its last decision the last `SuccessfulRescale`
  event ("New size: 3; reason: cpu resource utilization ... above target").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sreshow.core.revisions import RolloutState, RolloutStatus
from sreshow.ports import ReplicaView, Snapshot
from sreshow.stack_status import AutoscalerStatus

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
TEMPLATE_HASH = "pod-template-hash"
VERSION_ENV = "APP_VERSION"
RESCALED = "SuccessfulRescale"

Obj = Mapping[str, Any]


def first_revision(replica_set: Obj) -> int:
    """The revision a ReplicaSet was first rolled out as (module doc)."""
    annotations = replica_set["metadata"].get("annotations") or {}
    numbers = [int(annotations.get(REVISION, 0))]
    numbers += [int(n) for n in annotations.get(REVISION_HISTORY, "").split(",") if n.strip()]
    return min(numbers)


def k8s_revision(obj: Obj) -> int:
    """The `deployment.kubernetes.io/revision` of a Deployment or ReplicaSet (0: none)."""
    return int((obj["metadata"].get("annotations") or {}).get(REVISION, 0))


def current_replica_set(deployment: Obj, replica_sets: Sequence[Obj]) -> Obj | None:
    """The ReplicaSet the Deployment rolls out now (its revision is the Deployment's)."""
    wanted = k8s_revision(deployment)
    return next(
        (rs for rs in owned_by(deployment, replica_sets) if k8s_revision(rs) == wanted), None
    )


def owned_by(owner: Obj, objects: Sequence[Obj]) -> list[Obj]:
    uid = owner["metadata"]["uid"]
    return [
        o
        for o in objects
        if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or [])
    ]


def live_pods(deployment: Obj, replica_sets: Sequence[Obj], pods: Sequence[Obj]) -> list[Obj]:
    """The Deployment's pods that count as replicas: not terminating, not finished."""
    owned = owned_by(deployment, replica_sets)
    return [
        p
        for rs in owned
        for p in owned_by(rs, pods)
        if not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def pod_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount", 0)) for s in statuses)


def pod_version(pod: Obj) -> str:
    for container in pod["spec"]["containers"]:
        for env in container.get("env") or []:
            if env.get("name") == VERSION_ENV and "value" in env:
                return str(env["value"])
    return "?"


def snapshot(
    deployment: Obj,
    replica_sets: Sequence[Obj],
    pods: Sequence[Obj],
    hpa: Obj | None,
    events: Sequence[Obj],
) -> Snapshot:
    """The deployment now, as every platform reports it (module doc)."""
    by_hash = {
        (rs["metadata"].get("labels") or {}).get(TEMPLATE_HASH): first_revision(rs)
        for rs in owned_by(deployment, replica_sets)
    }
    replicas = tuple(
        ReplicaView(
            name=p["metadata"]["name"],
            version=pod_version(p),
            revision=by_hash.get((p["metadata"].get("labels") or {}).get(TEMPLATE_HASH), 0),
            ready=pod_ready(p),
            restarts=pod_restarts(p),
        )
        for p in live_pods(deployment, replica_sets, pods)
    )
    current = current_replica_set(deployment, replica_sets)
    revision = first_revision(current) if current is not None else k8s_revision(deployment)
    desired = int(deployment["spec"].get("replicas", 1))
    rollout = rollout_status(deployment, revision)
    ready = sum(1 for r in replicas if r.ready and r.revision == revision)
    if rollout.state == RolloutState.COMPLETE and (ready, len(replicas)) != (desired, desired):
        # The Deployment's counters trail its pods by a controller sync: the pods say.
        rollout = RolloutStatus(
            RolloutState.PROGRESSING, f"revision {revision}: {ready} of {desired} replicas ready"
        )
    return Snapshot(
        replicas=replicas,
        desired=desired,
        revision=revision,
        rollout=rollout,
        autoscaler=None if hpa is None else autoscaler_status(hpa, events, len(replicas)),
    )


def rollout_status(deployment: Obj, revision: int) -> RolloutStatus:
    """Where the rollout stands, as `kubectl rollout status` tells (module doc)."""
    spec, status = deployment["spec"], deployment.get("status") or {}
    if int(deployment["metadata"].get("generation", 0)) > int(status.get("observedGeneration", 0)):
        return RolloutStatus(RolloutState.PROGRESSING, "waiting for the rollout to start")
    progressing: Obj = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), {}
    )
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return RolloutStatus(
            RolloutState.STALLED,
            f"stalled: revision {revision} made no progress within "
            f"{spec.get('progressDeadlineSeconds', 600)} s",
        )
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas", 0))
    total = int(status.get("replicas", 0))
    available = int(status.get("availableReplicas", 0))
    if updated < desired:
        return RolloutStatus(
            RolloutState.PROGRESSING,
            f"progressing to revision {revision}: {updated} of {desired} replicas updated",
        )
    if total > updated:
        return RolloutStatus(
            RolloutState.PROGRESSING,
            f"progressing to revision {revision}: {total - updated} old replicas terminating",
        )
    if available < updated:
        return RolloutStatus(
            RolloutState.PROGRESSING,
            f"revision {revision}: {available} of {updated} replicas available",
        )
    return RolloutStatus(RolloutState.COMPLETE, "complete")


def autoscaler_status(hpa: Obj, events: Sequence[Obj], running: int) -> AutoscalerStatus:
    """The HPA's status and its last decision (module doc). Before it has decided
    anything (no metrics yet), it wants what runs, within its bounds: as the HPA
    controller itself, which moves a count outside them without reading metrics."""
    spec, status = hpa["spec"], hpa.get("status") or {}
    low, high = int(spec.get("minReplicas", 1)), int(spec["maxReplicas"])
    utilization = {
        m["resource"]["name"]: m["resource"].get("current", {}).get("averageUtilization")
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource" and m.get("resource")
    }
    targets = {
        m["resource"]["name"]: float(m["resource"]["target"]["averageUtilization"])
        for m in spec.get("metrics") or []
        if m.get("type") == "Resource"
        and m["resource"].get("target", {}).get("averageUtilization") is not None
    }
    rescales = [e for e in events if e.get("reason") == RESCALED]
    last = max(rescales, key=_event_time, default=None)
    event, reason = _rescale_message(last) if last is not None else (None, None)
    last_scale = status.get("lastScaleTime")
    return AutoscalerStatus(
        current=int(status.get("currentReplicas", running)),
        desired=int(status.get("desiredReplicas") or min(max(running, low), high)),
        min_replicas=low,
        max_replicas=high,
        utilization={name: utilization.get(name) for name in targets},
        targets=targets,
        last_event=event,
        last_event_reason=reason,
        last_scale_at=parse_time(last_scale) if last_scale else None,
        note=_metrics_note(status),
    )


def parse_time(value: str) -> float:
    """Unix time of an RFC 3339 timestamp as the API writes them."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _event_time(event: Obj) -> float:
    stamp = (
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event["metadata"].get("creationTimestamp")
    )
    return parse_time(stamp) if stamp else 0.0


def _rescale_message(event: Obj) -> tuple[str, str]:
    """("scaled to 3", "cpu resource utilization ... above target") from the message."""
    message = str(event.get("message", ""))
    size, _, reason = message.partition(";")
    new_size = size.removeprefix("New size:").strip()
    return f"scaled to {new_size}", reason.strip().removeprefix("reason:").strip()


def _metrics_note(status: Obj) -> str:
    """Why the HPA cannot act, when it says so (no metrics-server, say)."""
    for condition in status.get("conditions") or []:
        if condition.get("type") == "ScalingActive" and condition.get("status") == "False":
            return f"not scaling: {condition.get('reason')}: {condition.get('message', '')}"
    return "CPU and memory as metrics-server reports them"
