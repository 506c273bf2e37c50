"""A real moto server (`python -m moto.server`) on 127.0.0.1 and a free port, and the
environment that points boto3 at it and at nothing else: fake keys, temporary AWS
config files (the developer's ~/.aws is never read), no instance metadata lookups.

boto3 honours `AWS_ENDPOINT_URL` itself, so the code under test is the code users run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
ACCESS_KEY_ID = "AKIDSRESHOWTESTING01"
SECRET_ACCESS_KEY = "sreshow-test-secret-never-printed-0123456789"


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    startup_seconds: float

    def reset(self) -> None:
        """Forget every resource (moto's own reset API), so each test starts empty."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (http, local)
            answer.read()


@contextmanager
def moto_server(log_dir: Path) -> Iterator[MotoServer]:
    """Start moto's server, wait (at most STARTUP_TIMEOUT_SECONDS) until it answers,
    yield it, and stop it."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "moto.log").open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            _wait_until_answering(process, endpoint, log_dir / "moto.log")
            yield MotoServer(endpoint, time.monotonic() - started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _wait_until_answering(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited ({process.returncode}): {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"moto server on {endpoint} did not answer in {STARTUP_TIMEOUT_SECONDS} s")


def aws_environment(endpoint: str, home: Path) -> dict[str, str]:
    """The AWS variables a test runs with: fake keys, moto's endpoint, a region, and
    config files of its own (empty) so ~/.aws is never read."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def use_moto(monkeypatch: pytest.MonkeyPatch, moto: MotoServer, tmp_path: Path) -> None:
    """Replace every AWS_* variable with moto's; a state dir of the test's own."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in aws_environment(moto.endpoint, tmp_path / "aws").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(tmp_path / "state"))


def without_aws(env: dict[str, str]) -> dict[str, str]:
    """`env` with every AWS_* variable removed (the developer's own included)."""
    return {name: value for name, value in env.items() if not name.startswith("AWS_")}


def sreshow_tags(run_id: str) -> dict[str, str]:
    """The tags the Terraform configuration puts on everything it makes."""
    return {
        "managed-by": "sreshow",
        "sreshow/owner": "tester",
        "sreshow/run-id": run_id,
        "sreshow/expires-at": "2030-01-01T00:00:00Z",
    }


@dataclass(frozen=True)
class Stack:
    """The ids of what `build_stack` made."""

    vpc: str
    subnets: tuple[str, str]
    elastic_ip: str
    nat_gateway: str
    cluster: str
    nodegroup: str
    load_balancer_arn: str
    instance: str


def build_stack(run_id: str | None, cluster: str = "demo") -> Stack:
    """The seed's stack in moto, made through boto3 (real HTTP): VPC, two subnets, an
    Elastic IP, a NAT gateway, an EKS cluster with a spot node group, a network load
    balancer and a node instance; tagged as sreshow tags them unless `run_id` is None."""
    import boto3

    tags = sreshow_tags(run_id) if run_id is not None else {"team": "someone-else"}
    pairs = [{"Key": key, "Value": value} for key, value in tags.items()]

    def spec(kind: str) -> list[dict[str, object]]:
        return [{"ResourceType": kind, "Tags": pairs}]

    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec("vpc"))["Vpc"]["VpcId"]
    subnets = tuple(
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=cidr, AvailabilityZone=REGION + zone,
            TagSpecifications=spec("subnet"),
        )["Subnet"]["SubnetId"]
        for cidr, zone in (("10.0.0.0/20", "a"), ("10.0.16.0/20", "b"))
    )  # fmt: skip
    allocation = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip"))
    nat = ec2.create_nat_gateway(
        SubnetId=subnets[0],
        AllocationId=allocation["AllocationId"],
        TagSpecifications=spec("natgateway"),
    )["NatGateway"]["NatGatewayId"]
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(
        name=cluster,
        version="1.35",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/{cluster}-cluster",
        resourcesVpcConfig={"subnetIds": list(subnets)},
        tags=tags,
    )
    eks.create_nodegroup(
        clusterName=cluster,
        nodegroupName="workers",
        subnets=list(subnets),
        nodeRole=f"arn:aws:iam::{ACCOUNT}:role/{cluster}-node",
        capacityType="SPOT",
        instanceTypes=["t3.small"],
        scalingConfig={"minSize": 1, "desiredSize": 2, "maxSize": 3},
        tags=tags,
    )
    balancer = boto3.client("elbv2", region_name=REGION).create_load_balancer(
        Name=f"{cluster}-app", Subnets=list(subnets), Type="network", Tags=pairs
    )["LoadBalancers"][0]["LoadBalancerArn"]
    instance = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.small",
        SubnetId=subnets[0], TagSpecifications=spec("instance"),
    )["Instances"][0]["InstanceId"]  # fmt: skip
    return Stack(
        vpc=vpc,
        subnets=(subnets[0], subnets[1]),
        elastic_ip=allocation["AllocationId"],
        nat_gateway=nat,
        cluster=cluster,
        nodegroup="workers",
        load_balancer_arn=balancer,
        instance=instance,
    )


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server per test module."""
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws_env(moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An empty moto, and this process's environment (and so its subprocesses') pointing
    boto3 at it, and only at it."""
    moto.reset()
    use_moto(monkeypatch, moto, tmp_path)
    return dict(os.environ)
