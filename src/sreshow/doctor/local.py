"""The local platform's readiness: the binaries `sreshow up` checks for, at the versions
it needs, and the one fixed port it binds."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

from sreshow.doctor.model import Check, Inspection
from sreshow.errors import UsageError

VERSION_TIMEOUT_SECONDS = 5.0
VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")  # the first one printed, as `up` reads it


def validate(inspection: Inspection) -> None:
    """Refuse a --port that is no TCP port, as `up` does (exit 2)."""
    port = inspection.port
    if port is not None and not 1 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port; give 1 to 65535")


def checks(inspection: Inspection) -> Iterator[Check]:
    """The binaries, then the app's port."""
    yield from binaries()
    yield app_port(inspection)


def binaries() -> Iterator[Check]:
    """Each binary `up` refuses to start without (its `check_tools()`), on PATH and new
    enough; a version that cannot be read passes, as it does for `up`."""
    from sreshow.adapters.local.lifecycle import REQUIRED_BINARIES

    for binary, minimum in REQUIRED_BINARIES:
        wanted = ".".join(map(str, minimum))
        path = shutil.which(binary.name)
        if path is None:
            yield Check.failed(binary.name, "not found on PATH", binary.install_hint())
            continue
        found = version_of(path)
        if found is None:
            yield Check.passed(binary.name, f"at {path}, version unknown (needs >= {wanted})")
            continue
        shown = ".".join(map(str, found))
        if found < minimum:
            yield Check.failed(
                binary.name,
                f"{shown} at {path} is too old (needs >= {wanted})",
                binary.install_hint(),
            )
            continue
        yield Check.passed(binary.name, f"{shown} at {path} (needs >= {wanted})")


def version_of(path: str) -> tuple[int, ...] | None:
    """The first version number `path --version` prints; None when it prints none in
    time or cannot be run."""
    try:
        result = subprocess.run(  # noqa: S603 (a binary found on PATH, a fixed flag)
            [path, "--version"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=VERSION_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = VERSION.search(result.stdout + result.stderr)
    return tuple(int(part) for part in match.groups() if part) if match else None


def app_port(inspection: Inspection) -> Check:
    """The app's port on 127.0.0.1, the only fixed one `up` binds (HAProxy's); the sink,
    the replicas, Prometheus, Alertmanager and the exporter take free ports.

    Without --port, `up` serves the app on 8080 when it is free and on a free port
    otherwise (`_default_port()`), so a taken 8080 passes, with a warning; a given --port
    that is taken is refused by `up` (`check_port()`), so it fails here."""
    from sreshow.adapters.local.lifecycle import DEFAULT_APP_PORT
    from sreshow.adapters.local.processes import LOCALHOST, port_in_use

    name = "app port"
    running = inspection.running_stack()
    if running is not None and "app" in running.endpoints:
        own = urlsplit(running.endpoints["app"]).port
        return Check.passed(
            name,
            f"{LOCALHOST}:{own} is the running stack's own: `sreshow up` finds the stack up "
            "and binds nothing",
        )
    port = inspection.port or DEFAULT_APP_PORT
    address = f"{LOCALHOST}:{port}"
    if not port_in_use(port):
        return Check.passed(name, f"{address} is free (the stack's other servers take free ports)")
    if inspection.port is None:
        return Check.passed(
            name,
            f"warning: {address} is taken; `sreshow up` serves the app on a free port "
            "instead (pass --port to choose one)",
        )
    return Check.failed(
        name,
        f"something listens on {address}: `sreshow up --port {port}` would refuse it",
        f"stop what listens there (`ss -ltnp 'sport = :{port}'` names it) or pick another --port",
    )
