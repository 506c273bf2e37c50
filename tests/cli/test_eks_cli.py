"""`sreshow eks-token` run as kubectl runs it (a cold process) against a real moto
server: the ExecCredential on stdout and nothing else, a token that is a presigned STS
URL for the cluster, the 0600 cache used within its 14 minutes (without importing
boto3), one line and exit 3 without credentials, exit 2 for bad input, no secret in any
output or file. `sreshow eks-orphans`: exit 0 with nothing left, 1 with leftovers."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sreshow.adapters.aws import token_cache
from sreshow.cli import app as cli
from tests.terraform.moto_server import (
    REGION,
    SECRET_ACCESS_KEY,
    aws_env,
    build_stack,
    moto,
    without_aws,
)

pytestmark = pytest.mark.terraform
__all__ = ["aws_env", "moto"]  # the fixtures, used by name below

CREDENTIAL_KEYS = {"kind", "apiVersion", "spec", "status"}


@pytest.fixture
def env(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """aws_env (an empty moto, pointed at), wide enough for the tables."""
    monkeypatch.setenv("COLUMNS", "200")
    return aws_env | {"COLUMNS": "200"}


def sreshow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_eks_token_prints_an_exec_credential_for_the_cluster(env: dict[str, str]) -> None:
    done = sreshow("eks-token", "demo", "--region", REGION, env=env)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1  # the JSON, nothing else
    credential = json.loads(done.stdout)
    assert set(credential) == CREDENTIAL_KEYS
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert credential["spec"] == {}
    token = credential["status"]["token"]
    assert token.startswith("k8s-aws-v1.")
    assert "=" not in token
    url = token_cache.url_from_token(token)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == env["AWS_ENDPOINT_URL"]  # the endpoint in use
    assert query["Action"] == ["GetCallerIdentity"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert query["X-Amz-Credential"][0].endswith(f"/{REGION}/sts/aws4_request")
    signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires = datetime.fromisoformat(credential["status"]["expirationTimestamp"])
    assert expires - signed == timedelta(minutes=14)
    assert credential["status"]["expirationTimestamp"].endswith("Z")


def test_a_second_call_within_the_window_uses_the_cache(env: dict[str, str]) -> None:
    first = sreshow("eks-token", "demo", "--region", REGION, env=env)
    second = sreshow("eks-token", "demo", "--region", REGION, env=env)
    assert second.returncode == 0
    assert second.stdout == first.stdout
    (cached,) = (Path(env["SRESHOW_STATE_DIR"]) / "eks").iterdir()
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    assert stat.S_IMODE(cached.parent.stat().st_mode) == 0o700
    assert cached.read_text() == first.stdout
    # the same second signs the same URL: plant a token to prove the file is what is read
    planted = token_cache.exec_credential(
        "k8s-aws-v1.planted", datetime.now(UTC) + timedelta(minutes=10)
    )
    token_cache.store_exec_credential(cached, planted)
    third = sreshow("eks-token", "demo", "--region", REGION, env=env)
    assert third.stdout == planted + "\n"


def test_a_cache_hit_does_not_import_boto3(env: dict[str, str]) -> None:
    """kubectl runs the plugin before its requests: a hit costs Python's start-up only."""
    sreshow("eks-token", "demo", "--region", REGION, env=env)
    hit = sreshow(
        "eks-token", "demo", "--region", REGION, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}
    )
    assert hit.returncode == 0
    assert _imported("sreshow.adapters.aws.token_cache", hit.stderr)  # the profile is there
    assert not _imported("boto3", hit.stderr)  # ... and boto3 is not in it
    miss = sreshow(
        "eks-token", "other", "--region", REGION, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}
    )
    assert _imported("boto3", miss.stderr)


def _imported(module: str, import_profile: str) -> bool:
    """Whether `python -X importtime`'s profile on stderr lists `module`."""
    return re.search(rf"^import time:.*\|\s+{re.escape(module)}$", import_profile, re.M) is not None


