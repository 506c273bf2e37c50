"""The node's add-ons: cluster DNS (CoreDNS) and the resource metrics API (metrics-server).

What every real cluster has and the demos lean on: pods find Services by name, and the
HorizontalPodAutoscaler reads pods' CPU from metrics.k8s.io. Both are built from the Go
module proxy (scripts/install-tools.sh), packaged as one-binary images under stable
tags (server_images.py) and run as Deployments in kube-system (addon_objects.py). `up`
applies them through the API and waits until a user would find them working: the DNS
Service answers a cluster name, and the metrics API has the node's and pods' usage.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import addon_objects
from dnsquery import DNSError, resolve_a
from images import Image
from kubeapi import KubeAPI
from proc import NodeError, say, wait_until
from server_images import Spec, resolve_packages, server_image
from settings import (
    ADDON_NAMESPACE,
    CLUSTER_DOMAIN,
    COREDNS_IMAGE,
    COREDNS_VERSION,
    DNS_SERVICE_IP,
    KUBERNETES_SERVICE_IP,
    METRIC_RESOLUTION_SECONDS,
    METRICS_SERVER_IMAGE,
    METRICS_SERVER_VERSION,
    NODE_NAME,
    Layout,
)

IMAGE_NAMES = (COREDNS_IMAGE, METRICS_SERVER_IMAGE)
HOST_RESOLV_CONF = Path("/etc/resolv.conf")
CLUSTER_NAME = f"kubernetes.default.svc.{CLUSTER_DOMAIN}"  # answers KUBERNETES_SERVICE_IP
DNS_TIMEOUT = 90  # the pod's start and CoreDNS's first list of Services
# metrics-server reports a pod's CPU after two scrapes of the kubelet, METRIC_RESOLUTION
# apart, once it has started and its first scrape landed.
METRICS_TIMEOUT = 60 + 3 * METRIC_RESOLUTION_SECONDS
NODE_METRICS = f"/apis/metrics.k8s.io/v1beta1/nodes/{NODE_NAME}"
POD_METRICS = f"/apis/metrics.k8s.io/v1beta1/namespaces/{ADDON_NAMESPACE}/pods"
METRICS_API_SERVICE = "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"


def specs(layout: Layout) -> list[Spec]:
    return [
        Spec(
            "coredns",
            COREDNS_IMAGE,
            f"v{COREDNS_VERSION}",
            "coredns",
            53,
            None,
            binary=str(layout.coredns_binary),
            source=f"github.com/coredns/coredns v{COREDNS_VERSION} (Go module proxy)",
        ),
        Spec(
            "metrics-server",
            METRICS_SERVER_IMAGE,
            f"v{METRICS_SERVER_VERSION}",
            "metrics-server",
            addon_objects.METRICS_SERVER_PORT,
            None,
            binary=str(layout.metrics_server_binary),
            source=f"sigs.k8s.io/metrics-server v{METRICS_SERVER_VERSION} (Go module proxy)",
        ),
    ]


def addon_images(layout: Layout) -> list[Image]:
    """CoreDNS's and metrics-server's images, built when their inputs changed (seconds)."""
    wanted = specs(layout)
    packages = resolve_packages(wanted)
    recipe = [Path(__file__)]
    return [server_image(layout, spec, packages, recipe) for spec in wanted]


def upstream_resolvers(resolv_conf: Path = HOST_RESOLV_CONF) -> list[str]:
    """This machine's nameservers that a pod can reach: IPv4 (the pods' only family) and
    not loopback (a local stub resolver is not this machine's from a pod's namespace)."""
    found = []
    for line in resolv_conf.read_text().splitlines() if resolv_conf.exists() else []:
        words = line.split()
        if len(words) < 2 or words[0] != "nameserver":
            continue
        try:
            address = ipaddress.IPv4Address(words[1])
        except ValueError:
            continue
        if not address.is_loopback:
            found.append(str(address))
    return found


def apply(api: KubeAPI, images: list[Image]) -> None:
    """Create or update both add-ons' objects (server-side apply: quick when unchanged)."""
    by_name = {image.name: image for image in images}
    coredns, metrics_server = by_name[COREDNS_IMAGE], by_name[METRICS_SERVER_IMAGE]
    upstreams = upstream_resolvers()
    if not upstreams:
        say(
            f"{HOST_RESOLV_CONF} names no nameserver a pod can reach (no IPv4 one off loopback): "
            "cluster DNS will answer cluster names only"
        )
    objects = [
        *addon_objects.coredns_objects(coredns.ref, coredns.manifest_digest(), upstreams),
        *addon_objects.metrics_server_objects(metrics_server.ref, metrics_server.manifest_digest()),
    ]
    for obj in objects:
        api.apply(obj)


