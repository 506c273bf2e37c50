"""render()'s `patches` (strategic merges from a file) and overlay placeholders.

That a patch renders as kustomize renders it is tests/manifests' check; here are the
refusals, and the placeholders the eks platform fills from Terraform's outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sreshow.adapters.kubernetes.overlay import EKS_PLACEHOLDERS
from sreshow.adapters.kubernetes.render import Rendered, render
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.errors import UsageError

EKS = MANIFESTS_DIR / "overlays" / "eks"
VALUES = {
    "SRESHOW_CLUSTER_NAME": "sreshow-demo",
    "SRESHOW_CLUSTER_AUTOSCALER_ROLE_ARN": "arn:aws:iam::123456789012:role/autoscaler",
    "SRESHOW_AWS_REGION": "eu-west-1",
}
SERVICE_PATCH = """\
apiVersion: v1
kind: Service
metadata: {name: sre-app, namespace: sre-app}
spec: {type: NodePort}
"""


def overlay(directory: Path, patches: str, files: dict[str, str] | None = None) -> Path:
    """A kustomization over manifests/app with `patches` (YAML) and patch `files`."""
    app = os.path.relpath(MANIFESTS_DIR / "app", directory)
    (directory / "kustomization.yaml").write_text(f"resources: [{app}]\npatches:\n{patches}")
    for name, text in (files or {}).items():
        (directory / name).write_text(text)
    return directory


def autoscaler_strings(rendered: Rendered) -> tuple[str, str, str]:
    """(the role annotation, the discovery flag, AWS_REGION) of the cluster autoscaler."""
    account = rendered.find("ServiceAccount", "cluster-autoscaler")
    container = rendered.find("Deployment", "cluster-autoscaler")["spec"]["template"]["spec"][
        "containers"
    ][0]
    discovery = next(a for a in container["command"] if "auto-discovery" in a)
    region = next(e["value"] for e in container["env"] if e["name"] == "AWS_REGION")
    return account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], discovery, region


def test_a_patch_without_a_target_applies_to_its_own_kind_and_name(tmp_path: Path) -> None:
    rendered = render(
        1.0, manifests_dir=overlay(tmp_path, "  - path: p.yaml\n", {"p.yaml": SERVICE_PATCH})
    )

    service = rendered.find("Service", "sre-app")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["port"] == 80  # merged into, not replaced


def test_a_patch_whose_target_matches_nothing_names_the_file_and_the_patch(
    tmp_path: Path,
) -> None:
    patches = "  - path: p.yaml\n    target: {kind: Service, name: sre-ap}\n"

    with pytest.raises(UsageError) as raised:
        render(1.0, manifests_dir=overlay(tmp_path, patches, {"p.yaml": SERVICE_PATCH}))

    assert str(raised.value) == (
        f"{tmp_path / 'kustomization.yaml'}: patch p.yaml targets kind Service, name sre-ap, "
        "which no resource defines; fix the target (or the patch's kind and metadata) to "
        "name one"
    )


def test_an_inline_patch_is_refused(tmp_path: Path) -> None:
    patches = "  - patch: |-\n      kind: Service\n      metadata: {name: sre-app}\n"

    with pytest.raises(
        UsageError, match=r"supports only strategic-merge patches from a file \(path:\)"
    ):
        render(1.0, manifests_dir=overlay(tmp_path, patches))


def test_a_json_6902_patch_file_is_refused(tmp_path: Path) -> None:
    operations = "- op: replace\n  path: /spec/type\n  value: NodePort\n"
    patches = "  - path: ops.yaml\n    target: {kind: Service, name: sre-app}\n"

    with pytest.raises(UsageError) as raised:
        render(1.0, manifests_dir=overlay(tmp_path, patches, {"ops.yaml": operations}))

    assert "patch ops.yaml is not one object with a kind" in str(raised.value)
    assert "sreshow supports only strategic-merge patches from a file (path:)" in str(raised.value)


def test_a_target_by_label_is_refused_not_ignored(tmp_path: Path) -> None:
    patches = "  - path: p.yaml\n    target: {kind: Service, labelSelector: tier=web}\n"

    with pytest.raises(UsageError, match="sreshow matches only kind, name, namespace"):
        render(1.0, manifests_dir=overlay(tmp_path, patches, {"p.yaml": SERVICE_PATCH}))


def test_a_list_item_without_its_merge_key_is_refused(tmp_path: Path) -> None:
    patch = SERVICE_PATCH.replace("spec: {type: NodePort}", "spec: {ports: [{nodePort: 30080}]}")

    with pytest.raises(UsageError, match=r"patch p\.yaml: an item of spec\.ports has no port"):
        render(1.0, manifests_dir=overlay(tmp_path, "  - path: p.yaml\n", {"p.yaml": patch}))


def test_placeholders_are_filled_in_the_cluster_autoscaler_objects() -> None:
    rendered = render(1.0, manifests_dir=EKS, placeholders=VALUES)

    assert autoscaler_strings(rendered) == (
        "arn:aws:iam::123456789012:role/autoscaler",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        "k8s.io/cluster-autoscaler/sreshow-demo",
        "eu-west-1",
    )


def test_without_values_the_placeholders_stay_for_a_preview() -> None:
    role, discovery, region = autoscaler_strings(render(1.0, manifests_dir=EKS))

    assert (role, region) == ("SRESHOW_CLUSTER_AUTOSCALER_ROLE_ARN", "SRESHOW_AWS_REGION")
    assert discovery.endswith("/SRESHOW_CLUSTER_NAME")


def test_a_placeholder_without_a_value_is_refused_by_name_and_object() -> None:
    values = {k: v for k, v in VALUES.items() if k != "SRESHOW_AWS_REGION"}

    with pytest.raises(UsageError) as raised:
        render(1.0, manifests_dir=EKS, placeholders=values)

    assert str(raised.value) == (
        f"{EKS}: placeholder SRESHOW_AWS_REGION in Deployment kube-system/cluster-autoscaler "
        "has no value; give render() one in placeholders"
    )


def test_the_base_env_var_names_are_not_taken_for_placeholders() -> None:
    # The app's env holds the name SRESHOW_ADMIN_TOKEN_FILE, a value no one fills.
    rendered = render(1.0, placeholders={})

    env = rendered.find("Deployment", "sre-app")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert "SRESHOW_ADMIN_TOKEN_FILE" in [e["name"] for e in env]
    assert "SRESHOW_ADMIN_TOKEN_FILE" not in EKS_PLACEHOLDERS
