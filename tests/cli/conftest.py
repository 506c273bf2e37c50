"""Fixtures of the `sreshow doctor` tests: a state dir of the test's own, stand-in
binaries on a PATH of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from sreshow.adapters.local.lifecycle import REQUIRED_BINARIES
from tests.cli.doctor_support import fake_binary


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state dir of the test's own, and a console wide enough for one row per line."""
    directory = tmp_path / "state"
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(directory))
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    return directory


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding a script per binary the local stack needs, printing its minimum
    version the way the real one prints its own."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for binary, minimum in REQUIRED_BINARIES:
        fake_binary(directory, binary.name, ".".join(map(str, (*minimum, 1))))
    monkeypatch.setenv("PATH", str(directory))
    return directory
