"""The shipped Terraform configuration, read without Terraform: what `up --dry-run`
lists when no provider can plan (no credentials, no network, nothing changed).

The `.tf` files are parsed with python-hcl2. Each resource block is counted with its
`count` resolved where the configuration makes that possible without a plan (a
number, or `length(var.X)` of a variable's default); anything else is shown as `UNRESOLVED_COUNT`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from sreshow.errors import UsageError
from sreshow.settings import ENV_EKS_TERRAFORM_DIR

_LENGTH_OF_VARIABLE = re.compile(r"^\$\{length\(var\.(\w+)\)\}$")
# Resource types as a user reads them in the list (others show their type).
_LABELS = {
    "aws_vpc": "VPC",
    "aws_subnet": "subnet",
    "aws_internet_gateway": "internet gateway",
    "aws_nat_gateway": "NAT gateway",
    "aws_eip": "Elastic IP",
    "aws_route_table": "route table",
    "aws_route_table_association": "route table association",
    "aws_route": "route",
    "aws_eks_cluster": "EKS cluster",
    "aws_eks_node_group": "managed node group",
    "aws_eks_addon": "EKS add-on",
    "aws_eks_access_entry": "EKS access entry",
    "aws_eks_access_policy_association": "EKS access policy",
    "aws_iam_role": "IAM role",
    "aws_iam_policy": "IAM policy",
    "aws_iam_role_policy_attachment": "IAM policy attachment",
    "aws_iam_openid_connect_provider": "OIDC provider (IRSA)",
    "aws_lb": "load balancer",
    "aws_lb_listener": "load balancer listener",
    "aws_lb_target_group": "target group",
    "aws_autoscaling_attachment": "target group attachment",
    "aws_security_group": "security group",
    "aws_vpc_security_group_ingress_rule": "security group rule (in)",
    "aws_vpc_security_group_egress_rule": "security group rule (out)",
    "aws_security_group_rule": "security group rule",
    "aws_launch_template": "launch template",
    "aws_iam_role_policy": "IAM inline policy",
    "aws_default_security_group": "default security group (emptied)",
    "aws_autoscaling_group_tag": "Auto Scaling group tag",
    "aws_cloudwatch_log_group": "log group (only with control-plane logs on)",
}
UNRESOLVED_COUNT = "per plan"


@dataclass(frozen=True)
class PlannedResource:
    """One resource block: its address, how many it makes ("1+" when a plan decides)."""

    address: str
    label: str
    count: str
    file: str


@dataclass(frozen=True)
class Configuration:
    directory: Path
    resources: tuple[PlannedResource, ...]
    variables: Mapping[str, Any]  # name -> default (None when it has none)

    def default(self, name: str) -> Any:
        return self.variables.get(name)


def shipped_directory() -> Path:
    """The shipped `terraform/` (in the wheel as `sreshow/terraform_files`; in a checkout,
    the repository's)."""
    packaged = Path(str(resources.files("sreshow"))) / "terraform_files"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[4] / "terraform"


def configured_directory(env: Mapping[str, str]) -> Path:
    """The configuration the eks platform applies: `SRESHOW_EKS_TERRAFORM_DIR` (checked
    to hold .tf files) or the shipped one."""
    given = env.get(ENV_EKS_TERRAFORM_DIR, "").strip()
    if not given:
        return shipped_directory()
    directory = Path(given).expanduser()
    if not any(directory.glob("*.tf")):
        raise UsageError(
            f"{ENV_EKS_TERRAFORM_DIR}={given}: no Terraform files (*.tf) there; point it "
            "at a configuration with the shipped terraform/'s variables and outputs, or "
            "unset it"
        )
    return directory


@cache
def read_configuration(directory: Path | None = None) -> Configuration:
    """The resources and variables of the `.tf` files in `directory` (default: shipped)."""
    import hcl2
    from hcl2 import SerializationOptions

    directory = directory or shipped_directory()
    files = sorted(directory.glob("*.tf"))
    if not files:
        raise UsageError(f"{directory}: no Terraform files (*.tf) found; reinstall sreshow")
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    blocks: list[tuple[str, dict[str, Any]]] = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            try:
                blocks.append((path.name, hcl2.load(handle, serialization_options=options)))
            except Exception as e:  # lark's errors have no common base worth naming
                raise UsageError(f"{path}: not valid HCL ({e}); restore the shipped file") from e
    variables = {
        name: body.get("default")
        for _, parsed in blocks
        for variable in parsed.get("variable", [])
        for name, body in variable.items()
    }
    planned = tuple(
        PlannedResource(
            address=f"{kind}.{name}",
            label=_LABELS.get(kind, kind),
            count=_count(body, variables),
            file=file,
        )
        for file, parsed in blocks
        for resource in parsed.get("resource", [])
        for kind, named in resource.items()
        for name, body in named.items()
    )
    return Configuration(directory, planned, variables)


def _count(body: Mapping[str, Any], variables: Mapping[str, Any]) -> str:
    for key in ("count", "for_each"):
        if key not in body:
            continue
        value = body[key]
        if isinstance(value, int):
            return str(value)
        if isinstance(value, list | dict):
            return str(len(value))
        match = _LENGTH_OF_VARIABLE.match(str(value))
        default = variables.get(match.group(1)) if match else None
        return str(len(default)) if isinstance(default, list | dict) else UNRESOLVED_COUNT
    return "1"
