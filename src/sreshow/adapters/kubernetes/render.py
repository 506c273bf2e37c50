"""The shipped manifests as the objects `kubectl kustomize manifests/` renders, at a
time scale, ready to apply.

`render()` reads the kustomizations under `manifests/` (the features they use:
`resources`, `namespace`, `configMapGenerator` with `generatorOptions`, `images`, and
`patches` as strategic merges from a file, e.g. overlays/eks's NodePort Service), so
applying needs no kubectl; tests/manifests check it against kustomize's own output.
A patch merges maps key by key, deletes a key set to null, merges a list of maps by the
key Kubernetes merges that list by (containers, initContainers, env, volumes and
volumeMounts by `name`, a container's `ports` by `containerPort`, a Service's
`spec.ports` by `port`; the patch's items first, as kustomize orders them) and replaces
any other list: the part of Kubernetes' strategic merge patch the overlays use. (A few
more lists merge in Kubernetes, e.g. topologySpreadConstraints; here a patch replaces
them, so kustomize would render such a patch differently.) Patches apply to the
objects of `resources`, before `namespace`, as in kustomize; inline and JSON 6902
patches are refused.
Then it does what `kubectl apply -k` cannot:
- fills an overlay's placeholders (`placeholders`, e.g. the eks platform's Terraform
  outputs): every string value that contains a placeholder's name has it replaced by
  the value. Given values, a name of `EKS_PLACEHOLDERS` left unfilled is an error, so a
  half-filled object never reaches a cluster; without values (None, a preview) the
  names stay as they are. Only those names are checked, not every `SRESHOW_...`
  string: the base's env var names (`SRESHOW_ADMIN_TOKEN_FILE`) are not placeholders;
- scales the clocks as the local platform does: the monitoring files and the HPA's
  behaviour through `core.timescale` (a changed file gives its ConfigMap a new hash
  suffix, as kustomize would, and the references follow), the app's probes, progress
  deadline, shutdown and drain in whole seconds (what the API takes), never below 1 s;
- runs another app image when asked (`--image`, e.g. one built on the cluster's node), in
  the app and in the notification sink, which runs the app's image too;
- labels every object `app.kubernetes.io/managed-by: sreshow`, so `up` can prune what
  it no longer renders and `down` finds everything it made.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sreshow.adapters.kubernetes.overlay import (
    apply_patches,
    fill_placeholders,
    refuse_unfilled_placeholders,
)
from sreshow.adapters.kubernetes.resources import APPLY_ORDER, MANAGED_BY, MANAGED_BY_LABEL, kind_of
from sreshow.adapters.manifests import (
    LIVENESS_ALERT,
    MANIFESTS_DIR,
    alert_for_seconds,
    generator_files,
    load_manifest,
)
from sreshow.core.configmaps import config_map
from sreshow.core.probes import liveness_scale
from sreshow.core.timescale import Clamp, scale_monitoring
from sreshow.errors import UsageError

APP_NAMESPACE = "sre-app"
APP_NAME = "sre-app"
MONITORING_NAMESPACE = "monitoring"
ADMIN_SECRET = "sre-app-admin"  # noqa: S105 (a name); key `token`: the fault admin API's bearer token
GRAFANA_SECRET = "grafana-admin"  # noqa: S105 (a name); key `password`
SLACK_SECRET = "alertmanager-slack"  # noqa: S105 (a name); key `webhook-url`: the sink's URL
SINK_SECRET = "notification-sink"  # noqa: S105 (a name); keys `path`, `relay-url` (adapters/sink.py)
SINK_SERVICE = ("notification-sink", 8080)  # in the monitoring namespace
HPA_FILE = "hpa.yaml"
# What render() reads of a kustomization.yaml; any other field is refused by name.
KUSTOMIZE_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "resources",
        "namespace",
        "configMapGenerator",
        "generatorOptions",
        "images",
        "patches",
    }
)
PRE_STOP_SPARE_SECONDS = 1  # of the termination grace, after preStop and the app's grace


@dataclass(frozen=True)
class Rendered:
    objects: tuple[dict[str, Any], ...]  # in apply order
    clamps: tuple[Clamp, ...]  # durations scaling would have made too short

    def find(self, kind: str, name: str) -> dict[str, Any]:
        return next(o for o in self.objects if (o["kind"], o["metadata"]["name"]) == (kind, name))


def render(
    time_scale: float,
    *,
    image: str | None = None,
    manifests_dir: Path = MANIFESTS_DIR,
    placeholders: Mapping[str, str] | None = None,
) -> Rendered:
    """The stack's objects at `time_scale`, the app running `image` (None: the shipped),
    the overlay's `placeholders` filled (None: left as they are; see the module doc)."""
    clamps: list[Clamp] = []
    objects = list(_kustomize(manifests_dir, time_scale, clamps))
    if placeholders is not None:
        objects = [fill_placeholders(obj, placeholders) for obj in objects]
        refuse_unfilled_placeholders(manifests_dir, objects)
    for obj in objects:
        kind_of(obj)  # refuses a kind sreshow does not apply, by name
        obj["metadata"].setdefault("labels", {})[MANAGED_BY_LABEL] = MANAGED_BY
    app = next(
        (o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == APP_NAME),
        None,
    )
    if app is None:
        raise UsageError(f"{manifests_dir}: no Deployment {APP_NAME}; restore it from git")
    _scale_pod_clocks(app, time_scale)
    if image is not None:
        _run_app_image(objects, _app_container(app)["image"], image)
    objects.sort(key=lambda o: APPLY_ORDER.index(o["kind"]))
    return Rendered(tuple(objects), tuple(clamps))


