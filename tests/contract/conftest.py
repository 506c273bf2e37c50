"""The `platform` fixture of the contract suite: each test runs once per implementation
of the `Platform` port — the in-memory fake (fast tier) and a running local stack at
time scale 0.1 (the integration tier, one stack for the whole suite). Each test starts
from a steady platform and leaves it as it found it: faults cleared, revision and
replica count restored, every replica ready again."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from demo_app.faults import Faults
from sreshow.errors import PlatformError
from sreshow.ports import Platform, Snapshot
from tests.contract.subjects import FakeSubject, KubernetesSubject, LocalSubject, Subject
from tests.integration.localstack import LocalStack, running_stack
from tests.k8s.node import KubeStack, Node
from tests.k8s.node import running_stack as running_kube_stack
from tests.manifests.stack import wait_until

FAKE_TIME_SCALE = 0.01  # its progress deadline (120 s real) becomes 1.2 s
# The first local test also waits for `sreshow up` (at most 90 s) before its own work.
LOCAL_TEST_TIMEOUT_SECONDS = 240
# The first kubernetes test also waits for the node and `sreshow up` on it.
KUBE_TEST_TIMEOUT_SECONDS = 1500


@pytest.fixture(scope="package")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("contract")) as stack:
        yield stack


@pytest.fixture(scope="package")
def kube_stack(k8s_node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeStack]:
    with running_kube_stack(k8s_node, tmp_path_factory.mktemp("contract-k8s")) as stack:
        yield stack


@pytest.fixture(
    params=[
        "fake",
        pytest.param(
            "local",
            marks=[pytest.mark.integration, pytest.mark.timeout(LOCAL_TEST_TIMEOUT_SECONDS)],
        ),
        pytest.param(
            "kubernetes",
            marks=[pytest.mark.k8s, pytest.mark.timeout(KUBE_TEST_TIMEOUT_SECONDS)],
        ),
    ]
)
def subject(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Subject:
    if request.param == "fake":
        return FakeSubject(FAKE_TIME_SCALE)
    if request.param == "kubernetes":
        stack: KubeStack = request.getfixturevalue("kube_stack")
        monkeypatch.setenv("KUBECONFIG", str(stack.node.kubeconfig))
        return KubernetesSubject(stack)
    return LocalSubject(request.getfixturevalue("local_stack"))


def steady(snapshot: Snapshot) -> bool:
    """Every desired replica there and ready, of the current revision, rollout complete."""
    return (
        snapshot.rollout.state == "complete"
        and snapshot.ready == snapshot.desired == len(snapshot.replicas)
        and all(r.revision == snapshot.revision for r in snapshot.replicas)
    )


def wait_for_snapshot(
    platform: Platform, holds: Callable[[Snapshot], bool], *, within: float, waiting_for: str
) -> Snapshot:
    """The first snapshot for which `holds` (AssertionError after `within` s)."""
    seen: list[Snapshot] = []

    def look() -> Snapshot | None:
        seen[:] = [platform.snapshot()]
        return seen[0] if holds(seen[0]) else None

    try:
        found: Snapshot = wait_until(look, within=within, waiting_for=waiting_for, every=0.1)
    except AssertionError as e:
        raise AssertionError(f"{e}; last seen: {seen[-1] if seen else None}") from None
    return found


@pytest.fixture
def platform(subject: Subject) -> Iterator[Platform]:
    """A steady platform; afterwards restored to how it was found."""
    with subject.connect() as platform:
        bounds = subject.bounds(platform)
        first = platform.snapshot()
        within = bounds.rollout(first.desired)
        start = wait_for_snapshot(
            platform, steady, within=within, waiting_for="a steady platform before the test"
        )
        yield platform
        now = platform.snapshot()
        for replica in now.replicas:
            with contextlib.suppress(PlatformError):  # gone: its faults went with it
                platform.clear_faults([replica.name])
        if now.revision != start.revision:
            platform.rollback(start.revision)
        if platform.snapshot().desired != start.desired:
            platform.scale(start.desired)
        wait_for_snapshot(
            platform,
            lambda s: steady(s) and (s.desired, s.revision) == (start.desired, start.revision),
            within=bounds.rollout(start.desired) + bounds.unready,
            waiting_for=f"the platform restored to revision {start.revision}, "
            f"{start.desired} ready replicas",
        )
        left = {r.name: subject.faults(platform, r.name) for r in platform.snapshot().replicas}
        assert left == dict.fromkeys(left, Faults()), f"faults left behind: {left}"
