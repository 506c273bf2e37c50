"""`sreshow eks-token` (kubectl's exec credential plugin for the eks platform's cluster)
and `sreshow eks-orphans` (what sreshow left in an AWS region); thin commands over
`adapters/aws/`."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.
# boto3 (~0.2 s) is imported inside the commands, and by eks-token only on a cache miss:
# kubectl runs it before its requests.

from typing import TYPE_CHECKING

import typer

from sreshow.cli.application import application
from sreshow.errors import ExitCode

if TYPE_CHECKING:
    from rich.table import Table

    from sreshow.adapters.aws.orphans import Orphan

REGION_HELP = "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)."


def eks_token(
    ctx: typer.Context,
    cluster: str = typer.Argument(..., metavar="CLUSTER", help="The EKS cluster's name."),
    region: str | None = typer.Option(None, "--region", metavar="REGION", help=REGION_HELP),
) -> int:
    """Print an EKS token for kubectl's exec plugin.

    An ExecCredential (client.authentication.k8s.io/v1beta1) holding a bearer token for
    CLUSTER: what a kubeconfig's exec plugin runs, so kubectl reaches EKS without the AWS
    CLI. The token is kept for 14 minutes (0600, in the state dir's eks/), one per
    cluster, region and AWS_PROFILE/AWS_ACCESS_KEY_ID. Only the JSON goes to stdout; exit 2
    for a bad name or no region, 3 without AWS credentials."""
    from sreshow.adapters.aws.token import eks_exec_credential

    state_dir = application(ctx).settings.state_dir
    typer.echo(eks_exec_credential(cluster, region, state_dir))
    return int(ExitCode.PASSED)


def eks_orphans(
    ctx: typer.Context,
    region: str | None = typer.Option(None, "--region", metavar="REGION", help=REGION_HELP),
    run_id: str | None = typer.Option(
        None, "--run-id", help="Only this run's resources (its sreshow/run-id tag)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON list instead."),
) -> int:
    """List the resources tagged managed-by=sreshow that still exist in the region, e.g.
    after a failed or interrupted `sreshow down`. Exit 0 when none are left, 1 when some
    remain (so a script can gate on it), 2 for a bad flag, 3 when AWS cannot be asked."""
    import json

    from sreshow.adapters.aws.orphans import find_orphans
    from sreshow.adapters.aws.session import AwsSession

    app = application(ctx)
    aws = AwsSession.connect(region)
    orphans = find_orphans(aws, run_id)
    if json_output:
        typer.echo(json.dumps([_as_json(orphan) for orphan in orphans], indent=2))
        return int(ExitCode.VERDICT_FAILED if orphans else ExitCode.PASSED)
    out = app.terminal.out
    scope = f"{aws.region}" + (f" for run {run_id}" if run_id else "")
    if not orphans:
        out.print(f"no sreshow resources left in {scope}", markup=False, highlight=False)
        return int(ExitCode.PASSED)
    out.print(_table(orphans))
    billable = sum(orphan.billable for orphan in orphans)
    out.print(
        f"{_count(len(orphans), 'sreshow resource')} left in {scope}, {billable} billed by "
        "the hour; "
        "run `sreshow down` again, or delete them (billable ones first) in the AWS console",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return int(ExitCode.VERDICT_FAILED)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _as_json(orphan: "Orphan") -> dict[str, object]:
    return {
        "kind": orphan.kind,
        "id": orphan.id,
        "region": orphan.region,
        "run_id": orphan.run_id,
        "state": orphan.state,
        "arn": orphan.arn,
        "billable": orphan.billable,
        "tags": dict(orphan.tags),
    }


def _table(orphans: "tuple[Orphan, ...]") -> "Table":
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("kind", "id", "state", "run id", "billable"):
        table.add_column(column, overflow="fold")
    for orphan in orphans:
        table.add_row(
            orphan.kind,
            orphan.id,
            orphan.state or "-",
            orphan.run_id or "-",
            "yes" if orphan.billable else "no",
        )
    return table


def register(root: typer.Typer) -> None:
    root.command("eks-token")(eks_token)
    root.command("eks-orphans")(eks_orphans)
