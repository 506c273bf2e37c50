"""Taking the node down so that nothing of it is left, and checking that nothing is.

The order matters. Pods go first, while the kubelet and containerd still run, so that
the kubelet stops their sandboxes and CNI removes their interfaces, addresses and
iptables rules. Then the components stop, and what a crash or a kill could leave
behind is removed by force: the containers' processes (PID 1 of a container ignores
SIGTERM), containerd's shims, mounts (the pods' network namespaces and root
filesystems, the kubelet's bind mount of its root directory), the `kubepods` cgroups,
the bridge, the iptables chains, and the kernel settings the kubelet changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import hostpaths
from components import Component
from kubeapi import KubeAPI
from mounts import mounts_under, unmount_under
from proc import NodeError, all_pids, cmdline, kill_and_wait, run, say, wait_until
from settings import BRIDGE, CONTAINERD_NAMESPACE, KUBERNETES_COMMANDS, NODE_NAME, Layout

CGROUP_ROOT = Path("/sys/fs/cgroup")
KUBEPODS = "kubepods"
OUR_CHAIN_PREFIXES = ("KUBE-", "CNI-")
IPTABLES = (("iptables-save", "iptables-restore"), ("ip6tables-save", "ip6tables-restore"))
# Kernel settings the node's components may change (the kubelet sets the first six
# unless told to refuse to start instead): saved before `up`, restored by `down`.
SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",  # writing it also resets accept_redirects and forwarding
    "net/ipv4/conf/all/accept_redirects",
    "net/ipv4/conf/all/route_localnet",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
    "net/netfilter/nf_conntrack_tcp_timeout_syn_sent",  # set by up (cluster.py)
)
# Stop order: controllers first (nothing recreates the pods `down` deletes), then the
# node, then its runtime, then the API server and its store.
STOP_ORDER = (
    "kube-scheduler",
    "kube-controller-manager",
    "kube-proxy",
    "kubelet",
    "containerd",
    "kube-apiserver",
    "etcd",
)
# The programs the node runs (its daemons, containerd's shims and the runc they call).
NODE_PROGRAMS = frozenset(
    (*KUBERNETES_COMMANDS, "etcd", "containerd", "containerd-shim-runc-v2", "runc")
)
POD_DELETE_TIMEOUT = 90
TASKS_GONE_TIMEOUT = 30


def save_sysctls(layout: Layout) -> None:
    """Record the kernel settings before the node changes them (once per `up`)."""
    values = {}
    for name in SYSCTLS:
        path = Path("/proc/sys") / name
        with contextlib.suppress(OSError):
            values[name] = path.read_text().strip()
    layout.sysctl_snapshot.parent.mkdir(parents=True, exist_ok=True)
    layout.sysctl_snapshot.write_text(json.dumps(values, indent=2))


def down(layout: Layout, parts: dict[str, Component]) -> list[str]:
    """Stop the node and remove all it made; return the leftovers still found.

    Refuses (NodeError) while another node's Kubernetes components run on this machine:
    the pods' cgroups, the bridge and the iptables chains would be theirs.
    """
    foreign = _foreign_kubernetes(layout)
    if foreign:
        raise NodeError(
            "Kubernetes components of another node run on this machine; not touching its "
            "pods, bridge or iptables (take that node down first): " + "; ".join(foreign)
        )
    pods_deleted = False
    sandboxes = _sandbox_ids(layout)
    for name in STOP_ORDER[:2]:
        if parts[name].daemon.stop():
            say(f"stopped {name}")
    if all(parts[name].daemon.pid() for name in ("kube-apiserver", "kubelet", "containerd")):
        pods_deleted = _delete_pods(layout)
    for name in STOP_ORDER[2:]:
        if parts[name].daemon.stop():
            say(f"stopped {name}")
    _kill_leftover_processes(layout)
    if not pods_deleted:
        # The pods' interfaces and rules are CNI's to remove; without the kubelet to
        # ask for it, the bridge and the chain clean-up below take them away.
        say("pods were not deleted through the API; removing what they left by force")
    if layout.kube_bin("kube-proxy").exists():
        # kube-proxy removes its own rules (both families); the chain clean-up below
        # takes the kubelet's and CNI's.
        run([str(layout.kube_bin("kube-proxy")), "--cleanup"], check=False, timeout=60)
    left_mounts = unmount_under(layout.node_dir)
    if left_mounts:
        raise NodeError("cannot unmount: " + ", ".join(map(str, left_mounts)))
    _remove_cgroups()
    _remove_links()
    _remove_chains()
    _restore_sysctls(layout)
    hostpaths.clean(layout, sandboxes)
    if layout.state.exists():
        run(["rm", "-rf", "--one-file-system", layout.state], timeout=120)
    return leftovers(layout)


def leftovers(layout: Layout) -> list[str]:
    """Everything of the node still on this machine, one description each."""
    found = [f"another node's process {line}" for line in _foreign_kubernetes(layout)]
    found += [f"process {pid}: {' '.join(argv)[:160]}" for pid, argv in _our_processes(layout)]
    found += [f"mount {point}" for point in mounts_under(layout.node_dir)]
    found += [f"cgroup {path}" for path in _kubepods_cgroups()]
    found += [f"network interface {name}" for name in _our_links()]
    for family, chains, rules in _our_iptables():
        found += [f"{family} chain {chain}" for chain in chains]
        found += [f"{family} rule {rule}" for rule in rules]
    if layout.state.exists():
        found.append(f"node state {layout.state}")
    found += _sysctl_changes(layout)
    found += hostpaths.leftovers(layout, _sandbox_ids(layout))
    return found


def _sandbox_ids(layout: Layout) -> list[str]:
    """The pod sandboxes containerd knows of (their shims' sockets are named after them)."""
    directories = (
        layout.containerd_dir / "state" / "io.containerd.runtime.v2.task" / CONTAINERD_NAMESPACE,
        layout.containerd_dir / "root" / "io.containerd.grpc.v1.cri" / "sandboxes",
    )
    ids = {entry.name for d in directories if d.is_dir() for entry in d.iterdir()}
    return sorted(ids)


def _delete_pods(layout: Layout) -> bool:
    """Delete every pod on the node and wait until the kubelet has stopped them all."""
    api = KubeAPI(layout)
    pods_path = f"/api/v1/pods?fieldSelector=spec.nodeName%3D{NODE_NAME}"
    listed = api.get(pods_path)
    if listed is None:
        return False
    pods = listed.get("items", [])
    if pods:
        say(f"deleting {len(pods)} pod(s)")
    for pod in pods:
        meta = pod["metadata"]
        with contextlib.suppress(OSError):
            api.request(
                "DELETE",
                f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                {"gracePeriodSeconds": 1},
            )

    def all_gone() -> bool:
        listed = api.get(pods_path)
        return listed is not None and not listed.get("items")

    try:
        wait_until("the pods to be gone", all_gone, POD_DELETE_TIMEOUT)
        wait_until(
            "containerd's tasks to stop", lambda: not _running_tasks(layout), TASKS_GONE_TIMEOUT
        )
    except NodeError as error:
        say(f"{error}; stopping by force")
        return False
    return True


def _running_tasks(layout: Layout) -> list[str]:
    result = run(
        [
            "ctr",
            "--address",
            layout.containerd_socket,
            "--namespace",
            CONTAINERD_NAMESPACE,
            "tasks",
            "list",
            "--quiet",
        ],
        check=False,
        timeout=10,
    )
    return result.stdout.split() if result.returncode == 0 else []


def _our_processes(layout: Layout) -> list[tuple[int, list[str]]]:
    """Processes of the node: its programs run on its directory, and its containers'.

    Only the node's own programs count (not, say, a `tail -f` of one of its logs); every
    one of them names a file in the node directory (a configuration, a certificate, the
    containerd socket).
    """
    found = {
        pid: argv
        for pid, argv in _node_programs()
        if any(str(layout.node_dir) in arg for arg in argv)
    }
    found.update((pid, cmdline(pid)) for pid in _kubepods_pids())
    return sorted(found.items())


def _node_programs() -> list[tuple[int, list[str]]]:
    """Running processes of the programs a node runs, whichever node they belong to."""
    found = []
    for pid in all_pids():
        argv = cmdline(pid)
        if pid != os.getpid() and argv and Path(argv[0]).name in NODE_PROGRAMS:
            found.append((pid, argv))
    return found


def _foreign_kubernetes(layout: Layout) -> list[str]:
    """Kubernetes components running that are not this node's (another node directory,
    or a real Kubernetes on this machine): their pods' cgroups are theirs, not ours."""
    return [
        f"{pid}: {' '.join(argv)[:120]}"
        for pid, argv in _node_programs()
        if Path(argv[0]).name in KUBERNETES_COMMANDS
        and not any(str(layout.node_dir) in arg for arg in argv)
    ]


def _kill_leftover_processes(layout: Layout) -> None:
    """Containers' processes get SIGKILL at once; anything else SIGTERM, then SIGKILL."""
    containers = _kubepods_pids()
    if containers:
        say(f"killing {len(containers)} container process(es) left behind")
        kill_and_wait(containers, signal.SIGKILL, 10)
    others = [pid for pid, _ in _our_processes(layout)]
    if others:
        say(f"stopping {len(others)} leftover process(es) (shims)")
        left = kill_and_wait(others, signal.SIGTERM, 10)
        kill_and_wait(left, signal.SIGKILL, 5)


def _hierarchies() -> list[Path]:
    """Each mounted cgroup hierarchy once (v1 controllers and the named/unified ones)."""
    seen, found = set(), []
    for path in sorted(CGROUP_ROOT.iterdir()) if CGROUP_ROOT.is_dir() else []:
        real = path.resolve()
        if path.is_dir() and real not in seen:
            seen.add(real)
            found.append(path)
    return found


def _kubepods_cgroups() -> list[Path]:
    return [h / KUBEPODS for h in _hierarchies() if (h / KUBEPODS).is_dir()]


def _kubepods_pids() -> list[int]:
    pids: set[int] = set()
    for top in _kubepods_cgroups():
        for directory, _, _ in os.walk(top):
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in (Path(directory) / "cgroup.procs").read_text().split())
    return sorted(pids)


