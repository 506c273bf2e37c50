"""The eks platform's readiness: a Terraform or OpenTofu binary, AWS credentials and
region, the pre-flight checks the apply would make (zones, Elastic IPs, spot vCPU
quota, a free cluster name), and whether the apply itself is there yet."""

from __future__ import annotations

from collections.abc import Iterator

from sreshow.doctor.model import Check, Inspection
from sreshow.errors import SreshowError, UsageError

APPLY_NOT_BUILT = Check.failed(
    "eks apply",
    "not built yet (issue #16): `up --platform eks` changes nothing and says so",
    "use `sreshow up --platform eks --dry-run` and `sreshow cost` to show the plan and its "
    "price; run the show on `local` or `kubernetes`",
)

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
    """The binary, the AWS account's readiness, then the apply."""
    yield terraform_binary(inspection)
    yield from aws_readiness()
    yield APPLY_NOT_BUILT


def terraform_binary(inspection: Inspection) -> Check:
    from sreshow.adapters.terraform import locate_binary

    try:
        binary = locate_binary(inspection.settings)
    except SreshowError as e:
        return Check.failed("terraform", str(e), "install terraform >= 1.5 or OpenTofu >= 1.6")
    return Check.passed("terraform", str(binary))


def aws_readiness() -> Iterator[Check]:
    """The pre-flight checks `up` runs before its apply; one failing line when no session
    can be made (no region, no credentials). A check AWS cannot answer passes as
    unknown: it would not stop the apply either."""
    from sreshow.adapters.aws.preflight import preflight_checks
    from sreshow.adapters.aws.session import AwsSession
    from sreshow.adapters.eks.configuration import read_configuration

    try:
        aws = AwsSession.connect()
    except SreshowError as e:
        yield Check.failed("AWS account", str(e), SESSION_FIX)
        return
    cluster = str(read_configuration().default("name"))
    for found in preflight_checks(aws, cluster):
        if found.ok is False:
            yield Check.failed(found.check, found.detail, found.fix or "see docs/eks.md")
        elif found.ok is None:
            yield Check.passed(found.check, f"unknown: {found.detail}")
        else:
            yield Check.passed(found.check, found.detail)
