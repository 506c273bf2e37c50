"""What the kubernetes platform applies is what `kubectl apply -k` would: of manifests/,
of overlays/eks, and of a patch exercising each merge rule."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sreshow.adapters.kubernetes.render import render
from sreshow.adapters.kubernetes.resources import MANAGED_BY_LABEL
from sreshow.adapters.manifests import MANIFESTS_DIR
from tests.manifests.rendered import TARGETS, rendered
from tests.manifests.rendered import render as kustomize_render

pytestmark = pytest.mark.manifests


def keyed(objects: Any) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects}


def without_our_label(obj: dict[str, Any]) -> dict[str, Any]:
    labels = {k: v for k, v in obj["metadata"]["labels"].items() if k != MANAGED_BY_LABEL}
    metadata = {k: v for k, v in obj["metadata"].items() if k != "labels"}
    return obj | {"metadata": metadata | ({"labels": labels} if labels else {})}


def test_at_time_scale_one_sreshow_renders_what_kustomize_renders_plus_its_label() -> None:
    ours = keyed(render(1.0).objects)
    kustomized = keyed(kustomize_render("base").objects)

    assert sorted(ours) == sorted(kustomized)
    for key, obj in ours.items():
        assert without_our_label(obj) == kustomized[key], key


def test_the_eks_overlay_renders_what_kustomize_renders_plus_its_label() -> None:
    ours = keyed(render(1.0, manifests_dir=TARGETS["eks"]).objects)
    kustomized = keyed(kustomize_render("eks").objects)

    assert sorted(ours) == sorted(kustomized)
    for key, obj in ours.items():
        assert without_our_label(obj) == kustomized[key], key


def test_the_eks_overlay_merges_the_node_port_into_the_base_service() -> None:
    base = keyed(render(1.0).objects)[("Service", "sre-app", "sre-app")]
    eks = keyed(render(1.0, manifests_dir=TARGETS["eks"]).objects)[
        ("Service", "sre-app", "sre-app")
    ]

    assert eks["spec"]["type"] == "NodePort"
    assert eks["spec"]["selector"] == base["spec"]["selector"]
    assert eks["spec"]["ports"] == [base["spec"]["ports"][0] | {"nodePort": 30080}]
    assert eks["spec"]["ports"][0]["port"] == 80


def test_a_strategic_merge_patch_renders_as_kustomize_renders_it(tmp_path: Path) -> None:
    """Lists merged by name (patch's items first), a null deleting, a list replaced."""
    app = os.path.relpath(MANIFESTS_DIR / "app", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{app}]\npatches:\n  - path: deployment.yaml\n  - path: service.yaml\n"
    )
    (tmp_path / "deployment.yaml").write_text(DEPLOYMENT_PATCH)
    (tmp_path / "service.yaml").write_text(SERVICE_PATCH)

    ours = keyed(render(1.0, manifests_dir=tmp_path).objects)
    kustomized = keyed(rendered(tmp_path).objects)

    assert sorted(ours) == sorted(kustomized)
    for key, obj in ours.items():
        assert without_our_label(obj) == kustomized[key], key
    pod = ours[("Deployment", "sre-app", "sre-app")]["spec"]["template"]["spec"]
    assert [e["name"] for e in pod["containers"][0]["env"]][:3] == [
        "APP_VERSION",
        "EXTRA",
        "POD_NAME",
    ]


DEPLOYMENT_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: sre-app, namespace: sre-app}
spec:
  replicas: 3
  strategy: {rollingUpdate: {maxSurge: 1}}
  template:
    spec:
      containers:
        - name: sre-app
          env:
            - {name: APP_VERSION, value: "2.0.0"}
            - {name: EXTRA, value: x}
          resources: {limits: null}
          securityContext: {capabilities: {drop: [NET_RAW]}}
          volumeMounts:
            - {name: extra, mountPath: /extra}
      volumes:
        - {name: tmp, emptyDir: {medium: Memory}}
        - {name: extra, emptyDir: {}}
"""
SERVICE_PATCH = """\
apiVersion: v1
kind: Service
metadata: {name: sre-app, namespace: sre-app, labels: {tier: web}}
spec:
  selector: {tier: web}
"""
