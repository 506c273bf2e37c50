"""`sreshow report [RUN_ID]`: render a stored run's reports again; `sreshow runs`: the
stored runs, their times and each scenario's trend."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sreshow.cli.application import application

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sreshow.report.runs import StoredRun, Trend

SPARKLINE_RUNS = 20  # the trend's sparkline shows this many latest runs

# Shared with `scenario run` and `rto-drill`.
JUNIT_OPTION = typer.Option(
    "--junit",
    help="Also write JUnit XML here: one test case per expectation, failures with the "
    "measured value and the bound, for CI to gate on.",
)


def report(
    ctx: typer.Context,
    run_id: str | None = typer.Argument(
        None,
        metavar="[RUN_ID]",
        help="A run id from `sreshow runs`, a run's folder or a journal.json (default: the "
        "latest run).",
    ),
    junit: Annotated[Path | None, JUNIT_OPTION] = None,
) -> None:
    """Write a stored run's report.md and report.html again (next to its journal), from
    the journal alone: no stack needed."""
    from sreshow.report.render import check_junit_path, read_journal, write_junit, write_reports
    from sreshow.report.runs import find_run

    app = application(ctx)
    check_junit_path(junit)
    journal_path = find_run(app.settings.state_dir / "runs", run_id)
    journal = read_journal(journal_path)
    written = write_reports(journal, journal_path.parent)
    if junit is not None:
        written.append(write_junit(journal, junit))
    for path in written:
        app.terminal.out.print(f"report: {path}", highlight=False, soft_wrap=True)


def runs(
    ctx: typer.Context,
    scenario: str | None = typer.Option(None, "--scenario", help="Only this scenario's runs."),
    as_json: bool = typer.Option(
        False, "--json", help="Machine-readable: {runs: [...], trends: [...]}."
    ),
) -> None:
    """The stored runs, oldest first, with their times to detect, notify and recover (in
    real time), then each scenario's trend."""
    import json

    from sreshow.report.runs import stored_runs, trends

    app = application(ctx)
    runs_dir = app.settings.state_dir / "runs"
    found, unreadable = stored_runs(runs_dir)
    if scenario is not None:
        found = [run for run in found if run.scenario == scenario]
    out = app.terminal.out
    if as_json:
        listing = {
            "runs": [run.as_json() for run in found],
            "trends": [trend.as_json() for trend in trends(found)],
        }
        out.print_json(json.dumps(listing))
    elif not found:
        which = f" of {scenario}" if scenario is not None else ""
        out.print(
            f"no runs{which} stored under {runs_dir}; run one with `sreshow scenario NAME`",
            highlight=False,
            soft_wrap=True,
        )
    else:
        out.print(_runs_table(found))
        out.print(_trends_table(trends(found)))
        out.print("Re-render one with `sreshow report RUN_ID`.", highlight=False)
    for line in unreadable:
        app.terminal.err.print(f"skipped: {line}", highlight=False, soft_wrap=True, markup=False)


def _runs_table(found: "list[StoredRun]") -> "RenderableType":
    from rich.table import Table
    from rich.text import Text

    from sreshow.core.timeline import format_seconds

    table = Table(title="Runs (times in real time)", title_justify="left", show_edge=False)
    for column in ("run", "scenario", "verdict", "scale"):
        table.add_column(column)
    for column in ("detect", "notify", "recover"):
        table.add_column(column, justify="right")
    for run in found:
        style = "green" if run.verdict == "passed" else "red"
        table.add_row(
            Text(run.run_id),
            Text(run.scenario),
            Text(run.verdict, style=style),
            f"{run.time_scale:g}",
            *(format_seconds(run.times[key]) for key in run.times),
        )
    return table


def _trends_table(found: "list[Trend]") -> "RenderableType":
    from rich.table import Table
    from rich.text import Text

    from sreshow.core.timeline import format_seconds
    from sreshow.report.runs import sparkline

    def change(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return ("+" if seconds > 0 else "") + format_seconds(seconds)

    table = Table(
        title="Trend per scenario (last run against the one before)",
        title_justify="left",
        show_edge=False,
    )
    table.add_column("scenario")
    table.add_column("runs (passed)", justify="right")
    table.add_column("detect over the runs")
    for column in ("detect", "notify", "recover"):
        table.add_column(f"{column} Δ", justify="right")
    for trend in found:
        table.add_row(
            Text(trend.scenario),
            f"{trend.runs} ({trend.passed})",
            sparkline(trend.detect_s[-SPARKLINE_RUNS:]),
            *(change(value) for value in trend.change.values()),
        )
    return table


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(runs)
