"""The EKS bearer token `sreshow eks-token` prints: a presigned STS GetCallerIdentity URL
carrying the signed header `x-k8s-aws-id: <cluster>`, which the cluster's
authenticator replays to STS to learn who is calling (the recipe of aws-iam-authenticator
and `aws eks get-token`). boto3 is imported only when the cache has no fresh token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sreshow.adapters.aws.names import check_cluster_name, region_from_env
from sreshow.adapters.aws.token_cache import (
    TOKEN_LIFETIME,
    cache_file,
    cached_exec_credential,
    exec_credential,
    signed_at,
    store_exec_credential,
    token_from_url,
)

if TYPE_CHECKING:
    from sreshow.adapters.aws.session import AwsSession

CLUSTER_HEADER = "x-k8s-aws-id"
# The presigned URL's own expiry; the server ignores it and allows 15 min (token_cache).
PRESIGN_EXPIRES_SECONDS = 60
_CLUSTER_PARAM = "ClusterName"  # not an STS parameter: the hooks below take it out


def eks_exec_credential(
    cluster: str,
    region: str | None,
    state_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    """The ExecCredential JSON for `cluster` in `region` (else AWS_REGION, ...): from the
    cache while fresh, else newly presigned and cached. UsageError for a bad name or no
    region, PlatformError without credentials."""
    env = os.environ if env is None else env
    now = datetime.now(UTC) if now is None else now
    check_cluster_name(cluster)
    region = region_from_env(region, env)
    if region is not None:
        cached = cached_exec_credential(cache_file(state_dir, cluster, region, env), now)
        if cached is not None:
            return cached
    from sreshow.adapters.aws.session import AwsSession  # boto3: only on a miss

    aws = AwsSession.connect(region)
    path = cache_file(state_dir, cluster, aws.region, env)
    if region is None and (cached := cached_exec_credential(path, now)) is not None:
        return cached  # the region came from the profile
    url = presigned_token_url(aws, cluster)
    text = exec_credential(token_from_url(url), signed_at(url) + TOKEN_LIFETIME)
    store_exec_credential(path, text)
    return text


def presigned_token_url(aws: AwsSession, cluster: str) -> str:
    """A GET URL for STS GetCallerIdentity at the region's STS endpoint, with
    `x-k8s-aws-id: cluster` among its signed headers; no request is sent."""
    sts = aws.client("sts")
    events = sts.meta.events
    events.register(
        "provide-client-params.sts.GetCallerIdentity",
        _take_cluster_param,
        unique_id="sreshow-eks-token-param",
    )
    events.register(
        "before-sign.sts.GetCallerIdentity", _add_cluster_header, unique_id="sreshow-eks-header"
    )
    return aws.presigned_url(
        "sts",
        "get_caller_identity",
        params={_CLUSTER_PARAM: cluster},
        expires_in=PRESIGN_EXPIRES_SECONDS,
    )


def _take_cluster_param(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Move the cluster name out of the parameters (STS would refuse it) into the
    request's context, where `_add_cluster_header` finds it."""
    if _CLUSTER_PARAM in params:
        context[_CLUSTER_PARAM] = params.pop(_CLUSTER_PARAM)


def _add_cluster_header(request: Any, **_: Any) -> None:
    """Add the cluster header before signing, so the signature covers it."""
    cluster = request.context.get(_CLUSTER_PARAM)
    if cluster is not None:
        request.headers[CLUSTER_HEADER] = cluster
