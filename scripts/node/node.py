#!/usr/bin/env python3
"""A real one-node Kubernetes cluster on this machine, without Docker.

    python3 scripts/node/node.py build        binaries and images, only what is missing;
                                              last line: the app image reference
    python3 scripts/node/node.py image        build the app image if its inputs changed,
                                              load it into the node when it is up;
                                              last line: the app image reference
    python3 scripts/node/node.py up           build what is missing, start the node, wait
                                              until it is Ready; last line: the kubeconfig
    python3 scripts/node/node.py down         delete the pods, stop the node, remove all
                                              it made, check that nothing is left
    python3 scripts/node/node.py check-clean  only that check
    python3 scripts/node/node.py status       up or not, and whether cluster DNS and the
                                              metrics API answer; when up, last line: the
                                              kubeconfig

Kubernetes v1.35.4 (built from the Go module proxy by scripts/install-tools.sh node)
on Debian's etcd, containerd, runc and CNI plugins; the app image is built from a
debootstrap root filesystem with umoci. `build` and `up` also build and load the
monitoring stack's images (upstream Prometheus, Debian's Alertmanager and blackbox
exporter) under the stable tags manifests/overlays/node names, and its add-ons: CoreDNS
(the kube-dns Service at 10.96.0.10) and metrics-server (metrics.k8s.io, what `kubectl
top` and the HorizontalPodAutoscaler read), which `up` waits for. Needs root. Progress goes
to stderr; stdout carries only the last lines above. Exit codes: 0 done, 1 failed (or
leftovers found), 2 usage or not root.

Environment: SRESHOW_NODE_DIR (the node's state, certificates and logs; default
/var/lib/sreshow/node), SRESHOW_NODE_CACHE (binaries and images; default
~/.cache/sreshow/node).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import addons
import cluster
import images
import teardown
from components import components
from kubeapi import KubeAPI
from proc import NodeError, say
from settings import Layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="node.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command", choices=("build", "image", "up", "down", "check-clean", "status")
    )
    command = parser.parse_args(argv).command
    if os.geteuid() != 0:
        print(
            f"node.py: {command} needs root: run sudo python3 scripts/node/node.py {command}",
            file=sys.stderr,
        )
        return 2
    layout = Layout.from_env()
    try:
        if command in CHECKS:
            return CHECKS[command](layout)
        if command == "down" and not layout.node_dir.exists():
            return _down(layout)  # never up here: no lock file to create for it
        with _locked(layout):
            return ACTIONS[command](layout)
    except NodeError as error:
        say(f"{command} failed: {error}")
        return 1


def _build(layout: Layout) -> int:
    app = cluster.build(layout)[1]
    print(app.ref)
    return 0


def _image(layout: Layout) -> int:
    app = images.app_image(layout)
    healthy, _ = cluster.state(components(layout))
    if "containerd" in healthy:
        images.import_images(layout, [app])
    print(app.ref)
    return 0


def _up(layout: Layout) -> int:
    cluster.up(layout)
    print(layout.kubeconfig)
    return 0


def _down(layout: Layout) -> int:
    parts = components(layout)
    running = [name for name, part in parts.items() if part.daemon.pid()]
    if not running and not teardown.leftovers(layout):
        say("the node is not up; nothing to do")
        return 0
    left = teardown.down(layout, parts)
    return _report(left, "the node is down; nothing of it is left")


def _check_clean(layout: Layout) -> int:
    return _report(teardown.leftovers(layout), "nothing of the node is left")


def _status(layout: Layout) -> int:
    healthy, not_healthy = cluster.state(components(layout))
    if not healthy:
        print("down")
        return 1
    if not_healthy:
        print(f"partly up: {', '.join(not_healthy)} not running or not healthy")
        return 1
    api = KubeAPI(layout)
    if not cluster.node_ready(api):
        print("up, but the node is not Ready")
        return 1
    problems = {
        "cluster DNS": addons.dns_problem(api),
        "metrics-server": addons.metrics_problem(api),
    }
    broken = [name for name, problem in problems.items() if problem]
    print(f"up, but {' and '.join(broken)} not ready" if broken else "up")
    for name, problem in problems.items():
        print(f"{name}: {problem or 'ready'}")
    print(layout.kubeconfig)
    return 1 if broken else 0


def _report(left: list[str], clean_message: str) -> int:
    if not left:
        say(clean_message)
        return 0
    for item in left:
        print(f"left behind: {item}")
    return 1


@contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    """One build, up or down at a time per node directory (parallel test workers)."""
    layout.node_dir.mkdir(parents=True, exist_ok=True)
    with layout.lock_file.open("w") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise NodeError(f"another node.py held {layout.lock_file} too long") from None
                time.sleep(1)
        yield


# A cold build (Kubernetes from source, the image base) can take this long.
LOCK_TIMEOUT = 3600
ACTIONS = {"build": _build, "image": _image, "up": _up, "down": _down}
CHECKS = {"check-clean": _check_clean, "status": _status}

if __name__ == "__main__":
    sys.exit(main())
