"""`terraform/` checked against the AWS provider's real schema, without the provider.

What `terraform validate` would refuse by the provider's schema, found from the parsed
HCL and the schema cdktf generated from hashicorp/aws (tests/terraform/provider_schema.py):
a resource or data source type the provider lacks, an argument or block name it does not
know (recursively, `dynamic` blocks by their label), a required argument or block left
out, an argument written as a block or a block as an argument, and a second block where
one is allowed. Expressions, types and values are not checked: that needs the provider.

Unmarked: the `terraform` marker means "needs terraform or tofu", and this check runs
neither. It does need the cached schema, which `python -m tests.terraform.provider_schema`
fetches: without it a test fails under CI=true and skips elsewhere, naming the command.
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest
from hcl2 import SerializationOptions

from tests.terraform.provider_schema import (
    DATA_META,
    PROVIDER_META,
    RESOURCE_META,
    ProviderSchema,
    provider_schema,
    schema_problems,
    unknown_name,
)

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
# explicit_blocks marks block bodies (`__is_block__`): without it `vpc_config { ... }`
# and `vpc_config = [{ ... }]` read the same.
_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)


@pytest.fixture
def schema() -> ProviderSchema:
    return provider_schema()


def configuration_problems(files: dict[str, str], schema: ProviderSchema) -> list[str]:
    """`file:address: problem` for every resource, data source and aws provider block."""
    problems: list[str] = []
    for file_name, text in sorted(files.items()):
        parsed = hcl2.loads(text, serialization_options=_OPTIONS)
        for kind, types, meta, prefix in (
            ("resource", schema.resources, RESOURCE_META, ""),
            ("data", schema.data_sources, DATA_META, "data."),
        ):
            for entry in parsed.get(kind, []):
                for block_type, named in entry.items():
                    for name, body in named.items():
                        if name == "__is_block__" or not block_type.startswith("aws_"):
                            continue  # terraform_data and other providers: not ours
                        address = f"{file_name}:{prefix}{block_type}.{name}"
                        if block_type not in types:
                            problems.append(
                                f"{address}: hashicorp/aws {schema.provider_version} has no "
                                f"{kind} type {block_type}"
                            )
                            continue
                        problems.extend(
                            f"{address}: {p}"
                            for p in schema_problems(body, types[block_type], meta)
                        )
        for entry in parsed.get("provider", []):
            body = entry.get("aws")
            if isinstance(body, dict):
                problems.extend(
                    f"{file_name}:provider.aws: {p}"
                    for p in schema_problems(body, schema.provider, PROVIDER_META)
                )
    return problems


def terraform_files() -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted(TERRAFORM_DIR.glob("*.tf"))}


# --- the shipped configuration -----------------------------------------------------


def test_terraform_dir_matches_the_aws_provider_schema(schema: ProviderSchema) -> None:
    files = terraform_files()
    assert files, f"no .tf file under {TERRAFORM_DIR}"

    problems = configuration_problems(files, schema)

    # Each line is a defect `terraform validate` would report with the real provider.
    assert problems == [], (
        f"terraform/ does not match hashicorp/aws {schema.provider_version}'s schema "
        f"({len(problems)} problems):\n" + "\n".join(problems)
    )


def test_the_parse_sees_every_resource_and_data_block_the_text_declares() -> None:
    """The check covers what ships: no block is lost between the text and the parse."""
    declared = parsed = 0
    for text in terraform_files().values():
        declared += len(re.findall(r'^(?:resource|data) "aws_', text, flags=re.MULTILINE))
        tree = hcl2.loads(text, serialization_options=_OPTIONS)
        for entry in tree.get("resource", []) + tree.get("data", []):
            parsed += sum(
                len(named) - ("__is_block__" in named)
                for block_type, named in entry.items()
                if block_type.startswith("aws_")
            )

    assert parsed == declared > 30


# --- the check fails on the defects it is for ---------------------------------------


def problems_in(hcl: str, schema: ProviderSchema) -> list[str]:
    return configuration_problems({"main.tf": hcl}, schema)


def test_a_misspelt_argument_is_named_with_the_likely_fix(schema: ProviderSchema) -> None:
    hcl = 'resource "aws_vpc" "main" {\n  cidr_blok = "10.0.0.0/16"\n}\n'

    assert problems_in(hcl, schema) == [
        "main.tf:aws_vpc.main: cidr_blok: no argument or block of this name in the "
        'provider\'s schema (did you mean "cidr_block"?)'
    ]


def test_a_misspelt_name_inside_a_nested_block_is_found(schema: ProviderSchema) -> None:
    hcl = """
resource "aws_eks_cluster" "main" {
  name     = "demo"
  role_arn = "arn:aws:iam::1:role/x"
  vpc_config {
    subnet_ids              = ["a"]
    endpoint_private_acces  = true
  }
}
"""
    (problem,) = problems_in(hcl, schema)

    assert problem.startswith("main.tf:aws_eks_cluster.main: vpc_config.endpoint_private_acces:")
    assert '"endpoint_private_access"' in problem


def test_missing_required_arguments_and_blocks_are_reported(schema: ProviderSchema) -> None:
    hcl = 'resource "aws_eks_cluster" "main" {\n  name = "demo"\n}\n'

    assert problems_in(hcl, schema) == [
        "main.tf:aws_eks_cluster.main: role_arn: required argument missing",
        "main.tf:aws_eks_cluster.main: vpc_config: required block missing",
    ]


def test_a_block_written_as_an_argument_and_the_reverse_are_reported(
    schema: ProviderSchema,
) -> None:
    hcl = """
