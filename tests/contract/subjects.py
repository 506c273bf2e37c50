"""The implementations of the `Platform` port the contract suite runs against.

Each `Subject` connects a platform and answers what the suite cannot ask through the
port itself: the faults the app in a replica holds, whether a closed platform let go of
its clients, and how long the things the suite waits for may take there (every bound
derived from the platform's time scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import httpx

from demo_app.faults import Faults
from sreshow.adapters.kubernetes.platform import KubernetesPlatform, read_admin_token
from sreshow.adapters.kubernetes.render import APP_NAME, render
from sreshow.adapters.local.deployment import pod_settings
from sreshow.adapters.local.platform import LocalPlatform
from sreshow.platforms import Platforms
from sreshow.ports import Platform
from sreshow.settings import Settings
from tests.integration.localstack import LocalStack
from tests.k8s.node import KubeStack
from tests.unit.fakes import FakePlatform

# A replica of the local stack is a Python process: starting it (imports, uvicorn) takes
# real time whatever the time scale, a few seconds on a busy two-core machine (the bound
# tests/integration/test_local_stack.py gives a replacement).
LOCAL_REPLICA_START_SECONDS = 15.0
# The supervisor acts once per loop (0.25 s) and the suite polls; also on a busy machine.
LOCAL_SLACK_SECONDS = 3.0
FAKE_SLACK_SECONDS = 0.5
ALLOWED_HOST = "127.0.0.1"  # the suite sends traffic nowhere else (and on the node: below)
# A pod on the test node: the kubelet starts the app's container from an image already on
# the node (Python imports and uvicorn: seconds, more on a busy two-core machine), then
# its readiness probe passes and the Deployment controller counts it.
KUBE_POD_START_SECONDS = 20.0
# The kubelet, the endpoints and Deployment controllers each act within a second or two
# of a change; the Deployment controller checks a progress deadline when it comes due.
KUBE_SLACK_SECONDS = 5.0


@dataclass(frozen=True)
class Bounds:
    """How long (s) what the suite waits for may take on one platform."""

    ready: float  # a replica started now is ready
    unready: float  # a replica given the unready fault is seen not ready
    stalled: float  # a rollout that can make no progress is stalled

    def rollout(self, replicas: int) -> float:
        """A rolling update of `replicas` (one surge replica at a time) is complete."""
        return max(replicas, 1) * self.ready


class Subject(Protocol):
    name: str

    def connect(self) -> Platform:
        """The platform as a scenario gets it."""
        ...

    def faults(self, platform: Platform, pod: str) -> Faults:
        """The faults the app in replica `pod` holds now."""
        ...

    def closed(self, platform: Platform) -> bool:
        """Whether `platform` released what it opened."""
        ...

    def bounds(self, platform: Platform) -> Bounds: ...


class FakeSubject:
    """The in-memory fake: one per test; `connect()` hands out that one."""

    name = "fake"

    def __init__(self, time_scale: float) -> None:
        self.platform = FakePlatform(time_scale=time_scale, start_seconds=0.1)

    def connect(self) -> Platform:
        return self.platform

    def faults(self, platform: Platform, pod: str) -> Faults:
        return cast(FakePlatform, platform).faults.get(pod, Faults())

    def closed(self, platform: Platform) -> bool:
        return cast(FakePlatform, platform).closed

    def bounds(self, platform: Platform) -> Bounds:
        fake = cast(FakePlatform, platform)
        return Bounds(
            ready=fake.start_seconds + FAKE_SLACK_SECONDS,
            unready=FAKE_SLACK_SECONDS,  # the fake applies faults at once
            stalled=fake.progress_deadline + FAKE_SLACK_SECONDS,
        )


class LocalSubject:
    """A running local stack, connected through the platform registry as the CLI does;
    faults read from each replica's admin API."""

    name = "local"

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def connect(self) -> Platform:
        return Platforms(Settings(state_dir=self.stack.state_dir)).current().connect(None)

    def faults(self, platform: Platform, pod: str) -> Faults:
        del platform  # asked of the app itself, not through the port
        urls = {r["name"]: r["url"] for r in self.stack.state()["replicas"]}
        url = urls[pod]
        assert httpx.URL(url).host == ALLOWED_HOST, url
        token = (self.stack.root / "admin-token").read_text(encoding="utf-8").strip()
        answer = self.stack.http.get(
            f"{url}/admin/faults", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        return Faults.model_validate(answer.json())

    def closed(self, platform: Platform) -> bool:
        local = cast(LocalPlatform, platform)
        return all(client.is_closed for client in (local._http, local._prometheus._client))

    def bounds(self, platform: Platform) -> Bounds:
        pod = pod_settings(platform.time_scale)
        readiness = pod.readiness
        return Bounds(
            ready=LOCAL_REPLICA_START_SECONDS + readiness.initial_delay + readiness.period,
            unready=readiness.failing_for + readiness.period + LOCAL_SLACK_SECONDS,
            stalled=pod.progress_deadline + readiness.period + LOCAL_SLACK_SECONDS,
        )


class KubernetesSubject:
    """A stack on the test node, connected through the platform registry as the CLI
    does; faults read from each pod's admin API on its pod IP (an address of the
    network namespaces the node made on this machine), not through the platform."""

    name = "kubernetes"

    def __init__(self, stack: KubeStack) -> None:
        self.stack = stack

    def connect(self) -> Platform:
        settings = Settings(state_dir=self.stack.state_dir)
        return Platforms(settings).current().connect(None)

    def faults(self, platform: Platform, pod: str) -> Faults:
        kube = cast(KubernetesPlatform, platform)
        ip = kube._cache.objects("pods")
        address = next(p["status"]["podIP"] for p in ip if p["metadata"]["name"] == pod)
        token = read_admin_token(kube._api)
        answer = httpx.get(
            f"http://{address}:8000/admin/faults",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        return Faults.model_validate(answer.json())

    def closed(self, platform: Platform) -> bool:
        return cast(KubernetesPlatform, platform).closed

    def bounds(self, platform: Platform) -> Bounds:
        deployment = render(platform.time_scale).find("Deployment", APP_NAME)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        readiness = container["readinessProbe"]
        period = float(readiness["periodSeconds"])
        return Bounds(
            ready=KUBE_POD_START_SECONDS + period + KUBE_SLACK_SECONDS,
            unready=readiness.get("failureThreshold", 3) * period + period + KUBE_SLACK_SECONDS,
            stalled=deployment["spec"]["progressDeadlineSeconds"] + period + KUBE_SLACK_SECONDS,
        )
