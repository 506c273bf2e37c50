"""Context safety: sreshow changes only the cluster the user meant, and says which first.

These run the real CLI against kubeconfigs whose servers listen nowhere (a closed port
on 127.0.0.1): a command that refuses must refuse before its first request, so nothing
here can reach a cluster. The k8s tier checks the same on a real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sreshow.adapters.kubernetes.api import ClusterTarget
from sreshow.adapters.kubernetes.record import (
    RecordFile,
    StackRecord,
    connect_recorded,
    looks_like_production,
)
from sreshow.errors import UsageError

NOWHERE = "https://127.0.0.1:9"  # a closed port: any request would fail, not land
ELSEWHERE = "https://127.0.0.1:10"


def kubeconfig(path: Path, current: str, servers: dict[str, str]) -> Path:
    """A kubeconfig with one context per server, each its own cluster and user."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [
                    {
                        "name": f"{n}-cluster",
                        "cluster": {"server": s, "insecure-skip-tls-verify": True},
                    }
                    for n, s in servers.items()
                ],
                "users": [
                    {"name": f"{n}-user", "user": {"token": "not-a-real-token"}} for n in servers
                ],
                "contexts": [
                    {"name": n, "context": {"cluster": f"{n}-cluster", "user": f"{n}-user"}}
                    for n in servers
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def sreshow(*args: str, state: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRESHOW_")}
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env=env | {"SRESHOW_STATE_DIR": str(state), "KUBECONFIG": str(config)},
    )


def record_stack(state: Path, context: str, server: str) -> None:
    RecordFile(state).write(
        StackRecord(
            context=context,
            cluster=f"{context}-cluster",
            server=server,
            time_scale=0.1,
            brought_up_at=0.0,
        )
    )
    (state / "platform").write_text("kubernetes\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("context", "cluster", "production"),
    [
        ("prod-eu", "c", True),
        ("gke_acme_live_1", "c", True),
        ("dev", "Production", True),
        ("product-demo", "kind-kind", False),
        ("sreshow-node", "sreshow-node", False),
    ],
)
def test_a_context_or_cluster_named_like_production_is_taken_for_it(
    context: str, cluster: str, production: bool
) -> None:
    assert looks_like_production(ClusterTarget(context, cluster, NOWHERE)) is production


def test_up_on_a_production_like_context_needs_the_flag_and_touches_nothing(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "prod-eu", {"prod-eu": NOWHERE})

    result = sreshow(
        "up", "--platform", "kubernetes", "--yes", state=tmp_path / "state", config=config
    )

    assert result.returncode == 2, result.stderr
    assert "looks like production" in result.stderr
    assert "--allow-production" in result.stderr
    assert not (tmp_path / "state" / "kubernetes").exists()


def test_up_says_what_it_will_change_and_without_a_terminal_or_yes_changes_nothing(
    tmp_path: Path,
) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "demo", {"demo": NOWHERE})

    result = sreshow("up", "--platform", "kubernetes", state=tmp_path / "state", config=config)

    assert result.returncode == 2, result.stderr
    assert "context demo (cluster demo-cluster at https://127.0.0.1:9)" in result.stdout
    assert "namespaces sre-app, monitoring" in result.stdout
    assert "pass --yes" in result.stderr
    assert not (tmp_path / "state" / "kubernetes").exists()


def test_an_unknown_context_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "demo", {"demo": NOWHERE})

    result = sreshow(
        "up",
        "--platform",
        "kubernetes",
        "--context",
        "nope",
        "--yes",
        state=tmp_path / "state",
        config=config,
    )

    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: --context nope: no such context in the kubeconfig; use one of demo"
    )


@pytest.mark.parametrize(
    "command",
    [["status"], ["status", "--json"], ["down"], ["scenario", "run", "kill-pods", "--auto"]],
)
def test_a_later_command_on_another_current_context_refuses_and_touches_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    state = tmp_path / "state"
    record_stack(state, "demo", NOWHERE)
    config = kubeconfig(tmp_path / "kubeconfig", "other", {"demo": NOWHERE, "other": ELSEWHERE})

    result = sreshow(*command, state=state, config=config)

    assert result.returncode == 2, result.stderr
    assert "current context is other" in result.stderr
    assert "--context demo" in result.stderr
    assert RecordFile(state).read() is not None  # down forgot nothing


def test_another_context_named_on_the_command_line_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    record_stack(state, "demo", NOWHERE)
    config = kubeconfig(tmp_path / "kubeconfig", "demo", {"demo": NOWHERE, "other": ELSEWHERE})

    result = sreshow("down", "--context", "other", state=state, config=config)

    assert result.returncode == 2
    assert "--context other: the stack was brought up on context demo" in result.stderr


def test_a_context_that_now_points_at_another_server_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = StackRecord(
        context="demo", cluster="demo-cluster", server=NOWHERE, time_scale=1, brought_up_at=0
    )
    monkeypatch.setenv(
        "KUBECONFIG", str(kubeconfig(tmp_path / "kubeconfig", "demo", {"demo": ELSEWHERE}))
    )

    with pytest.raises(UsageError, match=r"now points at https://127.0.0.1:10.*nothing was done"):
        connect_recorded(record, None, tmp_path / "stack.json")


def test_the_recorded_context_is_accepted_by_name_or_as_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = StackRecord(
        context="demo", cluster="demo-cluster", server=NOWHERE, time_scale=1, brought_up_at=0
    )
    monkeypatch.setenv(
        "KUBECONFIG",
        str(kubeconfig(tmp_path / "kubeconfig", "other", {"demo": NOWHERE, "other": ELSEWHERE})),
    )

    api = connect_recorded(record, "demo", tmp_path / "stack.json")

    assert (api.target.context, api.target.server) == ("demo", NOWHERE)
    api.close()


def test_up_on_a_cluster_it_cannot_reach_says_so_in_one_line_and_leaves_no_record(
    tmp_path: Path,
) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "demo", {"demo": NOWHERE})
    state = tmp_path / "state"

    result = sreshow("up", "--platform", "kubernetes", "--yes", state=state, config=config)

    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "error: cannot reach the Kubernetes API server at https://127.0.0.1:9 (context demo): "
        "[Errno 111] Connection refused; is the cluster up?"
    ]
    assert RecordFile(state).read() is None
    assert not (state / "platform").exists()  # `status` and `down` look at local again
