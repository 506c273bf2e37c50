"""The monitoring stack's images, so the shipped manifests' monitoring runs on the node.

The manifests run prom/prometheus, prom/alertmanager and prom/blackbox-exporter with
only `args:` (the entrypoints /bin/prometheus, /bin/alertmanager, /bin/blackbox_exporter)
as nobody (65534) on a read-only root filesystem. There is no registry to pull them
from: manifests/overlays/node maps them to these images, each one layer on nothing
(server_images.py), under stable tags:

- `localhost/sreshow/prometheus:v2.53.3`: upstream Prometheus, built from the Go module
  proxy by scripts/install-tools.sh (static; no web UI assets, the API is all there).
- `localhost/sreshow/alertmanager:v0.25.0-debian` and
  `localhost/sreshow/blackbox-exporter:v0.23.0-debian`: the binaries of Debian
  bookworm's packages, with the C library they link (libc6) and Alertmanager's
  templates from its package.
"""

from __future__ import annotations

from pathlib import Path

from images import Image
from proc import NodeError
from server_images import Spec, resolve_packages, server_image
from settings import (
    ALERTMANAGER_IMAGE,
    ALERTMANAGER_VERSION,
    BLACKBOX_EXPORTER_IMAGE,
    BLACKBOX_EXPORTER_VERSION,
    PROMETHEUS_IMAGE,
    PROMETHEUS_VERSION,
    Layout,
)


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
            source=f"github.com/prometheus/prometheus v{PROMETHEUS_VERSION} (Go module proxy)",
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
    packages = resolve_packages(wanted)
    for name, expected in EXPECTED_VERSIONS.items():
        found = packages[name].upstream_version
        if found != expected:
            raise NodeError(
                f"apt offers {name} {packages[name].version}, not {expected}: change its "
                "version in scripts/node/settings.py and the tag in manifests/overlays/node"
            )
    return [server_image(layout, spec, packages, recipe=[Path(__file__)]) for spec in wanted]
