"""Minimal API objects, shaped as the API server returns them, for the pure tests."""

from __future__ import annotations

from typing import Any

DEPLOYMENT_UID = "d-1"


def deployment(
    *,
    revision: int,
    replicas: int = 2,
    generation: int = 1,
    observed: int = 1,
    updated: int = 2,
    total: int = 2,
    available: int = 2,
    progressing_reason: str = "NewReplicaSetAvailable",
) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {
            "name": "sre-app",
            "uid": DEPLOYMENT_UID,
            "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": {"replicas": replicas, "progressDeadlineSeconds": 12, "template": {}},
        "status": {
            "observedGeneration": observed,
            "replicas": total,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "conditions": [{"type": "Progressing", "status": "True", "reason": progressing_reason}],
        },
    }


def replica_set(template_hash: str, revision: int, history: str = "") -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if history:
        annotations["deployment.kubernetes.io/revision-history"] = history
    return {
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"sre-app-{template_hash}",
            "uid": f"rs-{template_hash}",
            "labels": {"app.kubernetes.io/name": "sre-app", "pod-template-hash": template_hash},
            "annotations": annotations,
            "ownerReferences": [{"uid": DEPLOYMENT_UID}],
        },
        "spec": {
            "template": {
                "metadata": {"labels": {"pod-template-hash": template_hash, "app": "x"}},
                "spec": {},
            }
        },
    }


def pod(
    name: str,
    template_hash: str,
    *,
    version: str = "1.0.0",
    ready: bool = True,
    restarts: int = 0,
    terminating: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": f"pod-{name}",
        "labels": {"pod-template-hash": template_hash},
        "ownerReferences": [{"uid": f"rs-{template_hash}"}],
    }
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-04T10:00:00Z"
    return {
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "containers": [{"name": "sre-app", "env": [{"name": "APP_VERSION", "value": version}]}]
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"restartCount": restarts}],
        },
    }


def hpa(
    *, desired: int = 2, last_scale: str | None = None, scaling_active: bool = True
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "currentReplicas": 2,
        "desiredReplicas": desired,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 7}}}
        ],
        "conditions": [
            {
                "type": "ScalingActive",
                "status": "True" if scaling_active else "False",
                "reason": "ValidMetricFound" if scaling_active else "FailedGetResourceMetric",
                "message": "" if scaling_active else "unable to get metrics for resource cpu",
            }
        ],
    }
    if last_scale:
        status["lastScaleTime"] = last_scale
    return {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "sre-app", "uid": "h-1"},
        "spec": {
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 10},
                    },
                },
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                },
            ],
        },
        "status": status,
    }


def rescale_event(message: str, at: str) -> dict[str, Any]:
    return {
        "kind": "Event",
        "metadata": {"name": f"e-{at}", "uid": f"e-{at}", "creationTimestamp": at},
        "reason": "SuccessfulRescale",
        "message": message,
        "lastTimestamp": at,
    }