def test_each_cluster_region_and_credentials_get_their_own_token(env: dict[str, str]) -> None:
    cache = Path(env["SRESHOW_STATE_DIR"]) / "eks"
    sreshow("eks-token", "demo", "--region", REGION, env=env)
    (mine,) = cache.iterdir()
    planted = token_cache.exec_credential(
        "k8s-aws-v1.planted", datetime.now(UTC) + timedelta(minutes=10)
    )
    token_cache.store_exec_credential(mine, planted)
    others = [
        ({**env, "AWS_ACCESS_KEY_ID": "AKIDANOTHERKEY000001"}, "demo", REGION),
        ({**env, "AWS_PROFILE": "other"}, "demo", REGION),
        (env, "other", REGION),
        (env, "demo", "us-east-1"),
    ]
    for other_env, cluster, region in others:
        if "AWS_PROFILE" in other_env:  # a profile needs to exist: an empty one, keys from env
            Path(other_env["AWS_CONFIG_FILE"]).write_text("[profile other]\n")
        done = sreshow("eks-token", cluster, "--region", region, env=other_env)
        assert done.returncode == 0, done.stderr
        assert "planted" not in done.stdout
    assert len(list(cache.iterdir())) == 1 + len(others)


def test_no_secret_reaches_any_output_or_file(env: dict[str, str]) -> None:
    outputs = [
        sreshow("eks-token", "demo", "--region", REGION, env=env),
        sreshow("eks-token", "demo", "--region", REGION, env=env),
        sreshow("eks-token", "demo", env={**env, "SRESHOW_DEBUG": "1", "AWS_REGION": "x"}),
    ]
    for done in outputs:
        assert SECRET_ACCESS_KEY not in done.stdout + done.stderr
    for path in Path(env["SRESHOW_STATE_DIR"]).rglob("*"):
        if path.is_file():
            assert SECRET_ACCESS_KEY not in path.read_text()


def test_without_credentials_it_is_one_line_and_exit_3(env: dict[str, str], tmp_path: Path) -> None:
    bare = {
        **without_aws(env),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance metadata lookup from a test
    }
    done = sreshow("eks-token", "demo", "--region", REGION, env=bare)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == (
        "error: no AWS credentials found: set AWS_PROFILE or "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure` (or `aws sso login`)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad/name", "--region", REGION], "error: cluster name 'bad/name': EKS names are"),
        (["demo", "--region", "mars-1"], "error: --region 'mars-1': not an AWS region name"),
        (["demo"], "error: no AWS region given: pass --region (e.g. --region eu-west-1)"),
        ([], "error: Missing argument 'CLUSTER'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    env: dict[str, str], args: list[str], message: str
) -> None:
    no_region = {k: v for k, v in env.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    done = sreshow("eks-token", *args, env=no_region)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1


@pytest.mark.usefixtures("env")
def test_eks_orphans_exit_0_when_nothing_is_left(capsys: pytest.CaptureFixture[str]) -> None:
    build_stack(None)  # someone else's: not sreshow's to report
    assert cli.main(["eks-orphans", "--region", REGION]) == 0
    assert capsys.readouterr().out == f"no sreshow resources left in {REGION}\n"


@pytest.mark.usefixtures("env")
def test_eks_orphans_lists_leftovers_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    stack = build_stack("r1")
    assert cli.main(["eks-orphans"]) == 1
    out = capsys.readouterr().out
    for resource in (stack.cluster, stack.nat_gateway, stack.elastic_ip, stack.vpc):
        assert resource in out
    assert "sreshow resources left in eu-west-1" in out
    assert cli.main(["eks-orphans", "--run-id", "r2"]) == 0
    assert capsys.readouterr().out == f"no sreshow resources left in {REGION} for run r2\n"
    assert cli.main(["eks-orphans", "--run-id", "r1", "--json"]) == 1
    listed = json.loads(capsys.readouterr().out)
    kinds = {entry["kind"] for entry in listed}
    assert {"eks-cluster", "nat-gateway", "elastic-ip", "vpc", "load-balancer"} <= kinds
    assert all(entry["run_id"] == "r1" and entry["region"] == REGION for entry in listed)
    nat = next(entry for entry in listed if entry["kind"] == "nat-gateway")
    assert nat["billable"] is True
    assert nat["tags"]["managed-by"] == "sreshow"


def test_eks_orphans_without_credentials_exits_3(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert cli.main(["eks-orphans"]) == 3
    assert capsys.readouterr().err.startswith("error: no AWS credentials found:")
