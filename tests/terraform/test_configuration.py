"""The static tier of `terraform/`: the seed's numbers, the security it promises, and the
real tools' verdicts (`terraform fmt`, checkov, the variables' validations).

The seed's numbers are read from the parsed HCL (python-hcl2, no terraform needed) and
asserted as values a plan would use, so changing a CIDR, a size or the instance type
fails here. The tests marked `terraform` run the real binaries; `terraform validate`
and plans of the whole configuration need the AWS provider, which cannot be downloaded
here (the opt-in `slow` tier builds it).
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.configuration import (
    TERRAFORM_DIR,
    Configuration,
    block,
    configuration,
    offline_env,
    overlay_objects,
    plan_errors,
    skip_comments,
)
from tests.tools import checkov_findings, require_tool

SEED_TAG_KEYS = {"managed-by", "sreshow/owner", "sreshow/run-id", "sreshow/expires-at"}
CHECKOV_CONFIG = TERRAFORM_DIR / ".checkov.yaml"
# A skip names one check and says why in a readable sentence.
CHECK_ID = re.compile(r"CKV2?_AWS_\d+")
MIN_REASON_LENGTH = 30


@pytest.fixture
def config() -> Configuration:
    return configuration()


# --- the seed's network ------------------------------------------------------------


def test_vpc_is_the_seeds_10_0_0_0_16(config: Configuration) -> None:
    (vpc,) = config.of_type("aws_vpc").values()

    assert config.resolve(vpc["cidr_block"]) == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True


def test_two_public_and_two_private_20s_one_of_each_per_zone(config: Configuration) -> None:
    public = config.per_instance("aws_subnet.public", "cidr_block")
    private = config.per_instance("aws_subnet.private", "cidr_block")

    assert public == ["10.0.0.0/20", "10.0.16.0/20"]
    assert private == ["10.0.32.0/20", "10.0.48.0/20"]
    assert set(config.of_type("aws_subnet")) == {"aws_subnet.public", "aws_subnet.private"}
    vpc = ipaddress.IPv4Network(config.resolve(config.resource("aws_vpc.main")["cidr_block"]))
    networks = [ipaddress.IPv4Network(c) for c in public + private]
    assert all(n.subnet_of(vpc) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    # Two zones: the first two available ones, public[i] and private[i] in zone i.
    assert config.locals["availability_zones"] == (
        "${slice(data.aws_availability_zones.available.names, 0, 2)}"
    )
    for kind in ("public", "private"):
        zone = config.resource(f"aws_subnet.{kind}")["availability_zone"]
        assert zone == "${local.availability_zones[count.index]}"


def test_subnets_are_tagged_for_kubernetes_load_balancers_and_give_no_public_ips(
    config: Configuration,
) -> None:
    roles = {"public": "kubernetes.io/role/elb", "private": "kubernetes.io/role/internal-elb"}
    for kind, role in roles.items():
        subnet = config.resource(f"aws_subnet.{kind}")
        other = roles["private" if kind == "public" else "public"]
        assert subnet["map_public_ip_on_launch"] is False
        assert f'"{role}" = "1"' in subnet["tags"]
        assert f'"{other}"' not in subnet["tags"]
        assert subnet["tags"].startswith("${merge(local.cluster_subnet_tag,")
    assert config.locals["cluster_subnet_tag"] == {"kubernetes.io/cluster/${var.name}": "shared"}


def test_one_nat_gateway_with_one_elastic_ip_in_the_first_public_subnet(
    config: Configuration,
) -> None:
    (nat,) = config.of_type("aws_nat_gateway").values()
    (eip,) = config.of_type("aws_eip").values()

    assert not {"count", "for_each"} & (set(nat) | set(eip))
    assert eip["domain"] == "vpc"
    assert nat["allocation_id"] == "${aws_eip.nat.id}"
    assert nat["subnet_id"] == "${aws_subnet.public[0].id}"


def test_public_subnets_route_to_the_internet_gateway_private_ones_to_the_nat(
    config: Configuration,
) -> None:
    routes = {r["route_table_id"]: r for r in config.of_type("aws_route").values()}
    assert routes["${aws_route_table.public.id}"]["gateway_id"] == (
        "${aws_internet_gateway.main.id}"
    )
    assert routes["${aws_route_table.private.id}"]["nat_gateway_id"] == (
        "${aws_nat_gateway.main.id}"
    )
    assert all(r["destination_cidr_block"] == "0.0.0.0/0" for r in routes.values())
    for kind in ("public", "private"):
        association = config.resource(f"aws_route_table_association.{kind}")
        assert association["count"] == 2
        assert association["subnet_id"] == f"${{aws_subnet.{kind}[count.index].id}}"
        assert association["route_table_id"] == f"${{aws_route_table.{kind}.id}}"


# --- the cluster and its nodes ------------------------------------------------------


def test_cluster_version_is_a_variable_defaulting_to_1_35(config: Configuration) -> None:
    cluster = config.resource("aws_eks_cluster.main")

    assert cluster["version"] == "${var.cluster_version}"
    assert config.default("cluster_version") == "1.35"


def test_cluster_access_goes_through_access_entries_for_the_given_principal(
    config: Configuration,
) -> None:
    cluster = config.resource("aws_eks_cluster.main")
    access = block(cluster, "access_config")
    association = config.resource("aws_eks_access_policy_association.admin")

    assert access["authentication_mode"] == "API"
    assert access["bootstrap_cluster_creator_admin_permissions"] is False
    assert config.resource("aws_eks_access_entry.admin")["principal_arn"] == (
        "${var.admin_principal_arn}"
    )
    assert association["policy_arn"].endswith(
        ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    )
    assert block(association, "access_scope") == {"type": "cluster"}
    vpc_config = block(cluster, "vpc_config")
    assert vpc_config["public_access_cidrs"] == "${var.api_allowed_cidrs}"
    assert vpc_config["endpoint_private_access"] is True
    assert vpc_config["subnet_ids"] == "${aws_subnet.private[*].id}"


def test_node_group_is_the_seeds_t3_small_spot_1_2_3_in_the_private_subnets(
    config: Configuration,
) -> None:
    (group,) = config.of_type("aws_eks_node_group").values()
    scaling = block(group, "scaling_config")

    assert [config.resolve(t) for t in group["instance_types"]] == ["t3.small"]
    assert group["capacity_type"] == "SPOT"
    sizes = [config.resolve(scaling[k]) for k in ("min_size", "desired_size", "max_size")]
    assert sizes == [1, 2, 3]
    assert group["subnet_ids"] == "${aws_subnet.private[*].id}"
    # The autoscaler owns the desired size once the group exists.
    assert block(group, "lifecycle")["ignore_changes"] == ["${scaling_config[0].desired_size}"]


def test_nodes_have_no_ssh_no_public_address_and_no_metadata_for_pods(
    config: Configuration,
) -> None:
    group = config.resource("aws_eks_node_group.main")
    template = config.resource("aws_launch_template.node")
    metadata = block(template, "metadata_options")

    assert "remote_access" not in group
    assert not {"key_name", "network_interfaces", "vpc_security_group_ids"} & set(template)
    assert metadata["http_tokens"] == "required"
    assert metadata["http_put_response_hop_limit"] == 1
    assert block(group, "launch_template")["id"] == "${aws_launch_template.node.id}"


def test_autoscaler_role_is_trusted_only_by_its_service_account_and_scoped_to_the_group(
    config: Configuration,
) -> None:
    trust = config.data["aws_iam_policy_document.cluster_autoscaler_assume_role"]
    (statement,) = trust["statement"]
    subject = next(c for c in statement["condition"] if c["variable"].endswith(":sub"))
    policy = config.data["aws_iam_policy_document.cluster_autoscaler"]
    writes = next(s for s in policy["statement"] if s.get("sid") == "ScaleOwnNodeGroup")

    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"] == [
        {"type": "Federated", "identifiers": ["${aws_iam_openid_connect_provider.eks.arn}"]}
    ]
    assert subject["test"] == "StringEquals"
    assert subject["values"] == [
        "system:serviceaccount:${local.cluster_autoscaler_namespace}"
        ":${local.cluster_autoscaler_service_account}"
    ]
    assert config.locals["cluster_autoscaler_namespace"] == "kube-system"
    assert config.locals["cluster_autoscaler_service_account"] == "cluster-autoscaler"
    assert writes["resources"] == ["${local.node_group_asg_arn}"]
    (tag_condition,) = writes["condition"]
    assert tag_condition["variable"] == "aws:ResourceTag/k8s.io/cluster-autoscaler/${var.name}"
    assert tag_condition["values"] == ["owned"]  # the value the group is tagged with, below
    assert config.locals["autoscaler_discovery_tags"] == {
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/${var.name}": "owned",
    }


def test_metrics_server_comes_as_an_eks_add_on_once_nodes_exist(config: Configuration) -> None:
    (addon,) = config.of_type("aws_eks_addon").values()

    assert addon["addon_name"] == "metrics-server"
    assert addon["depends_on"] == ["${aws_eks_node_group.main}"]


# --- the way in --------------------------------------------------------------------


def test_load_balancer_is_a_terraform_owned_nlb_in_the_public_subnets(
    config: Configuration,
) -> None:
    (balancer,) = config.of_type("aws_lb").values()
    (listener,) = config.of_type("aws_lb_listener").values()
    target_group = config.resource("aws_lb_target_group.app")
    attachment = config.resource("aws_autoscaling_attachment.app")

    assert balancer["load_balancer_type"] == "network"
    assert balancer["internal"] is False
    assert balancer["subnets"] == "${aws_subnet.public[*].id}"
    assert (listener["port"], listener["protocol"]) == (80, "TCP")
    assert block(listener, "default_action")["target_group_arn"] == (
        "${aws_lb_target_group.app.arn}"
    )
    assert target_group["target_type"] == "instance"
    assert config.resolve(target_group["port"]) == 30080
    assert attachment["autoscaling_group_name"] == "${local.node_group_asg_name}"


def test_security_groups_admit_port_80_from_the_allowed_cidrs_and_the_nodeport_from_the_lb(
    config: Configuration,
) -> None:
    ingress = config.of_type("aws_vpc_security_group_ingress_rule")
    to_lb = ingress["aws_vpc_security_group_ingress_rule.load_balancer_http"]
    to_nodes = ingress["aws_vpc_security_group_ingress_rule.nodes_from_load_balancer"]
    (egress,) = config.of_type("aws_vpc_security_group_egress_rule").values()

    assert set(ingress) == {
        "aws_vpc_security_group_ingress_rule.load_balancer_http",
        "aws_vpc_security_group_ingress_rule.nodes_from_load_balancer",
    }
    assert not config.of_type("aws_security_group_rule")
    assert to_lb["for_each"] == "${toset(var.app_allowed_cidrs)}"
    assert (to_lb["from_port"], to_lb["to_port"], to_lb["ip_protocol"]) == (80, 80, "tcp")
    assert to_nodes["referenced_security_group_id"] == "${aws_security_group.load_balancer.id}"
    for rule in (to_nodes, egress):
        ports = [config.resolve(rule["from_port"]), config.resolve(rule["to_port"])]
        assert ports == [30080, 30080]
        assert "cidr_ipv4" not in rule
    assert config.resource("aws_default_security_group.main").keys() == {"vpc_id", "tags"}


# --- the whole configuration --------------------------------------------------------


def test_plain_resources_from_the_aws_provider_only(config: Configuration) -> None:
    (versions,) = config.terraform
    (providers,) = versions["required_providers"]

    assert config.modules == {}
    assert set(providers) == {"aws"}
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert versions["required_version"] == ">= 1.5.0"
    types = {address.split(".")[0] for address in [*config.resources, *config.data]}
    assert all(t.startswith("aws_") for t in types), sorted(types)
    # Nothing newer than Terraform 1.5 / OpenTofu 1.6.
    text = "\n".join(config.files.values())
    assert not re.search(r"provider::|^\s*(ephemeral|removed)\s", text, re.MULTILINE)


def test_every_resource_carries_the_sreshow_tags_through_default_tags(
    config: Configuration,
) -> None:
    (default_tags,) = config.providers["aws"]["default_tags"]
    tags = config.locals["tags"]

    assert default_tags["tags"] == "${local.tags}"
    assert set(tags) == SEED_TAG_KEYS
    assert tags["managed-by"] == "sreshow"
    assert tags["sreshow/owner"] == "${var.owner}"
    assert tags["sreshow/run-id"] == "${var.run_id}"
    assert tags["sreshow/expires-at"] == "${var.expires_at}"
    # What default_tags cannot reach: the node group's instances, volumes and its ASG.
    template = config.resource("aws_launch_template.node")
    tagged = {t["resource_type"]: t["tags"] for t in template["tag_specifications"]}
    assert set(tagged) >= {"instance", "volume"}
    assert set(tagged.values()) == {"${local.node_tags}"}
    assert config.locals["node_tags"].startswith("${merge(local.tags,")
    asg_tags = config.resource("aws_autoscaling_group_tag.node_group")
    assert asg_tags["for_each"] == "${merge(local.tags, local.autoscaler_discovery_tags)}"


def test_every_variable_is_described_and_validated(config: Configuration) -> None:
    unchecked = [
        name
        for name, body in config.variables.items()
        if not body.get("description") or not body.get("validation")
    ]
    assert len(config.variables) >= 10
    assert unchecked == []


def test_outputs_give_the_adapter_kubeconfig_and_the_app(config: Configuration) -> None:
    assert set(config.outputs) >= {
        "cluster_name",
        "cluster_endpoint",
        "cluster_certificate_authority",
        "region",
        "vpc_id",
        "node_group_name",
        "load_balancer_dns_name",
        "app_url",
        "cluster_autoscaler_role_arn",
        "oidc_provider_arn",
        "nat_gateway_id",
    }
    assert config.outputs["app_url"]["value"] == "http://${aws_lb.app.dns_name}"
    assert config.outputs["cluster_certificate_authority"]["value"] == (
        "${aws_eks_cluster.main.certificate_authority[0].data}"
    )
    assert all(o.get("description") for o in config.outputs.values())


# --- the EKS overlay the load balancer and the autoscaler role are made for ---------


def test_overlay_nodeport_is_the_port_the_load_balancer_targets(config: Configuration) -> None:
    (service,) = overlay_objects("service-nodeport.yaml")
    (port,) = service["spec"]["ports"]

    assert service["spec"]["type"] == "NodePort"
    assert (port["port"], port["nodePort"]) == (80, config.default("app_node_port"))


def test_overlay_autoscaler_matches_its_role_tags_and_cluster_version(
    config: Configuration,
) -> None:
    (account,) = overlay_objects("cluster-autoscaler/serviceaccount.yaml")
    (deployment,) = overlay_objects("cluster-autoscaler/deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    discovery = next(a for a in container["command"] if a.startswith("--node-group-auto"))
    tags = config.locals["autoscaler_discovery_tags"]

    # The one subject the IRSA role trusts, annotated with the role the adapter fills in.
    assert (account["metadata"]["namespace"], account["metadata"]["name"]) == (
        config.locals["cluster_autoscaler_namespace"],
        config.locals["cluster_autoscaler_service_account"],
    )
    assert account["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "SRESHOW_CLUSTER_AUTOSCALER_ROLE_ARN"
    }
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    # It discovers the group by exactly the tags Terraform puts on its ASG.
    wanted = ",".join(k.replace("${var.name}", "SRESHOW_CLUSTER_NAME") for k in tags)
    assert discovery == f"--node-group-auto-discovery=asg:tag={wanted}"
    assert {"name": "AWS_REGION", "value": "SRESHOW_AWS_REGION"} in container["env"]
    # The autoscaler's minor version follows the cluster's.
    version = container["image"].rsplit(":v", 1)[1]
    assert version.rsplit(".", 1)[0] == config.default("cluster_version")


# --- the real tools ------------------------------------------------------------------


@pytest.mark.terraform
def test_terraform_fmt_finds_nothing_to_change(tmp_path: Path) -> None:
    terraform = require_tool("terraform")

    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        env=offline_env(tmp_path),
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.terraform
@pytest.mark.timeout(300)
def test_checkov_reports_no_failed_check(tmp_path: Path, config: Configuration) -> None:
    checkov = require_tool("checkov")

    result = subprocess.run(
        [
            *(checkov, "-d", str(TERRAFORM_DIR), "--config-file", str(CHECKOV_CONFIG)),
            *("--framework", "terraform", "--compact", "--quiet", "-o", "json"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=offline_env(tmp_path),
        timeout=280,
        check=False,
    )

    failed, summary = checkov_findings(result)
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= len(config.resources)
    # Every inline skip names a check that applies where it stands (a typo skips nothing).
    assert summary["skipped"] == len(skip_comments())


def test_every_checkov_skip_names_a_check_and_says_why() -> None:
    skips = skip_comments()

    unexplained = [
        where
        for where, check, reason in skips
        if not CHECK_ID.fullmatch(check) or len(reason.strip()) < MIN_REASON_LENGTH
    ]
    assert skips, "no skips: drop this test rather than the comments"
    assert unexplained == []
    assert "skip-check" not in CHECKOV_CONFIG.read_text(encoding="utf-8")


# --- the variables' validations, by the real binary -----------------------------------

VALID_VARIABLES: dict[str, Any] = {
    "region": "eu-west-1",
    "run_id": "20261205T063000Z-eks",
    "owner": "arn:aws:iam::123456789012:user/ada",
    "expires_at": "2026-12-05T07:15:00Z",
    "admin_principal_arn": "arn:aws:iam::123456789012:role/Admin",
    "api_allowed_cidrs": ["203.0.113.7/32"],
    "app_allowed_cidrs": ["0.0.0.0/0"],
}

# (variable, bad value, the start of the message the user reads)
BAD_VARIABLES = [
    ("region", "eu_west_1", "region must be an AWS region name"),
    ("name", "Sreshow", "name must be 2-28 characters"),
    ("name", "sreshow-" + "x" * 21, "name must be 2-28 characters"),
    ("cluster_version", "1.35.2", "cluster_version must be a Kubernetes minor version"),
    ("run_id", "", "run_id must be 1-64 characters"),
    ("owner", "", "owner must be 1-256 characters"),
    ("expires_at", "in 45 minutes", "expires_at must be an RFC 3339 timestamp"),
    (
        "admin_principal_arn",
        "arn:aws:sts::123456789012:assumed-role/Admin/ada",
        "admin_principal_arn must be an IAM user or role ARN",
    ),
    ("api_allowed_cidrs", [], "api_allowed_cidrs must list at least one IPv4 CIDR"),
    ("api_allowed_cidrs", ["0.0.0.0/0"], "api_allowed_cidrs must not contain 0.0.0.0/0"),
    ("app_allowed_cidrs", ["203.0.113.7/33"], "app_allowed_cidrs must list at least one"),
    ("app_allowed_cidrs", ["2001:db8::/32"], "app_allowed_cidrs must list at least one"),
    ("node_instance_type", "t3 small", "node_instance_type must be an EC2 instance type"),
    ("node_group_size", {"min": 1, "desired": 4, "max": 3}, "node_group_size must be"),
    ("node_group_size", {"min": 0, "desired": 0, "max": 0}, "node_group_size must be"),
    ("node_group_size", {"min": 1, "desired": 1.5, "max": 3}, "node_group_size must be"),
    ("app_node_port", 80, "app_node_port must be a whole number in Kubernetes' NodePort"),
    ("control_plane_log_types", ["everything"], "control_plane_log_types may only hold"),
    ("control_plane_log_retention_days", 2, "control_plane_log_retention_days must be"),
    ("oidc_thumbprints", ["abc"], "oidc_thumbprints must list at least one 40-character"),
]


@pytest.mark.terraform
def test_the_adapters_usual_variables_pass_validation(tmp_path: Path) -> None:
    assert plan_errors(tmp_path, VALID_VARIABLES) == []


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    BAD_VARIABLES,
    ids=[f"{name}={json.dumps(value)}" for name, value, _ in BAD_VARIABLES],
)
def test_a_bad_variable_fails_the_plan_naming_the_fix(
    tmp_path: Path, variable: str, value: Any, message: str
) -> None:
    errors = plan_errors(tmp_path, {**VALID_VARIABLES, variable: value})

    assert len(errors) == 1, errors
    assert errors[0].startswith(message), errors[0]
