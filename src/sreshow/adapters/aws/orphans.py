"""What sreshow left in a region: resources tagged `managed-by=sreshow` (and, when asked,
one `sreshow/run-id`) that still exist, e.g. after a failed or interrupted destroy.

Two sources, because neither alone is enough: the Resource Groups Tagging API sees
most tagged kinds but can miss some (moto, for one, does not list EKS clusters or
Elastic IPs there) and can still list a resource that is being deleted; so the kinds
that cost money or hold the rest in place are asked directly, with their state
(NAT gateways not `deleted`, instances not `terminated`), and their answer wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sreshow.adapters.aws import MANAGED_BY_SRESHOW, TAG_MANAGED_BY, TAG_RUN_ID

if TYPE_CHECKING:
    from sreshow.adapters.aws.session import AwsSession

KIND_EKS_CLUSTER = "eks-cluster"
KIND_EKS_NODEGROUP = "eks-nodegroup"
KIND_NAT_GATEWAY = "nat-gateway"
KIND_ELASTIC_IP = "elastic-ip"
KIND_LOAD_BALANCER = "load-balancer"
KIND_EC2_INSTANCE = "ec2-instance"
KIND_VPC = "vpc"
# Asked directly (their answer replaces the tagging API's); the first six bill by the hour.
BILLABLE_KINDS = frozenset(
    {
        KIND_EKS_CLUSTER,
        KIND_EKS_NODEGROUP,
        KIND_NAT_GATEWAY,
        KIND_ELASTIC_IP,
        KIND_LOAD_BALANCER,
        KIND_EC2_INSTANCE,
    }
)
DIRECT_KINDS = BILLABLE_KINDS | {KIND_VPC}
# The tagging API's "service:type" for the kinds above; other kinds keep that spelling.
_ARN_KINDS = {
    ("eks", "cluster"): KIND_EKS_CLUSTER,
    ("eks", "nodegroup"): KIND_EKS_NODEGROUP,
    ("ec2", "natgateway"): KIND_NAT_GATEWAY,
    ("ec2", "elastic-ip"): KIND_ELASTIC_IP,
    ("elasticloadbalancing", "loadbalancer"): KIND_LOAD_BALANCER,
    ("ec2", "instance"): KIND_EC2_INSTANCE,
    ("ec2", "vpc"): KIND_VPC,
}
_LIVE_NAT_STATES = ["pending", "available", "deleting", "failed"]
_LIVE_INSTANCE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]
_ELB_TAGS_BATCH = 20  # DescribeTags takes at most 20 ARNs


@dataclass(frozen=True)
class Orphan:
    """A resource sreshow tagged that still exists. `kind` is one of the KIND_* names
    (what `core/cost.py` prices) or the tagging API's "service:type" for the rest."""

    kind: str
    id: str
    region: str
    run_id: str | None
    state: str | None = None
    arn: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def billable(self) -> bool:
        """True for the kinds that cost money while they exist."""
        return self.kind in BILLABLE_KINDS


def find_orphans(aws: AwsSession, run_id: str | None = None) -> tuple[Orphan, ...]:
    """Every sreshow resource in the session's region (only run `run_id`'s when given),
    billable kinds first. AWS errors propagate: a finder that cannot look must not say
    "nothing left"."""
    found = {
        (orphan.kind, orphan.id): orphan
        for orphan in _tagged_resources(aws, run_id)
        if orphan.kind not in DIRECT_KINDS
    }
    for orphan in _asked_directly(aws, run_id):
        # the tag filters sent are checked again: moto's DescribeNatGateways ignores them
        if _is_sreshow(dict(orphan.tags), run_id):
            found[(orphan.kind, orphan.id)] = orphan
    return tuple(sorted(found.values(), key=lambda o: (not o.billable, o.kind, o.id)))


def _asked_directly(aws: AwsSession, run_id: str | None) -> Iterator[Orphan]:
    yield from _eks_clusters(aws, run_id)
    filters = _ec2_filters(run_id)
    for gateway in aws.pages(
        "ec2",
        "describe_nat_gateways",
        "NatGateways",
        Filter=[*filters, {"Name": "state", "Values": _LIVE_NAT_STATES}],
    ):
        yield _orphan(aws, KIND_NAT_GATEWAY, gateway["NatGatewayId"], gateway, gateway["State"])
    for address in aws.call("ec2", "describe_addresses", Filters=filters)["Addresses"]:
        state = "associated" if address.get("AssociationId") else "unassociated"
        yield _orphan(aws, KIND_ELASTIC_IP, address["AllocationId"], address, state)
    live_instances = {"Name": "instance-state-name", "Values": _LIVE_INSTANCE_STATES}
    for reservation in aws.pages(
        "ec2", "describe_instances", "Reservations", Filters=[*filters, live_instances]
    ):
        for instance in reservation["Instances"]:
            state = instance["State"]["Name"]
            yield _orphan(aws, KIND_EC2_INSTANCE, instance["InstanceId"], instance, state)
    for vpc in aws.pages("ec2", "describe_vpcs", "Vpcs", Filters=filters):
        yield _orphan(aws, KIND_VPC, vpc["VpcId"], vpc, vpc.get("State"))
    yield from _load_balancers(aws, run_id)


