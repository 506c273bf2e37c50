"""The `eks` platform's lifecycle: Terraform builds the seed's VPC and EKS cluster (the
shipped `terraform/`, or `SRESHOW_EKS_TERRAFORM_DIR`), then the `kubernetes` platform
runs the stack on it from `manifests/overlays/eks`.

`up` connects to AWS (credentials and region: boto3's chain), and on a first run asks
STS who the caller is, learns the addresses allowed in (`adapters.eks.addresses`) and
runs the pre-flight checks; a failing one stops it before any change. It records the
run (`adapters.eks.run`), then under the working dir's lock runs `init` and `plan`,
asks (unless `--yes`) with what the plan creates and what it costs, and applies,
streaming Terraform's progress to `UpOptions.build_progress`. With the outputs it
writes the cluster's kubeconfig (the user is `sreshow eks-token`) and hands over to
the `kubernetes` platform, the overlay's placeholders filled. A failure after the
apply leaves the cluster up (a rebuild is a quarter of an hour) and says so, with
what it costs; `up` again resumes where it stopped, `down` destroys.

`down` says what it destroys and the cost avoided, asks unless `--yes`, destroys
everything the state lists, then asks AWS for anything still tagged with the run
(`adapters.aws.orphans`): the state and the record are removed only when nothing is
left. `up --dry-run` (`preview`) lists the configuration's resources and the cost with
no credentials, no network and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sreshow.adapters.eks.configuration import (
    Configuration,
    configured_directory,
    read_configuration,
)
from sreshow.adapters.eks.run import EksRun, RunFile, expiry_timestamp, new_run_id, since
from sreshow.adapters.manifests import MANIFESTS_DIR
from sreshow.core.terraform_ui import ApplyProgress
from sreshow.errors import PlatformError, UsageError
from sreshow.ports import Platform, UpOptions, UpPreview, UpResult
from sreshow.settings import Settings
from sreshow.stack_status import Billing, StackStatus

if TYPE_CHECKING:
    from sreshow.adapters.aws.session import AwsSession
    from sreshow.adapters.kubernetes.lifecycle import KubernetesLifecycle
    from sreshow.adapters.terraform import PlanSummary, Terraform

STATE_DIR_NAME = "eks"  # under the state dir; the layout is adapters/eks/run.py's
TERRAFORM_DIR_NAME = "terraform"
KUBECONFIG_FILE = "kubeconfig"
OVERLAY = MANIFESTS_DIR / "overlays" / "eks"
# The overlay's placeholders and the Terraform outputs that fill them.
PLACEHOLDER_OUTPUTS = {
    "SRESHOW_CLUSTER_NAME": "cluster_name",
    "SRESHOW_CLUSTER_AUTOSCALER_ROLE_ARN": "cluster_autoscaler_role_arn",
    "SRESHOW_AWS_REGION": "region",
}
# Outputs kept in the run record: the placeholders', the kubeconfig's (the API server and
# its CA, public data) and the app's address.
KEPT_OUTPUTS = (
    *PLACEHOLDER_OUTPUTS.values(),
    "cluster_endpoint",
    "cluster_certificate_authority",
    "app_url",
)
RESUME_HINT = "run `sreshow up --platform eks` again to finish, or `sreshow down` to destroy"
NOT_CONFIRMED = "not confirmed (pass --yes to skip the question)"


class EksLifecycle:
    """The stack on an EKS cluster sreshow builds; see the module doc."""

    name = "eks"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._dir = settings.state_dir / STATE_DIR_NAME
        self._runs = RunFile(self._dir)

    # --- the port -------------------------------------------------------------------

    def preview(self, options: UpOptions) -> UpPreview:
        """What Terraform would create and what it costs, read from the configuration."""
        _validate(options, image_required=False)
        from sreshow.adapters.aws.names import DEFAULT_REGION, region_from_env

        region = region_from_env(None, self._settings.env) or DEFAULT_REGION
        configuration = read_configuration(self._configuration_dir())
        items = (_shape(configuration), *_resources(configuration))
        return UpPreview(
            where=f"eks: AWS {region}, a new VPC and EKS cluster (Terraform, "
            f"{configuration.directory})",
            items=items,
            cost_region=region,
            notes=(
                "Listed from the configuration without a plan: a plan needs the "
                "hashicorp/aws provider and AWS credentials; nothing contacted AWS.",
            ),
        )

    def up(self, options: UpOptions, progress: Callable[[StackStatus], None]) -> UpResult:
        _validate(options, image_required=not self._deployed())
        on_cluster = replace(options, manifests=OVERLAY, confirm=None)
        run = self._runs.read()
        if run is not None and self._deployed():  # the kubernetes platform finds it up
            result = self._kubernetes(run).up(on_cluster, progress)
            return replace(result, status=self._as_eks(result.status, run))
        aws = self._aws(run.region if run is not None else None)
        if run is None:
            run = self._new_run(aws, options)
            self._runs.write(run)  # before the first change: `down` finds what was made
        outputs = self._build(run, options)
        run = run.model_copy(update={"outputs": outputs})
        self._runs.write(run)
        self._write_kubeconfig(run)
        try:
            result = self._kubernetes(run).up(on_cluster, progress)
        except PlatformError as e:
            raise PlatformError(
                f"{e}. The EKS cluster {run.cluster_name} stays up ({_hourly(run)}): {RESUME_HINT}"
            ) from e
        return replace(result, status=self._as_eks(result.status, run))

    def is_up(self) -> bool:
        """A run is recorded: from before the first change until `down` found nothing left."""
        return self._runs.read() is not None

    def status(self) -> StackStatus:
        run = self._require_run()
        if not self._deployed():
            raise PlatformError(
                f"the EKS cluster of run {run.run_id} ({run.region}) is built or being built "
                f"but the stack is not deployed on it; it costs {_hourly(run)}: {RESUME_HINT}"
            )
        return self._as_eks(self._kubernetes(run).status(), run)

    def down(
        self,
        *,
        confirm: Callable[[str], bool] | None = None,
        progress: Callable[[ApplyProgress], None] | None = None,
    ) -> str:
        run = self._runs.read()
        terraform = self._terraform()
        if run is None:
            if terraform.state_resources():
                raise PlatformError(
                    f"Terraform state in {terraform.working_dir} lists resources but sreshow's "
                    f"record of the run is gone; run `terraform destroy` there, then "
                    "`sreshow eks-orphans`"
                )
            return "No eks stack was brought up here; nothing to destroy."
        with terraform.exclusive("destroy"):
            left = terraform.state_resources()
            if confirm is not None and left and not confirm(_destroy_question(run, left)):
                raise UsageError(f"nothing was destroyed: {NOT_CONFIRMED}")
            if left:
                terraform.init()
                terraform.destroy(run.variables(), progress)
            remaining = self._orphans(run)
            if remaining:
                raise PlatformError(
                    f"Terraform destroyed what its state held, but AWS still lists "
                    f"{len(remaining)} resources tagged with run {run.run_id}: "
                    f"{', '.join(remaining[:5])}; `sreshow eks-orphans --run-id {run.run_id}` "
                    "lists them, docs/eks.md says how to remove them"
                )
            terraform.remove_state()
        self._forget()
        if not left:
            return (
                f"Run {run.run_id} in {run.region} had made nothing (its state lists no "
                "resource, and AWS nothing tagged with it); its record is removed."
            )
        return (
            f"Destroyed run {run.run_id} in {run.region}: {len(left)} resources, and AWS "
            f"lists nothing tagged with the run. Cost avoided: {_hourly(run)}."
        )

    def connect(self, admin_token: str | None) -> Platform:
        run = self._require_run()
        if not self._deployed():
            raise PlatformError(
                f"the stack is not deployed on the EKS cluster of run {run.run_id}: {RESUME_HINT}"
            )
        platform = self._kubernetes(run).connect(admin_token)
        platform.name = self.name  # runs and their journals say where they ran
        return platform

    # --- the build ------------------------------------------------------------------

    def _new_run(self, aws: AwsSession, options: UpOptions) -> EksRun:
        """Who builds, where, reaching it from where; after the pre-flight checks."""
        import time

        from sreshow.adapters.aws.names import access_entry_principal
        from sreshow.adapters.aws.preflight import preflight_checks
        from sreshow.adapters.eks.addresses import allowed_cidrs

        configuration = read_configuration(self._configuration_dir())
        cluster_name = str(configuration.default("name"))
        failed = [c for c in preflight_checks(aws, cluster_name) if c.ok is False]
        if failed:
            raise PlatformError(
                "pre-flight: "
                + "; ".join(
                    f"{c.check}: {c.detail}" + (f" ({c.fix})" if c.fix else "") for c in failed
                )
                + "; nothing was changed"
            )
        caller = aws.whoami()
        now = time.time()
        return EksRun(
            run_id=new_run_id(now),
            region=aws.region,
            cluster_name=cluster_name,
            owner=caller.arn,
            admin_principal_arn=access_entry_principal(caller.arn),
            allowed_cidrs=allowed_cidrs(self._settings.env),
            expires_at=expiry_timestamp(options.ttl_seconds, now),
            nodes=int((configuration.default("node_group_size") or {}).get("desired", 2)),
            started_at=now,
        )

    def _build(self, run: EksRun, options: UpOptions) -> dict[str, str]:
        """init, plan, the question, apply; the outputs kept in the run record."""
        terraform = self._terraform()
        with terraform.exclusive("apply"):
            terraform.init()
            plan = terraform.plan(run.variables(), options.build_progress)
            if _changes(plan):
                if options.confirm is not None and not options.confirm(_question(run, plan)):
                    plan.plan_file.unlink(missing_ok=True)
                    if not terraform.state_resources():
                        self._forget()  # nothing was ever made: nothing half-done stays
                    raise UsageError(f"nothing was changed: {NOT_CONFIRMED}")
                outputs = terraform.apply(plan, options.build_progress)
            else:
                plan.plan_file.unlink(missing_ok=True)
                outputs = terraform.outputs()
        missing = [name for name in KEPT_OUTPUTS if name not in outputs]
        if missing:
            raise PlatformError(
                f"the configuration in {terraform.configuration} has no output "
                f"{', '.join(missing)}; the shipped terraform/outputs.tf has them all"
            )
        return {name: str(outputs[name].value) for name in KEPT_OUTPUTS}

    def _write_kubeconfig(self, run: EksRun) -> None:
        from sreshow.adapters.aws.eks import write_kubeconfig

        write_kubeconfig(
            self._dir / KUBECONFIG_FILE,
            run.outputs["cluster_name"],
            run.outputs["cluster_endpoint"],
            run.outputs["cluster_certificate_authority"],
            run.region,
            env=self._settings.env,
        )

    # --- helpers ----------------------------------------------------------------------

    def _configuration_dir(self) -> Path:
        return configured_directory(self._settings.env)

    def _terraform(self) -> Terraform:
        from sreshow.adapters.terraform import Terraform

        return Terraform.locate(
            self._settings,
            self._configuration_dir(),
            self._dir / TERRAFORM_DIR_NAME,
            resume_hint=RESUME_HINT,
        )

    def _aws(self, region: str | None) -> AwsSession:
        from sreshow.adapters.aws.names import region_from_env
        from sreshow.adapters.aws.session import AwsSession

        return AwsSession.connect(region or region_from_env(None, self._settings.env))

    def _kubernetes(self, run: EksRun) -> KubernetesLifecycle:
        from sreshow.adapters.kubernetes.lifecycle import KubernetesLifecycle

        return KubernetesLifecycle(
            replace(self._settings, state_dir=self._dir, kube_context=None),
            kubeconfig=self._dir / KUBECONFIG_FILE,
            placeholders={
                name: run.outputs[output] for name, output in PLACEHOLDER_OUTPUTS.items()
            },
        )

    def _deployed(self) -> bool:
        from sreshow.adapters.kubernetes.record import RecordFile

        return RecordFile(self._dir).read() is not None

    def _as_eks(self, status: StackStatus, run: EksRun) -> StackStatus:
        """The kubernetes platform's status as eks': its name, the load balancer's
        address for the app, and what it costs."""
        endpoints = dict(status.endpoints)
        if app_url := run.outputs.get("app_url"):
            endpoints["app"] = app_url
        return replace(
            status,
            platform=self.name,
            endpoints=endpoints,
            billing=Billing(region=run.region, nodes=run.nodes, up_since=run.started_at),
            state_location=f"{status.state_location}; Terraform state in "
            f"{self._dir / TERRAFORM_DIR_NAME}",
        )

    def _orphans(self, run: EksRun) -> list[str]:
        from sreshow.adapters.aws.orphans import find_orphans

        return [f"{o.kind} {o.id}" for o in find_orphans(self._aws(run.region), run.run_id)]

    def _require_run(self) -> EksRun:
        run = self._runs.read()
        if run is None:
            raise PlatformError(
                f"no eks stack is up (no record in {self._dir}); `sreshow up --platform eks "
                "--dry-run` shows what one would create and cost"
            )
        return run

    def _forget(self) -> None:
        """Everything sreshow kept of a run whose resources are all gone."""
        import shutil

        shutil.rmtree(self._dir, ignore_errors=True)


def _validate(options: UpOptions, *, image_required: bool) -> None:
    options.check()
    for flag, given in (("--port", options.port), ("--manifests", options.manifests)):
        if given is not None:
            raise UsageError(
                f"{flag} is not for the eks platform: the app is reached through the load "
                f"balancer Terraform creates, from manifests/overlays/eks (leave {flag} out)"
            )
    if image_required and options.image is None:
        raise UsageError(
            "--image is required on eks: the cluster pulls the app from a registry; push "
            "the image `docker build -t REGISTRY/sre-app:1.0.0 .` makes and pass "
            "--image REGISTRY/sre-app:1.0.0"
        )


def _changes(plan: PlanSummary) -> int:
    changes = plan.changes
    return changes.add + changes.change + changes.remove


def _question(run: EksRun, plan: PlanSummary) -> str:
    changes = plan.changes
    return (
        f"Terraform will create {changes.add}, change {changes.change} and destroy "
        f"{changes.remove} resources in AWS {run.region} for run {run.run_id} (cluster "
        f"{run.cluster_name}, owner {run.owner}); an apply takes about 15 minutes and the "
        f"stack costs {_rate(run)} until `sreshow down`. Go on?"
    )


def _destroy_question(run: EksRun, resources: list[str]) -> str:
    shown = ", ".join(resources[:4]) + (", …" if len(resources) > 4 else "")
    return (
        f"sreshow will destroy run {run.run_id} in AWS {run.region}: {len(resources)} "
        f"resources ({shown}), the EKS cluster {run.cluster_name} and the stack on it. "
        f"Cost avoided: {_hourly(run)}. Go on?"
    )


def _rate(run: EksRun) -> str:
    """`~$0.24/h, ~$174/month if left up`."""
    from sreshow.core.cost import bill_of_materials, hourly, monthly
    from sreshow.core.cost_text import about

    try:
        bom = bill_of_materials(run.region, run.nodes)
    except ValueError:
        return f"an amount sreshow has no prices for in {run.region}"
    return f"{about(hourly(bom), 2)}/h, {about(monthly(bom), 0)}/month if left up"


def _hourly(run: EksRun) -> str:
    """`_rate` and what was spent: `…; up 42m: ~$0.17 so far`."""
    from sreshow.core.cost import bill_of_materials, for_duration
    from sreshow.core.cost_text import about, up_for_text

    try:
        so_far = for_duration(bill_of_materials(run.region, run.nodes), since(run))
    except ValueError:
        return _rate(run)
    return f"{_rate(run)}; up {up_for_text(since(run))}: {about(so_far, 2)} so far"


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
