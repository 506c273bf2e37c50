"""`sreshow scenario list | show | schema | run`, and the short form `sreshow scenario NAME`.

The short form is the one users type (`sreshow scenario high-error-rate`): a first
argument that is not a subcommand is run, exactly as `scenario run NAME` would.
"""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click
from typer.core import TyperGroup

from sreshow.cli.application import application
from sreshow.cli.commands.report import JUNIT_OPTION
from sreshow.cli.options import CONTEXT_OPTION, REPORT_OPTION, check_report_dir
from sreshow.cli.terminal import Terminal

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ScenarioGroup(TyperGroup):
    """A group whose unknown first argument is a scenario to run: `scenario NAME` = `run NAME`."""

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "run", self.commands["run"], args
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=ScenarioGroup,
    name="scenario",
    help="List, show and run the failure scenarios; `sreshow scenario NAME` runs one.",
    invoke_without_command=True,
    subcommand_metavar="COMMAND [ARGS]... | NAME [RUN OPTIONS]",
    rich_markup_mode=None,
)


@app.callback()
def _scenario(ctx: typer.Context) -> None:
    """List, show and run the failure scenarios; `sreshow scenario NAME` runs one."""
    if ctx.invoked_subcommand is None:  # `sreshow scenario` alone: the help, as `sreshow` does
        application(ctx).terminal.out.print(ctx.get_help(), markup=False, highlight=False)


@app.command("list")
def list_scenarios(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable: [{name, summary}]."),
) -> None:
    """The shipped scenarios, one a line."""
    import json

    from rich.table import Table

    from sreshow.scenarios.loader import shipped_scenarios

    terminal = application(ctx).terminal
    scenarios = [spec for spec, _ in shipped_scenarios()]
    if as_json:
        listing = [{"name": spec.name, "summary": spec.summary} for spec in scenarios]
        terminal.out.print_json(json.dumps(listing))
        return
    table = Table("name", "summary", box=None, pad_edge=False)
    for spec in scenarios:
        table.add_row(spec.name, spec.summary)
    terminal.out.print(table)
    terminal.out.print(
        "Run one with `sreshow scenario NAME`; see it first with `scenario show NAME`."
    )


@app.command()
def show(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., metavar="NAME|PATH", help="A shipped name or a file."),
) -> None:
    """What a scenario does: its steady state, steps, expectations and rollback block."""
    from sreshow.scenarios.loader import resolve_scenario
    from sreshow.scenarios.plan import plan_lines

    terminal = application(ctx).terminal
    spec, path = resolve_scenario(scenario)
    lines = [f"{spec.name}: {spec.summary}", f"File: {path}", ""]
    if spec.description:
        lines += [*spec.description.rstrip().splitlines(), ""]
    _print_lines(terminal, [*lines, *plan_lines(spec)])


@app.command()
def schema(ctx: typer.Context) -> None:
    """The JSON Schema of scenario files, for editors and linters."""
    import json

    from sreshow.scenarios.spec import ScenarioSpec

    terminal = application(ctx).terminal
    body: dict[str, Any] = ScenarioSpec.model_json_schema()
    body.pop("title", None)
    document = {"$schema": SCHEMA_DIALECT, "title": "sreshow scenario file", **body}
    terminal.out.print_json(json.dumps(document))


@app.command()
def run(  # noqa: PLR0917 (Typer: one parameter per option)
    ctx: typer.Context,
    scenario: str = typer.Argument(..., metavar="NAME|PATH", help="A shipped name or a file."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the file and print the plan; touch nothing."
    ),
    auto: bool = typer.Option(False, "--auto", help="Do not wait for Enter at pause steps."),
    report: Annotated[Path | None, REPORT_OPTION] = None,
    junit: Annotated[Path | None, JUNIT_OPTION] = None,
    context: str | None = CONTEXT_OPTION,
) -> int:
    """Run a scenario on the running stack and measure it (exit 0 passed, 1 failed);
    the journal, report.md and report.html go to the run's folder (or --report)."""
    from sreshow.report.render import check_junit_path
    from sreshow.scenarios.loader import resolve_scenario
    from sreshow.scenarios.plan import plan_lines

    app = application(ctx).on_context(context)
    terminal = app.terminal
    spec, _ = resolve_scenario(scenario)
    check_report_dir(report)
    check_junit_path(junit)
    if dry_run:
        from sreshow.scenarios.prediction import band_line, predicted_bands

        predicted = [f"predicted in real time: {band_line(b)}" for b in predicted_bands(spec, 1.0)]
        _print_lines(terminal, [f"{spec.name}: {spec.summary}", *plan_lines(spec), *predicted])
        terminal.out.print("dry run: nothing was touched")
        return 0
    from sreshow.cli.commands.scenario_run import execute

    return execute(spec, auto=auto, report_dir=report, app=app, junit=junit)


def _print_lines(terminal: Terminal, lines: list[str]) -> None:
    for line in lines:
        terminal.out.print(line, markup=False, highlight=False, soft_wrap=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app)
