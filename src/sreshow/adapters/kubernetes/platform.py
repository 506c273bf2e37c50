"""A stack on a cluster as a scenario `Platform` (sreshow.ports): observe it, act on it.

Observations read the watch cache (cache.py): `snapshot()` makes no API request.
Prometheus is read through the API server's service proxy. Actions go to the API:
- faults: each pod's admin API through the API server's pod proxy, with the stack's
  admin token (read from its Secret, never printed) in `X-Forwarded-Authorization`:
  the API server keeps `Authorization` for itself;
- kill: the Eviction API (the disruption budget decides: a 429 is `EvictionRefused`),
  or with `force` a delete without grace, as `kubectl delete --force --grace-period=0`;
- deploy: a strategic-merge patch of the app container's `APP_VERSION`/`APP_BROKEN`;
  rollback: the chosen ReplicaSet's pod template put back, as `kubectl rollout undo`;
  scale: the Deployment's `spec.replicas` (the HPA may change it again, as anywhere).
Each action returns once the cache has seen the Deployment controller take it in, so
the next snapshot already tells it.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from demo_app import FORWARDED_AUTHORIZATION
from demo_app.config import ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE, ENV_BROKEN, ENV_VERSION
from sreshow.adapters.kubernetes import observe
from sreshow.adapters.kubernetes.api import STRATEGIC_MERGE_PATCH, KubeApi, NotFound
from sreshow.adapters.kubernetes.cache import WatchCache, WatchSpec
from sreshow.adapters.kubernetes.proxy import (
    PROXIED_BASE_URL,
    ProxyTransport,
    pod_proxy_path,
    service_proxy_path,
)
from sreshow.adapters.kubernetes.record import StackRecord
from sreshow.adapters.kubernetes.render import (
    ADMIN_SECRET,
    APP_NAME,
    APP_NAMESPACE,
    MONITORING_NAMESPACE,
    SINK_SECRET,
    SINK_SERVICE,
)
from sreshow.adapters.kubernetes.resources import KINDS
from sreshow.adapters.prometheus import PrometheusClient
from sreshow.adapters.sink import PATH_KEY, notifications_from_records
from sreshow.core.notifications import Notification
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import AlertView, FaultPatch, RangeSeries, Snapshot

T = TypeVar("T")
APP_SELECTOR = f"app.kubernetes.io/name={APP_NAME}"
APP_PORT = 8000  # the container's
PROMETHEUS = ("prometheus", 9090)
# The Deployment controller takes a change in within a second on a idle control plane.
ACTION_SECONDS = 30.0
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Each read of Prometheus or of the notification sink is a request to the API server (its
# service proxy): the same read within this long is answered from the last one. A
# scenario that waits reads its alerts and the sink: 20 + 10 = 30 requests a minute, no
# more than `kubectl get` every 2 s. The sink stamps each delivery with its own clock, so
# reading it less often delays only the live view, not the timeline; an alert's change
# is dated when it is read, at most 3 s late.
MONITORING_REFRESH_SECONDS = 3.0
NOTIFICATIONS_REFRESH_SECONDS = 6.0

# What a cluster's own clocks add to a wait whatever the time scale: the HPA sees a change
# of CPU only once metrics-server has scraped the kubelets twice since (every 15 s in
# upstream's manifest; 10 s, its smallest, on the test node) and then at its own next
# sync (every 15 s by default; 5 s on the test node): 2 x 15 + 15 s on a stock cluster.
UNSCALED_WAIT_SECONDS = 45.0

APP_WATCHES = {
    "deployment": WatchSpec(
        "Deployment", APP_NAMESPACE, field_selector=f"metadata.name={APP_NAME}"
    ),
    "replicasets": WatchSpec("ReplicaSet", APP_NAMESPACE, label_selector=APP_SELECTOR),
    "pods": WatchSpec("Pod", APP_NAMESPACE, label_selector=APP_SELECTOR),
    "hpa": WatchSpec(
        "HorizontalPodAutoscaler", APP_NAMESPACE, field_selector=f"metadata.name={APP_NAME}"
    ),
    "hpa-events": WatchSpec(
        "Event",
        APP_NAMESPACE,
        field_selector=f"involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name={APP_NAME}",
    ),
}


class AppView:
    """The app's objects in the watch cache, read as sreshow's types."""

    def __init__(self, cache: WatchCache) -> None:
        self.cache = cache

    def deployment(self) -> dict[str, Any]:
        found = self.cache.objects("deployment")
        if not found:
            raise PlatformError(
                f"Deployment {APP_NAMESPACE}/{APP_NAME} is gone from the cluster; "
                "see `sreshow status`, or bring the stack up again"
            )
        return found[0]

    def snapshot(self) -> Snapshot:
        hpa = self.cache.objects("hpa")
        return observe.snapshot(
            self.deployment(),
            self.cache.objects("replicasets"),
            self.cache.objects("pods"),
            hpa[0] if hpa else None,
            self.cache.objects("hpa-events"),
        )

    def live_pod_names(self) -> set[str]:
        return {
            p["metadata"]["name"]
            for p in observe.live_pods(
                self.deployment(), self.cache.objects("replicasets"), self.cache.objects("pods")
            )
        }

    def taken_in(self, generation: int) -> observe.Obj | None:
        """The Deployment once its controller observed `generation` and made its ReplicaSet."""
        deployment = self.deployment()
        status = deployment.get("status") or {}
        if int(status.get("observedGeneration", 0)) < generation:
            return None
        return observe.current_replica_set(deployment, self.cache.objects("replicasets"))


class Throttle:
    """The last answer of each read, reused for `seconds` (MONITORING_REFRESH_SECONDS)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._answers: dict[str, tuple[float, Any]] = {}

    def read(self, key: str, fetch: Callable[[], T]) -> T:
        now = time.monotonic()
        cached = self._answers.get(key)
        if cached is not None and now - cached[0] < self._seconds:
            answer: T = cached[1]
            return answer
        fresh = fetch()
        self._answers[key] = (now, fresh)
        return fresh


