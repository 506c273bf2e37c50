"""What the AWS API can tell before a 15-minute apply that would fail half-way: who the
credentials are, enough availability zones, an Elastic IP free for the NAT gateway, spot
vCPU quota for the node group, no cluster of the same name. A check the API cannot
answer (no permission, an API a server does not implement) is unknown (`ok` None),
never a failure: the apply may still work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sreshow.adapters.aws import MANAGED_BY_SRESHOW, TAG_MANAGED_BY, TAG_RUN_ID
from sreshow.adapters.aws.eks import describe_cluster
from sreshow.adapters.aws.session import AwsError

if TYPE_CHECKING:
    from sreshow.adapters.aws.session import AwsSession

# Service Quotas codes (service `ec2`) and AWS's default for the first.
ELASTIC_IP_QUOTA = "L-0263D0A3"  # EC2-VPC Elastic IPs
ELASTIC_IP_DEFAULT = 5
SPOT_VCPU_QUOTA = "L-34B43A08"  # All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests
# The seed's stack: one NAT gateway (one EIP), two AZs, up to 3 t3.small spot (2 vCPUs each).
ELASTIC_IPS_NEEDED = 1
ZONES_NEEDED = 2
SPOT_VCPUS_NEEDED = 6


@dataclass(frozen=True)
class PreflightCheck:
    """One check's outcome: `ok` True passed, False would fail the apply, None unknown;
    `fix` says what to do when it is not True."""

    check: str
    ok: bool | None
    detail: str
    fix: str | None = None


def preflight_checks(
    aws: AwsSession,
    cluster_name: str,
    *,
    spot_vcpus_needed: int = SPOT_VCPUS_NEEDED,
) -> tuple[PreflightCheck, ...]:
    """Every check, in the order a reader expects; none raises for an AWS error."""
    return (
        check_caller_identity(aws),
        check_availability_zones(aws),
        check_elastic_ips(aws),
        check_spot_vcpus(aws, spot_vcpus_needed),
        check_cluster_name_free(aws, cluster_name),
    )


def check_caller_identity(aws: AwsSession) -> PreflightCheck:
    name = "AWS credentials"
    try:
        me = aws.whoami()
    except AwsError as e:
        return PreflightCheck(name, False, str(e), "see the message: refresh or grant, retry")
    return PreflightCheck(name, True, f"account {me.account} as {me.arn} in {me.region}")


def check_availability_zones(aws: AwsSession) -> PreflightCheck:
    name = "availability zones"
    try:
        zones = aws.call(
            "ec2",
            "describe_availability_zones",
            Filters=[{"Name": "state", "Values": ["available"]}],
        )["AvailabilityZones"]
    except AwsError as e:
        return _unknown(name, e, "the VPC needs 2 zones")
    names = sorted(str(zone["ZoneName"]) for zone in zones)
    if len(names) >= ZONES_NEEDED:
        return PreflightCheck(name, True, f"{len(names)} available in {aws.region}")
    return PreflightCheck(
        name,
        False,
        f"{len(names)} available in {aws.region} ({', '.join(names) or 'none'}); "
        f"the VPC spans {ZONES_NEEDED}",
        "pick a region with at least 2 availability zones (--region)",
    )


def check_elastic_ips(aws: AwsSession) -> PreflightCheck:
    name = "Elastic IPs"
    try:
        in_use = len(aws.call("ec2", "describe_addresses")["Addresses"])
    except AwsError as e:
        return _unknown(name, e, "the NAT gateway needs 1")
    quota, source = _elastic_ip_quota(aws)
    detail = f"{in_use} of {quota} in use ({source}); the NAT gateway needs {ELASTIC_IPS_NEEDED}"
    if in_use + ELASTIC_IPS_NEEDED <= quota:
        return PreflightCheck(name, True, detail)
    return PreflightCheck(
        name,
        False,
        detail,
        "release an unused one (`aws ec2 describe-addresses`, then release-address) or ask "
        f"for more: Service Quotas, Amazon EC2, 'EC2-VPC Elastic IPs' ({ELASTIC_IP_QUOTA})",
    )


def check_spot_vcpus(aws: AwsSession, needed: int = SPOT_VCPUS_NEEDED) -> PreflightCheck:
    name = "spot vCPU quota"
    value, source = _quota(aws, "ec2", SPOT_VCPU_QUOTA)
    increase = (
        f"Service Quotas, Amazon EC2, 'All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance "
        f"Requests' ({SPOT_VCPU_QUOTA}): at least {needed}"
    )
    if value is None:
        return PreflightCheck(
            name,
            None,
            f"unknown: {source}; the node group needs {needed} spot vCPUs (3 t3.small)",
            f"check it yourself: {increase}",
        )
    detail = f"{value:g} vCPUs ({source}); the node group needs {needed} (3 t3.small)"
    if value >= needed:
        return PreflightCheck(name, True, detail)
    return PreflightCheck(name, False, detail, f"ask for more: {increase}")


def check_cluster_name_free(aws: AwsSession, cluster_name: str) -> PreflightCheck:
    name = "cluster name"
    try:
        cluster = describe_cluster(aws, cluster_name)
    except AwsError as e:
        if e.code == "ResourceNotFoundException":
            return PreflightCheck(name, True, f"no EKS cluster {cluster_name} in {aws.region}")
        return _unknown(name, e, f"a cluster {cluster_name} would clash")
    tags = dict(cluster.tags)
    if tags.get(TAG_MANAGED_BY) == MANAGED_BY_SRESHOW:
        origin = f"left by sreshow run {tags.get(TAG_RUN_ID, '(no run id)')}"
        fix = "`sreshow down` removes it (or `sreshow eks-orphans` lists what is left)"
    else:
        origin = "not made by sreshow"
        fix = "pick another cluster name; sreshow never touches a cluster it did not make"
    return PreflightCheck(
        name,
        False,
        f"an EKS cluster {cluster_name} already exists in {aws.region} "
        f"({cluster.status}, {origin})",
        fix,
    )


def _unknown(name: str, error: AwsError, why_it_matters: str) -> PreflightCheck:
    return PreflightCheck(
        name,
        None,
        f"unknown: {error.service} {error.operation} answered {error.code}; {why_it_matters}",
        "give the credentials read access to it, or check it in the AWS console",
    )


def _quota(aws: AwsSession, service: str, code: str) -> tuple[float | None, str]:
    """The quota's applied value, else AWS's default for it, with where it came from;
    (None, why) when Service Quotas answers neither."""
    try:
        answer = aws.call(
            "service-quotas", "get_service_quota", ServiceCode=service, QuotaCode=code
        )
        return float(answer["Quota"]["Value"]), "applied quota from Service Quotas"
    except AwsError as e:
        applied_error = e  # some quotas only have a default value there
    try:
        answer = aws.call(
            "service-quotas", "get_aws_default_service_quota", ServiceCode=service, QuotaCode=code
        )
        return float(answer["Quota"]["Value"]), "AWS default from Service Quotas"
    except AwsError as e:
        return None, (
            f"Service Quotas did not answer for {code} ({applied_error.operation}: "
            f"{applied_error.code}; {e.operation}: {e.code})"
        )


def _elastic_ip_quota(aws: AwsSession) -> tuple[int, str]:
    """The Elastic IP quota: Service Quotas, else EC2's account attribute, else AWS's
    default of 5, with where it came from."""
    value, source = _quota(aws, "ec2", ELASTIC_IP_QUOTA)
    if value is not None:
        return int(value), source
    try:
        attributes = aws.call(
            "ec2", "describe_account_attributes", AttributeNames=["vpc-max-elastic-ips"]
        )["AccountAttributes"]
        return int(attributes[0]["AttributeValues"][0]["AttributeValue"]), (
            "EC2 account attribute vpc-max-elastic-ips; Service Quotas did not answer"
        )
    except (AwsError, LookupError, ValueError):
        return ELASTIC_IP_DEFAULT, f"AWS's default, assumed: {source}"
