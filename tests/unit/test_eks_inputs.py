"""What `up --platform eks` derives before a plan, with no AWS: the access entry's
principal from the caller's ARN, the allowed CIDRs from SRESHOW_EKS_ALLOWED_CIDRS, the
run id and the expiry tag, the Terraform variables a run passes; and Terraform's
progress as lines for piped output."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest
from rich.console import Console

from sreshow.adapters.aws.names import access_entry_principal
from sreshow.adapters.eks.addresses import allowed_cidrs
from sreshow.adapters.eks.lifecycle import PLACEHOLDER_OUTPUTS
from sreshow.adapters.eks.run import EksRun, expiry_timestamp, new_run_id
from sreshow.adapters.kubernetes.overlay import EKS_PLACEHOLDERS
from sreshow.cli.terraform_view import PrintedProgress
from sreshow.core.terraform_ui import ApplyProgress, fold_lines
from sreshow.errors import UsageError


def test_the_lifecycle_fills_every_placeholder_the_overlay_declares() -> None:
    assert set(PLACEHOLDER_OUTPUTS) == set(EKS_PLACEHOLDERS)


@pytest.mark.parametrize(
    ("caller", "principal"),
    [
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com",
            "arn:aws:iam::123456789012:role/Admin",
        ),
        ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"),
        ("arn:aws:iam::123456789012:user/team/bob", "arn:aws:iam::123456789012:user/team/bob"),
        (
            "arn:aws-cn:sts::123456789012:assumed-role/Ops/session",
            "arn:aws-cn:iam::123456789012:role/Ops",
        ),
    ],
)
def test_the_access_entry_takes_the_callers_user_or_role(caller: str, principal: str) -> None:
    assert access_entry_principal(caller) == principal


@pytest.mark.parametrize(
    "caller", ["arn:aws:iam::123456789012:root", "arn:aws:sts::123456789012:federated-user/x"]
)
def test_a_caller_an_access_entry_refuses_is_named_with_the_fix(caller: str) -> None:
    with pytest.raises(UsageError, match="IAM user or role") as error:
        access_entry_principal(caller)
    assert caller in str(error.value)


def test_allowed_cidrs_are_read_from_the_variable_and_normalised() -> None:
    env = {"SRESHOW_EKS_ALLOWED_CIDRS": " 203.0.113.7/32, 198.51.100.0/24 ,"}

    assert allowed_cidrs(env) == ("203.0.113.7/32", "198.51.100.0/24")


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("0.0.0.0/0", "whole internet"),
        ("2001:db8::/32", "IPv6"),
        ("203.0.113.7/24", "not a CIDR"),  # host bits set: a typo, not a range
        ("laptop", "not a CIDR"),
    ],
)
def test_a_bad_allowed_cidr_is_refused_by_name(given: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as error:
        allowed_cidrs({"SRESHOW_EKS_ALLOWED_CIDRS": given})
    assert "SRESHOW_EKS_ALLOWED_CIDRS" in str(error.value)


def test_a_run_id_is_dated_unique_and_fits_the_tag_rule() -> None:
    now = datetime(2026, 12, 5, 10, 15, tzinfo=UTC).timestamp()

    first, second = new_run_id(now), new_run_id(now)

    assert first.startswith("sreshow-20261205-101500-")
    assert first != second
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", first)  # terraform/'s validation


def test_the_expiry_tag_is_rfc3339_utc_or_empty() -> None:
    now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC).timestamp()

    assert expiry_timestamp(45 * 60, now) == "2026-12-05T10:45:00Z"
    assert expiry_timestamp(None, now) == ""


def test_a_run_passes_the_same_cidrs_for_the_api_and_the_app() -> None:
    run = EksRun(
        run_id="sreshow-1",
        region="eu-west-1",
        cluster_name="sreshow",
        owner="arn:aws:iam::123456789012:user/alice",
        admin_principal_arn="arn:aws:iam::123456789012:user/alice",
        allowed_cidrs=("203.0.113.7/32",),
        nodes=2,
        started_at=0.0,
    )

    variables = run.variables()

    assert variables["api_allowed_cidrs"] == variables["app_allowed_cidrs"] == ["203.0.113.7/32"]
    assert variables["expires_at"] == ""
    assert set(variables) == {
        "region",
        "name",
        "run_id",
        "owner",
        "expires_at",
        "admin_principal_arn",
        "api_allowed_cidrs",
        "app_allowed_cidrs",
    }


VERSION = {"type": "version", "terraform": "1.11.4", "ui": "1.2"}
VPC = {"resource": {"addr": "aws_vpc.main"}, "action": "create"}
PLAN = [
    VERSION,
    {"type": "planned_change", "change": VPC},
    {
        "type": "change_summary",
        "changes": {"add": 1, "change": 0, "remove": 0, "import": 0, "operation": "plan"},
    },
]
APPLY = [
    VERSION,
    {"type": "planned_change", "change": VPC},
    {"type": "apply_start", "hook": VPC},
    {"type": "apply_complete", "hook": VPC | {"elapsed_seconds": 3}},
]


def test_piped_progress_prints_the_plan_once_then_each_resource_once() -> None:
    out = io.StringIO()
    printed = PrintedProgress(Console(file=out, width=200))

    for operation, messages in (("plan", PLAN), ("apply", APPLY)):
        state = ApplyProgress(operation)
        for message in messages:
            state = fold_lines(state, [json.dumps(message)])
            printed(state)

    assert out.getvalue().splitlines() == [
        "Plan: 1 to add, 0 to change, 0 to destroy.",
        "aws_vpc.main: created after 3 s (1/1)",
    ]
