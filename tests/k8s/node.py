"""The one-node test cluster (scripts/node/node.py) and a stack on it, for the k8s tier.

`running_node()` starts the node once per test run (building what is missing) and stops it
afterwards, checking nothing of it is left; `KubeStack` drives `sreshow` on it as a user
would, with its own kubeconfig and state dir. Traffic goes only to the node's own
addresses: the API server on 127.0.0.1 and the pod and Service addresses of the
network namespaces and bridge the node creates on this machine.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = ROOT / "scripts" / "node" / "node.py"
NODE_OVERLAY = ROOT / "manifests" / "overlays" / "node"  # the monitoring images built there
NODE_UP_SECONDS = 900  # a cold build of the binaries and images included
NODE_DOWN_SECONDS = 180


def node_settings() -> ModuleType:
    """scripts/node/settings.py: how the node is configured (its clocks among them)."""
    spec = importlib.util.spec_from_file_location(
        "node_settings", NODE_SCRIPT.parent / "settings.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Node:
    kubeconfig: Path
    app_image: str  # the app image built from this checkout, on the node


def node_command(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(NODE_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _last_line(result: subprocess.CompletedProcess[str], what: str) -> str:
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        pytest.fail(f"{what} failed (exit {result.returncode}):\n{output}")
    return lines[-1].strip()


@contextlib.contextmanager
def running_node() -> Iterator[Node]:
    """The node, up for the duration; afterwards down, and nothing of it left."""
    if os.geteuid() != 0:
        message = "the k8s tier runs a real node, which needs root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    for tool in ("containerd", "runc", "etcd", "umoci"):
        require_tool(tool)
    up = node_command("up", timeout=NODE_UP_SECONDS)
    kubeconfig = Path(_last_line(up, "scripts/node/node.py up"))
    image = _last_line(node_command("image", timeout=NODE_UP_SECONDS), "scripts/node/node.py image")
    try:
        yield Node(kubeconfig, image)
    finally:
        down = node_command("down", timeout=NODE_DOWN_SECONDS)
        clean = node_command("check-clean", timeout=60)
        assert down.returncode == 0, f"node down failed:\n{down.stdout}\n{down.stderr}"
        assert clean.returncode == 0, (
            f"the node left things behind:\n{clean.stdout}\n{clean.stderr}"
        )


@dataclass(frozen=True)
class KubeStack:
    """A stack `sreshow up --platform kubernetes` brought up on the node."""

    node: Node
    state_dir: Path
    time_scale: float

    @property
    def env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.node.kubeconfig), "SRESHOW_STATE_DIR": str(self.state_dir)}

    def sreshow(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`sreshow ARGS` as a user runs it on this stack."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SRESHOW_")}
        return subprocess.run(
            [sys.executable, "-m", "sreshow", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=environment | self.env,
            check=False,
        )


UP_SECONDS = 360  # `sreshow up` waits at most 300 s for the app and Prometheus


@contextlib.contextmanager
def running_stack(node: Node, state_dir: Path, time_scale: float = 0.1) -> Iterator[KubeStack]:
    """A stack up on the node for the duration, brought down afterwards."""
    stack = KubeStack(node, state_dir, time_scale)
    up = stack.sreshow(
        "up",
        "--platform",
        "kubernetes",
        "--image",
        node.app_image,
        "--manifests",
        str(NODE_OVERLAY),
        "--time-scale",
        f"{time_scale:g}",
        "--yes",
        timeout=UP_SECONDS,
    )
    try:
        assert up.returncode == 0, f"sreshow up failed:\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}"
        yield stack
    finally:
        down = stack.sreshow("down", timeout=180)
        assert down.returncode == 0, f"sreshow down failed:\n{down.stdout}\n{down.stderr}"
