"""manifests/overlays/eks deployed the way `up --platform eks` deploys it after its apply
(the kubernetes lifecycle with the platform's own kubeconfig, Terraform's outputs as the
overlay's placeholders), on the one-node cluster with its local monitoring images: the
app answers on the node's port 30080, where EKS' load balancer sends traffic; the
cluster autoscaler's objects carry the outputs; `down` removes them from kube-system
too. (A module of its own: one stack at a time per cluster.)"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from sreshow.adapters.eks.lifecycle import OVERLAY, PLACEHOLDER_OUTPUTS
from sreshow.adapters.kubernetes.lifecycle import KubernetesLifecycle
from sreshow.ports import UpOptions
from sreshow.scenarios.rebuild import HEALTH_PATH
from sreshow.settings import Settings
from tests.k8s.node import NODE_OVERLAY, Node, node_settings
from tests.k8s.test_kubernetes_platform import kubectl

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(1500)]

OUTPUTS = {
    "cluster_name": "sreshow-node",
    "cluster_autoscaler_role_arn": "arn:aws:iam::123456789012:role/sreshow-node-ca",
    "region": "eu-west-1",
}
NODE_PORT = 30080  # manifests/overlays/eks/service-nodeport.yaml, terraform's app_node_port
# kube-proxy programs a new Service's rules at its next sync: seconds; the bound is
# generous for a busy 2-core VM and the loop stops at the first answer.
NODE_PORT_WAIT_S = 60.0
MANAGED = "app.kubernetes.io/managed-by=sreshow"


def eks_overlay_on_the_node(directory: Path) -> Path:
    """The eks overlay with the node's local monitoring images (no registry there)."""
    node = yaml.safe_load((NODE_OVERLAY / "kustomization.yaml").read_text(encoding="utf-8"))
    directory.mkdir()
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [str(OVERLAY)],
        "images": node["images"],
    }
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return directory


def test_the_eks_overlay_serves_the_app_on_its_node_port(k8s_node: Node, tmp_path: Path) -> None:
    lifecycle = KubernetesLifecycle(
        Settings.from_env({"SRESHOW_STATE_DIR": str(tmp_path / "state")}),
        kubeconfig=k8s_node.kubeconfig,
        placeholders={name: OUTPUTS[output] for name, output in PLACEHOLDER_OUTPUTS.items()},
    )
    options = UpOptions(
        time_scale=0.1,
        image=k8s_node.app_image,
        manifests=eks_overlay_on_the_node(tmp_path / "overlay"),
    )
    lifecycle.up(options, lambda _: None)
    try:
        answer = _get_when_answering(f"http://{node_settings().NODE_IP}:{NODE_PORT}{HEALTH_PATH}")
        autoscaler = kubectl(
            k8s_node, "get", "deployment", "cluster-autoscaler", "-n", "kube-system"
        )
        account = kubectl(
            k8s_node, "get", "serviceaccount", "cluster-autoscaler", "-n", "kube-system"
        )
        service = kubectl(k8s_node, "get", "service", "sre-app", "-n", "sre-app")
    finally:
        said = lifecycle.down()

    assert answer == 200
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["nodePort"] == NODE_PORT
    container = autoscaler["spec"]["template"]["spec"]["containers"][0]
    assert f"k8s.io/cluster-autoscaler/{OUTPUTS['cluster_name']}" in " ".join(container["command"])
    assert {"name": "AWS_REGION", "value": OUTPUTS["region"]} in container["env"]
    annotations = account["metadata"]["annotations"]
    assert annotations["eks.amazonaws.com/role-arn"] == OUTPUTS["cluster_autoscaler_role_arn"]
    left = kubectl(
        k8s_node, "get", "deployments,serviceaccounts", "-n", "kube-system", "-l", MANAGED
    )
    assert left["items"] == [], said


def _get_when_answering(url: str) -> int:
    """The status of GET `url` once something answers there, within NODE_PORT_WAIT_S."""
    deadline = time.monotonic() + NODE_PORT_WAIT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (the node's own address)
                return int(response.status)
        except urllib.error.HTTPError as e:  # an answer, not the one hoped for
            return e.code
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
