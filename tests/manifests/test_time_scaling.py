"""Scaled monitoring files still pass the real tools' checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sreshow.adapters.manifests import MANIFESTS_DIR, monitoring_files
from sreshow.core.timescale import scale_monitoring
from tests.tools import UPSTREAM_PROMTOOL, require_tool

pytestmark = pytest.mark.manifests


def write_scaled(factor: float, into: Path) -> dict[str, Path]:
    scaled = scale_monitoring(monitoring_files(MANIFESTS_DIR / "monitoring"), factor)
    paths = {}
    for name, text in scaled.files.items():
        path = into / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths[name] = path
    return paths


@pytest.mark.parametrize("factor", [0.5, 0.1, 0.05, 0.01])
def test_scaled_rules_pass_promtool(tmp_path: Path, factor: float) -> None:
    promtool = require_tool("promtool")
    rules = [p for name, p in write_scaled(factor, tmp_path).items() if name.endswith(".rules.yml")]
    assert rules
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, rules)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("factor", [0.1, 0.01])
def test_scaled_alertmanager_config_passes_amtool(tmp_path: Path, factor: float) -> None:
    amtool = require_tool("amtool")
    config = write_scaled(factor, tmp_path)["alertmanager/alertmanager.yml"]
    result = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("factor", "scrape_interval"), [(0.1, "1500ms"), (0.01, "1s")])
def test_scaled_prometheus_config_passes_promtool(
    tmp_path: Path, factor: float, scrape_interval: str
) -> None:
    promtool = require_tool(UPSTREAM_PROMTOOL)
    config = write_scaled(factor, tmp_path)["prometheus/prometheus.yml"]
    # Syntax only: the files it names (rules, service-account token) exist in the pod.
    result = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(config)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"scrape_interval: {scrape_interval}" in config.read_text()
