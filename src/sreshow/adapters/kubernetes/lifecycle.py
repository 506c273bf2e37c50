"""The `kubernetes` platform's lifecycle: `sreshow up`, `status` and `down` on a cluster.

`up` resolves the context (`--context`, else the kubeconfig's current one), refuses one
whose name looks like production unless allowed, says which cluster, context and
namespaces it will change and asks (unless `--yes`) before the first change; then it
records the context with the stack, makes the Secrets that are missing (the admin
token, Grafana's admin password — never admin/admin —, the notification sink's secret
path and the user's Slack webhook when given, and Alertmanager's webhook URL: the
sink's), applies the rendered manifests server-side as field
manager `sreshow`, prunes what it labelled once and no longer renders, and waits on
the watch cache until the app and the monitoring it needs are ready.
`down` deletes the namespaces and cluster-scoped objects sreshow made and waits until
they are gone; safe twice.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sreshow.adapters.kubernetes import observe
from sreshow.adapters.kubernetes.api import ClusterTarget, KubeApi, NotFound
from sreshow.adapters.kubernetes.cache import WatchCache, WatchSpec
from sreshow.adapters.kubernetes.platform import (
    APP_WATCHES,
    PROMETHEUS,
    AppView,
    KubernetesPlatform,
    app_url,
    sink_notifications,
)
from sreshow.adapters.kubernetes.proxy import PROXIED_BASE_URL, ProxyTransport, service_proxy_path
from sreshow.adapters.kubernetes.record import (
    RecordFile,
    StackRecord,
    connect_recorded,
    looks_like_production,
)
from sreshow.adapters.kubernetes.render import (
    ADMIN_SECRET,
    APP_NAME,
    APP_NAMESPACE,
    GRAFANA_SECRET,
    MONITORING_NAMESPACE,
    SINK_SECRET,
    SINK_SERVICE,
    SLACK_SECRET,
    render,
)
from sreshow.adapters.kubernetes.resources import (
    APPLY_ORDER,
    KINDS,
    MANAGED_BY,
    MANAGED_BY_LABEL,
)
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.adapters.prometheus import PrometheusClient
from sreshow.adapters.sink import PATH_KEY, RELAY_KEY, webhook_path
from sreshow.adapters.stack_metrics import with_prometheus
from sreshow.adapters.startup import POD_JOB, unscraped, unsettled_rules
from sreshow.core.revisions import RolloutState
from sreshow.core.terraform_ui import ApplyProgress
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import Platform, UpOptions, UpPreview, UpResult
from sreshow.settings import Settings
from sreshow.stack_status import ReplicaStatus, StackStatus

NAMESPACES = (APP_NAMESPACE, MONITORING_NAMESPACE)
# What a scenario needs ready before it starts: the app, what detects (Prometheus, the
# blackbox probes) and what notifies (Alertmanager, the sink). Grafana only draws (it is
# shown, not waited for: a cluster without its image still runs the show).
AWAITED = (
    (APP_NAMESPACE, APP_NAME),
    (MONITORING_NAMESPACE, "prometheus"),
    (MONITORING_NAMESPACE, "blackbox-exporter"),
    (MONITORING_NAMESPACE, "alertmanager"),
    (MONITORING_NAMESPACE, SINK_SERVICE[0]),
)
# Images are pulled on a real cluster: minutes on a slow link, whatever the time scale.
UP_TIMEOUT_SECONDS = 300.0
DOWN_TIMEOUT_SECONDS = 120.0
NAMESPACE_POLL_SECONDS = 1.0  # `down` waits for the namespaces to go: an action, seconds
MANAGED = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
UP_WATCHES = APP_WATCHES | {
    "monitoring": WatchSpec("Deployment", MONITORING_NAMESPACE, label_selector=MANAGED),
    "monitoring-pods": WatchSpec("Pod", MONITORING_NAMESPACE),
}
# Prometheus discovers new pods within seconds (its discovery hands changes on every 5 s),
# scrapes and evaluates at the stack's scaled intervals: a minute is plenty at any scale.
SETTLE_SECONDS = 60.0
SETTLE_POLL_SECONDS = 1.0
STATUS_REFRESH_SECONDS = 5.0
GRAFANA_PASSWORD_BYTES = 24
ADMIN_TOKEN_BYTES = 32


class KubernetesLifecycle:
    """The stack on the cluster of one kubeconfig context; see the module doc."""

    name = "kubernetes"

    def __init__(
        self,
        settings: Settings,
        *,
        kubeconfig: Path | None = None,
        placeholders: Mapping[str, str] | None = None,
    ) -> None:
        """`kubeconfig`: a platform's own (eks'), else the user's; `placeholders`: the
        values `render` puts into an overlay's placeholders (eks': Terraform's outputs)."""
        self._context = settings.kube_context
        self._kubeconfig = kubeconfig
        self._placeholders = placeholders
        self._records = RecordFile(settings.state_dir)
        self._last_status: tuple[float, StackStatus] | None = None  # (monotonic, status)

    # --- the port -------------------------------------------------------------------

    def preview(self, options: UpOptions) -> UpPreview:
        """The objects `up` would apply, rendered here: no cluster is contacted."""
        _validate(options)
        rendered = render(
            options.time_scale,
            image=options.image,
            manifests_dir=options.manifests or MANIFESTS_DIR,
        )
        kinds: dict[str, list[str]] = {}
        for obj in rendered.objects:
            namespace = obj["metadata"].get("namespace")
            name = obj["metadata"]["name"]
            kinds.setdefault(obj["kind"], []).append(f"{namespace}/{name}" if namespace else name)
        context = self._context or "the kubeconfig's current context"
        return UpPreview(
            where=f"kubernetes: {context}, namespaces {', '.join(NAMESPACES)}",
            items=tuple((kind, ", ".join(names)) for kind, names in kinds.items()),
            notes=("and the Secrets: the admin token, Grafana's password, the sink's path",),
        )

    def up(self, options: UpOptions, progress: Callable[[StackStatus], None]) -> UpResult:
        record = self._records.read()
        if record is not None:
            api = connect_recorded(record, self._context, self._records.path)
            try:
                if _deployment(api) is not None:
                    return UpResult(self._status(api, record), already_running=True)
            finally:
                api.close()
        _validate(options)
        api = KubeApi.connect(self._context, self._kubeconfig)
        try:
            self._check_target(api.target, options)
            rendered = render(
                options.time_scale,
                image=options.image,
                manifests_dir=options.manifests or MANIFESTS_DIR,
                placeholders=self._placeholders,
            )
            record = StackRecord(
                context=api.target.context,
                cluster=api.target.cluster,
                server=api.target.server,
                time_scale=options.time_scale,
                image=options.image,
                brought_up_at=time.time(),
                kubeconfig=None if self._kubeconfig is None else str(self._kubeconfig),
            )
            # The Secrets first: the app's pods mount theirs.
            objects = sorted(
                [*rendered.objects, *_secrets(api, options)],
                key=lambda o: APPLY_ORDER.index(o["kind"]),
            )
            self._records.write(record)  # before the first change: `down` can clean up
            self._apply(api, objects, options)
            _prune(api, objects)
            pods = self._await_ready(api, record, progress)
            note = _await_prometheus(api, pods)
            status = self._status(api, record)
            if note:
                components = dict(status.components) | {"prometheus": f"ready ({note})"}
                status = replace(status, components=components)
            return UpResult(status, already_running=False)
        finally:
            api.close()

    def is_up(self) -> bool:
        return self._records.read() is not None

    def _apply(self, api: KubeApi, objects: list[dict[str, Any]], options: UpOptions) -> None:
        """Apply `objects` in order; when the first is refused, nothing changed: the
        record goes too, so a failed `up` leaves nothing to clean up."""
        for applied, obj in enumerate(objects):
            if obj["kind"] == "Deployment" and obj["metadata"]["name"] == APP_NAME:
                obj["spec"]["replicas"] = options.replicas
            try:
                api.apply(obj)
            except BaseException:
                if applied == 0:
                    self._records.remove()
                raise

    def status(self) -> StackStatus:
        """The stack now; asked again within `STATUS_REFRESH_SECONDS` (`status --watch`),
        the last answer: each costs the API server about a dozen requests."""
        if self._last_status is not None:
            at, last = self._last_status
            if time.monotonic() - at < STATUS_REFRESH_SECONDS:
                return last
        record = self._require_record()
        api = connect_recorded(record, self._context, self._records.path)
        try:
            status = self._status(api, record)
        finally:
            api.close()
        self._last_status = (time.monotonic(), status)
        return status

    def down(
        self,
        *,
        confirm: Callable[[str], bool] | None = None,
        progress: Callable[[ApplyProgress], None] | None = None,
    ) -> str:
        del confirm, progress  # nothing here costs money; deleting is what was asked
        record = self._records.read()
        if record is None:
            return "No kubernetes stack is recorded here; nothing to delete."
        api = connect_recorded(record, self._context, self._records.path)
        try:
            outside = _delete_everything(api)
        finally:
            api.close()
        self._records.remove()
        return (
            f"Deleted the stack from context {record.context}: namespaces "
            f"{' and '.join(NAMESPACES)} and {outside} objects outside them are gone."
        )

    def connect(self, admin_token: str | None) -> Platform:
        record = self._require_record()
        api = connect_recorded(record, self._context, self._records.path)
        try:
            return KubernetesPlatform(api, record, admin_token)
        except BaseException:
            api.close()
            raise

    # --- helpers ----------------------------------------------------------------------

    def _require_record(self) -> StackRecord:
        record = self._records.read()
        if record is None:
            raise PlatformError(
                "no kubernetes stack is up (no record in "
                f"{self._records.path.parent}); start one with `sreshow up --platform kubernetes`"
            )
        return record

    def _check_target(self, target: ClusterTarget, options: UpOptions) -> None:
        """Refuse a production-like context without the flag; ask before changing."""
        if looks_like_production(target) and not options.allow_production:
            raise UsageError(
                f"{target.describe()} looks like production; sreshow breaks things on "
                "purpose. Pick a test cluster, or pass --allow-production if you mean it"
            )
        question = (
            f"sreshow will change {target.describe()}: namespaces {', '.join(NAMESPACES)} "
            "and the cluster-wide RBAC objects of its Prometheus. Go on?"
        )
        if options.confirm is not None and not options.confirm(question):
            raise UsageError("nothing was changed: not confirmed (pass --yes to skip the question)")

    def _await_ready(
        self, api: KubeApi, record: StackRecord, progress: Callable[[StackStatus], None]
    ) -> list[str]:
        """Wait until the app's rollout is complete and Prometheus available; the app's
        pods then."""
        cache = WatchCache(api, UP_WATCHES)
        cache.start()
        view = AppView(cache)
        try:

            def ready() -> bool | None:
                status = _cached_status(view, cache, record)
                progress(status)
                snapshot = view.snapshot()
                app_done = (
                    snapshot.rollout.state == RolloutState.COMPLETE
                    and snapshot.ready == snapshot.desired
                )
                monitoring = {d["metadata"]["name"]: d for d in cache.objects("monitoring")}
                others = all(
                    _available(monitoring.get(name))
                    for namespace, name in AWAITED
                    if namespace == MONITORING_NAMESPACE
                )
                return True if app_done and others else None

            try:
                cache.wait(ready, within=UP_TIMEOUT_SECONDS, waiting_for="the app and Prometheus")
                return [r.name for r in view.snapshot().replicas]
            except PlatformError as e:
                states = _cached_status(view, cache, record).components
                waiting = "; ".join(
                    f"{name}: {state}"
                    for name, state in states.items()
                    if not re.fullmatch(r"ready (\d+)/\1", state)
                )
                raise PlatformError(
                    f"{e} ({waiting}); what was applied stays for a look (`sreshow status`, "
                    "kubectl); `sreshow down` removes it"
                ) from None
        finally:
            cache.stop()

    def _status(self, api: KubeApi, record: StackRecord) -> StackStatus:
        cache = WatchCache(api, UP_WATCHES)
        cache.load()  # one list of each, no watch: a status is a moment
        status = _cached_status(AppView(cache), cache, record)
        status = replace(status, endpoints={"app": app_url(api)} | dict(status.endpoints))
        with contextlib.suppress(PlatformError):  # a status without them still tells a lot
            status = replace(status, notifications=tuple(sink_notifications(api)[-5:]))
        prometheus = _prometheus_client(api, timeout=5.0)
        try:
            return with_prometheus(status, prometheus)
        finally:
            prometheus.close()


