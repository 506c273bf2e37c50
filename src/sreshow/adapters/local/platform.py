"""The local stack as a scenario `Platform` (sreshow.ports): observe it and act on it.

Observations come from where `status` gets them: the supervisor's `stack.json`,
Prometheus's rules API and the notification sink's record.
Actions go to the supervisor's control API (scale, deploy, rollback, kill) and to each
replica's fault admin API, with the stack's admin token (read from its 0600 file, never
printed).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from demo_app.config import ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE
from sreshow.adapters.local import lifecycle as local
from sreshow.adapters.local.control import ControlClient
from sreshow.adapters.local.state import StackDir
from sreshow.adapters.local.status import autoscaler_of, rollout_of
from sreshow.adapters.prometheus import PrometheusClient
from sreshow.adapters.sink import read_notifications
from sreshow.core.notifications import Notification
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import AlertView, FaultPatch, RangeSeries, ReplicaView, Snapshot

ADMIN_TIMEOUT_SECONDS = 5.0


class LocalPlatform:
    """A running local stack, found through its state directory."""

    name = "local"
    unscaled_wait_seconds = 0.0  # every clock of the stack is scaled

    def __init__(self, state_dir: Path, admin_token: str | None = None) -> None:
        """`admin_token`: the user's (SRESHOW_ADMIN_TOKEN), which must be the stack's."""
        record = local.status(state_dir)
        if record is None:
            raise PlatformError(
                f"no local stack is up (state in {state_dir}); start one with "
                "`sreshow up --time-scale 0.1`, then run the scenario again"
            )
        self._stack = StackDir(state_dir)
        self.time_scale = record.time_scale
        self.app_url = record.endpoints["app"]
        self._record = record
        self._control = ControlClient(self._stack.control_socket)
        self._prometheus = PrometheusClient(record.endpoints["prometheus"], timeout=5.0)
        self._http = httpx.Client(timeout=ADMIN_TIMEOUT_SECONDS)
        self._token = self._stack.admin_token()
        if admin_token is not None and not secrets.compare_digest(admin_token, self._token):
            raise UsageError(
                f"{ENV_ADMIN_TOKEN} (or {ENV_ADMIN_TOKEN_FILE}) is not the token the running "
                "stack was started with; unset it, or restart the stack with it "
                "(`sreshow down`, then `sreshow up`)"
            )

    def close(self) -> None:
        self._prometheus.close()
        self._http.close()

    def __enter__(self) -> LocalPlatform:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- observations -----------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        record = self._stack.read_stack()
        if record is None or record.phase != "running":
            raise PlatformError(
                "the local stack stopped while the scenario ran; see `sreshow status`"
            )
        self._record = record
        return Snapshot(
            replicas=tuple(
                ReplicaView(r.name, r.version, r.revision, r.ready, r.restarts)
                for r in record.replicas
            ),
            desired=record.desired_replicas,
            revision=record.revision,
            rollout=rollout_of(record),
            autoscaler=autoscaler_of(record),
        )

    def alerts(self) -> list[AlertView]:
        return [AlertView(rule.name, rule.state) for rule in self._prometheus.alert_rules()]

    def notifications(self) -> list[Notification]:
        """Those delivered: to the local sink, or taken by the user's Slack webhook."""
        return [n for n in read_notifications(self._stack.notifications) if n.delivered]

    def query(self, expr: str) -> float | None:
        return self._prometheus.scalar(expr)

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
        self._control.request("POST", "/kill", {"pod": pod, "force": force})

    def deploy(self, version: str, broken: str | None) -> int:
        answer = self._control.request(
            "POST", "/deploy", {"version": version, "broken": broken or ""}
        )
        return int(answer["revision"])

    def rollback(self, revision: int | None) -> int:
        body = {} if revision is None else {"revision": revision}
        return int(self._control.request("POST", "/rollback", body)["revision"])

    def scale(self, replicas: int) -> None:
        self._control.request("POST", "/scale", {"replicas": replicas})

    def _admin(self, method: str, pod: str, body: dict[str, Any] | None) -> None:
        replica = next((r for r in self._record.replicas if r.name == pod), None)
        if replica is None:
            raise PlatformError(f"replica {pod} is gone; it cannot take a fault any more")
        url = f"{replica.url}/admin/faults"
        try:
            answer = self._http.request(
                method, url, json=body, headers={"Authorization": f"Bearer {self._token}"}
            )
        except httpx.TransportError as e:
            raise PlatformError(
                f"replica {pod} did not answer its admin API at {url} ({type(e).__name__}); "
                "it may have just exited — see `sreshow status`"
            ) from e
        if answer.status_code != 200:
            raise PlatformError(
                f"replica {pod} refused {method} /admin/faults with {answer.status_code}: "
                f"{answer.text[:200]}"
            )
