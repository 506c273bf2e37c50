"""The one place sreshow talks to a Kubernetes API server.

`KubeApi` sends every request — reads, server-side apply, the Eviction API, watches and
the API server's pod and service proxies — through the official client's transport
(kubeconfig, TLS, credentials, exec plugins), and turns every failure into a sreshow
error naming the object, the cause and the fix: an unreachable server or a refused
credential is a `PlatformError`, a missing object `NotFound`, a 429 from the Eviction
API the same `EvictionRefused` the local platform raises.

`ClusterTarget` is what a kubeconfig context resolves to: the context, its cluster and
the server's URL, which the stack records so that no later command acts elsewhere.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.config import kube_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.watch.watch import iter_resp_lines

from sreshow.adapters.kubernetes.resources import MANAGED_BY, object_path
from sreshow.errors import EvictionRefused, PlatformError, UsageError

REQUEST_TIMEOUT_SECONDS = 15.0
CONNECT_TIMEOUT_SECONDS = 5.0
FIELD_MANAGER = MANAGED_BY
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class NotFound(PlatformError):
    """The object asked for does not exist (404)."""


class Conflict(PlatformError):
    """The object changed under the request, or exists already (409)."""


@dataclass(frozen=True)
class ClusterTarget:
    """A kubeconfig context and the API server it points at."""

    context: str
    cluster: str
    server: str

    def describe(self) -> str:
        return f"context {self.context} (cluster {self.cluster} at {self.server})"


def kubeconfig_path(kubeconfig: Path | None = None) -> str:
    """`kubeconfig` when given (a platform's own, e.g. eks'), else the kubeconfig
    file(s) as kubectl finds them: $KUBECONFIG (a list, like PATH), else
    ~/.kube/config. Read at each call, not when the client was imported."""
    if kubeconfig is not None:
        return str(kubeconfig)
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def kubeconfig_contexts(kubeconfig: Path | None = None) -> tuple[dict[str, str], str | None]:
    """Each context of the kubeconfig (see `kubeconfig_path`) with its cluster's name,
    and the current context; UsageError when there is no usable kubeconfig."""
    try:
        contexts, current = kube_config.list_kube_config_contexts(kubeconfig_path(kubeconfig))
    except (ConfigException, OSError) as e:
        raise UsageError(
            f"no usable kubeconfig ({e}); set KUBECONFIG or create ~/.kube/config "
            "(for a test cluster here: `make node-up` prints one)"
        ) from e
    clusters = {c["name"]: c["context"].get("cluster", "") for c in contexts}
    return clusters, (current or {}).get("name")


class KubeApi:
    """A connection to one cluster through one context; see the module doc."""

    def __init__(self, target: ClusterTarget, client: ApiClient) -> None:
        self.target = target
        self._client = client

    @classmethod
    def connect(cls, context: str | None, kubeconfig: Path | None = None) -> KubeApi:
        """The cluster `context` names (None: the kubeconfig's current context) in
        `kubeconfig` (None: the user's, see `kubeconfig_path`)."""
        clusters, current = kubeconfig_contexts(kubeconfig)
        chosen = context or current
        if chosen is None:
            raise UsageError("the kubeconfig has no current context; pass --context NAME")
        if chosen not in clusters:
            raise UsageError(
                f"--context {chosen}: no such context in the kubeconfig; "
                f"use one of {', '.join(clusters) or '(none)'}"
            )
        try:
            client = kube_config.new_client_from_config(
                kubeconfig_path(kubeconfig), context=chosen, persist_config=False
            )
        except (ConfigException, OSError, ValueError) as e:
            raise UsageError(f"context {chosen}: cannot load its credentials ({e})") from e
        return cls(ClusterTarget(chosen, clusters[chosen], client.configuration.host), client)

    def close(self) -> None:
        self._client.close()

    # --- requests --------------------------------------------------------------------

    def get(self, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        return self.send("GET", path, query=query)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str = JSON,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """One API request; its JSON answer. Every non-2xx answer raises (module doc)."""
        response = self._request(
            method, path, body, query=query, content_type=content_type, timeout=timeout
        )
        data = response.read()
        if not 200 <= response.status < 300:
            raise _error(method, path, response.status, data)
        return dict(json.loads(data)) if data else {}

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply `obj` as sreshow's field manager, taking over its fields."""
        return self.send(
            "PATCH",
            object_path(obj),
            json.dumps(obj),
            query={"fieldManager": FIELD_MANAGER, "force": "true"},
            content_type=APPLY_PATCH,
        )

    def watch(
        self, path: str, query: Mapping[str, str], resource_version: str, timeout: int
    ) -> WatchStream:
        """A watch from `resource_version`, which the server ends after `timeout` s."""
        query = dict(query) | {
            "watch": "1",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout),
            "allowWatchBookmarks": "true",
        }
        read_timeout = timeout + CONNECT_TIMEOUT_SECONDS
        response = self._request("GET", path, query=query, timeout=read_timeout)
        if response.status != 200:
            raise _error("GET", path, response.status, response.read())
        return WatchStream(self.target, path, response.response)

    def proxy(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """A request through the API server's pod or service proxy: the answer of what
        is behind it, whatever its status (a 503 of the API server included)."""
        response = self._request(method, path, body, headers=headers)
        return response.status, response.read()

    # --- helpers ----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str = JSON,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        header_params = {"Accept": JSON, "Content-Type": content_type, **(headers or {})}
        try:
            serialized = self._client.param_serialize(
                method,
                path,
                query_params=list((query or {}).items()),
                header_params=header_params,
                body=body,
                auth_settings=["BearerToken"],
            )
            return self._client.call_api(
                *serialized, _request_timeout=(CONNECT_TIMEOUT_SECONDS, timeout)
            )
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise unreachable(self.target, e) from e


class WatchStream:
    """The events of one watch, as they come; `stop()` ends it from another thread."""

    def __init__(self, target: ClusterTarget, path: str, response: Any) -> None:
        self._target = target
        self._path = path
        self._response = response

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Each event; a 410 Gone is raised as `Expired`."""
        try:
            for line in iter_resp_lines(self._response):
                if not line:
                    continue
                event: dict[str, Any] = json.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    if status.get("code") == 410:
                        raise Expired(f"{self._path}: {status.get('message')}")
                    raise _error("GET", self._path, int(status.get("code") or 500), line.encode())
                yield event
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise unreachable(self._target, e) from e
        finally:
            self._response.release_conn()

    def stop(self) -> None:
        self._response.shutdown()


def unreachable(target: ClusterTarget, error: Exception) -> PlatformError:
    return PlatformError(
        f"cannot reach the Kubernetes API server at {target.server} "
        f"(context {target.context}): {_cause(error)}; is the cluster up?"
    )


def _cause(error: Exception) -> str:
    """The operating system's reason under urllib3's wrapping, else a short form."""
    text = str(getattr(error, "reason", None) or error)
    found = re.search(r"\[Errno -?\d+\] [^\"')(]+", text)
    return found.group(0).strip() if found else f"{type(error).__name__}: {text[:200]}"


class Expired(PlatformError):
    """The watch's resource version is too old (410 Gone): list again, then watch."""


def _error(method: str, path: str, status: int, data: bytes) -> PlatformError:
    """The sreshow error for an API answer `status` to `method path`."""
    message = _status_message(data)
    where = f"{method} {path}"
    if status == 404:
        return NotFound(f"{where}: not found ({message})")
    if status == 409:
        return Conflict(f"{where}: conflict ({message})")
    if status == 429 and path.endswith("/eviction"):
        pod = path.split("/")[-2]
        return EvictionRefused(
            f"the disruption budget forbids evicting {pod} now ({message}); "
            "wait for the other replicas to be ready, or kill it with --force"
        )
    if status in (401, 403):
        return PlatformError(
            f"{where}: the API server refused the context's credentials ({status}: {message}); "
            "check the context's user and its RBAC permissions"
        )
    return PlatformError(f"{where}: the API server answered {status}: {message}")


def _status_message(data: bytes) -> str:
    """The `message` of a Kubernetes Status answer, else the answer's start."""
    try:
        status = json.loads(data)
    except ValueError:
        return data[:200].decode("utf-8", errors="replace").strip() or "no message"
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return data[:200].decode("utf-8", errors="replace").strip()
