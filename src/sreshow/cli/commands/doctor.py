"""`sreshow doctor`: a readiness report, one line per check, each failing one with its fix."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from sreshow.cli.application import application
from sreshow.cli.options import CONTEXT_OPTION
from sreshow.errors import ExitCode
from sreshow.platforms import DEFAULT_PLATFORM, LIFECYCLES

if TYPE_CHECKING:  # Rich and the checks load in the command, not for `--help`
    from rich.console import RenderableType

    from sreshow.doctor import Check


def doctor(  # noqa: PLR0917 (Typer: one parameter per option)
    ctx: typer.Context,
    as_json: bool = typer.Option(
        False, "--json", help="Machine-readable: a list of {check, ok, detail, fix}."
    ),
    platform: str | None = typer.Option(
        None,
        help=f"The platform to check: one of {', '.join(LIFECYCLES)} (default: the one "
        f"whose stack is up, else {DEFAULT_PLATFORM}).",
    ),
    port: int | None = typer.Option(
        None, help="local: the app port `up --port` would be given (default 8080, or a free one)."
    ),
    context: str | None = CONTEXT_OPTION,
    send_test: bool = typer.Option(
        False, "--send-test", help="Post one test message to the Slack webhook, if one is set."
    ),
    tour: str | None = typer.Option(
        None, "--tour", help="The walkthrough to check (default: sre-showcase); a name or a file."
    ),
) -> int:
    """Am I ready to go on stage? Checks binaries, ports, the cluster, the webhook, the
    clock, any running stack, and the walkthrough's tour and length.

    Exit 0 when every check passed, 1 when one failed (its line says the fix), 2 for a
    bad flag.
    """
    import json
    from dataclasses import asdict

    from sreshow.doctor import diagnose, inspection_for

    app = application(ctx).on_context(context)
    inspection = inspection_for(
        app.settings, app.platforms, platform=platform, port=port, send_test=send_test, tour=tour
    )
    lines = diagnose(inspection)
    out = app.terminal.out
    if as_json:
        out.print_json(json.dumps([asdict(line) for line in lines]))
    else:
        out.print(report_table(inspection.platform, lines))
        out.print(verdict(lines), highlight=False, markup=False)
    return int(ExitCode.PASSED if all(line.ok for line in lines) else ExitCode.VERDICT_FAILED)


def report_table(platform: str, lines: "Sequence[Check]") -> "RenderableType":
    """The report as a table: check, ✓ or ✗, what was found, the fix of a failing line."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"sreshow doctor: the {platform} platform", title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("ok")
    # Folded, never cut with an ellipsis: a path or a command is no use half shown.
    table.add_column("detail", overflow="fold")
    failing = any(not line.ok for line in lines)
    if failing:  # a column of nothing but blanks would only narrow the details
        table.add_column("fix", overflow="fold")
    for line in lines:
        mark = Text("✓", style="green") if line.ok else Text("✗", style="bold red")
        # Text, not markup: details quote paths, flags and server answers verbatim.
        cells = [Text(line.check), mark, Text(line.detail)]
        table.add_row(*cells, *([Text(line.fix)] if failing else []))
    return table


def verdict(lines: "Sequence[Check]") -> str:
    failed = sum(1 for line in lines if not line.ok)
    if not failed:
        return "Ready to go on stage."
    return f"Not ready: {failed} of {len(lines)} checks failed; each says its fix."


def register(root: typer.Typer) -> None:
    root.command()(doctor)
