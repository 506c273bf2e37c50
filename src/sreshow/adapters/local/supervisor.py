"""The local platform's supervisor: a detached daemon that keeps the stack converged.

`sreshow up` starts it (`python -m sreshow.adapters.local.supervisor`); it owns every
process of the stack (replicas, HAProxy, Prometheus, Alertmanager, blackbox exporter)
in its process group, and loops:

    observe replicas (alive? readiness and liveness probes, as the kubelet runs them)
    → autoscale (the HPA algorithm, every sync period)
    → reconcile (core.reconcile: replace, scale, roll out) → Service and targets → record

Commands from the CLI (scale, deploy, rollback, kill, stop) arrive on the control API
and run on the loop's thread, so all state changes happen in one place. SIGTERM (or
`POST /stop`) stops everything it started, replicas first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sreshow.adapters.local.autoscaler import Autoscaler
from sreshow.adapters.local.control import (
    BadRequest,
    Command,
    ControlServer,
    DeployBody,
    KillBody,
    NoBody,
    RollbackBody,
    ScaleBody,
)
from sreshow.adapters.local.deployment import pod_settings
from sreshow.adapters.local.haproxy import HaproxyService
from sreshow.adapters.local.kubelet import Kubelet
from sreshow.adapters.local.monitoring import MonitoringStack, pod_scrape_sources, write_targets
from sreshow.adapters.local.processes import LOCALHOST, free_port, port_in_use
from sreshow.adapters.local.replicas import ReleaseSpec, Replica, start_replica
from sreshow.adapters.local.state import (
    ReplicaRecord,
    RevisionRecord,
    StackDir,
    StackRecord,
)
from sreshow.adapters.sink import NotificationSink
from sreshow.adapters.startup import StartupWatch
from sreshow.core import reconcile as rs
from sreshow.core.cpu import MonitoringSource
from sreshow.core.revisions import NoRollbackTarget, Revisions, RolloutStarted
from sreshow.errors import EvictionRefused, PlatformError, SreshowError

DEPLOYMENT = "sre-app"
TICK_SECONDS = 0.25
PDB_MIN_AVAILABLE = 1
REPLICA_DRAIN_SECONDS = 0.5
REPLICA_GRACE_SECONDS = 5.0
# Before it says it is running, the stack waits (this long at most, plus four scaled
# scrape intervals) until Prometheus has scraped every replica and evaluated its rules.
SETTLE_WITHIN_SECONDS = 10.0
SETTLE_POLL_SECONDS = 0.5
# The kubelet's CrashLoopBackOff: 10 s, doubling per crash, at most 5 minutes (scaled).
CRASH_BACKOFF_SECONDS = 10.0
MAX_CRASH_BACKOFF_SECONDS = 300.0
# How long a control API request waits for the loop to run its command.
COMMAND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SupervisorConfig:
    state_dir: Path
    time_scale: float
    app_port: int
    replicas: int
    version: str


class Supervisor:
    """The loop and the state it converges; see the module doc."""

    def __init__(self, config: SupervisorConfig) -> None:
        self.config = config
        self.stack_dir = StackDir(config.state_dir)
        self.desired = config.replicas
        self.replicas: dict[str, Replica] = {}
        self.terminating: dict[str, tuple[Replica, float]] = {}
        self.pod = pod_settings(config.time_scale)
        self.revisions = Revisions(
            config.version, now=time.monotonic(), progress_deadline=self.pod.progress_deadline
        )
        self.scrapes = pod_scrape_sources(config.time_scale)
        self.autoscaler = Autoscaler(
            config.time_scale,
            self.pod.requests,
            [
                MonitoringSource(
                    "readiness probe", self.pod.real_readiness.period, self.pod.readiness.period
                ),
                MonitoringSource(
                    "liveness probe", self.pod.real_liveness.period, self.pod.liveness.period
                ),
                *self.scrapes,
            ],
        )
        self.crash_backoff_until = 0.0
        self.crashes = 0
        self.commands: queue.Queue[tuple[Callable[[], dict[str, Any]], Future[dict[str, Any]]]]
        self.commands = queue.Queue()
        self.stopping = threading.Event()
        self.rng = random.Random()  # noqa: S311 (pod name suffixes, not secrets)
        self.phase = "starting"
        self.components: dict[str, str] = {}
        self.endpoints: dict[str, str] = {}
        self.haproxy: HaproxyService | None = None
        self.kubelet = Kubelet(
            self.pod, route=self._route, record=self._event, grace_seconds=REPLICA_GRACE_SECONDS
        )
        self.monitoring: MonitoringStack | None = None
        self.startup: StartupWatch | None = None
        self.settle_next = 0.0

    # --- the loop ---------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        with ExitStack() as stack:
            stack.enter_context(self.stack_dir.held())
            stack.callback(self._record_stopped)
            stack.callback(self.kubelet.close)
            try:
                self._start_components(stack)
            except SreshowError as e:
                self.phase, self.components["error"] = "failed", str(e)
                self._record(message=str(e))
                return 3
            while not self.stopping.is_set():
                self._tick()
                self.stopping.wait(TICK_SECONDS)
        return 0

    def _start_components(self, stack: ExitStack) -> None:
        """Sink, Service, first replicas, then monitoring: Prometheus starts with the
        replicas already in its targets (it applies later target changes ~5 s late)."""
        root = self.stack_dir.root
        self.stack_dir.admin_token()  # created now; the replicas read it from the file
        self._component("notification sink", "starting")
        relay_to = self.stack_dir.slack_webhook_url()
        sink = stack.enter_context(
            NotificationSink(self.stack_dir.notifications, relay_to=relay_to)
        )
        relaying = ", relaying to your Slack webhook" if relay_to else ""
        self._component("notification sink", f"running on 127.0.0.1:{sink.port}{relaying}")
        self._component("haproxy", "starting")
        if port_in_use(self.config.app_port):
            raise PlatformError(f"port {self.config.app_port} is in use; pick another with --port")
        self.haproxy = stack.enter_context(HaproxyService(root / "haproxy", self.config.app_port))
        self.endpoints["app"] = f"http://{LOCALHOST}:{self.config.app_port}"
        self._component("haproxy", self.endpoints["app"])
        stack.callback(self._stop_all_replicas)
        self._converge()
        self._component("prometheus", "starting")
        self.monitoring = stack.enter_context(
            MonitoringStack(
                root / "monitoring",
                self.config.time_scale,
                sink.url,
                targets=[(r.name, r.port) for r in self.replicas.values()],
            )
        )
        self.endpoints["prometheus"] = self.monitoring.prometheus_url
        self.endpoints["alertmanager"] = self.monitoring.alertmanager_url
        self._component("prometheus", self.monitoring.prometheus_url)
        self._component("alertmanager", self.monitoring.alertmanager_url)
        stack.enter_context(ControlServer(self.stack_dir.control_socket, self._handle))
        scrape = max((source.interval for source in self.scrapes), default=0.0)
        self.startup = StartupWatch(
            self.monitoring.prometheus_url, SETTLE_WITHIN_SECONDS + 4 * scrape, time.monotonic()
        )
        self._component("prometheus", "waiting for its first scrape of every replica")
        self._record()

    def _tick(self) -> None:
        self._run_commands()
        changed = self._observe()
        self._settle()
        self._autoscale()
        changed |= self._converge()
        changed |= self._reap_terminating()
        if changed and self.monitoring is not None:
            write_targets(
                self.monitoring.targets_file,
                [(r.name, r.port) for r in self.replicas.values()],
            )
        if self.revisions.complete(self.desired, self._observed()):
            self.revisions.note_complete(time.monotonic())
        self._record()

    def _run_commands(self) -> None:
        """Run the control API's queued commands; each caller hears its answer or error."""
        while not self.commands.empty():
            command, result = self.commands.get_nowait()
            try:
                answer = command()
            except Exception as e:  # answered to the caller, the loop goes on
                result.set_exception(e)
                continue
            self._record()  # on record before the caller hears back: its next read sees it
            result.set_result(answer)

    def _observe(self) -> bool:
        changed = False
        now = time.monotonic()
        for replica in list(self.replicas.values()):
            if replica.stopping_until is not None or replica.process.alive():
                if self.kubelet.tend(replica, now):  # ready: a crash loop is over
                    self.crashes = 0
                    if replica.revision == self.revisions.current:
                        self.revisions.note_progress(now)
                continue
            self._event("replica_exited", pod=replica.name, exit_code=replica.process.exit_code())
            if not replica.ever_ready:  # died before it ever served: a crash loop
                self.crashes += 1
                backoff = min(
                    CRASH_BACKOFF_SECONDS * 2.0 ** (self.crashes - 1), MAX_CRASH_BACKOFF_SECONDS
                )
                self.crash_backoff_until = now + backoff * self.config.time_scale
            self._forget(replica)
            changed = True
        return changed

    def _settle(self) -> None:
        """Running once Prometheus has seen the new stack (`StartupWatch`), or once the
        wait runs out, saying what Prometheus still shows."""
        now = time.monotonic()
        if self.phase != "starting" or self.startup is None or now < self.settle_next:
            return
        self.settle_next = now + SETTLE_POLL_SECONDS
        done, waiting = self.startup.check(list(self.replicas), now)
        if not done:
            self._component("prometheus", f"waiting for {waiting}")
            return
        note = f" (still waiting for {waiting})" if waiting else ""
        self._component("prometheus", self.startup.prometheus_url + note)
        self.phase = "running"

    def _route(self, name: str, routed: bool) -> None:
        if self.haproxy is not None:
            self.haproxy.set_routed(name, routed)

    def _autoscale(self) -> None:
        now = time.monotonic()
        if not self.autoscaler.due(now):
            return
        change = self.autoscaler.sync(
            now,
            self.desired,
            self.replicas.values(),
            (replica for replica, _ in self.terminating.values()),
            self._client_requests(),
        )
        if change is not None:
            self._event(
                "autoscaled", previous=change.previous, desired=change.desired, reason=change.reason
            )
            self.desired = change.desired

    def _client_requests(self) -> dict[str, int]:
        """Requests the Service has sent each replica so far (HAProxy's counters)."""
        if self.haproxy is None:
            return {}
        try:
            return {name: server.requests for name, server in self.haproxy.servers().items()}
        except PlatformError:
            return {}

    def _observed(self) -> list[rs.Replica]:
        """The replicas as the controllers in `core` see them."""
        return [
            rs.Replica(r.name, r.revision, r.ready, r.created_at) for r in self.replicas.values()
        ]

    def _converge(self) -> bool:
        actions = rs.reconcile(self.desired, self.revisions.current, self._observed())
        now = time.monotonic()
        for action in actions:
            if isinstance(action, rs.StartReplica):
                if now < self.crash_backoff_until:
                    continue  # CrashLoopBackOff: wait before starting again
                self._start(action.revision)
            else:
                self._terminate(self.replicas[action.name], action.reason)
        return bool(actions)

    def _reap_terminating(self) -> bool:
        changed = False
        for name, (replica, deadline) in list(self.terminating.items()):
            if replica.process.alive() and time.monotonic() < deadline:
                continue
            replica.process.kill()
            if self.haproxy is not None:
                self.haproxy.remove_server(name)
            del self.terminating[name]
            self._event("replica_stopped", pod=name)
            changed = True
        return changed

    # --- replicas ---------------------------------------------------------------

    def _start(self, revision: int) -> Replica:
        release = self.revisions.numbered(revision)
        template = rs.template_hash(release.version, release.broken)
        name = rs.replica_name(DEPLOYMENT, template, self.rng)
        replica = start_replica(
            name=name,
            revision=revision,
            release=ReleaseSpec(release.version, release.broken),
            port=free_port(),
            token_file=self.stack_dir.token_file,
            logs=self.stack_dir.logs,
            drain_seconds=REPLICA_DRAIN_SECONDS,
            grace_seconds=REPLICA_GRACE_SECONDS,
        )
        self.replicas[name] = replica
        if self.haproxy is not None:
            self.haproxy.add_server(name, replica.port)
        self._event("replica_started", pod=name, revision=revision, version=release.version)
        return replica

    def _terminate(self, replica: Replica, reason: str) -> None:
        """Graceful: out of the Service first, then SIGTERM; SIGKILL after the grace."""
        self._route(replica.name, False)
        replica.process.popen.terminate()
        self.terminating[replica.name] = (replica, time.monotonic() + REPLICA_GRACE_SECONDS)
        del self.replicas[replica.name]
        self._event("replica_terminating", pod=replica.name, reason=reason)

    def _forget(self, replica: Replica) -> None:
        if self.haproxy is not None:
            self.haproxy.remove_server(replica.name)
        del self.replicas[replica.name]

    def _stop_all_replicas(self) -> None:
        self.phase = "stopping"
        self._record()
        for replica in list(self.replicas.values()):
            self._terminate(replica, "the stack is stopping")
        deadline = time.monotonic() + REPLICA_GRACE_SECONDS + 1
        while self.terminating and time.monotonic() < deadline:
            self._reap_terminating()
            time.sleep(0.05)
        for replica, _ in self.terminating.values():
            replica.process.kill()

    # --- commands (run on the loop's thread) ------------------------------------

    def _commands(self) -> dict[tuple[str, str], Command[Any]]:
        """The control API: (method, path) → the body it takes and what runs it."""
        return {
            ("GET", "/state"): Command(NoBody, lambda _: self._snapshot().model_dump(mode="json")),
            ("POST", "/scale"): Command(ScaleBody, self._scale),
            ("POST", "/deploy"): Command(DeployBody, self._deploy),
            ("POST", "/rollback"): Command(RollbackBody, self._rollback),
            ("POST", "/kill"): Command(KillBody, self._kill),
            ("POST", "/stop"): Command(NoBody, self._stop),
        }

    def _handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One control API request: its body checked here (BadRequest), its command run on
        the loop; what the command raises, the control server answers (see control.py)."""
        command = self._commands().get((method, path))
        if command is None:
            return 404, {"error": f"no command {method} {path}"}
        run = command.bind(body)
        result: Future[dict[str, Any]] = Future()
        self.commands.put((run, result))
        if not wait([result], timeout=COMMAND_TIMEOUT_SECONDS).done:
            return 503, {
                "error": f"the supervisor's loop did not run {method} {path} within "
                f"{COMMAND_TIMEOUT_SECONDS:g} s; see its log"
            }
        return 200, result.result()

    def _scale(self, request: ScaleBody) -> dict[str, Any]:
        most = self.autoscaler.spec.max_replicas
        if not 0 <= request.replicas <= most:
            raise BadRequest(f"replicas must be within 0..{most}")
        self._event("scaled", previous=self.desired, desired=request.replicas, reason="by hand")
        self.desired = request.replicas
        return {"desired": request.replicas}

    def _deploy(self, request: DeployBody) -> dict[str, Any]:
        started = self.revisions.deploy(request.version, request.broken, time.monotonic())
        self._rollout_started(started)
        return {"revision": started.revision}

    def _rollback(self, request: RollbackBody) -> dict[str, Any]:
        try:
            started = self.revisions.roll_back(request.revision, time.monotonic())
        except NoRollbackTarget as e:
            raise PlatformError(str(e)) from e
        self._rollout_started(started)
        return {"revision": started.revision}

    def _rollout_started(self, started: RolloutStarted) -> None:
        self._event(
            "rollout_started", revision=started.revision, how=started.how, previous=started.previous
        )
        self.crashes, self.crash_backoff_until = 0, 0.0  # the new template's pods start now

    def _kill(self, request: KillBody) -> dict[str, Any]:
        name = request.pod
        replica = self.replicas.get(name)
        if replica is None:
            raise PlatformError(f"no replica named {name}")
        if request.force:
            replica.process.kill()
            self._event("replica_killed", pod=name, force=True)
            return {"killed": name, "force": True}
        if not rs.eviction_allowed(self._observed(), name, PDB_MIN_AVAILABLE):
            raise EvictionRefused(
                f"evicting {name} would violate the disruption budget (minAvailable "
                f"{PDB_MIN_AVAILABLE}); use force to kill it anyway"
            )
        self._terminate(replica, "evicted")
        self._event("replica_evicted", pod=name)
        return {"killed": name, "force": False}

    def _stop(self, _: NoBody) -> dict[str, Any]:
        self.stopping.set()
        return {"stopping": True}

    # --- records ----------------------------------------------------------------

    def _snapshot(self, message: str = "") -> StackRecord:
        rollout = self.revisions.rollout_status(time.monotonic(), self.desired, self._observed())
        return StackRecord(
            phase=self.phase,  # type: ignore[arg-type]
            message=message,
            time_scale=self.config.time_scale,
            supervisor_pid=os.getpid(),
            endpoints=dict(self.endpoints),
            desired_replicas=self.desired,
            revision=self.revisions.current,
            revisions=tuple(
                RevisionRecord(number=r.number, version=r.version, broken=r.broken)
                for r in self.revisions.all
            ),
            rollout=rollout.message,
            rollout_state=rollout.state,
            replicas=tuple(
                ReplicaRecord(
                    name=r.name,
                    version=r.release.version,
                    revision=r.revision,
                    ready=r.ready,
                    pid=r.process.pid,
                    port=r.port,
                    url=r.url,
                    restarts=r.restarts,
                    cpu_percent=_cpu_percent(usage.millicores if usage else None),
                    memory_bytes=usage.memory_bytes if usage else None,
                )
                for r in self.replicas.values()
                for usage in [self.autoscaler.usage.get(r.name)]
            ),
            autoscaler=self.autoscaler.record,
            components=dict(self.components),
        )

    def _record(self, message: str = "") -> None:
        self.stack_dir.write_stack(self._snapshot(message))

    def _record_stopped(self) -> None:
        self.phase = "stopped"
        self._record()
        self.stack_dir.pid_file.unlink(missing_ok=True)

    def _component(self, name: str, status: str) -> None:
        self.components[name] = status
        self._record()

    def _event(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"t": time.time(), "kind": kind, **fields})
        with (self.stack_dir.root / "events.jsonl").open("a", encoding="utf-8") as events:
            events.write(line + "\n")


def _cpu_percent(millicores: float | None) -> float | None:
    """Millicores as a share of one core, in % (what `top` shows)."""
    return None if millicores is None else millicores / 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sreshow.adapters.local.supervisor")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--version", default="1.0.0")
    args = parser.parse_args(argv)
    # Its stderr is logs/supervisor.log: what goes wrong (a control API bug) lands there,
    # dated. WARNING, not INFO: httpx logs every probe of every replica at INFO.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    config = SupervisorConfig(
        state_dir=args.state_dir,
        time_scale=args.time_scale,
        app_port=args.port,
        replicas=args.replicas,
        version=args.version,
    )
    return Supervisor(config).run()


if __name__ == "__main__":
    sys.exit(main())
