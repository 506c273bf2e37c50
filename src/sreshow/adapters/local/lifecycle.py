"""The local platform's lifecycle: `sreshow up`, `status` and `down` on this machine.

`LocalLifecycle` is what the platform registry hands the CLI. `up` checks the tools,
cleans up after a crashed stack, starts the supervisor as a detached daemon in a
session of its own and follows `stack.json` until every component and replica is ready.
`down` asks the supervisor to stop, waits, and then makes sure nothing of the stack is
left: every process that carries the stack's marker in its environment is stopped,
whatever happened before.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from sreshow.adapters.local.control import ControlClient
from sreshow.adapters.local.processes import Binary, find_binary, port_in_use, wait_for_http
from sreshow.adapters.local.state import StackDir, StackRecord
from sreshow.adapters.local.status import collect, from_record
from sreshow.core.terraform_ui import ApplyProgress
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import Platform, UpOptions, UpPreview, UpResult
from sreshow.settings import SECRET_VARIABLES, Settings
from sreshow.stack_status import StackStatus

STACK_MARKER = "SRESHOW_LOCAL_STACK"  # in every stack process's environment: its stack dir
DEFAULT_APP_PORT = 8080
# Replicas start in seconds; then Prometheus must scrape every replica and evaluate its
# rules (four scrape intervals: a minute at time scale 1).
UP_TIMEOUT_SECONDS = 120.0
DOWN_TIMEOUT_SECONDS = 30.0
SERVICE_READY_SECONDS = 10.0

REQUIRED_BINARIES = (
    (Binary("prometheus", "prometheus", "prometheus"), (2, 40)),
    (Binary("prometheus-alertmanager", "prometheus-alertmanager", "alertmanager"), (0, 25)),
    (
        Binary("prometheus-blackbox-exporter", "prometheus-blackbox-exporter", "blackbox_exporter"),
        (0, 20),
    ),
    (Binary("haproxy", "haproxy", "haproxy"), (2, 5)),  # health checks on runtime-added servers
)


@dataclass(frozen=True)
class Started:
    record: StackRecord
    already_running: bool
    recovered: str | None = None


class LocalLifecycle:
    """The local stack, kept in `<state dir>/local/` (see state.py)."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self._state_dir = settings.state_dir
        self._stack = StackDir(settings.state_dir)

    def preview(self, options: UpOptions) -> UpPreview:
        validate(options)
        port = options.port or DEFAULT_APP_PORT
        return UpPreview(
            where=f"local: processes on this machine, state in {self._stack.root}",
            items=(
                (
                    "app replicas (uvicorn)",
                    f"{options.replicas}, behind HAProxy on 127.0.0.1:{port}",
                ),
                ("Prometheus, Alertmanager, blackbox exporter", "1 each, on 127.0.0.1"),
                ("notification sink, autoscaler", "in the supervisor"),
            ),
        )

    def up(self, options: UpOptions, progress: Callable[[StackStatus], None]) -> UpResult:
        started = up(self._state_dir, options, lambda r: progress(from_record(self._stack, r)))
        return UpResult(
            from_record(self._stack, started.record), started.already_running, started.recovered
        )

    def is_up(self) -> bool:
        return status(self._state_dir) is not None

    def status(self) -> StackStatus:
        record = status(self._state_dir)
        if record is None:
            raise PlatformError(
                f"no local stack is up (state in {self._state_dir}); start one with `sreshow up`"
            )
        return collect(self._stack, record)

    def down(
        self,
        *,
        confirm: Callable[[str], bool] | None = None,
        progress: Callable[[ApplyProgress], None] | None = None,
    ) -> str:
        del confirm, progress  # the local stack holds nothing worth a question
        if down(self._state_dir):
            return "Stopped the local stack: no process of it is left."
        return "No local stack was running; nothing to stop."

    def connect(self, admin_token: str | None) -> Platform:
        from sreshow.adapters.local.platform import LocalPlatform

        return LocalPlatform(self._state_dir, admin_token)


