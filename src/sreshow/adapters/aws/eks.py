"""An EKS cluster as sreshow needs it: where its API server is, and a kubeconfig that
reaches it with `sreshow eks-token` as the exec credential plugin, so no AWS CLI is
needed on the presenter's machine."""

from __future__ import annotations

import base64
import binascii
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from sreshow.adapters.aws.names import check_cluster_name, check_region
from sreshow.adapters.aws.token_cache import EXEC_CREDENTIAL_API_VERSION
from sreshow.errors import PlatformError
from sreshow.files import write_atomically

if TYPE_CHECKING:
    from sreshow.adapters.aws.session import AwsSession

ACTIVE = "ACTIVE"
# Passed on to the plugin, so kubectl's token is made with the same credentials; nothing
# secret: keys stay in the environment or the AWS config, never in the kubeconfig.
_PLUGIN_ENV_VARIABLES = ("AWS_PROFILE",)


@dataclass(frozen=True)
class ClusterInfo:
    """What EKS says about a cluster (DescribeCluster); endpoint and CA are None until
    the cluster is ACTIVE."""

    name: str
    arn: str
    status: str
    version: str
    endpoint: str | None
    ca_data: str | None  # base64 PEM, as kubeconfig's certificate-authority-data wants
    tags: tuple[tuple[str, str], ...] = ()


def describe_cluster(aws: AwsSession, name: str) -> ClusterInfo:
    """The cluster `name` in the session's region; AwsError (ResourceNotFoundException)
    when there is none."""
    cluster = aws.call("eks", "describe_cluster", name=check_cluster_name(name))["cluster"]
    return ClusterInfo(
        name=str(cluster["name"]),
        arn=str(cluster["arn"]),
        status=str(cluster.get("status", "")),
        version=str(cluster.get("version", "")),
        endpoint=cluster.get("endpoint") or None,
        ca_data=(cluster.get("certificateAuthority") or {}).get("data") or None,
        tags=tuple(sorted((cluster.get("tags") or {}).items())),
    )


def kubeconfig_for_cluster(
    aws: AwsSession, name: str, path: Path, env: Mapping[str, str] | None = None
) -> str:
    """Write a kubeconfig for the ACTIVE cluster `name` to `path` (see
    `write_kubeconfig`) and return its context name; PlatformError while not ACTIVE."""
    cluster = describe_cluster(aws, name)
    if cluster.status != ACTIVE or cluster.endpoint is None or cluster.ca_data is None:
        raise PlatformError(
            f"EKS cluster {name} in {aws.region} is {cluster.status or 'not ready'}, not "
            f"{ACTIVE}: wait until it is (creating one takes about 10 minutes) and retry"
        )
    return write_kubeconfig(path, name, cluster.endpoint, cluster.ca_data, aws.region, env=env)


def write_kubeconfig(
    path: Path,
    cluster_name: str,
    endpoint: str,
    ca_data_base64: str,
    region: str,
    *,
    env: Mapping[str, str] | None = None,
) -> str:
    """Write (replace) a 0600 kubeconfig at `path` for one EKS cluster whose user is the
    exec plugin `python -m sreshow eks-token CLUSTER --region R`; returns the context
    name. `env` (default: this process's) supplies AWS_PROFILE to pass on."""
    check_cluster_name(cluster_name)
    check_region(region)
    try:
        base64.b64decode(ca_data_base64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise PlatformError(
            f"EKS cluster {cluster_name}: its certificate authority data is not base64; "
            "check `aws eks describe-cluster` and retry"
        ) from e
    env = os.environ if env is None else env
    name = f"sreshow-{cluster_name}"
    plugin_env = [
        {"name": variable, "value": env[variable]}
        for variable in _PLUGIN_ENV_VARIABLES
        if env.get(variable)
    ]
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": name,
                "cluster": {"server": endpoint, "certificate-authority-data": ca_data_base64},
            }
        ],
        "users": [{"name": name, "user": {"exec": _exec_plugin(cluster_name, region, plugin_env)}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
    write_atomically(path, yaml.safe_dump(document, sort_keys=False))
    return name


def _exec_plugin(cluster: str, region: str, env: list[dict[str, str]]) -> dict[str, object]:
    """kubectl's `users[].user.exec`: this Python runs `sreshow eks-token`, so the plugin
    works without sreshow on PATH (a virtualenv, pipx)."""
    plugin: dict[str, object] = {
        "apiVersion": EXEC_CREDENTIAL_API_VERSION,
        "command": sys.executable,
        "args": ["-m", "sreshow", "eks-token", cluster, "--region", region],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
    if env:
        plugin["env"] = env
    return plugin