class KubernetesPlatform:
    """A running stack on the cluster `api` connects to; see the module doc."""

    name = "kubernetes"
    unscaled_wait_seconds = UNSCALED_WAIT_SECONDS

    def __init__(self, api: KubeApi, record: StackRecord, admin_token: str | None) -> None:
        self.time_scale = record.time_scale
        self._api = api
        self._token = read_admin_token(api)
        if admin_token is not None and not secrets.compare_digest(admin_token, self._token):
            api.close()
            raise UsageError(
                f"{ENV_ADMIN_TOKEN} (or {ENV_ADMIN_TOKEN_FILE}) is not the token the stack on "
                f"{record.context} was brought up with; unset it, or bring the stack up again "
                "with it (`sreshow down`, then `sreshow up`)"
            )
        self.app_url = app_url(api)
        self._cache = WatchCache(api, APP_WATCHES)
        self._view = AppView(self._cache)
        self._prometheus = PrometheusClient(
            PROXIED_BASE_URL,
            timeout=10.0,
            transport=ProxyTransport(api, service_proxy_path(MONITORING_NAMESPACE, *PROMETHEUS)),
        )
        self._monitoring = Throttle(MONITORING_REFRESH_SECONDS)
        self._sink = Throttle(NOTIFICATIONS_REFRESH_SECONDS)
        self._sink_path: str | None = None
        self.closed = False
        try:
            self._cache.start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._cache.stop()
        self._prometheus.close()
        self._api.close()

    def __enter__(self) -> KubernetesPlatform:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- observations -----------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return self._view.snapshot()

    def alerts(self) -> list[AlertView]:
        rules = self._monitoring.read("alerts", self._prometheus.alert_rules)
        return [AlertView(rule.name, rule.state) for rule in rules]

    def notifications(self) -> list[Notification]:
        """Those delivered: the notification sink's records (adapters/sink.py), read at
        its secret path through the service proxy."""
        return self._sink.read("notifications", self._delivered)

    def _delivered(self) -> list[Notification]:
        if self._sink_path is None:
            self._sink_path = read_secret(api=self._api, name=SINK_SECRET, key=PATH_KEY)
        return [n for n in sink_notifications(self._api, self._sink_path) if n.delivered]

    def query(self, expr: str) -> float | None:
        return self._monitoring.read(f"query {expr}", lambda: self._prometheus.scalar(expr))

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[RangeSeries]:
        return self._prometheus.query_range(expr, start, end, step)

    # --- actions ----------------------------------------------------------------------

    def set_faults(self, pods: Sequence[str], patch: FaultPatch) -> None:
        for pod in pods:
            self._admin("PATCH", pod, patch.model_dump(exclude_none=True))

    def clear_faults(self, pods: Sequence[str]) -> None:
        for pod in pods:
            self._admin("DELETE", pod, None)

    def kill(self, pod: str, *, force: bool) -> None:
        self._require_replica(pod, "kill")
        path = KINDS["Pod"].path(pod, APP_NAMESPACE)
        try:
            if force:
                self._api.send("DELETE", path, {"gracePeriodSeconds": 0})
            else:
                self._api.send(
                    "POST",
                    f"{path}/eviction",
                    {
                        "apiVersion": "policy/v1",
                        "kind": "Eviction",
                        "metadata": {"name": pod, "namespace": APP_NAMESPACE},
                    },
                )
        except NotFound as e:
            raise PlatformError(f"replica {pod} is gone already; nothing to kill") from e
        self._cache.wait(
            lambda: True if pod not in self._view.live_pod_names() else None,
            within=ACTION_SECONDS,
            waiting_for=f"{pod} to terminate",
        )

    def deploy(self, version: str, broken: str | None) -> int:
        broken_env: dict[str, Any] = (
            {"name": ENV_BROKEN, "value": broken}
            if broken
            else {"name": ENV_BROKEN, "$patch": "delete"}
        )
        patch = {
            "metadata": {"annotations": {CHANGE_CAUSE: f"sreshow: deploy {version}"}},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": APP_NAME,
                                "env": [{"name": ENV_VERSION, "value": version}, broken_env],
                            }
                        ]
                    }
                }
            },
        }
        answer = self._api.send(
            "PATCH", self._deployment_path, patch, content_type=STRATEGIC_MERGE_PATCH
        )
        return self._rolled_out(answer, f"the rollout of {version}")

    def rollback(self, revision: int | None) -> int:
        deployment = self._view.deployment()
        replica_sets = observe.owned_by(deployment, self._cache.objects("replicasets"))
        target = rollback_target(deployment, replica_sets, revision)
        template = target["spec"]["template"]
        labels = {k: v for k, v in template["metadata"].get("labels", {}).items()}
        labels.pop(observe.TEMPLATE_HASH, None)
        template = template | {"metadata": template["metadata"] | {"labels": labels}}
        answer = self._api.send(
            "PATCH",
            self._deployment_path,
            [{"op": "replace", "path": "/spec/template", "value": template}],
            content_type="application/json-patch+json",
        )
        return self._rolled_out(
            answer, f"the rollback to revision {observe.first_revision(target)}"
        )

    def scale(self, replicas: int) -> None:
        answer = self._api.send(
            "PATCH",
            self._deployment_path,
            {"spec": {"replicas": replicas}},
            content_type="application/merge-patch+json",
        )
        generation = int(answer["metadata"]["generation"])
        self._cache.wait(
            lambda: (
                True
                if int(self._view.deployment()["metadata"].get("generation", 0)) >= generation
                else None
            ),
            within=ACTION_SECONDS,
            waiting_for=f"the scale to {replicas} replicas",
        )

    # --- helpers ----------------------------------------------------------------------

    @property
    def _deployment_path(self) -> str:
        return KINDS["Deployment"].path(APP_NAME, APP_NAMESPACE)

    def _rolled_out(self, answer: dict[str, Any], what: str) -> int:
        """The revision number of the ReplicaSet the Deployment controller rolls out
        after the change `answer` acknowledged."""
        generation = int(answer["metadata"]["generation"])
        current = self._cache.wait(
            lambda: self._view.taken_in(generation),
            within=ACTION_SECONDS,
            waiting_for=f"the Deployment controller to start {what}",
        )
        return observe.first_revision(current)

    def _require_replica(self, pod: str, action: str) -> None:
        if pod not in self._view.live_pod_names():
            raise PlatformError(
                f"replica {pod} does not exist (replicas: "
                f"{', '.join(sorted(self._view.live_pod_names())) or 'none'}); cannot {action} it"
            )

    def _admin(self, method: str, pod: str, body: dict[str, Any] | None) -> None:
        self._require_replica(pod, "set faults on")
        path = pod_proxy_path(APP_NAMESPACE, pod, APP_PORT) + "/admin/faults"
        # The API server removes `Authorization` (module doc of demo_app.admin).
        status, answer = self._api.proxy(
            method, path, body, headers={FORWARDED_AUTHORIZATION: f"Bearer {self._token}"}
        )
        if status != 200:
            raise PlatformError(
                f"replica {pod} refused {method} /admin/faults with {status}: "
                f"{answer[:200].decode('utf-8', errors='replace')}"
            )


