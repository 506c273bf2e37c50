"""Where each kind of object sreshow renders lives in the Kubernetes API.

A fixed table rather than discovery: sreshow applies only the kinds its manifests hold,
and a table costs no API request. A manifest of another kind is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sreshow.errors import UsageError

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "sreshow"


@dataclass(frozen=True)
class Kind:
    name: str
    api: str  # "api/v1" or "apis/GROUP/VERSION"
    plural: str
    namespaced: bool = True

    def collection(self, namespace: str | None = None) -> str:
        """The path of this kind's objects (in `namespace`, when it is namespaced)."""
        if self.namespaced and namespace:
            return f"/{self.api}/namespaces/{namespace}/{self.plural}"
        return f"/{self.api}/{self.plural}"

    def path(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection(namespace)}/{name}"


# In the order they are applied: namespaces and what pods need before the pods' owners.
KINDS: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("Namespace", "api/v1", "namespaces", namespaced=False),
        Kind("ServiceAccount", "api/v1", "serviceaccounts"),
        Kind("Secret", "api/v1", "secrets"),
        Kind("ConfigMap", "api/v1", "configmaps"),
        Kind("ClusterRole", "apis/rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
        Kind(
            "ClusterRoleBinding",
            "apis/rbac.authorization.k8s.io/v1",
            "clusterrolebindings",
            namespaced=False,
        ),
        Kind("Role", "apis/rbac.authorization.k8s.io/v1", "roles"),
        Kind("RoleBinding", "apis/rbac.authorization.k8s.io/v1", "rolebindings"),
        Kind("Service", "api/v1", "services"),
        Kind("NetworkPolicy", "apis/networking.k8s.io/v1", "networkpolicies"),
        Kind("PodDisruptionBudget", "apis/policy/v1", "poddisruptionbudgets"),
        Kind("Deployment", "apis/apps/v1", "deployments"),
        Kind("HorizontalPodAutoscaler", "apis/autoscaling/v2", "horizontalpodautoscalers"),
        # Read, never applied: what the cache watches.
        Kind("Pod", "api/v1", "pods"),
        Kind("ReplicaSet", "apis/apps/v1", "replicasets"),
        Kind("Event", "api/v1", "events"),
    )
}
APPLY_ORDER = tuple(KINDS)


def kind_of(obj: Mapping[str, Any]) -> Kind:
    """The table's entry for a rendered object; UsageError for a kind sreshow does not
    apply (a manifest was changed by hand)."""
    name = obj.get("kind", "")
    kind = KINDS.get(name)
    if kind is None or _api_version(kind) != obj.get("apiVersion"):
        known = ", ".join(f"{_api_version(k)} {k.name}" for k in KINDS.values())
        raise UsageError(
            f"manifests: {obj.get('apiVersion')} {name} {obj.get('metadata', {}).get('name')} "
            f"is not a kind sreshow applies ({known}); remove it or apply it yourself"
        )
    return kind


def object_path(obj: Mapping[str, Any]) -> str:
    metadata = obj["metadata"]
    return kind_of(obj).path(metadata["name"], metadata.get("namespace"))


def _api_version(kind: Kind) -> str:
    return kind.api.removeprefix("apis/").removeprefix("api/")
