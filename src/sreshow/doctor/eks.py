"""The eks platform's readiness: a Terraform or OpenTofu binary, AWS credentials and
region, the pre-flight checks the apply would make (zones, Elastic IPs, spot vCPU
quota, a free cluster name), and the addresses the cluster will admit."""

from __future__ import annotations

from collections.abc import Iterator

from sreshow.doctor.model import Check, Inspection
from sreshow.errors import SreshowError, UsageError

SESSION_FIX = (
    "set AWS_REGION and credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    'AWS_SECRET_ACCESS_KEY); docs/eks.md, "Before you apply"'
)


def validate(inspection: Inspection) -> None:
    """Refuse --port, as `up --platform eks` does (exit 2)."""
    if inspection.port is not None:
        raise UsageError(
            "--port is not for the eks platform: the app is reached through the load "
            "balancer Terraform creates (leave --port out)"
        )


def checks(inspection: Inspection) -> Iterator[Check]:
    """The binary, the AWS account's readiness, the addresses let in."""
    yield terraform_binary(inspection)
    yield from aws_readiness(inspection)
    yield allowed_addresses(inspection)


def terraform_binary(inspection: Inspection) -> Check:
    from sreshow.adapters.terraform import locate_binary

    try:
        binary = locate_binary(inspection.settings)
    except SreshowError as e:
        return Check.failed("terraform", str(e), "install terraform >= 1.5 or OpenTofu >= 1.6")
    return Check.passed("terraform", str(binary))


def allowed_addresses(inspection: Inspection) -> Check:
    """What `SRESHOW_EKS_ALLOWED_CIDRS` lets reach the API and the app, checked as `up`
    checks it; unset, `up` asks for this machine's public address (not asked here)."""
    from sreshow.adapters.eks.addresses import allowed_cidrs
    from sreshow.settings import ENV_EKS_ALLOWED_CIDRS

    name = "allowed addresses"
    if not inspection.settings.env.get(ENV_EKS_ALLOWED_CIDRS, "").strip():
        return Check.passed(
            name,
            f"this machine's public address /32, asked at `up` ({ENV_EKS_ALLOWED_CIDRS} "
            "sets others)",
        )
    try:
        cidrs = allowed_cidrs(inspection.settings.env)
    except UsageError as e:
        return Check.failed(name, str(e), f"fix or unset {ENV_EKS_ALLOWED_CIDRS}")
    return Check.passed(name, f"{', '.join(cidrs)} ({ENV_EKS_ALLOWED_CIDRS})")


def aws_readiness(inspection: Inspection) -> Iterator[Check]:
    """The pre-flight checks `up` runs before its apply; one failing line when no session
    can be made (no region, no credentials). A check AWS cannot answer passes as
    unknown: it would not stop the apply either."""
    from sreshow.adapters.aws.preflight import preflight_checks
    from sreshow.adapters.aws.session import AwsSession
    from sreshow.adapters.eks.configuration import configured_directory, read_configuration

    try:
        aws = AwsSession.connect()
    except SreshowError as e:
        yield Check.failed("AWS account", str(e), SESSION_FIX)
        return
    try:
        configuration = read_configuration(configured_directory(inspection.settings.env))
    except SreshowError as e:
        yield Check.failed("configuration", str(e), "fix or unset SRESHOW_EKS_TERRAFORM_DIR")
        return
    cluster = str(configuration.default("name"))
    for found in preflight_checks(aws, cluster):
        if found.ok is False:
            yield Check.failed(found.check, found.detail, found.fix or "see docs/eks.md")
        elif found.ok is None:
            yield Check.passed(found.check, f"unknown: {found.detail}")
        else:
            yield Check.passed(found.check, found.detail)
