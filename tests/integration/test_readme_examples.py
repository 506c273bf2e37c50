"""The README's examples, run as written against a real local stack."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.tools import require_tool

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- demo:start -->\n```sh\n(.*?)```\n<!-- demo:end -->", text, re.DOTALL)
    assert block, "README.md lost its examples block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def user_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A user whose home is a temp dir (the README's paths start at ~) with a stack up."""
    require_tool("haproxy")
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k != "SRESHOW_STATE_DIR"}
    env |= {"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"}
    port = free_port()
    up = subprocess.run(
        [sys.executable, "-m", "sreshow", "up", "--port", str(port)],
        capture_output=True, text=True, env=env, timeout=90, check=False,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield env | {"APP_PORT_FOR_TEST": str(port)}
    finally:
        subprocess.run([sys.executable, "-m", "sreshow", "down"], env=env, timeout=60, check=False)


def test_every_readme_example_works(user_env: dict[str, str]) -> None:
    port = user_env["APP_PORT_FOR_TEST"]
    outputs = []
    for command in readme_commands():
        result = subprocess.run(
            ["bash", "-c", command.replace("127.0.0.1:8080", f"127.0.0.1:{port}")],
            capture_output=True, text=True, timeout=30, env=user_env, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (command, result.stderr)
        outputs.append(result.stdout)
    data, status, unauthorised, injected, stack_status = outputs
    assert json.loads(data)["replica"].startswith("sre-app-")
    assert json.loads(status)["faults"]["error_rate"] == 0.0
    assert unauthorised.strip() == "401"
    assert json.loads(injected)["error_rate"] == 0.2
    stack = json.loads(stack_status)
    assert stack["platform"] == "local"
    assert stack["endpoints"]["app"] == f"http://127.0.0.1:{port}"