# --- kustomize's part ------------------------------------------------------------------


def _kustomize(directory: Path, time_scale: float, clamps: list[Clamp]) -> Iterator[dict[str, Any]]:
    kustomization = load_manifest(directory / "kustomization.yaml", "kustomization")
    unsupported = sorted(set(kustomization) - KUSTOMIZE_FIELDS)
    if unsupported:
        raise UsageError(
            f"{directory / 'kustomization.yaml'}: sreshow applies kustomizations itself and "
            f"does not support {', '.join(unsupported)}; use only "
            f"{', '.join(sorted(KUSTOMIZE_FIELDS - {'apiVersion', 'kind'}))}"
        )
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources") or []:
        path = directory / entry
        if path.is_dir():
            objects.extend(_kustomize(path, time_scale, clamps))
        else:
            objects.extend(_resource_file(path, time_scale, clamps))
    apply_patches(directory, kustomization, objects)
    namespace = kustomization.get("namespace")
    if namespace:
        for obj in objects:
            if kind_of(obj).namespaced:
                obj["metadata"]["namespace"] = namespace
    generated = _generated_config_maps(directory, kustomization, time_scale, clamps)
    renamed = {plain: cm["metadata"]["name"] for plain, cm in generated}
    for obj in objects:
        _rename_config_maps(obj, renamed)
    objects.extend(cm for _, cm in generated)
    for override in kustomization.get("images") or []:
        for obj in objects:
            _set_image(obj, override)
    return iter(objects)


def _resource_file(path: Path, time_scale: float, clamps: list[Clamp]) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read it ({e.strerror}); restore it from git") from e
    if path.name == HPA_FILE:
        scaled = scale_monitoring({HPA_FILE: text}, time_scale)
        text = scaled.files[HPA_FILE]
        clamps.extend(scaled.clamps)
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc]
    except yaml.YAMLError as e:
        raise UsageError(f"{path}: not valid YAML ({e}); restore it from git") from e