def _await_prometheus(api: KubeApi, pods: list[str]) -> str:
    """Wait until Prometheus has seen the new stack as it is (adapters/startup.py): every
    pod scraped, then every rule group evaluated with no alert active. The blackbox
    probes are not waited for: a pod not probed yet can start no alert. After
    `SETTLE_SECONDS`, goes on; what Prometheus still shows then ('' when nothing)."""
    client = _prometheus_client(api, timeout=2.0)
    deadline = time.monotonic() + SETTLE_SECONDS
    scraped_at: float | None = None
    waiting = ""
    try:
        while time.monotonic() < deadline:
            try:
                waiting = unscraped(client, pods, jobs=(POD_JOB,))
                if not waiting and scraped_at is None:
                    scraped_at = time.time()
                if scraped_at is not None:
                    waiting = unsettled_rules(client, scraped_at)
            except PlatformError as e:
                waiting = str(e)
            if not waiting:
                return ""
            time.sleep(SETTLE_POLL_SECONDS)
    finally:
        client.close()
    return f"still waiting for {waiting}"


def _prometheus_client(api: KubeApi, *, timeout: float) -> PrometheusClient:
    """The stack's Prometheus, through the API server's service proxy."""
    return PrometheusClient(
        PROXIED_BASE_URL,
        timeout=timeout,
        transport=ProxyTransport(api, service_proxy_path(MONITORING_NAMESPACE, *PROMETHEUS)),
    )


