"""A minimal root filesystem for one server binary, written as one image layer (a tar).

What a Go server needs around it and nothing more (no shell, no package manager): the
users (root, and nobody 65534 that the manifests run as), name service and resolver
files for the runtime to mount over, the CA bundle, a world-writable /tmp, and for a
dynamically linked binary the C library. Entries are written in the order added, owned
by root unless said, with a fixed timestamp, so the same content gives the same layer.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path, PurePosixPath

NOBODY = 65534
FIXED_MTIME = 0
USERS = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = "root:x:0:\nnogroup:x:65534:\n"
NSSWITCH = "passwd: files\ngroup: files\nhosts: files dns\n"
# Replaced by the pod's own at run time; present so their mount points exist.
MOUNTED_FILES = ("etc/hosts", "etc/hostname", "etc/resolv.conf")
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"
CA_SOURCE = "usr/share/ca-certificates"  # in the unpacked ca-certificates package
# In the unpacked libc6 package: the loader and the libraries (lib64 holds the
# loader's link); not gconv, locales or documentation.
LIBC_TREES = ("lib", "lib64")


class Layer:
    """A layer being written: directories, files and symlinks, parents made as needed."""

    def __init__(self, path: Path) -> None:
        self._tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._seen: set[str] = set()

    def __enter__(self) -> Layer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._tar.close()

    def directory(self, path: str, mode: int = 0o755, owner: int = 0) -> None:
        name = _name(path)
        if name in self._seen:
            return
        self._parents(name)
        self._add(name, tarfile.DIRTYPE, mode, owner)

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        name = _name(path)
        self._parents(name)
        self._add(name, tarfile.REGTYPE, mode, 0, data=data)

    def copy(self, path: str, source: Path, mode: int | None = None) -> None:
        """A file from this machine (an unpacked package, a built binary)."""
        perms = stat.S_IMODE(source.stat().st_mode) if mode is None else mode
        self.file(path, source.read_bytes(), perms)

    def symlink(self, path: str, target: str) -> None:
        name = _name(path)
        self._parents(name)
        self._add(name, tarfile.SYMTYPE, 0o777, 0, link=target)

    def tree(self, root: Path, relative: str) -> None:
        """`root/relative` and all below it, at `/relative`, keeping modes and links."""
        top = root / relative
        for directory, subdirs, files in os.walk(top):
            subdirs.sort()
            here = Path(directory)
            self.directory(str(here.relative_to(root)), stat.S_IMODE(here.stat().st_mode))
            for entry in sorted(files) + [d for d in subdirs if (here / d).is_symlink()]:
                source = here / entry
                path = str(source.relative_to(root))
                if source.is_symlink():
                    self.symlink(path, os.readlink(source))
                else:
                    self.copy(path, source)

    def _parents(self, name: str) -> None:
        for parent in reversed(PurePosixPath(name).parents[:-1]):
            self.directory(str(parent))

    def _add(
        self, name: str, kind: bytes, mode: int, owner: int, *, data: bytes = b"", link: str = ""
    ) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.uid = info.gid = owner
        info.uname = info.gname = "root" if owner == 0 else ""
        info.mtime = FIXED_MTIME
        info.linkname = link
        info.size = len(data)
        self._tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        self._seen.add(name)


def base(layer: Layer, ca_certificates: Path) -> None:
    """What every image here has: users, name service files, CA bundle, /tmp.

    `ca_certificates` is the unpacked ca-certificates package: its certificates are
    concatenated into the bundle as update-ca-certificates would (all of them enabled).
    """
    layer.file("etc/passwd", USERS.encode())
    layer.file("etc/group", GROUP.encode())
    layer.file("etc/nsswitch.conf", NSSWITCH.encode())
    for path in MOUNTED_FILES:
        layer.file(path, b"")
    certificates = sorted((ca_certificates / CA_SOURCE).rglob("*.crt"))
    bundle = b"".join(c.read_bytes().rstrip(b"\n") + b"\n" for c in certificates)
    layer.file(CA_BUNDLE, bundle)
    layer.directory("tmp", mode=0o1777)


def libc(layer: Layer, libc6: Path) -> None:
    """The C library and its loader, from the unpacked libc6 package."""
    for tree in LIBC_TREES:
        layer.tree(libc6, tree)


def _name(path: str) -> str:
    """A member name as image layers spell them: relative, no leading ./ or /."""
    return str(PurePosixPath("/", path).relative_to("/"))
