"""The app image's base: a Debian bookworm root filesystem with python3 (debootstrap).

What the Dockerfile's `python:3.11-slim-bookworm` base gives, built without Docker or a
registry: `debootstrap --variant=minbase --include=python3,python3-venv` from this
machine's Debian mirror, the app user and group (1000), and no package caches or docs.
Cached as a directory (the app image's venv is built in a copy of it) and as a one-layer
OCI layout (the app image starts from a copy of it), keyed by this file's content: it
changes rarely, so an app change rebuilds only the venv layer on top.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mounts import mounts_under, unmount_under
from proc import NodeError, run, say
from settings import IMAGE_TMP, Layout

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv")
FALLBACK_MIRROR = "http://deb.debian.org/debian"
FALLBACK_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
# Deleted from the base: package caches and lists, logs, documentation.
TRIM = (
    "var/cache/apt/archives",
    "var/cache/apt/pkgcache.bin",
    "var/cache/apt/srcpkgcache.bin",
    "var/lib/apt/lists",
    "var/cache/debconf/templates.dat-old",
    "var/log",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
)
# Left out of the image's layer (the runtime provides them) but kept in the cached root
# filesystem, where the app's venv is built in a chroot: devices, /proc, /sys, /run, /tmp.
LAYER_EXCLUDES = ("./dev/*", "./proc/*", "./sys/*", "./run/*", "./tmp/*")
BASE_TAG = "base"


@dataclass(frozen=True)
class Base:
    """The cached base, in the two forms the app image's build uses."""

    rootfs: Path  # for building the app's venv in a copy of it (chroot)
    oci: Path  # an OCI layout whose tag BASE_TAG is this root filesystem as one layer


def base_key() -> str:
    """The base's cache key: this file's content (its recipe)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def ensure_base(layout: Layout) -> Base:
    """The cached base, built first when missing (a few minutes: debootstrap)."""
    root = layout.images_dir / f"base-{base_key()}"
    base = Base(root / "rootfs", root / "oci")
    if base.oci.exists():
        return base
    layout.images_dir.mkdir(parents=True, exist_ok=True)
    partial = root.with_name(root.name + ".partial")
    _remove(partial)
    mirror, keyring = debian_mirror()
    log = layout.images_dir / "base-build.log"
    log.write_text("")
    say(f"building the image base: debootstrap {SUITE} from {mirror} (minutes, once)")
    rootfs = partial / "rootfs"
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                f"--keyring={keyring}",
                SUITE,
                rootfs,
                mirror,
            ],
            timeout=1800,
            log=log,
        )
    finally:
        unmount_under(partial)  # debootstrap mounts /proc and /sys in the target
    run(["chroot", rootfs, "groupadd", "--gid", "1000", "app"], log=log)
    run(
        [
            "chroot",
            rootfs,
            "useradd",
            "--uid",
            "1000",
            "--gid",
            "1000",
            "--no-create-home",
            "--home-dir",
            IMAGE_TMP,
            "--shell",
            "/usr/sbin/nologin",
            "app",
        ],
        log=log,
    )
    for relative in TRIM:
        _empty(rootfs / relative)
    # debootstrap copies the host's; the runtime mounts the pod's own over them.
    for relative in ("etc/resolv.conf", "etc/hostname"):
        (rootfs / relative).write_text("")
    _pack(rootfs, partial / "oci", log)
    for old in layout.images_dir.glob("base-*"):
        if old.is_dir() and old != partial:
            _remove(old)
    partial.rename(root)
    return base


def debian_mirror() -> tuple[str, str]:
    """(mirror URI, keyring) of this machine's apt source for SUITE, or Debian's defaults."""
    for source in APT_SOURCES:
        files = sorted(source.glob("*.sources")) if source.is_dir() else [source]
        for path in files:
            found = _deb822_mirror(path) if path.suffix == ".sources" else _list_mirror(path)
            if found:
                return found
    return FALLBACK_MIRROR, FALLBACK_KEYRING


def _deb822_mirror(path: Path) -> tuple[str, str] | None:
    for stanza in path.read_text().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "#")):
                fields[key.strip()] = value.strip()
        if SUITE in fields.get("Suites", "").split() and "deb" in fields.get("Types", ""):
            keyring = fields.get("Signed-By", FALLBACK_KEYRING)
            if not keyring.startswith("/"):
                keyring = FALLBACK_KEYRING
            return fields["URIs"].split()[0], keyring
    return None


def _list_mirror(path: Path) -> tuple[str, str] | None:
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        words = [w for w in line.split() if not w.startswith("[")]
        if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
            return words[1], FALLBACK_KEYRING
    return None


def _pack(rootfs: Path, oci: Path, log: Path) -> None:
    """The root filesystem as the one layer of a new OCI layout, tagged BASE_TAG."""
    with tempfile.TemporaryDirectory(dir=oci.parent) as work:
        layer = Path(work) / "layer.tar"
        excludes = [f"--exclude={pattern}" for pattern in LAYER_EXCLUDES]
        run(
            ["tar", "--numeric-owner", "--xattrs", "-C", rootfs, *excludes, "-cf", layer, "."],
            timeout=600,
            log=log,
        )
        run(["umoci", "init", "--layout", oci], log=log)
        run(["umoci", "new", "--image", f"{oci}:{BASE_TAG}"], log=log)
        run(
            [
                "umoci",
                "raw",
                "add-layer",
                "--image",
                f"{oci}:{BASE_TAG}",
                "--history.created_by",
                f"debootstrap --variant=minbase --include={','.join(PACKAGES)} {SUITE}",
                layer,
            ],
            timeout=600,
            log=log,
        )


def _empty(path: Path) -> None:
    """Remove what a path holds, keeping a directory itself."""
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            _remove(child)
    elif path.exists():
        path.unlink()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        unmount_under(path)
        if mounts_under(path):
            raise NodeError(f"{path} still has mounts; not removing it")
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
