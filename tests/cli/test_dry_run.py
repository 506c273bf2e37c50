"""`up --dry-run`: what the platform would make, nothing changed and nothing recorded;
bad flags are refused as they would be by `up`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_platforms import run


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_local_dry_run_lists_the_processes_and_changes_nothing(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        "up", "--dry-run", "--replicas", "3", "--port", "18080", "--ttl", "45m", capsys=capsys
    )

    assert (code, err) == (0, "")
    assert "Would bring up on local" in out
    assert "3, behind HAProxy on 127.0.0.1:18080" in out
    assert "Time to live: 45m, until about" in out
    assert out.rstrip().endswith("Dry run: nothing was changed.")
    assert not state_dir.exists() or list(state_dir.iterdir()) == []


def test_kubernetes_dry_run_renders_the_objects_without_a_cluster(
    state_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(state_dir.parent / "no-such-kubeconfig"))

    code, out, err = run("up", "--platform", "kubernetes", "--dry-run", capsys=capsys)

    assert (code, err) == (0, "")
    assert "Would bring up on kubernetes" in out
    for kind in ("Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"):
        assert kind in out
    assert "sre-app/sre-app" in out
    assert not state_dir.exists() or list(state_dir.iterdir()) == []


@pytest.mark.usefixtures("state_dir")
def test_a_dry_run_refuses_the_flags_up_would(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run("up", "--dry-run", "--time-scale", "5", capsys=capsys)

    assert (code, out) == (2, "")
    assert "--time-scale 5 is out of range" in err
