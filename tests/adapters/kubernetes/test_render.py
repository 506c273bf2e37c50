"""What `sreshow up --platform kubernetes` applies: the shipped manifests at a time scale.

(That `render(1)` is what `kubectl kustomize manifests/` prints is checked in the
manifests tier, tests/manifests/test_kubernetes_render.py, against kubectl itself.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sreshow.adapters.kubernetes.render import APP_NAME, render
from sreshow.adapters.kubernetes.resources import APPLY_ORDER, MANAGED_BY, MANAGED_BY_LABEL
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.errors import UsageError


def deployment(objects: Any, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        o for o in objects if (o["kind"], o["metadata"]["name"]) == ("Deployment", name)
    )
    return found


def app_container(objects: Any) -> dict[str, Any]:
    container: dict[str, Any] = deployment(objects, APP_NAME)["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env") or []}


def test_every_object_is_labelled_as_sreshows_and_namespaces_come_first() -> None:
    objects = render(1.0).objects

    assert all(o["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY for o in objects)
    kinds = [o["kind"] for o in objects]
    assert kinds == sorted(kinds, key=APPLY_ORDER.index)
    assert kinds[0] == "Namespace"


def test_at_a_tenth_the_apps_clocks_run_ten_times_faster_in_whole_seconds() -> None:
    real = render(1.0).find("Deployment", APP_NAME)
    fast = render(0.1).find("Deployment", APP_NAME)
    real_pod, fast_pod = real["spec"]["template"]["spec"], fast["spec"]["template"]["spec"]
    real_app, fast_app = real_pod["containers"][0], fast_pod["containers"][0]

    assert fast["spec"]["progressDeadlineSeconds"] == real["spec"]["progressDeadlineSeconds"] / 10
    # 5 s becomes 0.5 s, which the API cannot take: whole seconds, at least 1.
    assert fast_app["readinessProbe"]["periodSeconds"] == 1
    assert fast_app["lifecycle"]["preStop"]["sleep"]["seconds"] == 1
    assert (
        float(env(fast_app)["APP_GRACE_SECONDS"]) == float(env(real_app)["APP_GRACE_SECONDS"]) / 10
    )
    # The pod is given the time its preStop sleep and the app's own grace need.
    assert fast_pod["terminationGracePeriodSeconds"] >= 1 + 2
    # The liveness probe waits for HealthCheckFailing's floored `for:` (10 s, not 3 s).
    liveness = fast_app["livenessProbe"]
    failing_for = liveness["periodSeconds"] * liveness["failureThreshold"]
    assert failing_for >= 10


def test_a_scaled_config_file_gives_its_config_map_a_new_name_and_the_pods_follow() -> None:
    def prometheus(rendered: Any) -> tuple[dict[str, Any], str]:
        deployment = rendered.find("Deployment", "prometheus")
        names = {
            source["configMap"]["name"]
            for volume in deployment["spec"]["template"]["spec"]["volumes"]
            for source in [volume, *(volume.get("projected", {}).get("sources") or [])]
            if "configMap" in source
        }
        config_name = next(n for n in names if n.startswith("prometheus-config-"))
        return rendered.find("ConfigMap", config_name), config_name

    real_map, real_name = prometheus(render(1.0))
    fast_map, fast_name = prometheus(render(0.1))

    assert fast_name != real_name
    real_interval = yaml.safe_load(real_map["data"]["prometheus.yml"])["global"]["scrape_interval"]
    fast_interval = yaml.safe_load(fast_map["data"]["prometheus.yml"])["global"]["scrape_interval"]
    assert (real_interval, fast_interval) == ("15s", "1500ms")


def test_the_hpa_behaviour_is_scaled_too() -> None:
    real = render(1.0).find("HorizontalPodAutoscaler", APP_NAME)["spec"]["behavior"]
    fast = render(0.1).find("HorizontalPodAutoscaler", APP_NAME)["spec"]["behavior"]

    assert (
        fast["scaleDown"]["stabilizationWindowSeconds"]
        == real["scaleDown"]["stabilizationWindowSeconds"] / 10
    )


def test_image_runs_another_app_image_in_the_app_and_the_sink_and_nothing_else_changes() -> None:
    shipped = render(1.0)
    local = render(1.0, image="localhost/sreshow/sre-app:abc123")

    assert app_container(local.objects)["image"] == "localhost/sreshow/sre-app:abc123"
    assert app_container(shipped.objects)["image"].startswith("ghcr.io/sreshow/sre-app:")
    (sink,) = deployment(local.objects, "notification-sink")["spec"]["template"]["spec"][
        "containers"
    ]
    assert sink["image"] == "localhost/sreshow/sre-app:abc123"
    rewritten = {("Deployment", APP_NAME), ("Deployment", "notification-sink")}
    others = [o for o in local.objects if (o["kind"], o["metadata"]["name"]) not in rewritten]
    assert others == [
        o for o in shipped.objects if (o["kind"], o["metadata"]["name"]) not in rewritten
    ]


def test_a_kustomize_feature_sreshow_does_not_apply_is_refused_by_name(tmp_path: Path) -> None:
    kustomization = {"resources": [str(MANIFESTS_DIR / "app")], "replacements": []}
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))

    with pytest.raises(UsageError, match=r"kustomization.yaml: .* does not support replacements"):
        render(1.0, manifests_dir=tmp_path)
