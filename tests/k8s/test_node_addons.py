"""The test node's add-ons as a user of the cluster meets them: a pod finds Services by
name (CoreDNS behind the kube-dns Service), and `kubectl top` and the metrics API show
what pods use (metrics-server), soon enough for the HorizontalPodAutoscaler to react.

Each test runs its pods in a namespace of its own, deleted afterwards.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.k8s.node import NODE_UP_SECONDS, Node
from tests.manifests.stack import wait_until
from tests.tools import require_tool

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(NODE_UP_SECONDS + 300)]

KUBECTL_SECONDS = 30
POD_SECONDS = 60  # a pod of a local image to run to completion or to Running
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
# A pod burning one core shows at least this much, and an idle one far less.
BUSY_MILLICORES = 500


def kubectl(node: Node, *args: str, stdin: str | None = None) -> str:
    """`kubectl ARGS` on the node; its stdout (fails the test on a non-zero exit)."""
    result = subprocess.run(
        [require_tool("kubectl"), f"--kubeconfig={node.kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=KUBECTL_SECONDS,
        input=stdin,
        check=False,
    )
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


@pytest.fixture
def namespace(k8s_node: Node) -> Iterator[str]:
    name = f"addons-{secrets.token_hex(3)}"
    kubectl(k8s_node, "create", "namespace", name)
    try:
        yield name
    finally:
        kubectl(k8s_node, "delete", "namespace", name, "--wait=false")


def run_pod(node: Node, namespace: str, name: str, code: str) -> None:
    """Start a pod of the app image running `python -c CODE`, never restarted."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": name, "image": node.app_image, "command": ["python", "-c", code]}
            ],
        },
    }
    kubectl(node, "apply", "-f", "-", stdin=json.dumps(pod))


def phase(node: Node, namespace: str, name: str) -> str:
    return kubectl(node, "-n", namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}")


def finished_phase(node: Node, namespace: str, name: str) -> str | None:
    """The pod's phase once it has run to its end, None before."""
    now = phase(node, namespace, name)
    return now if now in ("Succeeded", "Failed") else None


def test_a_pod_resolves_services_by_name(k8s_node: Node, namespace: str) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "neighbour", "namespace": namespace},
        "spec": {"ports": [{"port": 80}]},
    }
    kubectl(k8s_node, "apply", "-f", "-", stdin=json.dumps(service))
    neighbour_ip = kubectl(
        k8s_node, "-n", namespace, "get", "service", "neighbour", "-o", "jsonpath={.spec.clusterIP}"
    )
    names = (
        "kubernetes.default.svc.cluster.local",  # fully qualified
        "kube-dns.kube-system.svc",  # another namespace, through the search path
        "neighbour",  # a Service of the pod's own namespace, by its short name
    )
    run_pod(
        k8s_node,
        namespace,
        "resolver",
        f"import socket; print(' '.join(socket.gethostbyname(n) for n in {names!r}))",
    )

    finished = wait_until(
        lambda: finished_phase(k8s_node, namespace, "resolver"),
        within=POD_SECONDS,
        waiting_for="the resolving pod to finish",
    )
    output = kubectl(k8s_node, "-n", namespace, "logs", "resolver")

    assert finished == "Succeeded", output
    assert output.split() == [KUBERNETES_SERVICE_IP, DNS_SERVICE_IP, neighbour_ip]


def test_the_metrics_api_shows_a_busy_pods_cpu_within_two_resolutions(
    k8s_node: Node, namespace: str
) -> None:
    args = json.loads(
        kubectl(
            k8s_node,
            "-n",
            "kube-system",
            "get",
            "deployment",
            "metrics-server",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].args}",
        )
    )
    resolution = next(
        float(a.split("=")[1].removesuffix("s"))
        for a in args
        if a.startswith("--metric-resolution")
    )
    # A pod's CPU is a rate between two scrapes: two resolutions after it starts,
    # plus one for the scrape to land and the kubelet's stats to catch up.
    bound = 3 * resolution + 5
    run_pod(k8s_node, namespace, "busy", "while True: pass")
    wait_until(
        lambda: phase(k8s_node, namespace, "busy") == "Running",
        within=POD_SECONDS,
        waiting_for="the busy pod to run",
    )
    started = time.monotonic()

    def busy_millicores() -> float | None:
        raw = subprocess.run(
            [
                require_tool("kubectl"),
                f"--kubeconfig={k8s_node.kubeconfig}",
                "get",
                "--raw",
                f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/busy",
            ],
            capture_output=True,
            text=True,
            timeout=KUBECTL_SECONDS,
            check=False,
        )
        if raw.returncode != 0:  # 404 until metrics-server has two samples of it
            return None
        usage = json.loads(raw.stdout)["containers"][0]["usage"]
        cpu = millicores(usage["cpu"])
        return cpu if cpu >= BUSY_MILLICORES else None

    cpu = wait_until(
        busy_millicores,
        within=bound,
        waiting_for=f"the metrics API to show the busy pod above {BUSY_MILLICORES}m CPU",
        every=1,
    )
    seen_after = time.monotonic() - started
    top = kubectl(k8s_node, "top", "pods", "-A", "--no-headers")

    assert cpu >= BUSY_MILLICORES
    assert seen_after <= bound
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in top.splitlines()}
    assert (namespace, "busy") in rows, top
    assert ("kube-system", "metrics-server") in {(ns, pod.rsplit("-", 2)[0]) for ns, pod in rows}
    assert millicores(rows[namespace, "busy"][0]) >= BUSY_MILLICORES


def millicores(quantity: str) -> float:
    """A CPU quantity as the metrics API and `kubectl top` write it (n, u, m or cores)."""
    scale = {"n": 1e-6, "u": 1e-3, "m": 1.0}
    if quantity[-1] in scale:
        return float(quantity[:-1]) * scale[quantity[-1]]
    return float(quantity) * 1000