def _eks_clusters(aws: AwsSession, run_id: str | None) -> Iterator[Orphan]:
    """EKS has no tag filter: describe every cluster, keep sreshow's, and their node
    groups (which a destroy removes before the cluster)."""
    for name in aws.pages("eks", "list_clusters", "clusters"):
        cluster = aws.call("eks", "describe_cluster", name=name)["cluster"]
        tags = cluster.get("tags") or {}
        if not _is_sreshow(tags, run_id):
            continue
        yield _orphan_tagged(
            aws, KIND_EKS_CLUSTER, name, tags=tags, state=cluster["status"], arn=cluster["arn"]
        )
        for group in aws.pages("eks", "list_nodegroups", "nodegroups", clusterName=name):
            nodegroup = aws.call(
                "eks", "describe_nodegroup", clusterName=name, nodegroupName=group
            )["nodegroup"]
            yield _orphan_tagged(
                aws,
                KIND_EKS_NODEGROUP,
                f"{name}/{group}",
                tags=nodegroup.get("tags") or tags,
                state=nodegroup.get("status"),
                arn=nodegroup.get("nodegroupArn"),
            )


def _load_balancers(aws: AwsSession, run_id: str | None) -> Iterator[Orphan]:
    """elbv2 has no tag filter either: list them, then read their tags 20 at a time."""
    balancers = {
        lb["LoadBalancerArn"]: lb
        for lb in aws.pages("elbv2", "describe_load_balancers", "LoadBalancers")
    }
    arns = list(balancers)
    for start in range(0, len(arns), _ELB_TAGS_BATCH):
        batch = arns[start : start + _ELB_TAGS_BATCH]
        described = aws.call("elbv2", "describe_tags", ResourceArns=batch)["TagDescriptions"]
        for description in described:
            tags = _tag_dict(description.get("Tags", []))
            if _is_sreshow(tags, run_id):
                arn = description["ResourceArn"]
                state = balancers[arn].get("State", {}).get("Code")
                yield _orphan_tagged(
                    aws, KIND_LOAD_BALANCER, _arn_resource(arn)[2], tags=tags, state=state, arn=arn
                )


def _tagged_resources(aws: AwsSession, run_id: str | None) -> Iterator[Orphan]:
    """What the Resource Groups Tagging API lists with sreshow's tags."""
    tag_filters = [{"Key": TAG_MANAGED_BY, "Values": [MANAGED_BY_SRESHOW]}]
    if run_id is not None:
        tag_filters.append({"Key": TAG_RUN_ID, "Values": [run_id]})
    for mapping in aws.pages(
        "resourcegroupstaggingapi",
        "get_resources",
        "ResourceTagMappingList",
        TagFilters=tag_filters,
    ):
        arn = str(mapping["ResourceARN"])
        tags = _tag_dict(mapping.get("Tags", []))
        resource_id = _arn_resource(arn)[2]
        yield _orphan_tagged(aws, kind_of_arn(arn), resource_id, tags=tags, state=None, arn=arn)


def kind_of_arn(arn: str) -> str:
    """The KIND_* name of the resource `arn` names, else its "service:type"."""
    service, resource_type, _ = _arn_resource(arn)
    default = f"{service}:{resource_type}" if resource_type else service
    return _ARN_KINDS.get((service, resource_type), default)


def _arn_resource(arn: str) -> tuple[str, str, str]:
    """(service, resource type, id) of `arn:partition:service:region:account:resource`;
    the id is what a person looks for: "vpc-1", "demo", "demo/workers", "app/web/50dc6c".
    """
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "unknown", "", arn
    service, resource = parts[2], parts[5]
    resource_type, resource_id = "", resource
    for separator in ("/", ":"):
        if separator in resource:
            resource_type, resource_id = resource.split(separator, 1)
            break
    if (service, resource_type) == ("eks", "nodegroup"):  # cluster/name/uuid
        resource_id = "/".join(resource_id.split("/")[:2])
    return service, resource_type, resource_id


def _ec2_filters(run_id: str | None) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        {"Name": f"tag:{TAG_MANAGED_BY}", "Values": [MANAGED_BY_SRESHOW]}
    ]
    if run_id is not None:
        filters.append({"Name": f"tag:{TAG_RUN_ID}", "Values": [run_id]})
    return filters


def _is_sreshow(tags: Mapping[str, str], run_id: str | None) -> bool:
    if tags.get(TAG_MANAGED_BY) != MANAGED_BY_SRESHOW:
        return False
    return run_id is None or tags.get(TAG_RUN_ID) == run_id


def _tag_dict(tags: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """EC2's and the tagging API's [{"Key": k, "Value": v}] as {k: v}."""
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}


def _orphan(
    aws: AwsSession, kind: str, resource_id: str, described: Mapping[str, Any], state: Any
) -> Orphan:
    tags = _tag_dict(described.get("Tags", []))
    return _orphan_tagged(aws, kind, resource_id, tags=tags, state=state, arn=None)


def _orphan_tagged(
    aws: AwsSession,
    kind: str,
    resource_id: str,
    *,
    tags: Mapping[str, str],
    state: Any,
    arn: str | None,
) -> Orphan:
    return Orphan(
        kind=kind,
        id=str(resource_id),
        region=aws.region,
        run_id=tags.get(TAG_RUN_ID),
        state=None if state is None else str(state),
        arn=arn,
        tags=tuple(sorted(tags.items())),
    )
