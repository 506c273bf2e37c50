"""The Kubernetes objects of the node's add-ons, as upstream ships them, for this node.

- CoreDNS: kubernetes/kubernetes' cluster/addons/dns/coredns (the kube-dns Service at
  DNS_SERVICE_IP, the coredns ServiceAccount, ClusterRole and ConfigMap). Two changes:
  the Corefile forwards to this machine's resolvers by address (a loopback or IPv6 one
  cannot be reached from a pod, so it is left out and `up` says so), and CoreDNS runs as
  nobody with every capability dropped, binding port 53 because the node's containerd
  lets pods use low ports (components.py, enable_unprivileged_ports).
- metrics-server: its v0.8.0 manifests/base (components.yaml), with the flags this node
  needs: the kubelet by its InternalIP and node status port, verified against the
  cluster CA (the kubelet's serving certificate is signed by it, pki.py), which every
  pod already has in its service-account volume; a 10 s resolution (its minimum) with a
  kubelet timeout under 90% of it, which it requires.

Written here, not as YAML files, because they take this node's settings (addresses,
image tags, the resolvers found at `up`) and the scripts use Python's standard library
only. Every object carries the label LABEL; `up` applies them with server-side apply.
"""

from __future__ import annotations

from typing import Any

from settings import (
    ADDON_NAMESPACE,
    CLUSTER_DOMAIN,
    DNS_SERVICE_IP,
    METRIC_RESOLUTION_SECONDS,
)

Object = dict[str, Any]
LABEL = {"app.kubernetes.io/managed-by": "sreshow-node"}
IMAGE_ANNOTATION = "sreshow-node/image-digest"
# The CA every pod's service-account volume carries: kube-controller-manager's
# --root-ca-file, the cluster CA that also signs the kubelet's serving certificate.
SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
COREDNS_HEALTH_PORT = 8080
COREDNS_READY_PORT = 8181
COREDNS_METRICS_PORT = 9153
METRICS_SERVER_PORT = 10250
# metrics-server's one writable place (an emptyDir): its self-signed serving certificate.
POD_TMP = "/tmp"  # noqa: S108 - a path inside the pod, not on this machine
# Under 90% of the resolution, as metrics-server insists (its default is 10 s).
KUBELET_REQUEST_TIMEOUT_SECONDS = 5
# Locked down as upstream's add-ons are: nothing to write but /tmp, no capabilities.
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def corefile(upstreams: list[str]) -> str:
    """Upstream's Corefile: cluster names from the API, the rest forwarded and cached.

    Without `upstreams` there is no `forward` (and no `loop`, which probes through it):
    cluster names still resolve, outside names do not.
    """
    forward = f"    forward . {' '.join(upstreams)}\n" if upstreams else ""
    loop = "    loop\n" if upstreams else ""
    return (
        ".:53 {\n"
        "    errors\n"
        f"    health :{COREDNS_HEALTH_PORT}\n"
        f"    ready :{COREDNS_READY_PORT}\n"
        f"    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{\n"
        "        pods insecure\n"
        "        fallthrough in-addr.arpa ip6.arpa\n"
        "        ttl 30\n"
        "    }\n"
        f"    prometheus :{COREDNS_METRICS_PORT}\n"
        f"{forward}"
        "    cache 30\n"
        f"{loop}"
        "    reload\n"
        "    loadbalance\n"
        "}\n"
    )


def coredns_objects(image: str, digest: str, upstreams: list[str]) -> list[Object]:
    """ServiceAccount, RBAC, Corefile, Deployment (1 replica) and the kube-dns Service.

    `digest`: the image's manifest digest, which the pods are annotated with.
    """
    selector = {"k8s-app": "kube-dns"}
    container = {
        "name": "coredns",
        "image": image,
        "imagePullPolicy": "Never",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
            {"name": "metrics", "containerPort": COREDNS_METRICS_PORT, "protocol": "TCP"},
        ],
        "resources": {
            "requests": {"cpu": "50m", "memory": "70Mi"},
            "limits": {"memory": "170Mi"},
        },
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": COREDNS_HEALTH_PORT},
            "periodSeconds": 10,
            "failureThreshold": 5,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": COREDNS_READY_PORT},
            "periodSeconds": 1,
        },
        "securityContext": RESTRICTED,
    }
    pod = {
        "serviceAccountName": "coredns",
        "priorityClassName": "system-cluster-critical",
        # CoreDNS resolves outside names through the node's resolvers, not itself.
        "dnsPolicy": "Default",
        "containers": [container],
        "volumes": [
            {
                "name": "config",
                "configMap": {
                    "name": "coredns",
                    "items": [{"key": "Corefile", "path": "Corefile"}],
                },
            }
        ],
    }
    return [
        _object("v1", "ServiceAccount", "coredns"),
        _cluster_role(
            "system:coredns",
            [
                _rule("", ["endpoints", "services", "pods", "namespaces"], ["list", "watch"]),
                _rule("discovery.k8s.io", ["endpointslices"], ["list", "watch"]),
            ],
        ),
        _cluster_role_binding("system:coredns", "system:coredns", "coredns"),
        _object("v1", "ConfigMap", "coredns", data={"Corefile": corefile(upstreams)}),
        _deployment("coredns", selector, pod, digest),
        _object(
            "v1",
            "Service",
            "kube-dns",
            labels={**selector, "kubernetes.io/name": "CoreDNS"},
            spec={
                "selector": selector,
                "clusterIP": DNS_SERVICE_IP,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {
                        "name": "metrics",
                        "port": COREDNS_METRICS_PORT,
                        "protocol": "TCP",
                        "targetPort": COREDNS_METRICS_PORT,
                    },
                ],
            },
        ),
    ]


