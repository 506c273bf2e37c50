"""The node's own images, built without Docker or a registry, and their import.

- `localhost/pause:<tag>`: the pod sandbox, a static pause binary (pause.c) alone.
- `localhost/sreshow/sre-app:<tag>`: the app, as the repo's Dockerfile builds it: the
  Debian bookworm base (rootfs.py) plus a layer holding /opt/venv, the app's runtime
  dependencies at their locked versions and the app; user 1000:1000, workdir /tmp.

Each tag is a short hash of the image's inputs (its sources and the scripts that build
it), so an unchanged image is reused and a changed one rebuilt. Images are OCI archives
(umoci layouts, tarred) in the build cache; `import_images` loads them into the node's
containerd under their fully qualified names. (The monitoring images, monitoring.py,
keep stable tags and name only their archives by such a hash.)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import rootfs
from proc import PROXY_VARIABLES, run, say
from settings import (
    APP_IMAGE,
    APP_IMAGE_ALIAS_TAG,
    CONTAINERD_NAMESPACE,
    IMAGE_TMP,
    PAUSE_IMAGE,
    REPO,
    SCRIPTS,
    Layout,
)

# The app's runtime dependencies, as in the Dockerfile; their versions from constraints.txt.
# httpx: the notification sink (same image) relays to the user's Slack webhook;
# hdrhistogram: the load generator runs in the same image too (a Job).
APP_DEPENDENCIES = (
    "fastapi",
    "uvicorn",
    "uvloop",
    "httptools",
    "prometheus-client",
    "pydantic",
    "httpx",
    "hdrhistogram",
)
APP_INPUTS = (
    "pyproject.toml",
    "constraints.txt",
    "README.md",
    "src",
    "scenarios",
    "walkthroughs",
    "terraform",
)
APP_ENV = (
    "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "PYTHONDONTWRITEBYTECODE=1",
    "PYTHONUNBUFFERED=1",
    f"HOME={IMAGE_TMP}",
    f"TMPDIR={IMAGE_TMP}",
    "APP_HOST=0.0.0.0",
    "APP_PORT=8000",
)
ARCHIVES_KEPT = 3  # of each image: a few recent ones to switch between
BUILD_DIR = f"{IMAGE_TMP}/build"  # the app's sources, in the build chroot
# pip inside the build chroot: the host's proxy and index settings pass through.
PASSED_PIP_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_DEFAULT_TIMEOUT",
)
PIP_CONFIGS = (Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf"))


@dataclass(frozen=True)
class Image:
    """An image archive in the cache and the reference it is imported as."""

    name: str  # e.g. localhost/pause
    tag: str
    archive: Path

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"

    def manifest_digest(self) -> str:
        """The digest of the archive's image manifest: what containerd lists for the ref."""
        with tarfile.open(self.archive) as archive:
            for member in archive:
                if member.name == "index.json":
                    data = archive.extractfile(member)
                    if data is not None:
                        return str(json.load(data)["manifests"][0]["digest"])
        raise ValueError(f"{self.archive} holds no index.json")


def pause_image(layout: Layout) -> Image:
    """The sandbox image, built when its inputs changed (seconds)."""
    source = SCRIPTS / "pause.c"
    tag = content_digest([source, Path(__file__)])
    image = Image(PAUSE_IMAGE, tag, layout.images_dir / f"pause-{tag}.tar")
    if image.archive.exists():
        return image
    say(f"building {image.ref}")
    layout.images_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=layout.images_dir) as tmp:
        work = Path(tmp)
        binary = work / "pause"
        run(["gcc", "-static", "-Os", "-s", "-o", binary, source])
        layer = work / "layer.tar"
        with tarfile.open(layer, "w") as archive:
            info = archive.gettarinfo(binary, arcname="pause")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o755
            with binary.open("rb") as data:
                archive.addfile(info, data)
        oci = work / "oci"
        run(["umoci", "init", "--layout", oci])
        run(["umoci", "new", "--image", f"{oci}:{tag}"])
        run(
            [
                "umoci",
                "raw",
                "add-layer",
                "--image",
                f"{oci}:{tag}",
                "--history.created_by",
                "gcc -static pause.c",
                layer,
            ]
        )
        run(
            [
                "umoci",
                "config",
                "--image",
                f"{oci}:{tag}",
                "--config.entrypoint",
                "/pause",
                "--config.user",
                "65535:65535",
            ]
        )
        run(["umoci", "gc", "--layout", oci])
        write_archive(oci, image.archive)
    prune_archives(layout.images_dir.glob("pause-*.tar"), keep=ARCHIVES_KEPT)
    return image


def app_image_tag() -> str:
    """The app image's tag: a hash of the app's sources and of the build scripts."""
    inputs = [REPO / name for name in APP_INPUTS]
    return content_digest([*inputs, Path(__file__), Path(rootfs.__file__)])


