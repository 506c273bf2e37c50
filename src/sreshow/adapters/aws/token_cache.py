"""The EKS token's ExecCredential and its cache, without boto3, so `sreshow eks-token`
answers a cache hit in the time Python takes to start.

kubectl runs `sreshow eks-token` before every request it sends (and again whenever its
own copy expires). The API server honours a token for 15 minutes after the URL's
`X-Amz-Date`, whatever the presign expiry says, so a token is handed out for 14 minutes
and made afresh once less than a minute is left. The cache is one 0600 file per cluster,
region and credentials source, in a 0700 directory under the state dir: one profile's
token is never handed to another. The source is told apart by the environment alone
(a hash of AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ROLE_ARN and the STS endpoint: reading
the profile's files would cost the boto3 import this module exists to avoid); no key
is ever stored, only that hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sreshow.files import write_atomically

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (the scheme name, not a secret)
EXEC_CREDENTIAL_API_VERSION = "client.authentication.k8s.io/v1beta1"
# The API server honours a token 15 minutes from X-Amz-Date: hand it out for 14 ...
TOKEN_LIFETIME = timedelta(minutes=14)
# ... and make a new one when less than this is left, so none expires in flight.
REFRESH_BEFORE = timedelta(minutes=1)
CACHE_DIR_NAME = "eks"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
# What tells one set of credentials from another without reading the AWS config files.
_SOURCE_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_ROLE_ARN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
)


def token_from_url(url: str) -> str:
    """The bearer token for a presigned GetCallerIdentity URL: the prefix and the URL in
    URL-safe base64 without padding (what aws-iam-authenticator expects)."""
    encoded = base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii")
    return TOKEN_PREFIX + encoded.rstrip("=")


def url_from_token(token: str) -> str:
    """The presigned URL inside `token` (the inverse of `token_from_url`)."""
    encoded = token.removeprefix(TOKEN_PREFIX)
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")


def signed_at(url: str) -> datetime:
    """When the presigned `url` was signed (its X-Amz-Date), in UTC."""
    values = parse_qs(urlsplit(url).query).get("X-Amz-Date", [])
    if len(values) != 1:
        raise ValueError("the presigned URL has no X-Amz-Date")
    return datetime.strptime(values[0], _AMZ_DATE).replace(tzinfo=UTC)


def exec_credential(token: str, expires_at: datetime) -> str:
    """The ExecCredential kubectl reads from an exec plugin's stdout, as one JSON line."""
    document = {
        "kind": "ExecCredential",
        "apiVersion": EXEC_CREDENTIAL_API_VERSION,
        "spec": {},
        "status": {
            "expirationTimestamp": expires_at.astimezone(UTC).strftime(_RFC3339),
            "token": token,
        },
    }
    return json.dumps(document, separators=(",", ":"))


def credentials_source_key(env: Mapping[str, str]) -> str:
    """A short hash naming which credentials the environment selects (the values of
    `_SOURCE_VARIABLES`); the access key id goes into the hash only, never a file."""
    material = "\n".join(f"{name}={env.get(name, '')}" for name in _SOURCE_VARIABLES)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def cache_file(state_dir: Path, cluster: str, region: str, env: Mapping[str, str]) -> Path:
    """Where the token for `cluster` in `region` with the environment's credentials is
    kept (`cluster` and `region` already checked by `names`, so safe in a file name)."""
    source = credentials_source_key(env)
    return state_dir / CACHE_DIR_NAME / f"token-{cluster}-{region}-{source}.json"


def cached_exec_credential(path: Path, now: datetime) -> str | None:
    """The ExecCredential in `path` if it still has more than `REFRESH_BEFORE` to live
    and only its owner can read it; None otherwise (missing, expired, unreadable)."""
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
            return None  # written by someone else, or readable by others: make a new one
        text = path.read_text(encoding="utf-8").strip()
        document = json.loads(text)
        status = document["status"]
        expires_at = datetime.strptime(status["expirationTimestamp"], _RFC3339)
        token = status["token"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    fresh = expires_at.replace(tzinfo=UTC) - now > REFRESH_BEFORE
    well_formed = (
        document.get("kind") == "ExecCredential"
        and document.get("apiVersion") == EXEC_CREDENTIAL_API_VERSION
        and isinstance(token, str)
        and token.startswith(TOKEN_PREFIX)
    )
    return text if fresh and well_formed else None


def store_exec_credential(path: Path, text: str) -> None:
    """Keep `text` in `path`: the file 0600 from its first byte, its directory 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    write_atomically(path, text + "\n")