def _generated_config_maps(
    directory: Path, kustomization: Mapping[str, Any], time_scale: float, clamps: list[Clamp]
) -> list[tuple[str, dict[str, Any]]]:
    """(generator name, ConfigMap) for each `configMapGenerator`, its files scaled."""
    generators = kustomization.get("configMapGenerator") or []
    files = {g["name"]: generator_files(directory, g) for g in generators}
    scaled = scale_monitoring({f.path: f.text for fs in files.values() for f in fs}, time_scale)
    clamps.extend(scaled.clamps)
    options = kustomization.get("generatorOptions") or {}
    made = []
    for generator in generators:
        own = generator.get("options") or {}
        cm = config_map(
            generator["name"],
            {f.key: scaled.files[f.path] for f in files[generator["name"]]},
            namespace=generator.get("namespace", kustomization.get("namespace")),
            labels=(options.get("labels") or {}) | (own.get("labels") or {}),
            annotations=(options.get("annotations") or {}) | (own.get("annotations") or {}),
            hashed=not own.get(
                "disableNameSuffixHash", options.get("disableNameSuffixHash", False)
            ),
        )
        made.append((generator["name"], cm))
    return made


def _rename_config_maps(obj: dict[str, Any], renamed: Mapping[str, str]) -> None:
    """Point a workload's ConfigMap volumes at the generated (hash-suffixed) names."""
    spec = obj.get("spec", {}).get("template", {}).get("spec")
    if not spec:
        return
    for volume in spec.get("volumes") or []:
        sources = [volume, *(volume.get("projected", {}).get("sources") or [])]
        for source in sources:
            config = source.get("configMap")
            if config and config.get("name") in renamed:
                config["name"] = renamed[config["name"]]


def _set_image(obj: dict[str, Any], override: Mapping[str, Any]) -> None:
    spec = obj.get("spec", {}).get("template", {}).get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        image = container.get("image", "")
        if image.split(":")[0] == override["name"]:
            name = override.get("newName", override["name"])
            tag = override.get("newTag", image.partition(":")[2] or "latest")
            container["image"] = f"{name}:{tag}"


# --- the app's clocks ----------------------------------------------------------------


def _scale_pod_clocks(deployment: dict[str, Any], factor: float) -> None:
    """The app's probes, progress deadline and shutdown at `factor` (see module doc)."""
    spec = deployment["spec"]
    spec["progressDeadlineSeconds"] = _seconds(spec.get("progressDeadlineSeconds", 600), factor)
    pod = spec["template"]["spec"]
    container = _app_container(deployment)
    probe_factors = {
        "readinessProbe": factor,
        "livenessProbe": liveness_scale(factor, alert_for_seconds(LIVENESS_ALERT)),
        "startupProbe": factor,
    }
    for name, probe_factor in probe_factors.items():
        probe = container.get(name)
        if probe is None:
            continue
        for key, minimum in (("periodSeconds", 1), ("timeoutSeconds", 1)):
            probe[key] = _seconds(
                probe.get(key, 10 if key == "periodSeconds" else 1), probe_factor, minimum
            )
        if "initialDelaySeconds" in probe:
            probe["initialDelaySeconds"] = _seconds(probe["initialDelaySeconds"], probe_factor, 0)
    env = {e["name"]: e for e in container.get("env") or []}
    grace = 0.0
    for name in ("APP_DRAIN_SECONDS", "APP_GRACE_SECONDS"):
        if name in env and "value" in env[name]:
            value = float(env[name]["value"]) * factor
            env[name]["value"] = f"{value:g}"
            grace = value if name == "APP_GRACE_SECONDS" else grace
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep")
    sleep = 0
    if pre_stop is not None:
        sleep = pre_stop["seconds"] = _seconds(pre_stop["seconds"], factor)
    pod["terminationGracePeriodSeconds"] = max(
        _seconds(pod.get("terminationGracePeriodSeconds", 30), factor),
        sleep + math.ceil(grace) + PRE_STOP_SPARE_SECONDS,
    )


def _seconds(value: Any, factor: float, minimum: int = 1) -> int:
    """Whole seconds `value * factor`, rounded up (never shorter than scaled), >= minimum."""
    return max(minimum, math.ceil(float(value) * factor - 1e-9))


def _run_app_image(objects: list[dict[str, Any]], shipped: str, image: str) -> None:
    """Every container that runs the app's shipped image (the app, the notification
    sink) runs `image` instead."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                if container.get("image") == shipped:
                    container["image"] = image


def _app_container(deployment: Mapping[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = next((c for c in containers if c["name"] == APP_NAME), containers[0])
    return found