def wait_ready(api: KubeAPI, started: float, alive: Callable[[], None]) -> None:
    """Until cluster DNS answers and the metrics API has the node's and pods' usage.

    `alive` raises when the kubelet, which runs both, has died.
    """
    _wait_until_fine(
        f"cluster DNS ({DNS_SERVICE_IP}) to answer {CLUSTER_NAME}",
        lambda: dns_problem(api),
        DNS_TIMEOUT,
        alive,
        "coredns",
    )
    say(f"cluster DNS answers on {DNS_SERVICE_IP} ({time.monotonic() - started:.1f} s)")
    _wait_until_fine(
        "metrics-server to report the node's and pods' usage",
        lambda: metrics_problem(api),
        METRICS_TIMEOUT,
        alive,
        "metrics-server",
    )
    say(f"metrics-server reports usage ({time.monotonic() - started:.1f} s)")


def _wait_until_fine(
    what: str,
    problem: Callable[[], str | None],
    timeout: float,
    alive: Callable[[], None],
    deployment: str,
) -> None:
    """Wait until `problem` says None; on timeout, say the last problem and where to look."""
    last: list[str | None] = [None]

    def fine() -> bool:
        last[0] = problem()
        return last[0] is None

    try:
        wait_until(what, fine, timeout, alive=alive)
    except NodeError as error:
        if error.component is not None:  # the kubelet died: its own message says so
            raise
        raise NodeError(
            f"{error}: {last[0]}; see: kubectl -n {ADDON_NAMESPACE} logs deploy/{deployment}"
        ) from None


def dns_problem(api: KubeAPI) -> str | None:
    """None when the DNS Service answers the `kubernetes` Service's name rightly; else why."""
    try:
        answer = resolve_a(DNS_SERVICE_IP, CLUSTER_NAME, timeout=1)
    except DNSError as error:
        return f"{error} ({_pods_ready(api, 'coredns')})"
    if answer != [KUBERNETES_SERVICE_IP]:
        return f"{CLUSTER_NAME} is {answer or 'without address'}, not {KUBERNETES_SERVICE_IP}"
    return None


def metrics_problem(api: KubeAPI) -> str | None:
    """None when metrics.k8s.io has the node's usage and some pod's; else what is missing."""
    node = api.get(NODE_METRICS)
    if not _has_usage(node):
        service = api.get(METRICS_API_SERVICE) or {}
        conditions = service.get("status", {}).get("conditions", [])
        available = [c for c in conditions if c.get("type") == "Available"]
        why = (available[0].get("message") if available else None) or "not registered"
        return f"no usage for node {NODE_NAME} (metrics API: {why})"
    pods = (api.get(POD_METRICS) or {}).get("items", [])
    if not any(_has_usage(c) for pod in pods for c in pod.get("containers", [])):
        return f"no pod usage in {ADDON_NAMESPACE} yet"
    return None


def _pods_ready(api: KubeAPI, deployment: str) -> str:
    """How many of a Deployment's pods are ready, in words."""
    found = api.get(f"/apis/apps/v1/namespaces/{ADDON_NAMESPACE}/deployments/{deployment}")
    if not found:
        return f"no Deployment {ADDON_NAMESPACE}/{deployment}"
    ready = found.get("status", {}).get("readyReplicas", 0)
    return f"{deployment}: {ready} of {found['spec'].get('replicas', 1)} pods ready"


def _has_usage(item: Any) -> bool:
    usage = item.get("usage", {}) if isinstance(item, dict) else {}
    return "cpu" in usage and "memory" in usage
