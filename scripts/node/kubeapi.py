"""The few Kubernetes API calls the node script makes, over HTTPS with the admin cert."""

from __future__ import annotations

import http.client
import json
import ssl
from typing import Any

from settings import APISERVER_PORT, NODE_IP, Layout


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
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """(status, decoded JSON or text); OSError when the server cannot be reached."""
        connection = http.client.HTTPSConnection(
            NODE_IP, APISERVER_PORT, context=self._tls(), timeout=self._timeout
        )
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if payload else {}
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
