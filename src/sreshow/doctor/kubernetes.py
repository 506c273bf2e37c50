"""The kubernetes platform's readiness: a kubeconfig, the context commands will act on,
an API server that answers within seconds, and credentials it accepts.

Every request goes through the adapter's one choke point (`KubeApi.send`), which
raises `unreachable(...)` *from* the transport's error and an answer's error (401,
403, ...) without a cause: that is how a line tells "no answer" from "refused".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import TYPE_CHECKING

from sreshow.doctor.model import Check, Inspection
from sreshow.errors import PlatformError, SreshowError, UsageError

if TYPE_CHECKING:
    from sreshow.adapters.kubernetes.api import KubeApi
    from sreshow.adapters.kubernetes.record import StackRecord

# The choke point's connect timeout (5 s) bounds an unanswered connection; this bounds
# the wait for an answer.
PROBE_TIMEOUT_SECONDS = 3.0


def validate(inspection: Inspection) -> None:
    """Refuse --port, as `up` does on a cluster (exit 2)."""
    if inspection.port is not None:
        raise UsageError(
            "--port is for the local platform; on a cluster the app is its Service "
            "(leave --port out)"
        )


def checks(inspection: Inspection) -> Iterator[Check]:
    """The kubeconfig, the context, the API server, the credentials: each only once
    the one before it passed."""
    from sreshow.adapters.kubernetes.api import kubeconfig_contexts, kubeconfig_path

    path = kubeconfig_path()
    try:
        contexts, _ = kubeconfig_contexts()
    except UsageError as e:
        yield Check.failed(
            "kubeconfig",
            f"no usable kubeconfig at {path} ({e.__cause__ or e})",
            "set KUBECONFIG to your cluster's kubeconfig or create ~/.kube/config (for "
            "the one-node cluster here, `make node-up` prints one)",
        )
        return
    yield Check.passed("kubeconfig", f"{path}: {len(contexts)} context(s)")
    record = _recorded_stack(inspection)
    try:
        api, how = _connect(inspection, record)
    except SreshowError as e:
        if record is not None:
            fix = f"pass --context {record.context}, the context the stack was brought up on"
        else:
            fix = f"pass --context with one of the kubeconfig's: {', '.join(contexts) or '(none)'}"
        yield Check.failed("context", str(e), fix)
        return
    with closing(api):
        yield _context_line(api, how)
        yield from _probe(api)


def _recorded_stack(inspection: Inspection) -> StackRecord | None:
    """The kubernetes stack recorded in the state dir, if any."""
    from sreshow.adapters.kubernetes.record import RecordFile

    try:
        return RecordFile(inspection.settings.state_dir).read()
    except PlatformError:
        return None  # the stack's line says the record is corrupt


def _connect(inspection: Inspection, record: StackRecord | None) -> tuple[KubeApi, str]:
    """The API of the context commands will act on: the recorded stack's (refused, as
    every command refuses, when the user points elsewhere), else --context, else the
    kubeconfig's current one; and which it is, in words."""
    from sreshow.adapters.kubernetes.api import KubeApi
    from sreshow.adapters.kubernetes.record import RecordFile, connect_recorded

    requested = inspection.settings.kube_context
    if record is not None:
        where = RecordFile(inspection.settings.state_dir).path
        return connect_recorded(record, requested, where), "the running stack's"
    how = "from --context" if requested else "the kubeconfig's current context"
    return KubeApi.connect(requested), how


def _context_line(api: KubeApi, how: str) -> Check:
    from sreshow.adapters.kubernetes.record import looks_like_production

    target = api.target
    detail = f"{target.context}, {how} (cluster {target.cluster} at {target.server})"
    if looks_like_production(target):
        detail += "; it looks like production: `sreshow up` will ask for --allow-production"
    return Check.passed("context", detail)


def _probe(api: KubeApi) -> Iterator[Check]:
    """The API server's /version (any client may read it), then a list of namespaces
    (what `up` creates): the first says it answers, the second that it accepts us."""
    target = api.target
    unreachable_fix = (
        f"start the cluster (the one-node cluster here: `make node-up`) or point context "
        f"{target.context} at a server that answers; `kubectl --context {target.context} "
        "cluster-info` shows what it reaches"
    )
    refused_fix = (
        f"renew the credentials of context {target.context}'s user (token, client "
        "certificate or exec plugin) and check its RBAC: "
        f"`kubectl --context {target.context} auth can-i create namespaces`"
    )
    try:
        version = api.send("GET", "/version", timeout=PROBE_TIMEOUT_SECONDS)
    except PlatformError as e:
        if e.__cause__ is not None:
            yield Check.failed("cluster", str(e), unreachable_fix)
            return
        yield Check.passed("cluster", f"the API server at {target.server} answers")
        yield Check.failed("credentials", str(e), refused_fix)
        return
    yield Check.passed(
        "cluster", f"Kubernetes {version.get('gitVersion', '(version unknown)')} at {target.server}"
    )
    try:
        api.send("GET", "/api/v1/namespaces", query={"limit": "1"}, timeout=PROBE_TIMEOUT_SECONDS)
    except PlatformError as e:
        fix = unreachable_fix if e.__cause__ is not None else refused_fix
        yield Check.failed("credentials", str(e), fix)
        return
    yield Check.passed("credentials", f"accepted: context {target.context}'s user lists namespaces")