def _validate(options: UpOptions) -> None:
    options.check()
    if options.manifests is not None and not (options.manifests / "kustomization.yaml").is_file():
        raise UsageError(
            f"--manifests {options.manifests}: no kustomization.yaml there; give a folder "
            "such as manifests/ or manifests/overlays/node"
        )
    if options.port is not None:
        raise UsageError(
            "--port is for the local platform; on a cluster the app is its Service "
            "(leave --port out)"
        )


def _cached_status(view: AppView, cache: WatchCache, record: StackRecord) -> StackStatus:
    """What the cache says: replicas, rollout, autoscaler, each component's state."""
    snapshot = view.snapshot()
    deployment = view.deployment()
    pods = {p["metadata"]["name"]: p for p in cache.objects("pods")}
    components = {APP_NAME: _component_state(deployment, list(pods.values()))}
    monitoring_pods = cache.objects("monitoring-pods")
    for monitoring in cache.objects("monitoring"):
        name = monitoring["metadata"]["name"]
        components[name] = _component_state(monitoring, monitoring_pods)
    return StackStatus(
        platform="kubernetes",
        time_scale=record.time_scale,
        endpoints={
            "prometheus": service_proxy_path(MONITORING_NAMESPACE, *PROMETHEUS),
            "alertmanager": service_proxy_path(MONITORING_NAMESPACE, "alertmanager", 9093),
        },
        desired_replicas=snapshot.desired,
        revision=snapshot.revision,
        version=observe.pod_version(deployment["spec"]["template"]),
        rollout=snapshot.rollout,
        replicas=tuple(
            ReplicaStatus(
                name=r.name,
                version=r.version,
                ready=r.ready,
                restarts=r.restarts,
                extra={
                    "node": pods[r.name]["spec"].get("nodeName"),
                    "ip": (pods[r.name].get("status") or {}).get("podIP"),
                },
            )
            for r in snapshot.replicas
        ),
        components=components,
        autoscaler=snapshot.autoscaler,
        state_location=f"context {record.context} ({record.server})",
        problems=tuple(f"watch {n}: {e}" for n, e in cache.errors().items()),
    )