def app_image(layout: Layout) -> Image:
    """The app image, built when its inputs changed (a minute; the base once, minutes)."""
    tag = app_image_tag()
    image = Image(APP_IMAGE, tag, layout.images_dir / f"sre-app-{tag}.tar")
    if image.archive.exists():
        return image
    base = rootfs.ensure_base(layout)
    say(f"building {image.ref}")
    log = layout.images_dir / "app-build.log"
    log.write_text("")
    with tempfile.TemporaryDirectory(dir=layout.images_dir) as tmp:
        work = Path(tmp)
        layer = _venv_layer(base.rootfs, work, log)
        oci = work / "oci"
        run(["cp", "-a", base.oci, oci], log=log)
        run(
            [
                "umoci",
                "raw",
                "add-layer",
                "--image",
                f"{oci}:{rootfs.BASE_TAG}",
                "--tag",
                tag,
                "--history.created_by",
                "python -m venv /opt/venv && pip install (the app)",
                layer,
            ],
            timeout=600,
            log=log,
        )
        env = [f"--config.env={variable}" for variable in APP_ENV]
        run(
            [
                "umoci",
                "config",
                "--image",
                f"{oci}:{tag}",
                "--config.user",
                "1000:1000",
                "--config.workingdir",
                IMAGE_TMP,
                *env,
                "--config.exposedports",
                "8000/tcp",
                "--config.cmd",
                "python",
                "--config.cmd",
                "-m",
                "--config.cmd",
                "demo_app",
            ],
            log=log,
        )
        run(["umoci", "rm", "--image", f"{oci}:{rootfs.BASE_TAG}"], log=log)
        run(["umoci", "gc", "--layout", oci], log=log)
        write_archive(oci, image.archive)
    prune_archives(layout.images_dir.glob("sre-app-*.tar"), keep=ARCHIVES_KEPT)
    return image


def import_images(layout: Layout, images: Iterable[Image]) -> None:
    """Load each image into the node's containerd, unless it is there already.

    An image is there when its ref names the archive's manifest: a stable tag whose
    content was rebuilt is imported again, and the tag moves to the new content.
    """
    present = _listed(_ctr(layout, "images", "list").stdout)
    for image in images:
        if present.get(image.ref) != image.manifest_digest():
            say(f"importing {image.ref}")
            _ctr(layout, "images", "import", "--base-name", image.name, image.archive, timeout=300)
        if image.name == APP_IMAGE:
            _ctr(
                layout, "images", "tag", "--force", image.ref, f"{image.name}:{APP_IMAGE_ALIAS_TAG}"
            )


def _listed(listing: str) -> dict[str, str]:
    """`ctr images list` as ref -> manifest digest (columns REF TYPE DIGEST ...)."""
    rows = [line.split() for line in listing.splitlines()[1:]]
    return {row[0]: row[2] for row in rows if len(row) >= 3}


def _ctr(
    layout: Layout, *args: str | Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run(
        ["ctr", "--address", layout.containerd_socket, "--namespace", CONTAINERD_NAMESPACE, *args],
        timeout=timeout,
    )


def _venv_layer(base_rootfs: Path, work: Path, log: Path) -> Path:
    """Build /opt/venv in a copy of the base (chroot, its own python) and tar it."""
    root = work / "rootfs"
    run(["cp", "-a", base_rootfs, root], timeout=600, log=log)
    build = root / BUILD_DIR.lstrip("/")
    build.mkdir(parents=True)
    for name in APP_INPUTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, build / name, ignore=_ignored)
        else:
            shutil.copy2(source, build / name)
    env = _pip_environment(root)
    chroot: list[str | Path] = ["chroot", root]
    run([*chroot, "/usr/bin/python3", "-m", "venv", "/opt/venv"], env=env, log=log)
    pip = [*chroot, "/opt/venv/bin/pip", "install", "--no-cache-dir"]
    run(
        [*pip, "--constraint", f"{BUILD_DIR}/constraints.txt", *APP_DEPENDENCIES],
        env=env,
        timeout=900,
        log=log,
    )
    run([*pip, "--no-deps", BUILD_DIR], env=env, timeout=600, log=log)
    layer = work / "venv.tar"
    run(["tar", "--numeric-owner", "-C", root, "-cf", layer, "./opt/venv"], log=log)
    return layer


def _pip_environment(root: Path) -> dict[str, str]:
    """Let pip in the chroot reach the index as the host's pip does: DNS, config, CA."""
    shutil.copy2("/etc/resolv.conf", root / "etc" / "resolv.conf")
    env = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_ROOT_USER_ACTION": "ignore"}
    for name in PROXY_VARIABLES + PASSED_PIP_VARIABLES:
        if name in os.environ:
            env[name] = os.environ[name]
    certs = [env["PIP_CERT"]] if "PIP_CERT" in env else []
    for config in PIP_CONFIGS:
        if config.exists():
            target = root / "etc" / "pip.conf"
            shutil.copy2(config, target)
            for line in config.read_text().splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() == "cert":
                    certs.append(value.strip())
            break
    for cert in certs:
        target = root / cert.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cert, target)
    return env


def _ignored(_directory: str, names: list[str]) -> list[str]:
    """Bytecode caches and build metadata: not inputs (shutil.copytree's `ignore`)."""
    return [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))]


def content_digest(paths: Iterable[Path], extra: Iterable[str] = ()) -> str:
    """A short hash of files and directory trees (names and contents; caches ignored),
    and of `extra` strings (inputs known by their own checksums)."""
    digest = hashlib.sha256()
    for path in paths:
        files = (
            [path]
            if path.is_file()
            else sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not _ignored("", list(p.relative_to(path).parts))
            )
        )
        for file in files:
            digest.update(str(file.relative_to(path.parent)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    for text in extra:
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()[:12]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks (binaries of a hundred megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_archive(oci: Path, target: Path) -> None:
    """Tar an OCI layout into an archive `ctr images import` reads, atomically."""
    partial = target.with_name(target.name + ".partial")
    run(["tar", "-C", oci, "-cf", partial, "oci-layout", "index.json", "blobs"], timeout=300)
    partial.replace(target)


def prune_archives(archives: Iterable[Path], keep: int) -> None:
    """Delete all but the `keep` newest archives."""
    for old in sorted(archives, key=lambda p: p.stat().st_mtime, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
