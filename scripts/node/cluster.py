"""Bringing the node up, and telling whether it is up."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import addons
import hostpaths
import images
import monitoring
import teardown
from components import Component, components, write_configs
from kubeapi import KubeAPI
from pki import ensure_pki, write_admin_kubeconfig
from proc import NodeError, command_path, run, say, tail, wait_until
from settings import (
    APISERVER_PORT,
    BRIDGE,
    CLUSTER_CIDR,
    CONTROLLER_MANAGER_PORT,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    HOST_COMMANDS,
    KUBE_PROXY_HEALTHZ_PORT,
    KUBE_PROXY_METRICS_PORT,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    KUBERNETES_COMMANDS,
    NODE_IP,
    NODE_NAME,
    POD_SUBNET,
    SCHEDULER_PORT,
    SCRIPTS,
    SERVICE_CIDR,
    Layout,
)

# What the node listens on, checked free before it starts.
LISTENERS = {
    "etcd": ("127.0.0.1", ETCD_CLIENT_PORT),
    "etcd peer": ("127.0.0.1", ETCD_PEER_PORT),
    "kube-apiserver": (NODE_IP, APISERVER_PORT),
    "kube-controller-manager": ("127.0.0.1", CONTROLLER_MANAGER_PORT),
    "kube-scheduler": ("127.0.0.1", SCHEDULER_PORT),
    "kubelet": (NODE_IP, KUBELET_PORT),
    "kubelet healthz": ("127.0.0.1", KUBELET_HEALTHZ_PORT),
    "kube-proxy healthz": ("127.0.0.1", KUBE_PROXY_HEALTHZ_PORT),
    "kube-proxy metrics": ("127.0.0.1", KUBE_PROXY_METRICS_PORT),
}
TCP_LISTEN = "0A"
READY_TIMEOUT = 90
UNANSWERED_SYN_SECONDS = 10  # the kernel's default: 120 (see _shorten_unanswered_connections)
SERVICE_ACCOUNT_TIMEOUT = 60


def build(layout: Layout) -> list[images.Image]:
    """What `up` needs, made when missing: packages and binaries, then the images.

    The images in this order: the sandbox, the app, the monitoring stack's, the add-ons'.
    """
    if not _tools_present(layout):
        say(
            "installing the node's packages, Kubernetes, prometheus and add-on binaries "
            "(scripts/install-tools.sh)"
        )
        layout.logs.mkdir(parents=True, exist_ok=True)
        run(
            [str(SCRIPTS.parent / "install-tools.sh"), "node"],
            timeout=3600,
            # The caller's environment: Go on its PATH, its proxy and Go settings.
            env={
                **os.environ,
                "SRESHOW_NODE_CACHE": str(layout.cache_dir),
                "SRESHOW_TOOLS_DIR": str(layout.tools_dir),
            },
            log=layout.logs / "build.log",
        )
    return [
        images.pause_image(layout),
        images.app_image(layout),
        *monitoring.monitoring_images(layout),
        *addons.addon_images(layout),
    ]


def state(parts: dict[str, Component]) -> tuple[list[str], list[str]]:
    """(running and healthy components, the others)."""
    healthy: list[str] = []
    not_healthy: list[str] = []
    for name, part in parts.items():
        (healthy if part.daemon.pid() and part.healthy() else not_healthy).append(name)
    return healthy, not_healthy


def up(layout: Layout) -> None:
    """Start the node unless it is up and healthy; in both cases load the current images.

    On failure: names the component, shows the end of its log, stops everything and
    raises NodeError.
    """
    layout.logs.mkdir(parents=True, exist_ok=True)
    parts = components(layout)
    healthy, not_healthy = state(parts)
    if not not_healthy and node_ready(KubeAPI(layout)):
        say("the node is already up")
        wanted = build(layout)
        images.import_images(layout, wanted)
        write_admin_kubeconfig(layout)
        api = KubeAPI(layout)
        addons.apply(api, wanted)
        addons.wait_ready(api, time.monotonic(), _alive(parts["kubelet"]))
        return
    if healthy or teardown.leftovers(layout):
        say("found a node not fully up (or its leftovers); taking it down first")
        left = teardown.down(layout, parts)
        if left:
            raise NodeError("could not clear the previous node: " + "; ".join(left))
    clashes = _cidr_clashes([POD_SUBNET, CLUSTER_CIDR, SERVICE_CIDR]) + _ports_in_use()
    if clashes:
        raise NodeError("the node would clash with this machine's: " + "; ".join(clashes))
    wanted = build(layout)
    ensure_pki(layout)
    try:
        _start(layout, parts, wanted, time.monotonic())
    except (NodeError, OSError) as error:
        component = getattr(error, "component", None)
        log = getattr(error, "log", None)
        say(f"up failed{' in ' + component if component else ''}: {error}")
        if log is not None:
            say(
                f"the end of {log}:\n"
                + "\n".join("    " + line for line in tail(log, 20).splitlines())
            )
        say("stopping what was started")
        teardown.down(layout, parts)
        raise


def _start(
    layout: Layout, parts: dict[str, Component], wanted: list[images.Image], started: float
) -> None:
    hostpaths.record(layout)
    teardown.save_sysctls(layout)
    _shorten_unanswered_connections()
    _make_bridge()
    write_configs(layout, sandbox_image=wanted[0].ref)
    for directory in (layout.etcd_data, layout.kubelet_dir):
        directory.mkdir(parents=True, exist_ok=True)
    layout.etcd_data.chmod(0o700)

    def start(*names: str) -> None:
        for name in names:
            parts[name].daemon.start()

    def wait(*names: str) -> None:
        for name in names:
            part = parts[name]
            wait_until(f"{name} to be healthy", part.healthy, part.timeout, alive=_alive(part))
            say(f"{name} is up ({time.monotonic() - started:.1f} s)")

    start("etcd", "containerd")
    wait("etcd")
    start("kube-apiserver")
    wait("containerd")
    # The sandbox's and the add-ons' images first: the first pods run them. The app's
    # and the monitoring stack's load while the add-ons start, off the critical path.
    first = [wanted[0], *(image for image in wanted if image.name in addons.IMAGE_NAMES)]
    images.import_images(layout, first)
    wait("kube-apiserver")
    start("kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
    wait("kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy")
    api = KubeAPI(layout)
    kubelet = parts["kubelet"]
    wait_until(
        f"node {NODE_NAME} to be Ready and untainted",
        lambda: node_ready(api),
        READY_TIMEOUT,
        alive=_alive(kubelet),
    )
    say(f"node {NODE_NAME} is Ready ({time.monotonic() - started:.1f} s)")
    # The add-ons bring their own ServiceAccounts: their pods start while the
    # controllers make the default one.
    addons.apply(api, wanted)
    images.import_images(layout, [image for image in wanted if image not in first])
    wait_until(
        "the default ServiceAccount",
        lambda: api.ok("/api/v1/namespaces/default/serviceaccounts/default"),
        SERVICE_ACCOUNT_TIMEOUT,
        alive=_alive(parts["kube-controller-manager"]),
    )
    addons.wait_ready(api, started, _alive(kubelet))
    say(f"the node is up ({time.monotonic() - started:.1f} s); app image {wanted[1].ref}")


def _alive(part: Component) -> Callable[[], None]:
    return part.daemon.ensure_alive


def node_ready(api: KubeAPI) -> bool:
    """Ready, and without the taints that keep pods off a node that is not."""
    node = api.get(f"/api/v1/nodes/{NODE_NAME}")
    if not node:
        return False
    conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
    blocking = [
        t
        for t in node.get("spec", {}).get("taints", []) or []
        if t.get("effect") in ("NoSchedule", "NoExecute")
    ]
    return conditions.get("Ready") == "True" and not blocking


def _shorten_unanswered_connections() -> None:
    """Forget an unanswered TCP connection attempt after 10 s instead of 120 s.

    A SYN sent to a Service just as its pod went away is DNAT-ed to the dead pod's address
    and never answered; its conntrack entry keeps that translation for the timeout. A new
    connection from the same source port reuses the entry and times out too: after a
    scale to zero, about one in a hundred of the scenarios' new connections did, for two
    minutes (seen with `conntrack -L`). Every client on a node has this; the node runs
    the scenarios' load, so it keeps such entries briefly (a retransmitted SYN renews it).
    down restores the setting.
    """
    path = Path("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_syn_sent")
    try:
        path.write_text(f"{UNANSWERED_SYN_SECONDS}\n")
    except OSError as error:
        say(
            f"could not shorten {path} ({error.strerror}); a scale to zero may leave "
            "connections that time out for two minutes"
        )


def _make_bridge() -> None:
    """The pods' bridge with the node's address, before anything binds to that address.

    Service addresses are routed to it too: kube-proxy's rules redirect what they know to
    pods, and the rest (a Service before its rules exist) stays on the bridge instead of
    leaving by this machine's default route.
    """
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "address", "add", f"{NODE_IP}/{POD_SUBNET.split('/')[1]}", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])
    run(["ip", "route", "add", SERVICE_CIDR, "dev", BRIDGE, "src", NODE_IP])


def _cidr_clashes(cidrs: list[str]) -> list[str]:
    """Routes of this machine, other than the bridge's, that overlap the node's ranges."""
    result = run(["ip", "-json", "-4", "route", "show", "table", "all"], check=False)
    routes = json.loads(result.stdout or "[]") if result.returncode == 0 else []
    clashes = []
    for route in routes:
        dst = route.get("dst", "")
        if (
            route.get("dev") == BRIDGE
            or dst in ("default", "")
            or route.get("type") in ("broadcast", "local", "multicast")
        ):
            continue
        with contextlib.suppress(ValueError):
            network = ipaddress.ip_network(dst, strict=False)
            clashes += [
                f"route {dst} dev {route.get('dev')} overlaps {cidr}"
                for cidr in cidrs
                if network.overlaps(ipaddress.ip_network(cidr))
            ]
    return clashes


def _ports_in_use() -> list[str]:
    """The node's listening addresses that something else listens on already."""
    busy = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        lines = table.read_text().splitlines()[1:] if table.exists() else []
        for line in lines:
            fields = line.split()
            if fields[3] != TCP_LISTEN:
                continue
            address_hex, port_hex = fields[1].split(":")
            address = _proc_net_address(address_hex)
            for name, (host, port) in LISTENERS.items():
                clash = address.is_unspecified or str(address) == host
                if int(port_hex, 16) == port and clash:
                    busy.append(f"{name}'s port {port} is taken (something listens on {address})")
    return busy


def _proc_net_address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/tcp{,6} prints it (32-bit words in host byte order)."""
    raw = bytes.fromhex(hex_address)
    return ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))


def _tools_present(layout: Layout) -> bool:
    if not all(layout.kube_bin(name).exists() for name in KUBERNETES_COMMANDS):
        return False
    binaries = (layout.prometheus_binary, layout.coredns_binary, layout.metrics_server_binary)
    if not all(binary.exists() for binary in binaries):
        return False
    try:
        for name in HOST_COMMANDS:
            command_path(name)
    except NodeError:
        return False
    return True
