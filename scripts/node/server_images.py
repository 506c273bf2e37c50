"""Images of one server binary each: one layer on nothing (minimal.py), no registry.

What the monitoring stack's images (monitoring.py) and the node's add-ons' (addons.py)
have in common. A Spec says where the binary comes from (a Debian package, or a build
on this machine) and how it runs (entrypoint /bin/<command>, as nobody). Each archive
is named by a hash of its inputs (the recipe, the binary or the packages' checksums)
and rebuilt only when that changes: the tag stays stable while the content may change
(a rebuilt binary, a Debian security update), and `images.import_images` moves the tag
to the new content.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import debian
import minimal
from images import ARCHIVES_KEPT, Image, content_digest, file_sha256, prune_archives, write_archive
from proc import NodeError, run, say
from settings import Layout

IMAGE_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Every image gets the CA bundle; those with a Debian binary also its C library.
BASE_PACKAGES = ("ca-certificates",)
LIBC_PACKAGE = "libc6"
RECIPE = (Path(__file__), Path(minimal.__file__), Path(debian.__file__))


@dataclass(frozen=True)
class Spec:
    """One image: where its binary comes from and how it runs."""

    short_name: str  # archive prefix: <short_name>-<input hash>.tar
    image: str
    tag: str
    command: str  # installed as /bin/<command>, the entrypoint
    port: int
    data_dir: str | None  # a directory nobody owns, also the working directory
    package: str | None = None  # the Debian package holding the binary (None: built here)
    binary: str = ""  # its path in that package, or on this machine when built here
    trees: tuple[str, ...] = ()  # more of the package's files, kept where they are
    source: str = ""  # where a binary built here comes from (the image's source label)

    @property
    def packages(self) -> tuple[str, ...]:
        return (*BASE_PACKAGES, *((LIBC_PACKAGE, self.package) if self.package else ()))


def resolve_packages(specs: Iterable[Spec]) -> dict[str, debian.Package]:
    """The Debian packages the specs' images are made of, by name, as apt offers them."""
    names = dict.fromkeys(name for spec in specs for name in spec.packages)
    return {p.name: p for p in debian.resolve(names)}


def server_image(
    layout: Layout, spec: Spec, packages: dict[str, debian.Package], recipe: Iterable[Path]
) -> Image:
    """The spec's image, built when its inputs changed (seconds; the debs once).

    `recipe`: the caller's modules (where the specs are written), hashed with this one's.
    """
    used = [packages[name] for name in spec.packages]
    inputs = [f"{p.filename} {p.sha256}" for p in used]
    if spec.package is None:
        binary = Path(spec.binary)
        if not binary.exists():
            raise NodeError(f"{binary} is missing; run: scripts/install-tools.sh node")
        inputs.append(f"{binary.name} {file_sha256(binary)}")
    key = content_digest([*RECIPE, *recipe], extra=inputs)
    image = Image(spec.image, spec.tag, layout.images_dir / f"{spec.short_name}-{key}.tar")
    if image.archive.exists():
        return image
    say(f"building {image.ref}")
    layout.images_dir.mkdir(parents=True, exist_ok=True)
    log = layout.images_dir / f"{spec.short_name}-build.log"
    log.write_text("")
    debs = debian.fetch(used, layout.debs_dir)
    with tempfile.TemporaryDirectory(dir=layout.images_dir) as tmp:
        work = Path(tmp)
        unpacked = {}
        for name, deb in debs.items():
            unpacked[name] = work / "unpacked" / name
            debian.unpack(deb, unpacked[name])
        layer = work / "layer.tar"
        with minimal.Layer(layer) as root:
            minimal.base(root, unpacked["ca-certificates"])
            if spec.package is None:
                root.copy(f"bin/{spec.command}", Path(spec.binary), mode=0o755)
            else:
                minimal.libc(root, unpacked[LIBC_PACKAGE])
                root.copy(f"bin/{spec.command}", unpacked[spec.package] / spec.binary, 0o755)
                for tree in spec.trees:
                    root.tree(unpacked[spec.package], tree)
            if spec.data_dir:
                root.directory(spec.data_dir, owner=minimal.NOBODY)
        _oci(work / "oci", layer, spec, image, source=_source(spec, packages), log=log)
        write_archive(work / "oci", image.archive)
    prune_archives(layout.images_dir.glob(f"{spec.short_name}-*.tar"), keep=ARCHIVES_KEPT)
    return image


def _source(spec: Spec, packages: dict[str, debian.Package]) -> str:
    if spec.package is None:
        return spec.source
    return f"Debian {spec.package} {packages[spec.package].version}"


def _oci(oci: Path, layer: Path, spec: Spec, image: Image, *, source: str, log: Path) -> None:
    """An OCI layout whose tag is the image's: the one layer and how to run it."""
    ref = f"{oci}:{image.tag}"
    run(["umoci", "init", "--layout", oci], log=log)
    run(["umoci", "new", "--image", ref], log=log)
    run(
        ["umoci", "raw", "add-layer", "--image", ref, "--history.created_by", source, layer],
        timeout=600,
        log=log,
    )
    run(
        [
            "umoci",
            "config",
            "--image",
            ref,
            "--config.entrypoint",
            f"/bin/{spec.command}",
            "--config.user",
            f"{minimal.NOBODY}:{minimal.NOBODY}",
            "--config.workingdir",
            spec.data_dir or "/",
            "--config.env",
            IMAGE_PATH,
            "--config.exposedports",
            f"{spec.port}/tcp",
            "--config.label",
            f"org.opencontainers.image.source={source}",
        ],
        log=log,
    )
    run(["umoci", "gc", "--layout", oci], log=log)
