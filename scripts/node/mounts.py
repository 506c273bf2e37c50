"""Mount points, read from /proc/self/mountinfo, and unmounting everything below a path."""

from __future__ import annotations

import re
from pathlib import Path

from proc import run

_OCTAL = re.compile(r"\\([0-7]{3})")


def mount_points() -> list[Path]:
    """Every mount point, in mount order (field 5 of mountinfo, octal escapes undone)."""
    return [
        Path(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4]))
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
    ]


def mounts_under(path: Path) -> list[Path]:
    """Mount points below `path` (not `path` itself), the most recent first."""
    points = [p for p in mount_points() if p.is_relative_to(path) and p != path]
    return list(reversed(points))


def unmount_under(path: Path) -> list[Path]:
    """Unmount everything below `path`; return what could not be unmounted.

    Each mount is unmounted normally, or lazily when busy (it then goes once its last
    user does, which the caller has already stopped).
    """
    for point in mounts_under(path):
        if run(["umount", point], check=False, timeout=30).returncode != 0:
            run(["umount", "--lazy", point], check=False, timeout=30)
    return mounts_under(path)
