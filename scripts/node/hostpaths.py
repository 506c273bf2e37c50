"""Paths outside the node directory that the node's components write to, fixed in them.

- /run/containerd/s: containerd's shims put their sockets there whatever its config.
- /var/lib/cni: containerd's CNI library caches each attachment's result there.
- /var/log/containers: the kubelet links each container's log there.
- /var/lib/kubelet: the kubelet's device-plugin socket lives there whatever its root dir.

Whether each existed before the node first came up is recorded in the node directory,
kept across `down`: one that did not is the node's alone and is removed whole; in one
that did, only the node's entries are.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from settings import CNI_NETWORK, CONTAINERD_NAMESPACE, Layout

SHIM_SOCKETS = Path("/run/containerd/s")
PATHS = (
    Path("/run/containerd"),
    Path("/var/lib/cni"),
    Path("/var/log/containers"),
    Path("/var/lib/kubelet"),
)


def record(layout: Layout) -> None:
    """Note which of PATHS exist, the first time the node comes up here."""
    path = _record_file(layout)
    if not path.exists():
        path.write_text(json.dumps({str(p): p.exists() for p in PATHS}, indent=2))


def clean(layout: Layout, sandbox_ids: list[str]) -> None:
    """Remove the node's entries (and the paths it created) once its processes are gone."""
    existed = _existed(layout)
    for path in PATHS:
        if path.exists() and not existed.get(str(path), True):
            shutil.rmtree(path, ignore_errors=True)
    for entry in _our_entries(layout, sandbox_ids):
        entry.unlink(missing_ok=True)


def leftovers(layout: Layout, sandbox_ids: list[str]) -> list[str]:
    existed = _existed(layout)
    found = [f"path {p}" for p in PATHS if p.exists() and not existed.get(str(p), True)]
    found += [f"path {entry}" for entry in _our_entries(layout, sandbox_ids)]
    return found


def _our_entries(layout: Layout, sandbox_ids: list[str]) -> list[Path]:
    """In paths shared with others: our log links, CNI results and shim sockets."""
    entries = [
        link
        for link in _listing(Path("/var/log/containers"))
        if link.is_symlink() and str(link.readlink()).startswith(str(layout.node_dir))
    ]
    entries += _listing(Path("/var/lib/cni/results"), f"{CNI_NETWORK}-*")
    for sandbox in sandbox_ids:
        address = f"{layout.containerd_socket}/{CONTAINERD_NAMESPACE}/{sandbox}"
        socket = SHIM_SOCKETS / hashlib.sha256(address.encode()).hexdigest()
        if socket.exists():
            entries.append(socket)
        entries += _listing(Path("/var/lib/cni/results"), f"cni-loopback-{sandbox}-*")
    return entries


def _listing(directory: Path, pattern: str = "*") -> list[Path]:
    return sorted(directory.glob(pattern)) if directory.is_dir() else []


def _record_file(layout: Layout) -> Path:
    return layout.node_dir / "host-paths.json"


def _existed(layout: Layout) -> dict[str, bool]:
    try:
        existed: dict[str, bool] = json.loads(_record_file(layout).read_text())
    except (OSError, ValueError):
        return {}
    return existed
