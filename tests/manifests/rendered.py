"""The Kubernetes objects under manifests/, as `kubectl kustomize` renders them.

`render("base")` and `render("eks")` run kustomize once per test run, offline; the
lookups below find objects, pod specs, containers and mounted files in what it rendered.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sreshow.adapters.manifests import MANIFESTS_DIR
from tests.tools import require_tool

TARGETS = {"base": MANIFESTS_DIR, "eks": MANIFESTS_DIR / "overlays" / "eks"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


@dataclass(frozen=True)
class Render:
    """One `kubectl kustomize` output: its text and its objects."""

    text: str
    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        found = [
            o
            for o in self.of_kind(kind)
            if o["metadata"]["name"] == name
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]
        assert len(found) == 1, f"expected one {kind} {namespace}/{name}, found {len(found)}"
        return found[0]

    def workloads(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] in WORKLOAD_KINDS]

    def mounted_files(self, workload: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
        """(path in the container, ConfigMap or Secret name, key) for every mounted key.

        ConfigMap volumes without `items` are expanded with the rendered ConfigMap's keys.
        """
        volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
        for container in containers(workload):
            for mount in container.get("volumeMounts", []):
                volume = volumes[mount["name"]]
                sources = volume.get("projected", {}).get("sources", [volume])
                for source in sources:
                    ref = source.get("configMap") or source.get("secret")
                    if ref is None:
                        continue
                    name = ref.get("name") or ref.get("secretName")
                    items = ref.get("items") or [
                        {"key": k, "path": k} for k in self._config_map_keys(name)
                    ]
                    for item in items:
                        yield f"{mount['mountPath']}/{item['path']}", name, item["key"]

    def _config_map_keys(self, name: str) -> list[str]:
        for configmap in self.of_kind("ConfigMap"):
            if configmap["metadata"]["name"] == name:
                return sorted(configmap.get("data", {}))
        return []  # a Secret mounted without items: its keys are not in git


def kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    """`kubectl kustomize DIR` with every proxy pointing at a closed port: offline."""
    kubectl = require_tool("kubectl")
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "NO_PROXY": ""}
    return subprocess.run(
        [kubectl, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def rendered(directory: Path) -> Render:
    """What `kubectl kustomize directory` renders; the test fails if it cannot."""
    result = kustomize(directory)
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    return Render(result.stdout, objects)


@functools.cache
def render(target: str) -> Render:
    """The render of one of the `TARGETS`, made once per test run."""
    return rendered(TARGETS[target])


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def unhashed(name: str) -> str:
    """A generated ConfigMap's name without kustomize's hash suffix (10 characters
    from an alphabet without vowels, so no real word is taken for a hash)."""
    return re.sub(r"-[bcdfghkmt2-9]{10}$", "", name)