def rollback_target(
    deployment: observe.Obj, replica_sets: Sequence[observe.Obj], revision: int | None
) -> observe.Obj:
    """The ReplicaSet a rollback to `revision` brings back: as `kubectl rollout undo`,
    the one rolled out before the current one when None; PlatformError if there is none."""
    current = observe.k8s_revision(deployment)
    if revision is None:
        earlier = [rs for rs in replica_sets if observe.k8s_revision(rs) < current]
        if not earlier:
            raise PlatformError("there is no earlier revision to roll back to")
        return max(earlier, key=observe.k8s_revision)
    found = next((rs for rs in replica_sets if observe.first_revision(rs) == revision), None)
    if found is None:
        known = ", ".join(str(n) for n in sorted(observe.first_revision(rs) for rs in replica_sets))
        raise PlatformError(f"there is no revision {revision} to roll back to (revisions: {known})")
    return found


def sink_notifications(api: KubeApi, sink_path: str | None = None) -> list[Notification]:
    """What the notification sink received (adapters/sink.py), oldest first, read at its
    secret path (from its Secret when not given) through the service proxy."""
    path = sink_path or read_secret(api=api, name=SINK_SECRET, key=PATH_KEY)
    status, answer = api.proxy(
        "GET", service_proxy_path(MONITORING_NAMESPACE, *SINK_SERVICE) + path
    )
    if status != 200:
        raise PlatformError(
            f"the notification sink answered {status} (`kubectl -n {MONITORING_NAMESPACE} "
            "get pods` shows it); its deliveries cannot be read"
        )
    try:
        records = json.loads(answer)["notifications"]
    except (ValueError, KeyError, TypeError) as e:
        raise PlatformError(
            "the notification sink answered something other than its records"
        ) from e
    return notifications_from_records(records)


def read_admin_token(api: KubeApi) -> str:
    """The stack's admin token, from its Secret."""
    return read_secret(api=api, name=ADMIN_SECRET, key="token", namespace=APP_NAMESPACE)


def read_secret(*, api: KubeApi, name: str, key: str, namespace: str = MONITORING_NAMESPACE) -> str:
    """One value of one of the stack's Secrets (never printed)."""
    try:
        secret = api.get(KINDS["Secret"].path(name, namespace))
    except NotFound as e:
        raise PlatformError(
            f"Secret {namespace}/{name} is missing: the stack is not whole; run `sreshow up` again"
        ) from e
    value = (secret.get("data") or {}).get(key)
    if not value:
        raise PlatformError(
            f"Secret {namespace}/{name} has no {key}: the stack is not whole; "
            "run `sreshow up` again"
        )
    return base64.b64decode(value).decode("utf-8").strip()


def app_url(api: KubeApi) -> str:
    """The app's Service as this machine reaches it: its cluster IP (a node of the
    cluster routes to it, as the test node does)."""
    service = api.get(KINDS["Service"].path(APP_NAME, APP_NAMESPACE))
    port = service["spec"]["ports"][0]["port"]
    return f"http://{service['spec']['clusterIP']}:{port}"
