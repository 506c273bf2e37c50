"""`sreshow down` on the kubernetes platform: everything sreshow made is gone, and a
second `down` is no error. (A module of its own: one stack at a time per cluster.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from sreshow.adapters.kubernetes.render import APP_NAMESPACE, MONITORING_NAMESPACE
from tests.k8s.node import Node, running_stack
from tests.k8s.test_kubernetes_platform import kubectl

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(1500)]


def test_down_removes_everything_and_is_safe_twice(k8s_node: Node, tmp_path: Path) -> None:
    with running_stack(k8s_node, tmp_path / "state") as stack:
        pass  # running_stack's own `down` ran on exit
    namespaces = {n["metadata"]["name"] for n in kubectl(k8s_node, "get", "namespaces")["items"]}
    cluster_wide = kubectl(
        k8s_node,
        "get",
        "clusterroles,clusterrolebindings",
        "-l",
        "app.kubernetes.io/managed-by=sreshow",
    )

    assert not namespaces & {APP_NAMESPACE, MONITORING_NAMESPACE}
    assert cluster_wide["items"] == []
    again = stack.sreshow("down")
    assert again.returncode == 0, again.stderr
    assert "nothing" in again.stdout
