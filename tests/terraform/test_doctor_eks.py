"""`sreshow doctor --platform eks` against a real moto server: the binary, the AWS
account's pre-flight checks each as a line (unknown where moto cannot answer), a clash
with an existing cluster failing with its fix, no credentials one failing line, and the
addresses the cluster will admit (SRESHOW_EKS_ALLOWED_CIDRS checked as `up` checks it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sreshow.adapters.eks.configuration import read_configuration
from sreshow.doctor.eks import SESSION_FIX
from tests.cli.doctor_support import doctor, failing, line
from tests.terraform.moto_server import REGION, build_stack

pytestmark = pytest.mark.terraform


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.mark.usefixtures("aws_env")
def test_a_ready_account_passes_each_pre_flight_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(capsys, "--platform", "eks")

    assert code == 0
    assert failing(lines) == []
    assert line(lines, "terraform")["detail"].startswith(("terraform ", "tofu "))
    assert "123456789012" in line(lines, "AWS credentials")["detail"]
    assert REGION in line(lines, "availability zones")["detail"]
    assert line(lines, "spot vCPU quota")["detail"].startswith("unknown: ")
    cluster = read_configuration().default("name")
    assert line(lines, "cluster name")["detail"] == f"no EKS cluster {cluster} in {REGION}"


@pytest.mark.usefixtures("aws_env")
def test_a_cluster_of_the_same_name_fails_with_its_fix(capsys: pytest.CaptureFixture[str]) -> None:
    build_stack(run_id="earlier-run", cluster=str(read_configuration().default("name")))

    code, lines = doctor(capsys, "--platform", "eks")

    assert code != 0
    clash = line(lines, "cluster name")
    assert not clash["ok"]
    assert "already exists" in clash["detail"]
    assert "left by sreshow run earlier-run" in clash["detail"]
    assert "sreshow down" in clash["fix"]


def test_no_credentials_is_one_failing_line_with_the_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))

    code, lines = doctor(capsys, "--platform", "eks")

    assert code != 0
    account = line(lines, "AWS account")
    assert "credentials" in account["detail"]
    assert account["fix"] == SESSION_FIX
    assert failing(lines) == ["AWS account"]


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("given", "ok", "shown"),
    [
        ("203.0.113.7/32, 198.51.100.0/24", True, "203.0.113.7/32, 198.51.100.0/24"),
        ("0.0.0.0/0", False, "whole internet"),
        ("", True, "this machine's public address"),
    ],
)
def test_the_allowed_addresses_are_checked_as_up_checks_them(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: str,
    ok: bool,
    shown: str,
) -> None:
    monkeypatch.setenv("SRESHOW_EKS_ALLOWED_CIDRS", given)

    code, lines = doctor(capsys, "--platform", "eks")

    addresses = line(lines, "allowed addresses")
    assert addresses["ok"] is ok
    assert shown in addresses["detail"]
    assert (code == 0) is ok


@pytest.mark.usefixtures("aws_env")
def test_the_checks_read_the_configuration_up_would_apply(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = Path(__file__).parent / "fixtures" / "eks_stand_in"
    monkeypatch.setenv("SRESHOW_EKS_TERRAFORM_DIR", str(stand_in))

    _, lines = doctor(capsys, "--platform", "eks")

    assert line(lines, "cluster name")["detail"] == f"no EKS cluster sreshow-stand-in in {REGION}"
