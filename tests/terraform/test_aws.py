"""adapters/aws against a real moto server on 127.0.0.1 (the `terraform` tier): who the
credentials are, clear errors without credentials or region, EKS describe calls, the
kubeconfig whose exec plugin kubectl really runs, pre-flight checks (and the unknown
answer where moto, like a locked-down account, cannot tell), the orphan finder on tagged
leftovers. The pure parts (token encoding, cache rules, names) run unmarked."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import yaml

from sreshow.adapters.aws import eks as aws_eks
from sreshow.adapters.aws import token_cache
from sreshow.adapters.aws.names import check_cluster_name, check_region
from sreshow.adapters.aws.orphans import (
    KIND_EC2_INSTANCE,
    KIND_EKS_CLUSTER,
    KIND_EKS_NODEGROUP,
    KIND_ELASTIC_IP,
    KIND_LOAD_BALANCER,
    KIND_NAT_GATEWAY,
    KIND_VPC,
    find_orphans,
    kind_of_arn,
)
from sreshow.adapters.aws.preflight import preflight_checks
from sreshow.adapters.aws.session import NO_CREDENTIALS, AwsError, AwsSession
from sreshow.adapters.aws.token import eks_exec_credential
from sreshow.errors import PlatformError, UsageError
from tests.conftest import free_port
from tests.terraform.moto_server import (
    ACCESS_KEY_ID,
    ACCOUNT,
    REGION,
    SECRET_ACCESS_KEY,
    aws_environment,
    build_stack,
)
from tests.terraform.recording_api_server import recording_api_server
from tests.tools import require_tool

terraform = pytest.mark.terraform


# --- the token and its cache (pure) --------------------------------------------------


@pytest.mark.parametrize("length", [60, 61, 62, 63])  # every padding a URL can need
def test_a_token_is_the_url_in_unpadded_urlsafe_base64(length: int) -> None:
    url = "https://sts.eu-west-1.amazonaws.com/?" + "a" * (length - 38) + "~?>"
    token = token_cache.token_from_url(url)
    assert token.startswith("k8s-aws-v1.")
    assert not set(token) & set("=+/")
    assert token_cache.url_from_token(token) == url


def test_the_presigned_url_is_the_regional_sts_endpoint_with_the_cluster_header_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without AWS_ENDPOINT_URL: presigning sends nothing, so this needs no server."""
    _only_env(monkeypatch, aws_environment("unused", tmp_path), drop=["AWS_ENDPOINT_URL"])
    text = eks_exec_credential("demo", "ap-southeast-2", tmp_path / "state")
    url = token_cache.url_from_token(json.loads(text)["status"]["token"])
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc) == ("https", "sts.ap-southeast-2.amazonaws.com")
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-SignedHeaders"][0].split(";") == ["host", "x-k8s-aws-id"]
    assert query["X-Amz-Credential"][0].endswith("/ap-southeast-2/sts/aws4_request")
    assert query["X-Amz-Expires"] == ["60"]


def test_the_cache_key_tells_credentials_apart_and_holds_no_key(tmp_path: Path) -> None:
    base = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    key = token_cache.credentials_source_key
    assert key(base) == key(dict(base))
    assert key(base) != key({**base, "AWS_ACCESS_KEY_ID": "AKIDOTHER"})
    assert key({"AWS_PROFILE": "demo"}) != key({"AWS_PROFILE": "prod"})
    assert key(base) == key({**base, "AWS_SECRET_ACCESS_KEY": "rotated"})  # not read at all
    path = token_cache.cache_file(tmp_path, "demo", REGION, base)
    assert path.parent == tmp_path / "eks"
    assert ACCESS_KEY_ID not in str(path)
    assert SECRET_ACCESS_KEY not in str(path)


def test_a_cached_token_is_used_until_a_minute_before_it_expires(tmp_path: Path) -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    path = tmp_path / "eks" / "token.json"
    text = token_cache.exec_credential("k8s-aws-v1.abc", now + timedelta(minutes=5))
    token_cache.store_exec_credential(path, text)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert token_cache.cached_exec_credential(path, now) == text
    assert token_cache.cached_exec_credential(path, now + timedelta(minutes=3, seconds=59)) == text
    assert token_cache.cached_exec_credential(path, now + timedelta(minutes=4, seconds=1)) is None
    path.chmod(0o640)  # readable by others: never handed out
    assert token_cache.cached_exec_credential(path, now) is None
    path.write_text("{not json")
    path.chmod(0o600)
    assert token_cache.cached_exec_credential(path, now) is None


