"""The few Kubernetes API calls the node script makes, over HTTPS with the admin cert.

Objects are written with server-side apply under the field manager FIELD_MANAGER, so
applying the add-ons again (every `up`) changes only what the node's recipe changed.
"""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any
from urllib.parse import quote

from proc import NodeError
from settings import APISERVER_PORT, NODE_IP, Layout

FIELD_MANAGER = "sreshow-node"
APPLY_PATCH = "application/apply-patch+yaml"  # JSON is YAML
# The kinds the node applies, by their REST resource name (no discovery needed).
RESOURCES = {
    "APIService": "apiservices",
    "ClusterRole": "clusterroles",
    "ClusterRoleBinding": "clusterrolebindings",
    "ConfigMap": "configmaps",
    "Deployment": "deployments",
    "RoleBinding": "rolebindings",
    "Service": "services",
    "ServiceAccount": "serviceaccounts",
}


def object_path(obj: dict[str, Any]) -> str:
    """The REST path of an object (namespaced when its metadata names a namespace)."""
    api_version, kind, meta = obj["apiVersion"], obj["kind"], obj["metadata"]
    group = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    namespace = f"/namespaces/{meta['namespace']}" if meta.get("namespace") else ""
    return f"{group}{namespace}/{RESOURCES[kind]}/{quote(meta['name'], safe=':')}"


class KubeAPI:
    """A minimal JSON client for the node's API server (stdlib only)."""

    def __init__(self, layout: Layout, timeout: float = 5):
        self._pki = layout.pki
        self._context: ssl.SSLContext | None = None
        self._timeout = timeout

    def _tls(self) -> ssl.SSLContext:
        """Made on first use: the certificates may not exist yet when the client does."""
        if self._context is None:
            context = ssl.create_default_context(cafile=str(self._pki / "ca.crt"))
            context.load_cert_chain(str(self._pki / "admin.crt"), str(self._pki / "admin.key"))
            self._context = context
        return self._context

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        """(status, decoded JSON or text); OSError when the server cannot be reached."""
        connection = http.client.HTTPSConnection(
            NODE_IP, APISERVER_PORT, context=self._tls(), timeout=self._timeout
        )
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": content_type} if payload else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read().decode(errors="replace")
        except (http.client.HTTPException, ssl.SSLError) as error:
            raise OSError(str(error)) from error
        finally:
            connection.close()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data

    def ok(self, path: str) -> bool:
        """Whether GET `path` answers 200 (False when the server is unreachable)."""
        try:
            status, _ = self.request("GET", path)
        except OSError:
            return False
        return status == 200

    def get(self, path: str) -> Any:
        """The object at `path`, None unless the answer is 200."""
        try:
            status, data = self.request("GET", path)
        except OSError:
            return None
        return data if status == 200 else None

    def apply(self, obj: dict[str, Any]) -> None:
        """Create or update `obj` by server-side apply; NodeError naming it if refused."""
        path = object_path(obj)
        meta = obj["metadata"]
        where = f"{meta['namespace']}/" if meta.get("namespace") else ""
        what = f"{obj['kind']} {where}{meta['name']}"
        try:
            status, answer = self.request(
                "PATCH", f"{path}?fieldManager={FIELD_MANAGER}&force=true", obj, APPLY_PATCH
            )
        except OSError as error:
            raise NodeError(f"applying {what}: the API server did not answer: {error}") from error
        if status not in (200, 201):
            message = answer.get("message") if isinstance(answer, dict) else str(answer)[:200]
            raise NodeError(f"applying {what}: the API server answered {status}: {message}")
