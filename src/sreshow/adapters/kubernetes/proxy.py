"""HTTP to what runs in the cluster, through the API server's proxy (no port-forward).

`ProxyTransport` is an httpx transport that sends each request to
`/api/v1/namespaces/N/services/NAME:PORT/proxy/...` (or a pod's) through `KubeApi`, so
the Prometheus client the local platform uses reads the cluster's Prometheus as is.
"""

from __future__ import annotations

import json

import httpx

from sreshow.adapters.kubernetes.api import KubeApi
from sreshow.errors import PlatformError

# The base URL clients are given: the host is a placeholder; the path is what matters.
PROXIED_BASE_URL = "http://in-cluster"


def service_proxy_path(namespace: str, service: str, port: int | str) -> str:
    return f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy"


def pod_proxy_path(namespace: str, pod: str, port: int | str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy"


class ProxyTransport(httpx.BaseTransport):
    """Sends every request through the API server's proxy at `proxy_path`."""

    def __init__(self, api: KubeApi, proxy_path: str) -> None:
        self._api = api
        self._proxy_path = proxy_path.rstrip("/")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        status, body = self._api.proxy(
            request.method, self._proxy_path + target, request.read() or None
        )
        refusal = _api_server_refusal(status, body)
        if refusal is not None:
            raise PlatformError(f"{self._proxy_path}: the API server's proxy answered {refusal}")
        return httpx.Response(status, content=body, request=request)


def _api_server_refusal(status: int, body: bytes) -> str | None:
    """The API server's own failure (a `Status`: no ready endpoint, say), not the
    answer of what is behind the proxy; None when it is that answer."""
    if status < 400 or not body.startswith(b"{"):
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("kind") != "Status":
        return None
    return f"{status}: {answer.get('message') or answer.get('reason')}"
