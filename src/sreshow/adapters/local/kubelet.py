"""The kubelet's part of the local platform: each replica's readiness and liveness
probes by the Deployment's settings (scaled), and restarts in place.

The readiness probe is the one source of routing: the Service (HAProxy) routes to a
replica while it passes, as a Service's endpoints follow the kubelet. A liveness probe
that fails `failureThreshold` times in a row has the container stopped (SIGTERM, SIGKILL
after the grace) and started again under the same name and port.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx

from sreshow.adapters.local.deployment import PodSettings
from sreshow.adapters.local.replicas import Replica


class Kubelet:
    """Tends the running replicas; `route(name, routed)` steers the Service and
    `record(kind, **fields)` notes what happened (events.jsonl)."""

    def __init__(
        self,
        pod: PodSettings,
        *,
        route: Callable[[str, bool], None],
        record: Callable[..., None],
        grace_seconds: float,
    ) -> None:
        self.pod = pod
        self._route = route
        self._record = record
        self._grace = grace_seconds
        self._http = httpx.Client()

    def close(self) -> None:
        self._http.close()

    def tend(self, replica: Replica, now: float) -> bool:
        """One tick for a replica whose container runs (or is being restarted): whether it
        became ready just now."""
        if replica.stopping_until is not None:  # restarting: a new container when it is gone
            if replica.finish_restart(now):
                self._record("replica_restarted", pod=replica.name, restarts=replica.restarts)
            return False
        became_ready = self._readiness(replica, now)
        self._liveness(replica, now)
        return became_ready

    def _readiness(self, replica: Replica, now: float) -> bool:
        """Every tick until first ready (a quick start), then every (scaled) period."""
        state = replica.readiness
        if replica.ever_ready and not state.due(now):
            return False
        spec = self.pod.readiness
        if not replica.ever_ready:  # one success is ready, whatever the threshold
            spec = replace(spec, success_threshold=1)
        if not state.record(spec, replica.probe(self._http, spec), now):
            return False
        replica.set_ready(replica.ready, now)
        self._route(replica.name, replica.ready)
        self._record("replica_ready" if replica.ready else "replica_unready", pod=replica.name)
        return replica.ready

    def _liveness(self, replica: Replica, now: float) -> None:
        """Every (scaled) period from the container's start."""
        spec, state = self.pod.liveness, replica.liveness
        if now < replica.started_at + spec.initial_delay or not state.due(now):
            return
        if not state.record(spec, replica.probe(self._http, spec), now) or state.passing:
            return
        reason = f"liveness probe {spec.path} failed {state.failures} times in a row"
        self._record("replica_restarting", pod=replica.name, reason=reason)
        self._route(replica.name, False)
        replica.readiness.passing = False
        replica.set_ready(False, now)
        replica.begin_restart(now, self._grace)