resource "aws_autoscaling_group_tag" "x" {
  autoscaling_group_name = "asg"
  tag = { key = "k", value = "v", propagate_at_launch = false }
}
resource "aws_vpc" "main" {
  tags {
    Name = "x"
  }
}
"""
    assert problems_in(hcl, schema) == [
        "main.tf:aws_autoscaling_group_tag.x: tag is a block: write `tag { ... }`, not `tag = ...`",
        "main.tf:aws_vpc.main: tags is an argument: write `tags = ...`, not a block",
    ]


def test_a_second_block_where_one_is_allowed_is_reported(schema: ProviderSchema) -> None:
    hcl = """
resource "aws_eks_access_policy_association" "x" {
  cluster_name  = "c"
  principal_arn = "p"
  policy_arn    = "a"
  access_scope {
    type = "cluster"
  }
  access_scope {
    type = "namespace"
  }
}
"""
    assert problems_in(hcl, schema) == [
        "main.tf:aws_eks_access_policy_association.x: access_scope: at most one "
        "access_scope block is allowed, found 2"
    ]


def test_dynamic_blocks_are_checked_by_their_label(schema: ProviderSchema) -> None:
    hcl = """
data "aws_iam_policy_document" "x" {
  dynamic "statement" {
    for_each = ["a"]
    content {
      actions = ["s3:GetObject"]
      efect   = "Allow"
    }
  }
  dynamic "statment" {
    for_each = []
    content {}
  }
}
"""
    assert problems_in(hcl, schema) == [
        "main.tf:data.aws_iam_policy_document.x: statement.efect: "
        + unknown_name(
            "efect", schema.data_sources["aws_iam_policy_document"].blocks["statement"].schema
        ),
        'main.tf:data.aws_iam_policy_document.x: dynamic "statment": '
        + unknown_name("statment", schema.data_sources["aws_iam_policy_document"]),
    ]


def test_meta_arguments_are_allowed_and_unknown_types_reported(schema: ProviderSchema) -> None:
    hcl = """
resource "aws_vpc" "main" {
  count      = 1
  depends_on = []
  provider   = aws.other
  lifecycle {
    prevent_destroy = true
  }
}
data "aws_vpcs" "all" {
  for_each = {}
}
resource "aws_eks_clusters" "typo" {}
resource "terraform_data" "not_aws" {
  anything = 1
}
"""
    assert problems_in(hcl, schema) == [
        f"main.tf:aws_eks_clusters.typo: hashicorp/aws {schema.provider_version} has no "
        "resource type aws_eks_clusters"
    ]


def test_nested_attributes_may_be_written_either_way(schema: ProviderSchema) -> None:
    """aws_default_security_group's ingress/egress are "attributes as blocks"."""
    hcl = """
resource "aws_default_security_group" "a" {
  vpc_id  = "v"
  ingress = []
}
resource "aws_default_security_group" "b" {
  vpc_id = "v"
  egress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
  }
}
"""
    assert problems_in(hcl, schema) == []


def test_the_provider_block_is_checked(schema: ProviderSchema) -> None:
    hcl = 'provider "aws" {\n  regoin = "eu-west-1"\n  default_tags {\n    tags = {}\n  }\n}\n'

    (problem,) = problems_in(hcl, schema)

    assert problem.startswith("main.tf:provider.aws: regoin:")
    assert '"region"' in problem


def test_the_schema_is_a_provider_version_versions_tf_allows(schema: ProviderSchema) -> None:
    """A schema outside the configuration's provider constraint checks the wrong thing."""
    parsed = hcl2.loads(terraform_files()["versions.tf"], serialization_options=_OPTIONS)
    (terraform,) = parsed["terraform"]
    (required,) = terraform["required_providers"]
    constraint = required["aws"]["version"]

    assert allows(constraint, schema.provider_version), (
        f"versions.tf allows hashicorp/aws {constraint}, the schema is "
        f"{schema.provider_version}: move PACKAGE_VERSION in provider_schema.py"
    )


def allows(constraint: str, version: str) -> bool:
    """Terraform's version constraint syntax (`>= 5.61, < 7.0`, `~> 6.0`, `= 6.25.0`)."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split("."))

    have = parts(version)
    for clause in constraint.split(","):
        match = re.fullmatch(r"\s*(>=|<=|!=|~>|>|<|=)?\s*([\d.]+)\s*", clause)
        assert match, f"cannot read version constraint {clause!r}"
        operator, bound = match[1] or "=", parts(match[2])
        padded = have[: len(bound)] + (0,) * (len(bound) - len(have))
        checks = {
            ">=": have >= bound,
            ">": have > bound,
            "<=": padded <= bound,
            "<": have < bound,
            "=": padded == bound,
            "!=": padded != bound,
            "~>": have >= bound and have[: len(bound) - 1] == bound[:-1],
        }
        if not checks[operator]:
            return False
    return True


def test_version_constraints_are_read_as_terraform_reads_them() -> None:
    assert allows(">= 5.61, < 7.0", "6.25.0")
    assert not allows(">= 5.61, < 6.0", "6.25.0")
    assert allows("~> 6.0", "6.25.0")
    assert not allows("~> 6.25.1", "6.25.0")
    assert not allows("~> 5.0", "6.25.0")
    assert allows("= 6.25.0", "6.25.0")
