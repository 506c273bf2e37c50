"""The node's components: their command lines, configuration files and health checks.

In start order: etcd (Debian's), containerd (Debian's, with its own root, state, socket
and configuration under the node directory), kube-apiserver, kube-controller-manager,
kube-scheduler, kubelet and kube-proxy (built from the Go module proxy).
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from kubeapi import KubeAPI
from pki import component_kubeconfig
from proc import Daemon, command_path, run
from settings import (
    APISERVER_PORT,
    BRIDGE,
    CLUSTER_CIDR,
    CLUSTER_DOMAIN,
    CNI_BIN_DIR,
    CNI_NETWORK,
    CONTROLLER_MANAGER_PORT,
    DNS_SERVICE_IP,
    ETCD_CLIENT_PORT,
    ETCD_PEER_PORT,
    HPA_SYNC_SECONDS,
    KUBE_PROXY_HEALTHZ_PORT,
    KUBE_PROXY_METRICS_PORT,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    KUBERNETES_COMMANDS,
    NODE_IP,
    NODE_NAME,
    POD_SUBNET,
    SCHEDULER_PORT,
    SERVICE_CIDR,
    Layout,
)

ETCD_URL = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"


@dataclass
class Component:
    """A daemon, how to tell it is serving, and how long it may take to get there."""

    daemon: Daemon
    healthy: Callable[[], bool]
    timeout: float

    @property
    def name(self) -> str:
        return self.daemon.name


def components(layout: Layout) -> dict[str, Component]:
    """Every component by name, in start order (stop in the reverse)."""
    pki, config = layout.pki, layout.config_dir
    kube = {name: str(layout.kube_bin(name)) for name in KUBERNETES_COMMANDS}

    def daemon(name: str, argv: list[str]) -> Daemon:
        return Daemon(name, argv, layout.logs / f"{name}.log", layout.pids / f"{name}.pid")

    def delegated(user: str) -> list[str]:
        kubeconfig = str(component_kubeconfig(layout, user))
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ]

    api = KubeAPI(layout, timeout=2)
    listed = [
        Component(
            daemon(
                "etcd",
                [
                    command_path("etcd"),
                    f"--name={NODE_NAME}",
                    f"--data-dir={layout.etcd_data}",
                    f"--listen-client-urls={ETCD_URL}",
                    f"--advertise-client-urls={ETCD_URL}",
                    f"--listen-peer-urls=http://127.0.0.1:{ETCD_PEER_PORT}",
                    f"--initial-advertise-peer-urls=http://127.0.0.1:{ETCD_PEER_PORT}",
                    f"--initial-cluster={NODE_NAME}=http://127.0.0.1:{ETCD_PEER_PORT}",
                    "--initial-cluster-state=new",
                    "--logger=zap",
                    "--log-outputs=stderr",
                ],
            ),
            _etcd_healthy,
            30,
        ),
        Component(
            daemon(
                "containerd",
                [
                    command_path("containerd"),
                    f"--config={config / 'containerd.toml'}",
                ],
            ),
            lambda: _containerd_healthy(layout),
            30,
        ),
        Component(
            daemon(
                "kube-apiserver",
                [
                    kube["kube-apiserver"],
                    f"--etcd-servers={ETCD_URL}",
                    f"--advertise-address={NODE_IP}",
                    f"--bind-address={NODE_IP}",
                    f"--secure-port={APISERVER_PORT}",
                    f"--tls-cert-file={pki / 'apiserver.crt'}",
                    f"--tls-private-key-file={pki / 'apiserver.key'}",
                    f"--client-ca-file={pki / 'ca.crt'}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
                    f"--service-account-key-file={pki / 'sa.pub'}",
                    f"--service-account-signing-key-file={pki / 'sa.key'}",
                    "--authorization-mode=Node,RBAC",
                    "--enable-admission-plugins=NodeRestriction",
                    "--allow-privileged=true",
                    # Towards the kubelet (logs, exec, port-forward), verified, by its address.
                    f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                    f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                    f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                    "--kubelet-preferred-address-types=InternalIP",
                    # The aggregation layer, for metrics-server (the HPA's resource metrics).
                    f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
                    "--requestheader-allowed-names=front-proxy-client",
                    "--requestheader-username-headers=X-Remote-User",
                    "--requestheader-group-headers=X-Remote-Group",
                    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                    f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
                    f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
                    "--enable-aggregator-routing=true",
                    "--profiling=false",
                ],
            ),
            lambda: api.ok("/readyz"),
            90,
        ),
        Component(
            daemon(
                "kube-controller-manager",
                [
                    kube["kube-controller-manager"],
                    *delegated("controller-manager"),
                    f"--secure-port={CONTROLLER_MANAGER_PORT}",
                    # All default controllers: among them disruption (PodDisruptionBudgets for
                    # the Eviction API), horizontalpodautoscaling and the service-account ones.
                    "--controllers=*",
                    f"--service-account-private-key-file={pki / 'sa.key'}",
                    f"--root-ca-file={pki / 'ca.crt'}",
                    "--use-service-account-credentials=true",
                    f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                    f"--cluster-signing-key-file={pki / 'ca.key'}",
                    f"--service-cluster-ip-range={SERVICE_CIDR}",
                    f"--cluster-cidr={CLUSTER_CIDR}",
                    "--allocate-node-cidrs=false",
                    # Its default is under /usr/libexec, which it would create.
                    f"--flex-volume-plugin-dir={layout.state / 'volume-plugins'}",
                    # The HPA's loop runs every 15 s by default: a demo at time scale 0.1
                    # waits up to that long before scaling begins, against a metric that
                    # metrics-server renews every 10 s. Every 5 s the HPA acts on a new
                    # sample within about one resolution, and the added load (one GET of
                    # pod metrics per HPA) is nothing on one node.
                    f"--horizontal-pod-autoscaler-sync-period={HPA_SYNC_SECONDS}s",
                    "--profiling=false",
                ],
            ),
            lambda: _loopback_ok(CONTROLLER_MANAGER_PORT, tls=True),
            60,
        ),
        Component(
            daemon(
                "kube-scheduler",
                [
                    kube["kube-scheduler"],
                    *delegated("scheduler"),
                    f"--secure-port={SCHEDULER_PORT}",
                    "--profiling=false",
                ],
            ),
            lambda: _loopback_ok(SCHEDULER_PORT, tls=True),
            60,
        ),
        Component(
            daemon(
                "kubelet",
                [
                    kube["kubelet"],
                    f"--config={config / 'kubelet.yaml'}",
                    f"--kubeconfig={component_kubeconfig(layout, 'kubelet-client')}",
                    f"--root-dir={layout.kubelet_dir}",
                    f"--cert-dir={layout.kubelet_dir / 'pki'}",
                    f"--hostname-override={NODE_NAME}",
                    f"--node-ip={NODE_IP}",
                ],
            ),
            lambda: _loopback_ok(KUBELET_HEALTHZ_PORT),
            60,
        ),
        Component(
            daemon("kube-proxy", [kube["kube-proxy"], f"--config={config / 'kube-proxy.yaml'}"]),
            lambda: _loopback_ok(KUBE_PROXY_HEALTHZ_PORT),
            60,
        ),
    ]
    return {component.name: component for component in listed}


def write_configs(layout: Layout, sandbox_image: str) -> None:
    """containerd's, the CNI network's, the kubelet's and kube-proxy's configuration."""
    layout.config_dir.mkdir(parents=True, exist_ok=True)
    (layout.config_dir / "containerd.toml").write_text(_containerd_config(layout, sandbox_image))
    layout.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    (layout.cni_conf_dir / f"10-{CNI_NETWORK}.conflist").write_text(
        json.dumps(_cni_config(layout), indent=2) + "\n"
    )
    # JSON is YAML: both components read these with their YAML decoders.
    (layout.config_dir / "kubelet.yaml").write_text(json.dumps(_kubelet_config(layout), indent=2))
    (layout.config_dir / "kube-proxy.yaml").write_text(
        json.dumps(_kube_proxy_config(layout), indent=2)
    )


def _containerd_config(layout: Layout, sandbox_image: str) -> str:
    """containerd of its own: root, state, socket, runc root and opt dir under the node dir.

    restrict_oom_score_adj: without CAP_SYS_RESOURCE (as here) runc cannot give the
    pause container its oom_score_adj of -998 and the sandbox fails. Network namespaces
    go under the state directory, not /run/netns. enable_unprivileged_ports (containerd
    2's default): any user may bind ports below 1024 in a pod's own network namespace,
    so CoreDNS serves port 53 as nobody without capabilities.
    """
    root = layout.containerd_dir
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
root = "{root / "root"}"
state = "{root / "state"}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "{layout.containerd_socket}"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root / "opt"}"

# Unused (the CRI runs io.containerd.runc.v2) but required by the tasks service.
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "{root / "runc-v1"}"

{cri}]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  enable_unprivileged_ports = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{layout.cni_conf_dir}"
  max_conf_num = 1

{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{root / "runc"}"
"""


def _cni_config(layout: Layout) -> dict[str, object]:
    """A bridge (ours, named BRIDGE) with host-local addresses and hostPort support.

    The loopback interface is containerd's own business (it runs CNI's loopback plugin
    from the same bin_dir); the bridge already exists with NODE_IP when pods start.
    """
    return {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET, "gateway": NODE_IP}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(layout.cni_ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def _kubelet_config(layout: Layout) -> dict[str, object]:
    pki = layout.pki
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # This machine: cgroup v1 without systemd, swap allowed.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        # Serving on the node's address only; health on loopback.
        "address": NODE_IP,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        # The API server's client certificate, and service-account tokens checked with
        # the API server (what metrics-server will present), are let in.
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        # Pods resolve names through the cluster DNS add-on (addons.py); CoreDNS itself
        # (dnsPolicy Default) and host-network pods get this machine's resolv.conf.
        "clusterDNS": [DNS_SERVICE_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": "/etc/resolv.conf",
        "podLogsDir": str(layout.state / "pod-logs"),
        "volumePluginDir": str(layout.state / "volume-plugins"),
        "hairpinMode": "hairpin-veth",
        "serializeImagePulls": False,
        # No registry to pull from again: never garbage-collect images.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "2%",
            "imagefs.available": "2%",
            "nodefs.inodesFree": "2%",
        },
        # Lowering an oom_score_adj needs CAP_SYS_RESOURCE, which this machine lacks.
        "oomScoreAdj": 0,
    }


def _kube_proxy_config(layout: Layout) -> dict[str, object]:
    """iptables mode; NodePorts on the node's address only; host conntrack left as is."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(component_kubeconfig(layout, "kube-proxy"))},
        "hostnameOverride": NODE_NAME,
        "bindAddress": NODE_IP,
        "healthzBindAddress": f"127.0.0.1:{KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{KUBE_PROXY_METRICS_PORT}",
        "mode": "iptables",
        "clusterCIDR": CLUSTER_CIDR,
        "detectLocalMode": "ClusterCIDR",
        "nodePortAddresses": [f"{NODE_IP}/32"],
        "iptables": {"localhostNodePorts": False},
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        "oomScoreAdj": 0,
    }


def _etcd_healthy() -> bool:
    answer = _get("127.0.0.1", ETCD_CLIENT_PORT, "/health")
    try:
        return answer is not None and json.loads(answer).get("health") == "true"
    except ValueError:
        return False


def _containerd_healthy(layout: Layout) -> bool:
    if not layout.containerd_socket.exists():
        return False
    result = run(["ctr", "--address", layout.containerd_socket, "version"], check=False, timeout=10)
    return result.returncode == 0


def _loopback_ok(port: int, tls: bool = False) -> bool:
    """Whether a component's /healthz on loopback answers 200.

    Over TLS the certificate is the component's self-signed one: not checked.
    """
    return _get("127.0.0.1", port, "/healthz", tls) is not None


def _get(host: str, port: int, path: str, tls: bool = False) -> str | None:
    """The body of a 200 answer to GET, None for anything else (or no answer)."""
    connection: http.client.HTTPConnection
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=2, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=2)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return body if response.status == 200 else None
