"""Read the shipped manifests: the monitoring files and the ConfigMaps made from them.

The files under `manifests/monitoring/` exist once. kustomize turns them into
ConfigMaps through the `configMapGenerator` of that folder's kustomization.yaml;
`generated_config_maps()` reads the same kustomization and makes the same objects,
so sreshow can apply them without kubectl.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from sreshow.core.configmaps import config_map
from sreshow.core.durations import parse_duration
from sreshow.errors import UsageError

MANIFESTS_DIR = Path(__file__).resolve().parents[3] / "manifests"
# The alert that watches the liveness endpoint: it must fire before the kubelet restarts.
LIVENESS_ALERT = "HealthCheckFailing"


class GeneratorFile(NamedTuple):
    key: str  # in the ConfigMap
    path: str  # relative to the kustomization
    text: str


def generated_config_maps(kustomization_dir: Path) -> list[dict[str, Any]]:
    """The ConfigMaps `kubectl kustomize kustomization_dir` generates, in its order."""
    kustomization = _load_kustomization(kustomization_dir)
    options = kustomization.get("generatorOptions") or {}
    namespace = kustomization.get("namespace")
    maps = []
    for generator in kustomization.get("configMapGenerator") or []:
        own = generator.get("options") or {}
        maps.append(
            config_map(
                generator["name"],
                _generator_data(kustomization_dir, generator),
                namespace=generator.get("namespace", namespace),
                labels=(options.get("labels") or {}) | (own.get("labels") or {}),
                annotations=(options.get("annotations") or {}) | (own.get("annotations") or {}),
                hashed=not own.get(
                    "disableNameSuffixHash", options.get("disableNameSuffixHash", False)
                ),
            )
        )
    return maps


def monitoring_files(kustomization_dir: Path) -> dict[str, str]:
    """Every file the kustomization's generators name, by path relative to the folder."""
    kustomization = _load_kustomization(kustomization_dir)
    return {
        path: _read(kustomization_dir, path)
        for generator in kustomization.get("configMapGenerator") or []
        for _, path in _file_entries(generator)
    }


def load_manifest(path: Path, what: str) -> dict[str, Any]:
    """A shipped YAML file that holds one mapping (`what` names it in errors, exit 2)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise UsageError(f"{path}: cannot read the {what} ({e}); restore it from git") from e
    if not isinstance(loaded, dict):
        raise UsageError(f"{path}: not a {what} (expected a mapping); restore it from git")
    return loaded


def _load_kustomization(directory: Path) -> dict[str, Any]:
    return load_manifest(directory / "kustomization.yaml", "kustomization")


def _file_entries(generator: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, path) for each `files:` entry: `path` or `key=path`."""
    entries = []
    for entry in generator.get("files") or []:
        key, _, path = entry.rpartition("=")
        entries.append((key or Path(path).name, path))
    return entries


def generator_files(directory: Path, generator: Mapping[str, Any]) -> list[GeneratorFile]:
    """The files a `configMapGenerator` entry names, read."""
    return [
        GeneratorFile(key, path, _read(directory, path)) for key, path in _file_entries(generator)
    ]


def _generator_data(directory: Path, generator: dict[str, Any]) -> dict[str, str]:
    data = {file.key: file.text for file in generator_files(directory, generator)}
    for literal in generator.get("literals") or []:
        key, _, value = literal.partition("=")
        data[key] = value
    return data


def _read(directory: Path, relative: str) -> str:
    path = directory / relative
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read it ({e.strerror}); restore it from git") from e


def alert_for_seconds(alert: str) -> float:
    """The `for:` of alerting rule `alert` in the shipped rule files (0 if none)."""
    for name, text in monitoring_files(MANIFESTS_DIR / "monitoring").items():
        if not name.endswith(".rules.yml"):
            continue
        for group in (yaml.safe_load(text) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                if rule.get("alert") == alert:
                    return parse_duration(str(rule.get("for", "0s"))) / 1000
    return 0.0