def test_eks_token_makes_a_new_token_when_the_cached_one_is_about_to_expire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _only_env(monkeypatch, aws_environment("unused", tmp_path), drop=["AWS_ENDPOINT_URL"])
    state = tmp_path / "state"
    path = token_cache.cache_file(state, "demo", REGION, env)
    now = datetime.now(UTC)
    stale = token_cache.exec_credential("k8s-aws-v1.stale", now + timedelta(seconds=50))
    token_cache.store_exec_credential(path, stale)
    fresh = eks_exec_credential("demo", REGION, state, env=env)
    assert fresh != stale
    assert json.loads(fresh)["status"]["token"] != "k8s-aws-v1.stale"
    assert path.read_text().strip() == fresh
    still_good = token_cache.exec_credential("k8s-aws-v1.kept", now + timedelta(minutes=5))
    token_cache.store_exec_credential(path, still_good)
    assert eks_exec_credential("demo", REGION, state, env=env) == still_good


@pytest.mark.parametrize("name", ["", "-demo", "demo/../x", "a" * 101, "démo", "demo cluster"])
def test_a_bad_cluster_name_is_a_usage_error(name: str) -> None:
    with pytest.raises(UsageError, match="EKS names are 1-100 letters"):
        check_cluster_name(name)


@pytest.mark.parametrize("region", ["eu-west", "EU-WEST-1", "moon-1", "eu-west-1/..", ""])
def test_a_bad_region_is_a_usage_error(region: str) -> None:
    with pytest.raises(UsageError, match="not an AWS region name"):
        check_region(region)
    assert check_region("us-gov-west-1") == "us-gov-west-1"


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        ("arn:aws:ec2:eu-west-1:1:vpc/vpc-1", KIND_VPC),
        ("arn:aws:ec2:eu-west-1:1:natgateway/nat-1", KIND_NAT_GATEWAY),
        ("arn:aws:eks:eu-west-1:1:cluster/demo", KIND_EKS_CLUSTER),
        ("arn:aws:eks:eu-west-1:1:nodegroup/demo/workers/0a-1b", KIND_EKS_NODEGROUP),
        ("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/a/1", KIND_LOAD_BALANCER),
        ("arn:aws:ec2:eu-west-1:1:subnet/subnet-1", "ec2:subnet"),
        ("arn:aws:iam::1:role/demo-node", "iam:role"),
    ],
)
def test_an_arn_names_its_kind(arn: str, kind: str) -> None:
    assert kind_of_arn(arn) == kind


# --- the kubeconfig ------------------------------------------------------------------


