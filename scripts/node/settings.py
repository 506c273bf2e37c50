"""The node's fixed choices (versions, names, addresses, ports) and where it keeps things.

Two places, kept apart: the build cache (binaries and images, reused across runs and
safe to share between checkouts) and the node directory (the running node's state,
certificates and logs; what `down` clears, except the certificates and the logs). A
third, the tools cache, is scripts/install-tools.sh's: upstream prometheus is built there
(the add-ons' binaries, like Kubernetes', are built into the build cache).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "1.35.4"
KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
# The Debian commands the node runs besides those (what `install-tools.sh node` brings).
HOST_COMMANDS = (
    "etcd",
    "containerd",
    "containerd-shim-runc-v2",
    "ctr",
    "runc",
    "umoci",
    "conntrack",
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip",
    "openssl",
    "gcc",
    "debootstrap",
)
CNI_BIN_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins

# The node's name is also the kubeconfig's cluster, user and context name.
NODE_NAME = "sreshow-node"
# The pods' Linux bridge. Its address is the pods' gateway and also the node's
# InternalIP, where the API server, the kubelet and NodePorts listen: an address this
# machine owns only while the node is up, reachable from the host and from every pod.
BRIDGE = "sreshow0"
CNI_NETWORK = "sreshow"
NODE_IP = "10.244.0.1"
POD_SUBNET = "10.244.0.0/24"  # this node's pods (host-local IPAM)
CLUSTER_CIDR = "10.244.0.0/16"  # all pods, as kube-proxy sees them
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"  # the `kubernetes` Service: the first address
CLUSTER_DOMAIN = "cluster.local"

# Ports. etcd is off its default ports so that a system etcd (Debian's etcd-server
# starts one where systemd runs) never clashes with the node's.
APISERVER_PORT = 6443
ETCD_CLIENT_PORT = 12379
ETCD_PEER_PORT = 12380
CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
KUBE_PROXY_HEALTHZ_PORT = 10256
KUBE_PROXY_METRICS_PORT = 10249

# Images, all fully qualified: the CRI resolves an unqualified name to docker.io.
PAUSE_IMAGE = "localhost/pause"
APP_IMAGE = "localhost/sreshow/sre-app"
APP_IMAGE_ALIAS_TAG = "dev"  # also points at the newest app image imported
CONTAINERD_NAMESPACE = "k8s.io"  # the CRI's
# The app's home and working directory inside its image (an emptyDir in the pod): the
# only writable place, the root filesystem being read-only.
IMAGE_TMP = "/tmp"  # noqa: S108 - a path inside the image, not on this machine

# The monitoring stack's images, under the stable tags manifests/overlays/node names
# (change both together): upstream Prometheus built from the Go module proxy (Debian's
# 2.42 lacks Kubernetes service discovery), Alertmanager and the blackbox exporter from
# Debian bookworm's packages, whose upstream versions these must be.
PROMETHEUS_VERSION = "2.53.3"
ALERTMANAGER_VERSION = "0.25.0"
BLACKBOX_EXPORTER_VERSION = "0.23.0"
PROMETHEUS_IMAGE = "localhost/sreshow/prometheus"
ALERTMANAGER_IMAGE = "localhost/sreshow/alertmanager"
BLACKBOX_EXPORTER_IMAGE = "localhost/sreshow/blackbox-exporter"

# The add-ons every real cluster has (addons.py), run as pods in kube-system: CoreDNS
# (cluster DNS) and metrics-server (the resource metrics API the HorizontalPodAutoscaler
# reads), both built from the Go module proxy by scripts/install-tools.sh (change the
# versions there and in their wrapper modules under scripts/go together).
ADDON_NAMESPACE = "kube-system"
COREDNS_VERSION = "1.15.0"
METRICS_SERVER_VERSION = "0.8.0"
COREDNS_IMAGE = "localhost/sreshow/coredns"
METRICS_SERVER_IMAGE = "localhost/sreshow/metrics-server"
DNS_SERVICE_IP = "10.96.0.10"  # the kube-dns Service; the kubelet's clusterDNS
# How often metrics-server scrapes the kubelet: the smallest it accepts.
METRIC_RESOLUTION_SECONDS = 10
# How often the HPA controller acts (kube-controller-manager; why: components.py).
HPA_SYNC_SECONDS = 5

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Layout:
    """Every path the node uses, derived from the node directory and the build cache."""

    node_dir: Path
    cache_dir: Path
    tools_dir: Path

    @classmethod
    def from_env(cls) -> Layout:
        """The node directory ($SRESHOW_NODE_DIR), cache ($SRESHOW_NODE_CACHE) and tools
        cache ($SRESHOW_TOOLS_DIR, as scripts/install-tools.sh has it)."""
        node_dir = os.environ.get("SRESHOW_NODE_DIR") or "/var/lib/sreshow/node"
        cache_dir = os.environ.get("SRESHOW_NODE_CACHE") or str(
            Path.home() / ".cache" / "sreshow" / "node"
        )
        tools_dir = os.environ.get("SRESHOW_TOOLS_DIR") or str(
            Path.home() / ".cache" / "sreshow" / "tools"
        )
        return cls(
            Path(node_dir).absolute(), Path(cache_dir).absolute(), Path(tools_dir).absolute()
        )

    # The build cache.
    @property
    def bin_dir(self) -> Path:
        return self.cache_dir / f"kubernetes-v{KUBERNETES_VERSION}" / "bin"

    @property
    def images_dir(self) -> Path:
        return self.cache_dir / "images"

    @property
    def debs_dir(self) -> Path:
        """Debian packages the monitoring images are made of, as downloaded."""
        return self.images_dir / "debs"

    @property
    def prometheus_binary(self) -> Path:
        """Upstream prometheus, as scripts/install-tools.sh builds it."""
        return self.tools_dir / "bin" / f"prometheus-{PROMETHEUS_VERSION}"

    @property
    def coredns_binary(self) -> Path:
        """CoreDNS, as scripts/install-tools.sh builds it."""
        return self.cache_dir / f"coredns-v{COREDNS_VERSION}" / "bin" / "coredns"

    @property
    def metrics_server_binary(self) -> Path:
        """metrics-server, as scripts/install-tools.sh builds it."""
        return (
            self.cache_dir / f"metrics-server-v{METRICS_SERVER_VERSION}" / "bin" / "metrics-server"
        )

    # Kept across `down`: the certificates, the kubeconfigs and the last run's logs.
    @property
    def pki(self) -> Path:
        return self.node_dir / "pki"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig `up` prints: current context NODE_NAME."""
        return self.node_dir / "kubeconfig"

    @property
    def logs(self) -> Path:
        return self.node_dir / "logs"

    @property
    def lock_file(self) -> Path:
        return self.node_dir / ".lock"

    # Cleared by `down`: everything the running node writes.
    @property
    def state(self) -> Path:
        return self.node_dir / "state"

    @property
    def pids(self) -> Path:
        return self.state / "pids"

    @property
    def config_dir(self) -> Path:
        return self.state / "config"

    @property
    def etcd_data(self) -> Path:
        return self.state / "etcd"

    @property
    def containerd_dir(self) -> Path:
        return self.state / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_dir / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.state / "kubelet"

    @property
    def cni_conf_dir(self) -> Path:
        return self.state / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.state / "cni" / "ipam"

    @property
    def sysctl_snapshot(self) -> Path:
        return self.state / "sysctl-before.json"

    def kube_bin(self, command: str) -> Path:
        return self.bin_dir / command