def _component_state(deployment: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> str:
    """ "ready 2/2", or why not: the waiting reason of one of its containers."""
    status = deployment.get("status") or {}
    want = int(deployment["spec"].get("replicas", 1))
    ready = int(status.get("readyReplicas", 0))
    if ready >= want:
        return f"ready {ready}/{want}"
    selector = deployment["spec"]["selector"].get("matchLabels") or {}
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            continue
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (container.get("state") or {}).get("waiting")
            if waiting:
                why = str(waiting.get("message", ""))[:120]
                return f"ready {ready}/{want}: {waiting.get('reason')} ({why})"
    return f"ready {ready}/{want}"


def _available(deployment: Mapping[str, Any] | None) -> bool:
    if deployment is None:
        return False
    want = int(deployment["spec"].get("replicas", 1))
    return int((deployment.get("status") or {}).get("availableReplicas", 0)) >= want


def _deployment(api: KubeApi) -> dict[str, Any] | None:
    try:
        return api.get(KINDS["Deployment"].path(APP_NAME, APP_NAMESPACE))
    except NotFound:
        return None


def _secrets(api: KubeApi, options: UpOptions) -> list[dict[str, Any]]:
    """The Secrets the stack needs: the user's values, else those already there, else
    generated. Their values never leave the cluster and this process."""
    admin = options.admin_token or _existing(api, APP_NAMESPACE, ADMIN_SECRET, "token")
    grafana = _existing(api, MONITORING_NAMESPACE, GRAFANA_SECRET, "password")
    made = [
        _secret(
            APP_NAMESPACE, ADMIN_SECRET, {"token": admin or secrets.token_hex(ADMIN_TOKEN_BYTES)}
        ),
        _secret(
            MONITORING_NAMESPACE,
            GRAFANA_SECRET,
            {"password": grafana or secrets.token_urlsafe(GRAFANA_PASSWORD_BYTES)},
        ),
    ]
    path = _existing(api, MONITORING_NAMESPACE, SINK_SECRET, PATH_KEY) or webhook_path()
    sink = {PATH_KEY: path} | (
        {RELAY_KEY: options.slack_webhook_url} if options.slack_webhook_url else {}
    )
    name, port = SINK_SERVICE
    sink_url = f"http://{name}.{MONITORING_NAMESPACE}.svc:{port}{path}"
    return [
        *made,
        _secret(MONITORING_NAMESPACE, SINK_SECRET, sink),
        _secret(MONITORING_NAMESPACE, SLACK_SECRET, {"webhook-url": sink_url}),
    ]


def _existing(api: KubeApi, namespace: str, name: str, key: str) -> str | None:
    try:
        secret = api.get(KINDS["Secret"].path(name, namespace))
    except NotFound:
        return None
    value = (secret.get("data") or {}).get(key)
    return base64.b64decode(value).decode("utf-8") if value else None


def _secret(namespace: str, name: str, values: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY},
        },
        "type": "Opaque",
        "data": {
            key: base64.b64encode(value.encode("utf-8")).decode("ascii")
            for key, value in values.items()
        },
    }