def test_the_kubeconfig_is_private_yaml_whose_user_runs_sreshow_eks_token(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kubeconfig"
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n...").decode()
    env = {"AWS_PROFILE": "demo", "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    context = aws_eks.write_kubeconfig(
        path, "demo", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", ca, REGION, env=env
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET_ACCESS_KEY not in path.read_text()
    config = yaml.safe_load(path.read_text())
    assert config["current-context"] == context
    cluster = config["clusters"][0]["cluster"]
    assert cluster == {
        "server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "certificate-authority-data": ca,
    }
    plugin = config["users"][0]["user"]["exec"]
    assert plugin["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert plugin["interactiveMode"] == "Never"
    assert Path(plugin["command"]).exists()
    assert plugin["args"] == ["-m", "sreshow", "eks-token", "demo", "--region", REGION]
    assert plugin["env"] == [{"name": "AWS_PROFILE", "value": "demo"}]
    aws_eks.write_kubeconfig(path, "demo", "https://x.example", ca, REGION, env={})
    assert "env" not in yaml.safe_load(path.read_text())["users"][0]["user"]["exec"]


def test_a_certificate_authority_that_is_not_base64_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match="certificate authority data is not base64"):
        aws_eks.write_kubeconfig(tmp_path / "k", "demo", "https://x", "not base64!", REGION)
    assert not (tmp_path / "k").exists()


# --- against moto ---------------------------------------------------------------------


@terraform
@pytest.mark.usefixtures("aws_env")
def test_whoami_names_the_account_and_region() -> None:
    me = AwsSession.connect().whoami()
    assert (me.account, me.region) == (ACCOUNT, REGION)
    assert me.arn.startswith(f"arn:aws:sts::{ACCOUNT}:")


@terraform
@pytest.mark.usefixtures("aws_env")
def test_no_credentials_no_region_or_no_profile_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(PlatformError) as raised:
        AwsSession.connect()
    assert str(raised.value) == NO_CREDENTIALS
    assert raised.value.exit_code == 3
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(UsageError, match=r"no AWS region given: pass --region .* AWS_REGION"):
        AwsSession.connect()
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    with pytest.raises(UsageError, match="AWS_PROFILE=nobody: no such profile"):
        AwsSession.connect("eu-west-1")


@terraform
@pytest.mark.usefixtures("aws_env")
def test_describe_cluster_gives_endpoint_ca_status_version() -> None:
    build_stack("r1")
    aws = AwsSession.connect()
    cluster = aws_eks.describe_cluster(aws, "demo")
    assert (cluster.name, cluster.status, cluster.version) == ("demo", "ACTIVE", "1.35")
    assert (cluster.endpoint or "").startswith("https://")
    assert cluster.ca_data is not None
    base64.b64decode(cluster.ca_data, validate=True)
    assert dict(cluster.tags)["sreshow/run-id"] == "r1"
    with pytest.raises(AwsError) as raised:
        aws_eks.describe_cluster(aws, "absent")
    assert raised.value.code == "ResourceNotFoundException"
    assert "\n" not in str(raised.value)
    assert "DescribeCluster" in str(raised.value)


@terraform
@pytest.mark.usefixtures("aws_env")
def test_kubeconfig_for_cluster_writes_what_describe_cluster_says(tmp_path: Path) -> None:
    build_stack("r1")
    aws = AwsSession.connect()
    path = tmp_path / "kubeconfig"
    context = aws_eks.kubeconfig_for_cluster(aws, "demo", path)
    config = yaml.safe_load(path.read_text())
    described = aws_eks.describe_cluster(aws, "demo")
    assert config["current-context"] == context
    assert config["clusters"][0]["cluster"]["server"] == described.endpoint
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == described.ca_data


@terraform
def test_kubectl_runs_the_exec_plugin_and_sends_its_token(
    aws_env: dict[str, str], tmp_path: Path
) -> None:
    """The real kubectl reads the kubeconfig, runs `python -m sreshow eks-token`, and
    sends the token to an API server (here a TLS server on 127.0.0.1 that records it)."""
    kubectl = require_tool("kubectl")
    state = Path(aws_env["SRESHOW_STATE_DIR"])
    planted = token_cache.token_from_url(aws_env["AWS_ENDPOINT_URL"] + "/?Action=planted")
    with recording_api_server(tmp_path) as (endpoint, ca, seen):
        path = tmp_path / "kubeconfig"
        aws_eks.write_kubeconfig(path, "demo", endpoint, ca, REGION)
        _kubectl_version(kubectl, path, aws_env)
        first_run = list(seen)
        made = token_cache.cache_file(state, "demo", REGION, aws_env)
        token = json.loads(made.read_text())["status"]["token"]
        expires = datetime.now(UTC) + timedelta(minutes=10)
        token_cache.store_exec_credential(made, token_cache.exec_credential(planted, expires))
        _kubectl_version(kubectl, path, aws_env)
    assert set(first_run) == {f"Bearer {token}"}
    assert set(seen[len(first_run) :]) == {f"Bearer {planted}"}  # the second: from the cache
    url = token_cache.url_from_token(token)
    assert url.startswith(aws_env["AWS_ENDPOINT_URL"] + "/?Action=GetCallerIdentity")
    assert "x-k8s-aws-id" in parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0]


def _kubectl_version(kubectl: str, kubeconfig: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "get", "--raw", "/version"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"gitVersion": "v1.35.0"}


@terraform
@pytest.mark.usefixtures("aws_env")
def test_preflight_on_an_empty_account() -> None:
    checks = {check.check: check for check in preflight_checks(AwsSession.connect(), "demo")}
    assert list(checks) == [
        "AWS credentials", "availability zones", "Elastic IPs", "spot vCPU quota", "cluster name",
    ]  # fmt: skip
    assert checks["AWS credentials"].ok is True
    assert f"account {ACCOUNT}" in checks["AWS credentials"].detail
    assert checks["availability zones"].ok is True
    assert checks["Elastic IPs"].ok is True
    assert checks["Elastic IPs"].detail.startswith("0 of 5 in use")
    # moto's Service Quotas knows only `vpc` quotas: the answer is unknown, not a failure
    spot = checks["spot vCPU quota"]
    assert spot.ok is None
    assert spot.detail.startswith("unknown: Service Quotas did not answer for L-34B43A08")
    assert "L-34B43A08" in (spot.fix or "")
    assert checks["cluster name"].ok is True


@terraform
@pytest.mark.usefixtures("aws_env")
def test_preflight_finds_a_clashing_cluster_and_no_free_elastic_ip() -> None:
    build_stack("r1")
    ec2 = boto3.client("ec2")
    for _ in range(4):  # the stack holds one: five of five in use
        ec2.allocate_address(Domain="vpc")
    checks = {check.check: check for check in preflight_checks(AwsSession.connect(), "demo")}
    clash = checks["cluster name"]
    assert clash.ok is False
    assert "demo already exists in eu-west-1 (ACTIVE, left by sreshow run r1)" in clash.detail
    eips = checks["Elastic IPs"]
    assert eips.ok is False
    assert eips.detail.startswith("5 of 5 in use")
    assert "L-0263D0A3" in (eips.fix or "")


@terraform
@pytest.mark.usefixtures("aws_env")
def test_the_orphan_finder_lists_what_a_run_left_and_nothing_else() -> None:
    mine = build_stack("r1")
    other_run = build_stack("r2", cluster="other")
    build_stack(None, cluster="theirs")  # not sreshow's
    ec2 = boto3.client("ec2")
    gone = ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [
            {"Key": "managed-by", "Value": "sreshow"}, {"Key": "sreshow/run-id", "Value": "r1"}
        ]}],
    )["Instances"][0]["InstanceId"]  # fmt: skip
    ec2.terminate_instances(InstanceIds=[gone])

    orphans = find_orphans(AwsSession.connect(), run_id="r1")

    found = {(orphan.kind, orphan.id) for orphan in orphans}
    balancer_id = mine.load_balancer_arn.split(":loadbalancer/", 1)[1]
    assert found >= {
        (KIND_EKS_CLUSTER, "demo"),
        (KIND_EKS_NODEGROUP, "demo/workers"),
        (KIND_NAT_GATEWAY, mine.nat_gateway),
        (KIND_ELASTIC_IP, mine.elastic_ip),
        (KIND_LOAD_BALANCER, balancer_id),
        (KIND_EC2_INSTANCE, mine.instance),
        (KIND_VPC, mine.vpc),
        ("ec2:subnet", mine.subnets[0]),  # from the tagging API alone
    }
    assert (KIND_EC2_INSTANCE, gone) not in found
    assert {orphan.run_id for orphan in orphans} == {"r1"}
    assert {orphan.region for orphan in orphans} == {REGION}
    assert [orphan.billable for orphan in orphans] == sorted(
        (orphan.billable for orphan in orphans), reverse=True
    )  # what costs money first
    everything = {(orphan.kind, orphan.id) for orphan in find_orphans(AwsSession.connect())}
    assert found < everything
    assert (KIND_EKS_CLUSTER, "other") in everything
    assert (KIND_VPC, other_run.vpc) in everything
    assert (KIND_EKS_CLUSTER, "theirs") not in everything


@terraform
@pytest.mark.usefixtures("aws_env")
def test_an_endpoint_that_does_not_answer_is_a_one_line_platform_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with pytest.raises(AwsError) as raised:
        AwsSession.connect().whoami()
    message = str(raised.value)
    assert message.startswith(f"AWS sts at {endpoint} did not answer GetCallerIdentity")
    assert "AWS_ENDPOINT_URL" in message
    assert "\n" not in message
    assert raised.value.exit_code == 3


# --- helpers --------------------------------------------------------------------------


def _only_env(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], drop: list[str]
) -> dict[str, str]:
    """This process's AWS_* variables replaced by `env` without `drop`."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name not in drop:
            monkeypatch.setenv(name, value)
    return dict(os.environ)
