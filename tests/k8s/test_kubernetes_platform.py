"""The `kubernetes` platform on a real one-node cluster (scripts/node/node.py): what a
user of `sreshow up --platform kubernetes` and its scenarios would notice.

(The Platform contract suite, tests/contract, runs on the same node as well.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from demo_app.faults import FaultPatch
from sreshow.adapters.kubernetes.render import APP_NAME, APP_NAMESPACE, MONITORING_NAMESPACE
from sreshow.platforms import Platforms
from sreshow.settings import Settings
from tests.k8s.node import KubeStack, Node, running_stack
from tests.manifests.stack import wait_until
from tests.tools import require_tool

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(1500)]

KUBECTL_SECONDS = 30


@pytest.fixture(scope="module")
def stack(k8s_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeStack]:
    with running_stack(k8s_node, tmp_path_factory.mktemp("k8s")) as stack:
        yield stack


def kubectl(node: Node, *args: str) -> Any:
    """`kubectl ARGS -o json` on the node, parsed."""
    result = subprocess.run(
        [require_tool("kubectl"), f"--kubeconfig={node.kubeconfig}", *args, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=KUBECTL_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def our_objects(node: Node) -> dict[str, str]:
    """Every object sreshow labelled, by kind/namespace/name: what changes when it is
    written to — its generation, where the API keeps one (controllers update the status
    of Deployments and budgets on their own), else a digest of the object without its
    status and resourceVersion (the HPA controller writes an HPA's status whenever the
    CPU it reads changes, and HPAs keep no generation)."""
    found = {}
    kinds = ",".join(
        (
            "deployments",
            "services",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "poddisruptionbudgets",
            "horizontalpodautoscalers",
            "networkpolicies",
        )
    )
    for namespace in (APP_NAMESPACE, MONITORING_NAMESPACE):
        for item in kubectl(
            node, "-n", namespace, "get", kinds, "-l", "app.kubernetes.io/managed-by=sreshow"
        )["items"]:
            meta = item["metadata"]
            found[f"{item['kind']}/{namespace}/{meta['name']}"] = str(
                meta.get("generation") or written_content(item)
            )
    return found


def written_content(item: dict[str, Any]) -> str:
    """A digest of what a client writes to an object: all but its status and the
    metadata the API server keeps itself."""
    kept = {key: value for key, value in item.items() if key != "status"}
    kept["metadata"] = {
        key: value
        for key, value in item["metadata"].items()
        if key not in ("resourceVersion", "managedFields")
    }
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def service_url(node: Node) -> str:
    service = kubectl(node, "-n", APP_NAMESPACE, "get", "service", APP_NAME)
    return f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def app_pods(node: Node) -> list[dict[str, Any]]:
    pods = kubectl(
        node, "-n", APP_NAMESPACE, "get", "pods", "-l", f"app.kubernetes.io/name={APP_NAME}"
    )
    return [p for p in pods["items"] if not p["metadata"].get("deletionTimestamp")]


def test_up_makes_the_deployment_available_with_real_pods_answering_through_the_service(
    stack: KubeStack,
) -> None:
    deployment = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)
    url = service_url(stack.node)

    assert deployment["status"]["availableReplicas"] == deployment["spec"]["replicas"] == 2
    # kube-proxy programs the Service's rules within a second or two of the endpoints.
    wait_until(lambda: answers(f"{url}/ready"), within=10, waiting_for="the Service to answer")
    answered = {httpx.get(f"{url}/", timeout=5).json()["replica"] for _ in range(20)}
    assert answered == {p["metadata"]["name"] for p in app_pods(stack.node)}  # both serve


def test_up_keeps_its_secrets_in_the_cluster_and_never_prints_them(stack: KubeStack) -> None:
    admin = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "secret", "sre-app-admin")
    grafana = kubectl(stack.node, "-n", MONITORING_NAMESPACE, "get", "secret", "grafana-admin")
    token = base64.b64decode(admin["data"]["token"]).decode()
    password = base64.b64decode(grafana["data"]["password"]).decode()

    assert len(token) >= 32
    assert password not in ("", "admin")
    status = stack.sreshow("status", "--json")
    assert status.returncode == 0, status.stderr
    for secret in (token, password):
        assert secret not in status.stdout + status.stderr


def test_up_again_changes_nothing(stack: KubeStack) -> None:
    before = our_objects(stack.node)

    again = stack.sreshow(
        "up", "--platform", "kubernetes", "--image", stack.node.app_image, "--yes"
    )

    assert again.returncode == 0, again.stderr
    assert "already up; nothing changed" in again.stdout
    assert our_objects(stack.node) == before


def test_status_json_tells_the_contract_fields_from_the_cluster(stack: KubeStack) -> None:
    result = stack.sreshow("status", "--json")

    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["platform"] == "kubernetes"
    assert status["time_scale"] == stack.time_scale
    assert {r["name"] for r in status["replicas"]} == {
        p["metadata"]["name"] for p in app_pods(stack.node)
    }
    assert all(set(r) >= {"name", "version", "ready", "faults"} for r in status["replicas"])
    assert set(status["endpoints"]) == {"app", "prometheus", "alertmanager"}


def test_scale_to_zero_and_back(stack: KubeStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(stack.node.kubeconfig))
    with Platforms(Settings(state_dir=stack.state_dir)).current().connect(None) as platform:
        platform.scale(0)
        wait_until(lambda: not app_pods(stack.node), within=60, waiting_for="every pod gone")
        platform.scale(2)
        wait_until(
            lambda: platform.snapshot().ready == 2,
            within=60,
            waiting_for="two ready replicas again",
        )


def test_a_command_on_another_context_refuses_and_touches_nothing(
    stack: KubeStack, tmp_path: Path
) -> None:
    config = yaml.safe_load(stack.node.kubeconfig.read_text())
    context = config["contexts"][0]
    config["contexts"].append({"name": "other", "context": context["context"]})
    config["current-context"] = "other"
    other = tmp_path / "kubeconfig"
    other.write_text(yaml.safe_dump(config))
    before = our_objects(stack.node)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SRESHOW_")}

    result = subprocess.run(
        [sys.executable, "-m", "sreshow", "down"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment | stack.env | {"KUBECONFIG": str(other)},
        check=False,
    )

    assert result.returncode == 2
    assert "current context is other" in result.stderr
    assert our_objects(stack.node) == before


def test_ctrl_c_during_a_rollback_scenario_still_rolls_back(stack: KubeStack) -> None:
    before = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)
    version = before["spec"]["template"]["spec"]["containers"][0]["env"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SRESHOW_")}
    run = subprocess.Popen(
        [sys.executable, "-m", "sreshow", "scenario", "run", "rollback", "--auto"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment | stack.env,
    )
    try:

        def deployed() -> bool:
            now = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)
            return now["spec"]["template"]["spec"]["containers"][0]["env"] != version

        wait_until(deployed, within=120, waiting_for="the scenario to deploy the bad release")
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=180)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()

    assert run.returncode == 130, output
    after = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)
    assert after["spec"]["template"]["spec"]["containers"][0]["env"] == version
    wait_until(
        lambda: (
            kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)["status"].get(
                "availableReplicas"
            )
            == 2
        ),
        within=120,
        waiting_for="the old release available again",
    )


def test_status_watch_reuses_an_answer_for_its_refresh_period(
    stack: KubeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `status --watch` asks every second; on a cluster each answer costs a dozen requests.
    monkeypatch.setenv("KUBECONFIG", str(stack.node.kubeconfig))
    lifecycle = Platforms(Settings(state_dir=stack.state_dir)).current()

    first = lifecycle.status()
    again = lifecycle.status()

    assert again is first
    assert first.platform == "kubernetes"


def test_kill_pods_on_real_pods_the_replica_set_replaces_them_and_the_timeline_tells_it(
    stack: KubeStack, tmp_path: Path
) -> None:
    result = stack.sreshow(
        "scenario", "run", "kill-pods", "--auto", "--report", str(tmp_path), timeout=600
    )

    assert result.returncode == 0, result.stdout[-3000:]
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert (journal["platform"], journal["verdict"]) == ("kubernetes", "passed")
    kinds = [e["kind"] for e in journal["events"]]
    killed = kinds.index("pod_killed")
    assert {"pod_gone", "pod_started", "pod_ready"} <= set(kinds[killed:])


def test_a_fault_set_through_the_pod_proxy_is_seen_by_clients_of_the_service(
    stack: KubeStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(stack.node.kubeconfig))
    url = service_url(stack.node)
    wait_until(lambda: answers(f"{url}/ready"), within=10, waiting_for="the Service to answer")
    with Platforms(Settings(state_dir=stack.state_dir)).current().connect(None) as platform:
        pods = [r.name for r in platform.snapshot().replicas]
        platform.set_faults(pods, FaultPatch(error_rate=1.0))
        try:
            failing = {httpx.get(f"{url}/api/data", timeout=5).status_code for _ in range(10)}
        finally:
            platform.clear_faults(pods)
        healthy = {httpx.get(f"{url}/api/data", timeout=5).status_code for _ in range(10)}

    assert failing == {500}
    assert healthy == {200}


def test_a_bad_release_stalls_and_the_rollback_restores_the_previous_revision_with_its_rto(
    stack: KubeStack, tmp_path: Path
) -> None:
    before = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)

    result = stack.sreshow(
        "scenario", "run", "rollback", "--auto", "--report", str(tmp_path), timeout=600
    )

    assert result.returncode == 0, result.stdout[-3000:]
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert journal["verdict"] == "passed"
    assert journal["metrics"]["rto_s"] is not None
    after = kubectl(stack.node, "-n", APP_NAMESPACE, "get", "deployment", APP_NAME)
    template = ("spec", "template", "spec", "containers")
    assert _dig(after, template)[0]["env"] == _dig(before, template)[0]["env"]


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        obj = obj[key]
    return obj