def check_tools() -> None:
    """Every binary the stack runs is installed, at a version it works with (exit 3)."""
    for binary, minimum in REQUIRED_BINARIES:
        path = find_binary(binary)
        found = _version_of(path)
        if found is not None and found < minimum:
            wanted = ".".join(map(str, minimum))
            raise PlatformError(
                f"{binary.name} {'.'.join(map(str, found))} is too old (need >= {wanted}); "
                f"{binary.install_hint()}"
            )


def validate(options: UpOptions) -> None:
    """Refuse bad flags before anything starts (exit 2); a port in use is checked by
    `check_port()`, after a crashed stack (which may hold it) is cleaned up."""
    options.check()
    if options.port is not None and not 1 <= options.port <= 65535:
        raise UsageError(f"--port {options.port} is not a TCP port; give 1 to 65535")
    if options.image is not None or options.manifests is not None:
        flag = "--image" if options.image is not None else "--manifests"
        raise UsageError(
            f"{flag} is for platforms that run images (kubernetes); the local platform runs "
            f"the app from this checkout and the shipped manifests (leave {flag} out)"
        )


def check_port(options: UpOptions) -> None:
    """Refuse a --port something listens on (exit 2)."""
    if options.port is not None and port_in_use(options.port):
        raise UsageError(
            f"--port {options.port} is in use on 127.0.0.1; pick a free port or leave --port out"
        )


def up(state_dir: Path, options: UpOptions, progress: Callable[[StackRecord], None]) -> Started:
    """Bring the local stack up (or find it up); `progress` sees every new record."""
    stack = StackDir(state_dir)
    if stack.supervisor_running():
        record = stack.read_stack()
        if record is not None:
            return Started(record, already_running=True)
    validate(options)
    check_tools()
    recovered = _clean_up_after_crash(stack)
    check_port(options)
    port = options.port or _default_port()
    stack.set_secrets(options.admin_token, options.slack_webhook_url)
    supervisor = _start_supervisor(stack, options, port)
    try:
        record = _follow_start(stack, supervisor, options, progress)
    except BaseException:
        _stop_everything(stack, supervisor.pid)
        raise
    return Started(record, already_running=False, recovered=recovered)


def status(state_dir: Path) -> StackRecord | None:
    """The stack's record, or None when no stack is up."""
    stack = StackDir(state_dir)
    record = stack.read_stack()
    if record is None or not stack.supervisor_running():
        return None
    return record


def down(state_dir: Path) -> int:
    """Stop everything the stack started; the number of processes stopped (0: nothing)."""
    stack = StackDir(state_dir)
    stopped = 0
    if stack.supervisor_running():
        pid = _recorded_pid(stack)
        try:
            ControlClient(stack.control_socket, timeout=5).request("POST", "/stop")
        except PlatformError:
            if pid is not None:
                _signal(pid, 15)
        if pid is not None and _wait_gone(pid, DOWN_TIMEOUT_SECONDS):
            stopped += 1
    stopped += _kill_marked(stack)
    _remove_runtime_files(stack)
    return stopped


def control(state_dir: Path) -> ControlClient:
    """A client for the running stack's supervisor."""
    return ControlClient(StackDir(state_dir).control_socket)


# --- helpers ---------------------------------------------------------------------


