"""What sreshow remembers of a stack it brought up on a cluster, and the context check.

    <state dir>/kubernetes/stack.json   the context, its cluster and server, the clocks

The context is remembered with the stack: every later command acts on that context
only, and refuses (exit 2, nothing touched) when the user points elsewhere — another
`--context`, a kubeconfig whose current context is another one, or the same context
name now pointing at another API server.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from sreshow.adapters.kubernetes.api import ClusterTarget, KubeApi, kubeconfig_contexts
from sreshow.errors import PlatformError, UsageError
from sreshow.files import write_atomically

STACK_DIR_NAME = "kubernetes"
# A context or cluster with one of these words in its name is taken for production.
PRODUCTION_WORDS = frozenset({"prod", "production", "live"})


class StackRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    context: str
    cluster: str
    server: str
    time_scale: float
    image: str | None = None
    brought_up_at: float  # Unix time
    # The platform's own kubeconfig (eks writes one for the cluster it built); None:
    # the user's, as kubectl finds it.
    kubeconfig: str | None = None


class RecordFile:
    """`<state dir>/kubernetes/stack.json`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STACK_DIR_NAME / "stack.json"

    def read(self) -> StackRecord | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return StackRecord.model_validate_json(text)
        except ValidationError as e:
            raise PlatformError(
                f"{self.path}: not a stack record ({e.error_count()} errors); remove it if "
                "no stack of yours is up on the cluster, or run `sreshow down --context NAME`"
            ) from None

    def write(self, record: StackRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, record.model_dump_json(indent=2) + "\n")

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def looks_like_production(target: ClusterTarget) -> bool:
    words = set(re.split(r"[^a-z0-9]+", f"{target.context} {target.cluster}".lower()))
    return bool(words & PRODUCTION_WORDS)


def connect_recorded(record: StackRecord, requested: str | None, where: Path) -> KubeApi:
    """The API of the context the stack was brought up on, after the checks of the
    module doc (UsageError, nothing touched, when one fails); `where`: the record."""
    stack = f"the stack was brought up on context {record.context}"
    if requested is not None and requested != record.context:
        raise UsageError(
            f"--context {requested}: {stack}; nothing was done. Pass --context "
            f"{record.context}, or bring that stack down first"
        )
    kubeconfig = None if record.kubeconfig is None else Path(record.kubeconfig)
    if requested is None:
        _, current = kubeconfig_contexts(kubeconfig)
        if current != record.context:
            raise UsageError(
                f"the kubeconfig's current context is {current}, but {stack}; nothing was "
                f"done. Pass --context {record.context} to act on it"
            )
    api = KubeApi.connect(record.context, kubeconfig)
    if api.target.server != record.server:
        api.close()
        raise UsageError(
            f"context {record.context} now points at {api.target.server}, but {stack} at "
            f"{record.server}; nothing was done. Restore the context, or bring that stack "
            f"down by hand and remove {where}"
        )
    return api
