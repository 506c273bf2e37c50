"""Run the real CLI as a user with no AWS settings, no credentials and no network: a
subprocess whose audit hook refuses every connection and name lookup, with a home of
its own (no ~/.aws) and no AWS_* or SRESHOW_* variable from the developer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Refuses any connection or name lookup, then runs the CLI: proof it needs no network.
OFFLINE = """
import sys

def refuse(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        raise RuntimeError(f"network use: {event} {args!r}")

sys.addaudithook(refuse)
from sreshow.cli.app import main
sys.exit(main(sys.argv[1:]))
"""


def offline_sreshow(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`sreshow ARGS` offline, its state dir `tmp_path/state`, wide and colourless."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SRESHOW_"))}
    clean |= {"HOME": str(tmp_path), "SRESHOW_STATE_DIR": str(tmp_path / "state")}
    clean |= {"COLUMNS": "400", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", OFFLINE, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean | (env or {}),
        check=False,
    )
