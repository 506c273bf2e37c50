"""`sreshow up/status/down --platform eks` as a user runs them, against a real moto server
and the real terraform binary, on a stand-in configuration (fixtures/eks_stand_in: the
shipped variables and outputs, built-in resources, no provider to download), chosen with
`SRESHOW_EKS_TERRAFORM_DIR`. The cluster's API server is a recording HTTPS server on
127.0.0.1 that refuses everything but /version, as EKS refuses a principal without an
access entry: the deploy fails there, after the apply, and the tests follow what a user
sees then — the cluster kept and priced, `down` asking, destroying, checking that AWS
lists nothing of the run, and leaving no state behind."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from sreshow.adapters.eks.lifecycle import EksLifecycle
from sreshow.adapters.eks.run import RunFile
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import UpOptions
from sreshow.settings import Settings
from tests.terraform.moto_server import REGION, aws_env, moto
from tests.terraform.recording_api_server import recording_api_server
from tests.tools import require_tool

pytestmark = pytest.mark.terraform
__all__ = ["aws_env", "moto"]  # the fixtures, used by name below

STAND_IN = Path(__file__).parent / "fixtures" / "eks_stand_in"
IMAGE = "registry.example/sre-app:1.0.0"
# The moto caller (STS answers user/moto) as the access entry takes it.
MOTO_PRINCIPAL = "arn:aws:iam::123456789012:user/moto"
TERRAFORM_TIMEOUT_S = 180.0  # init + plan + apply of two built-in resources, on a busy VM


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[tuple[str, str, list[str]]]:
    (tmp_path / "api").mkdir()
    with recording_api_server(tmp_path / "api") as server:
        yield server


@pytest.fixture
def env(
    aws_env: dict[str, str], api_server: tuple[str, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """moto, the stand-in configuration, the recording API server, a state dir of its own."""
    url, ca, _ = api_server
    extra = {
        "SRESHOW_EKS_TERRAFORM_DIR": str(STAND_IN),
        "SRESHOW_EKS_ALLOWED_CIDRS": "127.0.0.1/32",
        "TF_VAR_test_api_server": url,
        "TF_VAR_test_api_ca": ca,
        "COLUMNS": "200",
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    return aws_env | extra


@pytest.fixture(params=["terraform", "tofu"])
def each_binary(env: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    """`env` with SRESHOW_TF_BIN naming each binary sreshow runs (tofu from
    scripts/install-tools.sh)."""
    return env | {"SRESHOW_TF_BIN": require_tool(request.param)}


def sreshow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args],
        capture_output=True,
        text=True,
        timeout=TERRAFORM_TIMEOUT_S,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def state_dir(env: dict[str, str]) -> Path:
    return Path(env["SRESHOW_STATE_DIR"]) / "eks"


def test_up_applies_then_keeps_the_priced_cluster_when_the_deploy_is_refused(
    each_binary: dict[str, str], api_server: tuple[str, str, list[str]]
) -> None:
    env = each_binary
    _, _, seen = api_server

    done = sreshow("up", "--platform", "eks", "--image", IMAGE, "--yes", "--ttl", "45m", env=env)

    assert done.returncode == 3, done.stderr
    error = done.stderr
    assert "refused the context's credentials" in error
    assert "The EKS cluster sreshow-stand-in stays up" in error
    assert "/h" in error
    assert "sreshow down" in error
    # The deploy reached the cluster with a token from `sreshow eks-token`, via moto.
    assert seen
    assert all(header.startswith("Bearer k8s-aws-v1.") for header in seen)
    # Terraform got the run's variables; the record and kubeconfig are private.
    run = RunFile(state_dir(env)).read()
    assert run is not None
    assert run.admin_principal_arn == MOTO_PRINCIPAL
    assert run.allowed_cidrs == ("127.0.0.1/32",)
    assert run.expires_at.endswith("Z")
    assert run.outputs["cluster_name"] == "sreshow-stand-in"
    for private in (RunFile(state_dir(env)).path, state_dir(env) / "kubeconfig"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    tags = _output(env, "tags")
    assert tags["sreshow/run-id"] == run.run_id
    assert tags["sreshow/expires-at"] == run.expires_at
    assert tags["managed-by"] == "sreshow"

    status = sreshow("status", env=env)
    assert status.returncode == 3
    assert "not deployed" in status.stderr
    assert run.run_id in status.stderr


def test_down_asks_then_destroys_everything_and_leaves_no_state(
    each_binary: dict[str, str],
) -> None:
    env = each_binary
    sreshow("up", "--platform", "eks", "--image", IMAGE, "--yes", env=env)
    run = RunFile(state_dir(env)).read()
    assert run is not None

    unasked = sreshow("down", env=env)  # no terminal to answer on: nothing destroyed
    assert unasked.returncode == 2, unasked.stderr
    assert f"sreshow will destroy run {run.run_id}" in unasked.stdout
    assert "Cost avoided: ~$" in unasked.stdout
    assert "/month if left up" in unasked.stdout
    assert "pass --yes" in unasked.stderr
    assert _output(env, "cluster_name") == "sreshow-stand-in"

    done = sreshow("down", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    assert f"Destroyed run {run.run_id} in {REGION}: 2 resources" in done.stdout
    assert "AWS lists nothing tagged with the run. Cost avoided: ~$" in done.stdout
    assert not state_dir(env).exists()
    again = sreshow("down", "--yes", env=env)
    assert again.returncode == 0, again.stderr
    assert "nothing" in again.stdout.lower()


def test_a_failing_plan_is_one_error_and_down_forgets_the_run_that_made_nothing(
    env: dict[str, str],
) -> None:
    broken = {name: value for name, value in env.items() if name != "TF_VAR_test_api_ca"}

    done = sreshow("up", "--platform", "eks", "--image", IMAGE, "--yes", env=broken)

    assert done.returncode == 3, done.stderr
    assert "test_api_ca" in done.stderr
    assert RunFile(state_dir(env)).read() is not None  # recorded before the first change
    forgotten = sreshow("down", "--yes", env=broken)
    assert forgotten.returncode == 0, forgotten.stderr
    assert "had made nothing" in forgotten.stdout
    assert not state_dir(env).exists()


def test_a_declined_question_changes_nothing_and_leaves_nothing(env: dict[str, str]) -> None:
    asked: list[str] = []
    lifecycle = EksLifecycle(Settings.from_env(os.environ))

    def decline(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(UsageError, match="nothing was changed: not confirmed"):
        lifecycle.up(UpOptions(image=IMAGE, confirm=decline), lambda _: None)

    assert len(asked) == 1
    assert "Terraform will create 2, change 0 and destroy 0 resources" in asked[0]
    assert f"AWS {REGION}" in asked[0]
    assert "/h" in asked[0]
    assert not lifecycle.is_up()
    assert not state_dir(env).exists()


def test_a_failing_pre_flight_check_stops_before_any_change(env: dict[str, str]) -> None:
    _existing_cluster("sreshow-stand-in")

    done = sreshow("up", "--platform", "eks", "--image", IMAGE, "--yes", env=env)

    assert done.returncode == 3
    assert "pre-flight" in done.stderr
    assert "sreshow-stand-in" in done.stderr
    assert "nothing was changed" in done.stderr
    assert not (state_dir(env) / "run.json").exists()
    assert not (state_dir(env) / "terraform" / "terraform.tfstate").exists()


@pytest.mark.parametrize(
    ("args", "extra", "named"),
    [
        ((), {}, "--image"),
        (
            ("--image", IMAGE),
            {"SRESHOW_EKS_ALLOWED_CIDRS": "0.0.0.0/0"},
            "SRESHOW_EKS_ALLOWED_CIDRS",
        ),
        (
            ("--image", IMAGE),
            {"SRESHOW_EKS_ALLOWED_CIDRS": "my-laptop"},
            "SRESHOW_EKS_ALLOWED_CIDRS",
        ),
        (
            ("--image", IMAGE),
            {"SRESHOW_EKS_TERRAFORM_DIR": "/nonexistent"},
            "SRESHOW_EKS_TERRAFORM_DIR",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_made(
    env: dict[str, str], args: tuple[str, ...], extra: dict[str, str], named: str
) -> None:
    done = sreshow("up", "--platform", "eks", "--yes", *args, env=env | extra)

    assert done.returncode == 2, done.stderr
    assert named in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert not (state_dir(env) / "run.json").exists()


@pytest.mark.usefixtures("env")
def test_status_without_a_run_says_none_is_up() -> None:
    lifecycle = EksLifecycle(Settings.from_env(os.environ))

    with pytest.raises(PlatformError, match="no eks stack is up"):
        lifecycle.status()


def _output(env: dict[str, str], name: str) -> object:
    """One output of the state `up` left, read with terraform itself."""
    done = subprocess.run(
        [env.get("SRESHOW_TF_BIN", "terraform"), "output", "-json", name],
        cwd=state_dir(env) / "terraform",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    return json.loads(done.stdout)


def _existing_cluster(name: str) -> None:
    """A cluster of that name in moto already (another team's, a forgotten run)."""
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": []},
    )
