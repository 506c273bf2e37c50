"""The monitoring stack's images, so the shipped manifests' monitoring runs on the node.

The manifests run prom/prometheus, prom/alertmanager and prom/blackbox-exporter with
only `args:` (the entrypoints /bin/prometheus, /bin/alertmanager, /bin/blackbox_exporter)
as nobody (65534) on a read-only root filesystem. There is no registry to pull them
from: manifests/overlays/node maps them to these images, each one layer on nothing
(minimal.py), under stable tags:

- `localhost/sreshow/prometheus:v2.53.3`: upstream Prometheus, built from the Go module
  proxy by scripts/install-tools.sh (static; no web UI assets, the API is all there).
- `localhost/sreshow/alertmanager:v0.25.0-debian` and
  `localhost/sreshow/blackbox-exporter:v0.23.0-debian`: the binaries of Debian
  bookworm's packages, with the C library they link (libc6) and Alertmanager's
  templates from its package.

A tag stays while its content may change (a rebuilt binary, a Debian security update):
each archive is named by a hash of its inputs (this recipe, the binary or the packages'
checksums) and rebuilt when that changes; `images.import_images` then replaces the
image behind the tag.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import debian
import minimal
from images import (
    ARCHIVES_KEPT,
    Image,
    content_digest,
    file_sha256,
    prune_archives,
    write_archive,
)
from proc import NodeError, run, say
from settings import (
    ALERTMANAGER_IMAGE,
    ALERTMANAGER_VERSION,
    BLACKBOX_EXPORTER_IMAGE,
    BLACKBOX_EXPORTER_VERSION,
    PROMETHEUS_IMAGE,
    PROMETHEUS_VERSION,
    Layout,
)

IMAGE_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Every image gets the CA bundle; those with a Debian binary also its C library.
BASE_PACKAGES = ("ca-certificates",)
LIBC_PACKAGE = "libc6"
RECIPE = (Path(__file__), Path(minimal.__file__), Path(debian.__file__))


@dataclass(frozen=True)
class Spec:
    """One monitoring image: where its binary comes from and how it runs."""

    short_name: str  # archive prefix: <short_name>-<input hash>.tar
    image: str
    tag: str
    command: str  # installed as /bin/<command>, the entrypoint
    port: int
    data_dir: str | None  # a directory nobody owns, also the working directory
    package: str | None = None  # the Debian package holding the binary (None: built here)
    binary: str = ""  # its path in that package, or on this machine when built here
    trees: tuple[str, ...] = ()  # more of the package's files, kept where they are

    @property
    def packages(self) -> tuple[str, ...]:
        return (*BASE_PACKAGES, *((LIBC_PACKAGE, self.package) if self.package else ()))


def specs(layout: Layout) -> list[Spec]:
    return [
        Spec(
            "prometheus",
            PROMETHEUS_IMAGE,
            f"v{PROMETHEUS_VERSION}",
            "prometheus",
            9090,
            "/prometheus",
            binary=str(layout.prometheus_binary),
        ),
        Spec(
            "alertmanager",
            ALERTMANAGER_IMAGE,
            f"v{ALERTMANAGER_VERSION}-debian",
            "alertmanager",
            9093,
            "/alertmanager",
            package="prometheus-alertmanager",
            binary="usr/bin/prometheus-alertmanager",
            # Debian's build reads its default templates from here, not from the binary.
            trees=("usr/share/prometheus/alertmanager",),
        ),
        Spec(
            "blackbox-exporter",
            BLACKBOX_EXPORTER_IMAGE,
            f"v{BLACKBOX_EXPORTER_VERSION}-debian",
            "blackbox_exporter",
            9115,
            None,
            package="prometheus-blackbox-exporter",
            binary="usr/bin/prometheus-blackbox-exporter",
        ),
    ]


# The upstream version each Debian package must carry: the tags (and the overlay) say it.
EXPECTED_VERSIONS = {
    "prometheus-alertmanager": ALERTMANAGER_VERSION,
    "prometheus-blackbox-exporter": BLACKBOX_EXPORTER_VERSION,
}


def monitoring_images(layout: Layout) -> list[Image]:
    """The three images, each built when its inputs changed (seconds; the debs once)."""
    wanted = specs(layout)
    names = dict.fromkeys(name for spec in wanted for name in spec.packages)
    packages = {p.name: p for p in debian.resolve(names)}
    for name, expected in EXPECTED_VERSIONS.items():
        found = packages[name].upstream_version
        if found != expected:
            raise NodeError(
                f"apt offers {name} {packages[name].version}, not {expected}: change its "
                "version in scripts/node/settings.py and the tag in manifests/overlays/node"
            )
    return [_image(layout, spec, packages) for spec in wanted]


def _image(layout: Layout, spec: Spec, packages: dict[str, debian.Package]) -> Image:
    used = [packages[name] for name in spec.packages]
    inputs = [f"{p.filename} {p.sha256}" for p in used]
    if spec.package is None:
        binary = Path(spec.binary)
        if not binary.exists():
            raise NodeError(f"{binary} is missing; run: scripts/install-tools.sh node")
        inputs.append(f"{binary.name} {file_sha256(binary)}")
    key = content_digest(RECIPE, extra=inputs)
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
        return f"github.com/prometheus/prometheus v{PROMETHEUS_VERSION} (Go module proxy)"
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
