"""The local stack's state directory: what runs, where, and the files that say so.

    <state dir>/local/
      stack.json         written by the supervisor (atomically) on every change
      supervisor.pid     the supervisor's pid; its process group holds every child
      supervisor.lock    flock-held by the running supervisor
      control.sock       the supervisor's control API (HTTP over a UNIX socket)
      admin-token        the replicas' admin token (0600): the user's, or generated
      slack-webhook-url  the user's Slack webhook (0600), if they gave one
      logs/ haproxy/ monitoring/ notifications.jsonl

`stack.json` is the one record other commands read; a file that cannot be parsed is
reported with the way out (`sreshow down` cleans up), never guessed at.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sreshow.core.revisions import RolloutState
from sreshow.errors import PlatformError
from sreshow.files import write_atomically

STACK_DIR_NAME = "local"


class ReplicaRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    revision: int
    ready: bool
    pid: int
    port: int
    url: str
    restarts: int = 0
    cpu_percent: float | None = None
    memory_bytes: int | None = None
    faults: dict[str, float | bool] | None = None


class RevisionRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    version: str
    broken: str = ""


class AutoscalerRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    current: int
    desired: int
    min_replicas: int
    max_replicas: int
    utilization: dict[str, float | None]
    targets: dict[str, float]
    last_event: str | None = None
    last_event_reason: str | None = None
    last_scale_at: float | None = None  # Unix time of the last change of `desired`


class StackRecord(BaseModel):
    """What `stack.json` holds."""

    model_config = ConfigDict(frozen=True)

    platform: Literal["local"] = "local"
    phase: Literal["starting", "running", "stopping", "stopped", "failed"]
    message: str = ""
    time_scale: float
    supervisor_pid: int
    endpoints: dict[str, str]
    desired_replicas: int
    revision: int
    revisions: tuple[RevisionRecord, ...]
    rollout: str = ""  # the sentence `status` shows: "progressing to revision 2"
    # The rollout's state, for readers that act on it (the sentence is for people). A
    # record written before this field existed reads as progressing: not known complete.
    rollout_state: RolloutState = RolloutState.PROGRESSING
    replicas: tuple[ReplicaRecord, ...] = ()
    autoscaler: AutoscalerRecord | None = None
    components: dict[str, str] = {}


class StackDir:
    """Paths in, and reads and writes of, one local stack's state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / STACK_DIR_NAME

    @property
    def stack_file(self) -> Path:
        return self.root / "stack.json"

    @property
    def pid_file(self) -> Path:
        return self.root / "supervisor.pid"

    @property
    def lock_file(self) -> Path:
        return self.root / "supervisor.lock"

    @property
    def control_socket(self) -> Path:
        return self.root / "control.sock"

    @property
    def token_file(self) -> Path:
        return self.root / "admin-token"

    @property
    def slack_webhook_file(self) -> Path:
        return self.root / "slack-webhook-url"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def notifications(self) -> Path:
        return self.root / "notifications.jsonl"

    def write_stack(self, record: StackRecord) -> None:
        """Replace stack.json atomically: readers see the old or the new, never half."""
        write_atomically(self.stack_file, record.model_dump_json(indent=2))

    def read_stack(self) -> StackRecord | None:
        """The recorded stack, None if there is none; PlatformError if it is corrupt."""
        try:
            text = self.stack_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise PlatformError(f"{self.stack_file}: cannot read it ({e.strerror})") from e
        try:
            return StackRecord.model_validate_json(text)
        except ValidationError as e:
            raise PlatformError(
                f"{self.stack_file} is corrupt ({e.error_count()} problems, first: "
                f"{_first_problem(e)}); run `sreshow down` to clean up, then `sreshow up`"
            ) from e

    def set_secrets(self, admin_token: str | None, slack_webhook_url: str | None) -> None:
        """Start the stack with the user's token (or a generated one, kept from an earlier
        stack) and Slack webhook (or none: the local sink), each in a 0600 file."""
        self.root.mkdir(parents=True, exist_ok=True)
        if admin_token is not None:
            write_atomically(self.token_file, admin_token + "\n")
        if slack_webhook_url is not None:
            write_atomically(self.slack_webhook_file, slack_webhook_url + "\n")
        else:
            self.slack_webhook_file.unlink(missing_ok=True)

    def slack_webhook_url(self) -> str | None:
        """The user's Slack webhook the stack relays its notifications to, if any."""
        try:
            return self.slack_webhook_file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def admin_token(self) -> str:
        """The replicas' admin token, created (0600) on first use."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.token_file.exists():
            write_atomically(self.token_file, secrets.token_urlsafe(32) + "\n")
        return self.token_file.read_text(encoding="utf-8").strip()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the stack's lock, and its pid file, for the supervisor's life;
        PlatformError if another supervisor holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PlatformError(
                    "another supervisor runs this stack; see `sreshow status`"
                ) from None
            self.pid_file.write_text(f"{os.getpid()}\n")
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def supervisor_running(self) -> bool:
        """Whether a supervisor holds the lock (a crashed one holds nothing)."""
        if not self.lock_file.exists():
            return False
        with self.lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


def _first_problem(error: ValidationError) -> str:
    first: dict[str, Any] = dict(error.errors()[0])
    where = ".".join(str(part) for part in first.get("loc", ())) or "the file"
    return f"{where}: {first.get('msg', 'invalid')}"
