"""The `eks` platform's lifecycle: Terraform builds the seed's VPC and EKS cluster (the
shipped `terraform/`), then the `kubernetes` platform runs the stack on it.

Built so far: `up --dry-run` (`preview`), which lists what the configuration would
create and prices it, with no credentials, no network and nothing changed. The apply
itself (pre-flight checks, `terraform apply` streamed, the kubeconfig, the stack
deployed through the `kubernetes` platform) is the rest of issue #16: until it lands,
`up` says so and changes nothing, and `status`/`down` report that no eks stack is up.
"""

from __future__ import annotations

from collections.abc import Callable

from sreshow.adapters.eks.configuration import Configuration, read_configuration
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import Platform, UpOptions, UpPreview, UpResult
from sreshow.settings import Settings
from sreshow.stack_status import StackStatus

DEFAULT_REGION = "us-east-1"  # what `sreshow cost` prices when no region is set
STATE_DIR_NAME = "eks"  # under the state dir: Terraform's working copy and state


class EksLifecycle:
    """The stack on an EKS cluster sreshow builds; see the module doc."""

    name = "eks"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._dir = settings.state_dir / STATE_DIR_NAME

    def preview(self, options: UpOptions) -> UpPreview:
        """What Terraform would create and what it costs, read from the configuration."""
        _validate(options)
        region = self._region()
        configuration = read_configuration()
        items = (_shape(configuration), *_resources(configuration))
        return UpPreview(
            where=f"eks: AWS {region}, a new VPC and EKS cluster (Terraform, {_source()})",
            items=items,
            cost_region=region,
            notes=(
                "Listed from terraform/ without a plan: a plan needs the hashicorp/aws "
                "provider and AWS credentials; nothing contacted AWS.",
            ),
        )

    def up(self, options: UpOptions, progress: Callable[[StackStatus], None]) -> UpResult:
        del progress
        _validate(options)
        raise PlatformError(
            "the eks platform's apply is not built yet (issue #16): nothing was changed; "
            "`sreshow up --platform eks --dry-run` shows what it would create and cost"
        )

    def is_up(self) -> bool:
        return (self._dir / "terraform" / "terraform.tfstate").is_file()

    def status(self) -> StackStatus:
        raise PlatformError(
            f"no eks stack is up (state in {self._dir}); "
            "`sreshow up --platform eks --dry-run` shows what one would create and cost"
        )

    def down(self, *, yes: bool) -> str:
        del yes
        if self.is_up():
            raise PlatformError(
                f"Terraform state remains in {self._dir / 'terraform'}: run `terraform destroy` "
                "there, then `sreshow eks-orphans` to check nothing is left"
            )
        return "No eks stack was brought up here; nothing to destroy."

    def connect(self, admin_token: str | None) -> Platform:
        del admin_token
        raise PlatformError(
            "no eks stack is up to run a scenario on; `sreshow up --platform eks --dry-run` "
            "shows what one would create and cost"
        )

    def _region(self) -> str:
        from sreshow.adapters.aws.names import region_from_env

        return region_from_env(None, self._settings.env) or DEFAULT_REGION


def _validate(options: UpOptions) -> None:
    options.check()
    for flag, given in (("--port", options.port), ("--manifests", options.manifests)):
        if given is not None:
            raise UsageError(
                f"{flag} is not for the eks platform: the app is reached through the load "
                f"balancer Terraform creates, from manifests/overlays/eks (leave {flag} out)"
            )


def _source() -> str:
    from sreshow.adapters.eks.configuration import shipped_directory

    directory = shipped_directory()
    return str(directory) if directory.name == "terraform" else "the shipped configuration"


def _shape(configuration: Configuration) -> tuple[str, str]:
    """The seed's numbers as the configuration's defaults give them."""
    size = configuration.default("node_group_size") or {}
    return (
        "the shape",
        f"EKS {configuration.default('cluster_version')} cluster "
        f"{configuration.default('name')!r}; nodes {configuration.default('node_instance_type')} "
        f"SPOT, min {size.get('min')} / desired {size.get('desired')} / max {size.get('max')}, "
        f"{configuration.default('node_disk_size_gib')} GiB gp3; the app on NodePort "
        f"{configuration.default('app_node_port')} behind a network load balancer",
    )


def _resources(configuration: Configuration) -> list[tuple[str, str]]:
    """One line per resource block, in the files' order: its label (and count, when not
    one) and its address."""
    return [
        (
            resource.label if resource.count == "1" else f"{resource.label} ({resource.count})",
            resource.address,
        )
        for resource in configuration.resources
    ]
