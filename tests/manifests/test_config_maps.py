"""sreshow's own ConfigMaps are the ones `kubectl kustomize` generates, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sreshow.adapters.manifests import MANIFESTS_DIR, generated_config_maps, monitoring_files
from tests.manifests.rendered import rendered

pytestmark = pytest.mark.manifests


def kustomized_config_maps(directory: Path) -> list[dict[str, Any]]:
    return rendered(directory).of_kind("ConfigMap")


def _by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects}


def test_the_monitoring_config_maps_match_kustomize() -> None:
    ours = generated_config_maps(MANIFESTS_DIR / "monitoring")
    assert ours, "manifests/monitoring/kustomization.yaml generates no ConfigMap"
    assert _by_name(ours) == _by_name(kustomized_config_maps(MANIFESTS_DIR / "monitoring"))


def test_every_generated_file_is_a_monitoring_file() -> None:
    files = monitoring_files(MANIFESTS_DIR / "monitoring")
    assert "prometheus/prometheus.yml" in files
    assert "alertmanager/alertmanager.yml" in files
    assert any(name.endswith(".rules.yml") for name in files)


def test_hashes_match_for_awkward_content(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text('expr: a > 0 && b < 1 # <tag> "quoted"\n')
    (tmp_path / "unicode.tmpl").write_text("Stör → ✓ \u2028 line\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "namespace": "monitoring",
                "generatorOptions": {"labels": {"app.kubernetes.io/part-of": "sreshow"}},
                "configMapGenerator": [
                    {"name": "awkward", "files": ["rules.yml", "renamed.tmpl=unicode.tmpl"]},
                    {"name": "with-literals", "literals": ["a=1", "b=<&>"], "files": ["empty.txt"]},
                    {
                        "name": "unhashed",
                        "files": ["rules.yml"],
                        "options": {"disableNameSuffixHash": True},
                    },
                ],
            }
        )
    )
    assert _by_name(generated_config_maps(tmp_path)) == _by_name(kustomized_config_maps(tmp_path))
