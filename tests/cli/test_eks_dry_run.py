"""`sreshow up --platform eks --dry-run` as a newcomer runs it: no credentials, no
network, nothing changed; it lists what the shipped Terraform would create with the
seed's numbers, prices it for the region the environment names, and records nothing."""

from __future__ import annotations

from pathlib import Path

from tests.cli.offline import offline_sreshow


def test_the_dry_run_shows_what_terraform_would_create_and_the_cost(tmp_path: Path) -> None:
    done = offline_sreshow(tmp_path, "up", "--platform", "eks", "--dry-run")

    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    out = done.stdout
    assert "Would bring up on eks: AWS us-east-1, a new VPC and EKS cluster" in out
    assert (
        "EKS 1.35 cluster 'sreshow'; nodes t3.small SPOT, min 1 / desired 2 / max 3, 20 GiB gp3"
        in out
    )
    for line in (
        "subnet (2)",
        "aws_subnet.public",
        "aws_subnet.private",
        "NAT gateway",
        "aws_nat_gateway.main",
        "managed node group",
        "aws_eks_node_group.main",
        "OIDC provider (IRSA)",
        "load balancer",
        "aws_lb.app",
    ):
        assert line in out
    assert "eks in us-east-1: ~$0.24/h, ~$0.12 per 30-minute demo" in out
    assert "nothing contacted AWS" in out
    assert out.rstrip().endswith("Dry run: nothing was changed.")
    state = tmp_path / "state"
    assert not state.exists() or list(state.iterdir()) == []


def test_the_region_comes_from_the_environment_and_prices_follow_it(tmp_path: Path) -> None:
    done = offline_sreshow(
        tmp_path, "up", "--platform", "eks", "--dry-run", env={"AWS_REGION": "ap-northeast-1"}
    )

    assert done.returncode == 0, done.stderr
    assert "Would bring up on eks: AWS ap-northeast-1" in done.stdout
    assert "eks in ap-northeast-1: ~$" in done.stdout


def test_flags_the_eks_platform_does_not_take_are_refused(tmp_path: Path) -> None:
    done = offline_sreshow(tmp_path, "up", "--platform", "eks", "--dry-run", "--port", "8081")

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "error: --port is not for the eks platform: the app is reached through the load "
        "balancer Terraform creates, from manifests/overlays/eks (leave --port out)"
    ]
