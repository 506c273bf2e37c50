"""Fixtures shared by every tier: a clean environment and free local ports."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from tests.k8s.node import Node, running_node

_OWN_PREFIXES = ("SRESHOW_", "APP_")
_OWN_NAMES = {"POD_NAME", "NO_COLOR", "KUBECONFIG"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own sreshow or app settings."""
    for name in list(os.environ):
        if name.startswith(_OWN_PREFIXES) or name in _OWN_NAMES:
            monkeypatch.delenv(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def k8s_node() -> Iterator[Node]:
    """The one-node cluster of the k8s tier: one for the whole test run."""
    with running_node() as node:
        yield node