def _prune(api: KubeApi, applied: Iterable[Mapping[str, Any]]) -> int:
    """Delete the objects labelled as sreshow's that `applied` no longer holds."""
    keep = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in applied}
    pruned = 0
    for obj in _labelled(api):
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key not in keep:
            _delete(api, obj)
            pruned += 1
    return pruned


def _labelled(api: KubeApi) -> list[dict[str, Any]]:
    """Every object of the kinds sreshow applies that carries its label, in every
    namespace (an overlay may add objects outside sreshow's own, e.g. in kube-system)."""
    found = []
    for kind in KINDS.values():
        if kind.name in ("Pod", "ReplicaSet", "Event", "Namespace"):
            continue
        try:
            answer = api.get(kind.collection(), {"labelSelector": MANAGED})
        except NotFound:
            continue
        for item in answer.get("items") or []:
            item.setdefault("kind", kind.name)
            found.append(item)
    return found


def _delete(api: KubeApi, obj: Mapping[str, Any]) -> None:
    kind = KINDS[obj["kind"]]  # list items carry no kind: _labelled() sets it
    try:
        api.send("DELETE", kind.path(obj["metadata"]["name"], obj["metadata"].get("namespace")))
    except NotFound:
        return


def _delete_everything(api: KubeApi) -> int:
    """Delete sreshow's namespaces and its objects outside them (cluster-wide ones, and
    those of an overlay in another namespace: eks' cluster autoscaler in kube-system),
    wait until the namespaces are gone; the number of objects outside them deleted."""
    outside = [o for o in _labelled(api) if o["metadata"].get("namespace") not in NAMESPACES]
    for obj in outside:
        _delete(api, obj)
    for namespace in NAMESPACES:
        try:
            api.send("DELETE", KINDS["Namespace"].path(namespace))
        except NotFound:
            continue
    deadline = time.monotonic() + DOWN_TIMEOUT_SECONDS
    for namespace in NAMESPACES:
        while True:
            try:
                api.get(KINDS["Namespace"].path(namespace))
            except NotFound:
                break
            if time.monotonic() > deadline:
                raise PlatformError(
                    f"namespace {namespace} is still terminating after "
                    f"{DOWN_TIMEOUT_SECONDS:g} s; see `kubectl get ns {namespace} -o yaml` "
                    "and run `sreshow down` again"
                )
            time.sleep(NAMESPACE_POLL_SECONDS)
    return len(outside)
