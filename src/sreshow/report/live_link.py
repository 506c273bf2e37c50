"""Where the live dashboard is served, while `sreshow dashboard` runs: a record in the
state dir (`dashboard.json`: url and pid) that `status` and the live view link to."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import psutil

from sreshow.files import write_atomically

LINK_FILE = "dashboard.json"


def publish(state_dir: Path, url: str) -> None:
    """Record that this process serves the dashboard at `url`."""
    write_atomically(state_dir / LINK_FILE, json.dumps({"url": url, "pid": os.getpid()}) + "\n")


def withdraw(state_dir: Path) -> None:
    """Forget the record, if it is this process's."""
    path = state_dir / LINK_FILE
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()


def live_dashboard_url(state_dir: Path) -> str | None:
    """The dashboard's URL while the process that serves it runs; else None."""
    try:
        record = json.loads((state_dir / LINK_FILE).read_text(encoding="utf-8"))
        url, pid = str(record["url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if psutil.pid_exists(pid) else None
