"""Find the external tools a test tier runs.

Tools come from PATH or from the cache `scripts/install-tools.sh` fills
($SRESHOW_TOOLS_DIR/bin, default ~/.cache/sreshow/tools/bin). A missing tool
fails the test in CI (`CI=true`) and skips it, with the install hint, elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALL_HINT = "run scripts/install-tools.sh"
# Upstream promtool at the Prometheus image's version (scripts/install-tools.sh builds
# it): Debian's promtool is built without Kubernetes service discovery.
UPSTREAM_PROMTOOL = "promtool-2.53.3"


# Read once, on import: the autouse `clean_environment` fixture removes every SRESHOW_*
# variable before each test runs.
_TOOLS_DIR = os.environ.get("SRESHOW_TOOLS_DIR")


def tools_bin() -> Path:
    base = _TOOLS_DIR or str(Path.home() / ".cache" / "sreshow" / "tools")
    return Path(base) / "bin"


def require_tool(name: str) -> str:
    """The path of tool `name`; fails (CI) or skips (elsewhere) when it is missing."""
    found = shutil.which(name) or shutil.which(name, path=str(tools_bin()))
    if found:
        return found
    message = f"{name} is not installed ({INSTALL_HINT})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def checkov_findings(result: subprocess.CompletedProcess[str]) -> tuple[list[str], dict[str, int]]:
    """A `checkov -o json` run's failed checks, one line each, and its summary (checkov
    exits 1 when a check failed; anything else is a crash, shown)."""
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [
        f"{c['check_id']} {c['check_name']} ({c['resource']})"
        for c in report["results"]["failed_checks"]
    ]
    summary: dict[str, int] = report["summary"]
    return failed, summary
