"""`sreshow cost`: what the eks stack costs an hour, a demo and a month, from a priced bill
of materials in code; needs no credentials and no network."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

from collections.abc import Mapping

import typer

from sreshow.adapters.aws.names import DEFAULT_REGION
from sreshow.cli.application import application
from sreshow.errors import UsageError

REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")  # the AWS SDKs' order
# core/cost.py's node group bounds, repeated to keep `--help` from importing it
NODE_GROUP_MIN, DEFAULT_NODES, NODE_GROUP_MAX = 1, 2, 3


def cost(
    ctx: typer.Context,
    region: str | None = typer.Option(
        None,
        "--region",
        help=f"The AWS region to price (default: {' or '.join(REGION_VARIABLES)}, "
        f"else {DEFAULT_REGION}).",
    ),
    duration: str = typer.Option(
        "30m", "--duration", help="How long a demo stays up: a duration like 30m, 1h or 1h30m."
    ),
    nodes: int = typer.Option(
        DEFAULT_NODES,
        "--nodes",
        help=f"Spot nodes running ({NODE_GROUP_MIN} to {NODE_GROUP_MAX}, the node group's "
        "bounds; the autoscaler moves between them).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Estimate what the eks stack costs: per hour, per demo, per month left up, each
    price with its source and date. Exit 2 for a bad flag or a region without prices."""
    from sreshow.core.cost import bill_of_materials

    app = application(ctx)
    chosen, source, named = _region(region, app.settings.env)
    demo_seconds = _demo_seconds(duration)
    if not NODE_GROUP_MIN <= nodes <= NODE_GROUP_MAX:
        raise UsageError(
            f"--nodes {nodes}: the node group holds {NODE_GROUP_MIN} to {NODE_GROUP_MAX} nodes "
            f"(min {NODE_GROUP_MIN}, max {NODE_GROUP_MAX}); give a number in that range"
        )
    try:
        bom = bill_of_materials(chosen, nodes)
    except ValueError as e:
        raise UsageError(f"{named}: {e}; pass --region with a known one") from None
    out = app.terminal.out
    if as_json:
        import json

        from sreshow.cli.cost_view import cost_document

        out.print_json(json.dumps(cost_document(bom, demo_seconds, source)))
        return
    from sreshow.cli.cost_view import cost_view

    out.print(cost_view(bom, demo_seconds, source), soft_wrap=True)


def _region(flag: str | None, env: Mapping[str, str]) -> tuple[str, str, str]:
    """The region to price, where it came from (as the output says it) and how an error
    names it (`--region X`, `AWS_REGION=X`)."""
    if flag is not None:
        return flag, "from --region", f"--region {flag}"
    for name in REGION_VARIABLES:
        if value := env.get(name, "").strip():
            return value, f"from {name}", f"{name}={value}"
    unset = " and ".join(REGION_VARIABLES)
    return DEFAULT_REGION, f"the default: {unset} are unset", DEFAULT_REGION


def _demo_seconds(text: str) -> float:
    """Seconds in `--duration`; UsageError unless it is a positive duration."""
    from sreshow.core.durations import parse_duration

    try:
        milliseconds = parse_duration(text.strip())
    except ValueError:
        milliseconds = 0
    if milliseconds <= 0:
        raise UsageError(
            f"--duration {text}: not a positive duration; write one like 30m, 1h or 1h30m"
        )
    return milliseconds / 1000


def register(root: typer.Typer) -> None:
    root.command()(cost)
