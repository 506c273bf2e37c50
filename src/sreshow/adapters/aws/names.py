"""The AWS names sreshow accepts, checked before any request and without boto3, so a
typo is one line and exit 2 (and a cluster name is safe inside a file name)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sreshow.errors import UsageError

# EKS: 1-100 characters, a letter or digit first, then letters, digits, '-' and '_'.
_CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
# us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7 ...
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")

# What `sreshow cost` and `up --platform eks --dry-run` price when no region is set; an
# apply never assumes one (boto3's chain must name it).
DEFAULT_REGION = "us-east-1"
NO_REGION_FIX = "pass --region (e.g. --region eu-west-1) or set AWS_REGION"


def check_cluster_name(name: str) -> str:
    """`name` if EKS would accept it as a cluster name; UsageError saying the rule if not."""
    if not _CLUSTER_NAME.fullmatch(name):
        raise UsageError(
            f"cluster name {name!r}: EKS names are 1-100 letters, digits, '-' or '_', "
            "starting with a letter or digit; give the cluster's name as `aws eks "
            "list-clusters` shows it"
        )
    return name


def check_region(region: str, *, source: str = "--region") -> str:
    """`region` if it reads like an AWS region name; UsageError naming `source` if not."""
    if not _REGION.fullmatch(region):
        raise UsageError(
            f"{source} {region!r}: not an AWS region name; give one like eu-west-1 or us-east-1"
        )
    return region


def region_from_env(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The region `--region` or the environment names (AWS_REGION, then
    AWS_DEFAULT_REGION), checked; None when neither does (a profile may still)."""
    if flag is not None:
        return check_region(flag)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if value := env.get(variable, "").strip():
            return check_region(value, source=variable)
    return None


# arn:aws:sts::123456789012:assumed-role/ROLE/SESSION, arn:aws:iam::123456789012:user/NAME
_CALLER_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>[0-9]{12}):"
    r"(?P<kind>user|role|assumed-role)/(?P<rest>.+)"
)


def access_entry_principal(caller_arn: str) -> str:
    """The IAM principal an EKS access entry takes for the caller STS names: a user as
    it is, an assumed-role session as its role (`arn:aws:iam::ACCOUNT:role/ROLE`; a role
    with a path must be given whole, the session ARN drops it). UsageError for the root
    user or anything else an access entry refuses."""
    found = _CALLER_ARN.fullmatch(caller_arn)
    if found is None:
        raise UsageError(
            f"the AWS caller {caller_arn} cannot be given access to the cluster (EKS access "
            "entries take an IAM user or role, not the account's root user); use an IAM "
            "user's or role's credentials"
        )
    name = found["rest"].split("/")[0] if found["kind"] == "assumed-role" else found["rest"]
    kind = "role" if found["kind"] == "assumed-role" else found["kind"]
    return f"arn:{found['partition']}:iam::{found['account']}:{kind}/{name}"