def _version_of(path: str) -> tuple[int, ...] | None:
    try:
        result = subprocess.run(  # noqa: S603 (a found binary, fixed flag)
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", result.stdout + result.stderr)
    return tuple(int(part) for part in match.groups() if part) if match else None


def _default_port() -> int:
    from sreshow.adapters.local.processes import free_port

    return DEFAULT_APP_PORT if not port_in_use(DEFAULT_APP_PORT) else free_port()


def _start_supervisor(stack: StackDir, options: UpOptions, port: int) -> subprocess.Popen[bytes]:
    stack.root.mkdir(parents=True, exist_ok=True)
    stack.logs.mkdir(parents=True, exist_ok=True)
    stack.stack_file.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "sreshow.adapters.local.supervisor",
        f"--state-dir={stack.root.parent}",
        f"--time-scale={options.time_scale:g}",
        f"--port={port}",
        f"--replicas={options.replicas}",
        f"--version={options.version}",
    ]
    # The secrets reach the stack through its 0600 files only: a replica would prefer a
    # token in its environment to the stack's file.
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    env[STACK_MARKER] = str(stack.root)
    with (stack.logs / "supervisor.log").open("ab") as log:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # survives the CLI; its group holds the stack
        )


def _follow_start(
    stack: StackDir,
    supervisor: subprocess.Popen[bytes],
    options: UpOptions,
    progress: Callable[[StackRecord], None],
) -> StackRecord:
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    last: StackRecord | None = None
    while True:
        if supervisor.poll() is not None:
            record = stack.read_stack()
            why = record.message if record and record.message else _log_tail(stack)
            raise PlatformError(f"the local stack failed to start: {why}")
        record = stack.read_stack()
        if record is not None and record != last:
            progress(record)
            last = record
        if record is not None and record.phase == "failed":
            raise PlatformError(f"the local stack failed to start: {record.message}")
        if record is not None and record.phase == "running" and _all_ready(record, options):
            # Ready replicas get requests once HAProxy's own check passes (every 0.5 s):
            # up is done when the Service answers, so the user's first request does.
            wait_for_http(
                f"{record.endpoints['app']}/ready",
                within=SERVICE_READY_SECONDS,
                what="the Service (HAProxy)",
            )
            return record
        if time.monotonic() > deadline:
            raise PlatformError(
                f"the local stack was not ready within {UP_TIMEOUT_SECONDS:g} s; see "
                f"{stack.logs} (stopped what had started)"
            )
        time.sleep(0.1)


def _all_ready(record: StackRecord, options: UpOptions) -> bool:
    ready = sum(1 for r in record.replicas if r.ready)
    return ready >= options.replicas and "app" in record.endpoints


def _clean_up_after_crash(stack: StackDir) -> str | None:
    """Stop what a crashed supervisor left and remove its stale files."""
    killed = _kill_marked(stack)
    stale = [p for p in (stack.pid_file, stack.control_socket, stack.stack_file) if p.exists()]
    _remove_runtime_files(stack)
    if killed or stale:
        return f"cleaned up after a stack that did not stop cleanly ({killed} processes stopped)"
    return None


def _marked_processes(stack: StackDir) -> list[psutil.Process]:
    marker = str(stack.root)
    found = []
    for process in psutil.process_iter(["pid"]):
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get(STACK_MARKER) == marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _kill_marked(stack: StackDir) -> int:
    processes = _marked_processes(stack)
    for process in processes:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=5)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=5)
    return len(processes)


def _stop_everything(stack: StackDir, pid: int) -> None:
    _signal(pid, 15)
    _wait_gone(pid, 10)
    _kill_marked(stack)
    _remove_runtime_files(stack)


def _remove_runtime_files(stack: StackDir) -> None:
    for path in (stack.pid_file, stack.control_socket, stack.stack_file):
        path.unlink(missing_ok=True)
    for directory in ("haproxy", "monitoring"):
        shutil.rmtree(stack.root / directory, ignore_errors=True)


def _recorded_pid(stack: StackDir) -> int | None:
    try:
        return int(stack.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _signal(pid: int, signal_number: int) -> None:
    try:
        os.kill(pid, signal_number)
    except ProcessLookupError:
        return


def _wait_gone(pid: int, within: float) -> bool:
    """Whether `pid` exited within `within` s. An exited process its parent (init, for
    the detached supervisor) has not reaped yet counts as gone: it holds nothing."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _log_tail(stack: StackDir) -> str:
    try:
        lines = (stack.logs / "supervisor.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(lines[-3:]) or "no log"