def metrics_server_args() -> list[str]:
    """metrics-server's flags (see the module docstring for why each differs upstream)."""
    return [
        f"--cert-dir={POD_TMP}",
        f"--secure-port={METRICS_SERVER_PORT}",
        "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port",
        f"--kubelet-certificate-authority={SERVICE_ACCOUNT_CA}",
        f"--metric-resolution={METRIC_RESOLUTION_SECONDS}s",
        f"--kubelet-request-timeout={KUBELET_REQUEST_TIMEOUT_SECONDS}s",
    ]


def metrics_server_objects(image: str, digest: str) -> list[Object]:
    """Upstream's components.yaml: ServiceAccount, RBAC, Service, Deployment, APIService."""
    name = "metrics-server"
    selector = {"k8s-app": name}
    https = {"path": "/readyz", "port": "https", "scheme": "HTTPS"}
    container = {
        "name": name,
        "image": image,
        "imagePullPolicy": "Never",
        "args": metrics_server_args(),
        "ports": [{"name": "https", "containerPort": METRICS_SERVER_PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "50m", "memory": "100Mi"}},
        # Ready once it has scraped the kubelet: probed often, so `up` waits no longer.
        "readinessProbe": {"httpGet": https, "periodSeconds": 2, "failureThreshold": 3},
        "livenessProbe": {
            "httpGet": {**https, "path": "/livez"},
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "volumeMounts": [{"name": "tmp-dir", "mountPath": POD_TMP}],
        "securityContext": RESTRICTED,
    }
    pod = {
        "serviceAccountName": name,
        "priorityClassName": "system-cluster-critical",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": [container],
        "volumes": [{"name": "tmp-dir", "emptyDir": {}}],
    }
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": ADDON_NAMESPACE}]
    return [
        _object("v1", "ServiceAccount", name, labels=selector),
        _cluster_role(
            "system:aggregated-metrics-reader",
            [_rule("metrics.k8s.io", ["pods", "nodes"], ["get", "list", "watch"])],
            labels={
                **selector,
                "rbac.authorization.k8s.io/aggregate-to-view": "true",
                "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                "rbac.authorization.k8s.io/aggregate-to-admin": "true",
            },
        ),
        _cluster_role(
            "system:metrics-server",
            [
                _rule("", ["nodes/metrics"], ["get"]),
                _rule("", ["pods", "nodes"], ["get", "list", "watch"]),
            ],
            labels=selector,
        ),
        _object(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            "metrics-server-auth-reader",
            labels=selector,
            roleRef=_role_ref("Role", "extension-apiserver-authentication-reader"),
            subjects=subject,
        ),
        _cluster_role_binding(
            "metrics-server:system:auth-delegator", "system:auth-delegator", name
        ),
        _cluster_role_binding("system:metrics-server", "system:metrics-server", name),
        _object(
            "v1",
            "Service",
            name,
            labels=selector,
            spec={
                "selector": selector,
                "ports": [
                    {
                        "name": "https",
                        "port": 443,
                        "protocol": "TCP",
                        "targetPort": "https",
                        "appProtocol": "https",
                    }
                ],
            },
        ),
        _deployment(name, selector, pod, digest),
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io", "labels": {**LABEL, **selector}},
            "spec": {
                "service": {"name": name, "namespace": ADDON_NAMESPACE},
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                # As upstream: metrics-server serves a certificate it made itself at start.
                "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]


def _object(api_version: str, kind: str, name: str, **fields: Any) -> Object:
    """A namespaced object in the add-ons' namespace; `labels` go into its metadata."""
    labels = {**LABEL, **fields.pop("labels", {})}
    metadata = {"name": name, "namespace": ADDON_NAMESPACE, "labels": labels}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def _deployment(name: str, selector: dict[str, str], pod: Object, digest: str) -> Object:
    """One replica. The image's tag is stable while its content may be rebuilt: the
    digest annotation makes a rebuilt image roll the pods out on the next `up`."""
    template = {"metadata": {"labels": selector, "annotations": {IMAGE_ANNOTATION: digest}}}
    return _object(
        "apps/v1",
        "Deployment",
        name,
        labels=selector,
        spec={
            "replicas": 1,
            "selector": {"matchLabels": selector},
            # A new pod is ready before the old one goes (one node: no spreading).
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
            "template": {**template, "spec": pod},
        },
    )


def _rule(group: str, resources: list[str], verbs: list[str]) -> Object:
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def _role_ref(kind: str, name: str) -> Object:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def _cluster_role(name: str, rules: list[Object], labels: dict[str, str] | None = None) -> Object:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {**LABEL, **(labels or {})}},
        "rules": rules,
    }


def _cluster_role_binding(name: str, role: str, service_account: str) -> Object:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": dict(LABEL)},
        "roleRef": _role_ref("ClusterRole", role),
        "subjects": [
            {"kind": "ServiceAccount", "name": service_account, "namespace": ADDON_NAMESPACE}
        ],
    }