def _remove_cgroups() -> None:
    for top in _kubepods_cgroups():
        for directory, _, _ in os.walk(top, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def _links() -> list[dict[str, str]]:
    result = run(["ip", "-json", "link", "show"], check=False)
    return json.loads(result.stdout or "[]") if result.returncode == 0 else []


def _our_links() -> list[str]:
    """The bridge and any interface still attached to it (pods' host-side veths)."""
    return [
        link["ifname"]
        for link in _links()
        if link["ifname"] == BRIDGE or link.get("master") == BRIDGE
    ]


def _remove_links() -> None:
    for name in sorted(_our_links(), key=lambda n: n == BRIDGE):  # the bridge last
        run(["ip", "link", "delete", name], check=False)


def _our_iptables() -> list[tuple[str, list[str], list[str]]]:
    """Per family: our chains, and the rules of other chains that jump to them."""
    found = []
    for save, _ in IPTABLES:
        result = run([save], check=False, timeout=30)
        if result.returncode != 0:
            continue
        chains, rules = _parse_save(result.stdout)
        found.append((save.removesuffix("-save"), chains, rules))
    return found


def _parse_save(text: str) -> tuple[list[str], list[str]]:
    """From iptables-save output: ['table/CHAIN'] ours, ['table: -A ...'] rules into them."""
    chains, rules, table = [], [], ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif line.startswith(":") and line[1:].startswith(OUR_CHAIN_PREFIXES):
            chains.append(f"{table}/{line[1:].split()[0]}")
        elif line.startswith("-A "):
            words = line.split()
            chain = words[1]
            target = next((words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-j", "-g")), "")
            if not chain.startswith(OUR_CHAIN_PREFIXES) and target.startswith(OUR_CHAIN_PREFIXES):
                rules.append(f"{table}: {line}")
    return chains, rules


def _remove_chains() -> None:
    """Drop the jumps into our chains, then flush and delete the chains, per table."""
    for save, restore in IPTABLES:
        result = run([save], check=False, timeout=30)
        if result.returncode != 0:
            continue
        chains, rules = _parse_save(result.stdout)
        if not chains and not rules:
            continue
        tables = sorted({item.split("/")[0] for item in chains} | {r.split(":")[0] for r in rules})
        script = []
        for table in tables:
            script.append(f"*{table}")
            script += ["-D " + r.split(": ", 1)[1][3:] for r in rules if r.startswith(table + ":")]
            ours = [c.split("/", 1)[1] for c in chains if c.startswith(table + "/")]
            script += [f"-F {chain}" for chain in ours] + [f"-X {chain}" for chain in ours]
            script.append("COMMIT")
        run([restore, "--noflush"], check=False, timeout=30, stdin="\n".join(script) + "\n")


def _restore_sysctls(layout: Layout) -> None:
    for name, value in _saved_sysctls(layout).items():
        path = Path("/proc/sys") / name
        with contextlib.suppress(OSError):
            if path.read_text().strip() != value:
                path.write_text(value + "\n")
    layout.sysctl_snapshot.unlink(missing_ok=True)


def _saved_sysctls(layout: Layout) -> dict[str, str]:
    try:
        saved: dict[str, str] = json.loads(layout.sysctl_snapshot.read_text())
    except (OSError, ValueError):
        return {}
    return saved


def _sysctl_changes(layout: Layout) -> list[str]:
    """Kernel settings that differ from before `up` (only known while state is kept)."""
    changed = []
    for name, value in _saved_sysctls(layout).items():
        with contextlib.suppress(OSError):
            now = (Path("/proc/sys") / name).read_text().strip()
            if now != value:
                changed.append(f"sysctl {name} = {now} (was {value})")
    return changed
