"""What the kubernetes platform applies is what `kubectl apply -k manifests/` would."""

from __future__ import annotations

from typing import Any

import pytest

from sreshow.adapters.kubernetes.render import render
from sreshow.adapters.kubernetes.resources import MANAGED_BY_LABEL
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
