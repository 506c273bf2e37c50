"""The README's curl examples, run as written against a real app process."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.app.support import ROOT, TOKEN, app_process


def readme_demo_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- demo:start -->\n```sh\n(.*?)```\n<!-- demo:end -->", text, re.DOTALL)
    assert block, "README.md lost its demo block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_every_readme_example_works_against_the_app(tmp_path: Path) -> None:
    token_file = tmp_path / ".local" / "state" / "sreshow" / "admin-token"
    token_file.parent.mkdir(parents=True)
    token_file.write_text(TOKEN + "\n")
    env = {"SRESHOW_ADMIN_TOKEN_FILE": str(token_file)}
    outputs = []
    with app_process(env) as app:
        port = app.url.rsplit(":", 1)[1]
        for command in readme_demo_commands():
            result = subprocess.run(
                ["bash", "-c", command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
                capture_output=True,
                text=True,
                timeout=30,
                env={**os.environ, "HOME": str(tmp_path)},
            )
            assert result.returncode == 0, (command, result.stderr)
            outputs.append(result.stdout)
    data, status, unauthorised, injected, twenty, metrics, cleared = outputs
    assert '"items"' in data
    assert '"faults"' in status
    assert unauthorised.strip() == "401"
    assert '"error_rate":0.2' in injected
    assert twenty.split().count("500") == 4
    assert 'route="/api/data",status="500"} 4.0' in metrics
    assert '"error_rate":0.0' in cleared
