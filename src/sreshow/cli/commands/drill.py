"""`sreshow rto-drill`: break the service on purpose, restore it, measure the RTO."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sreshow.cli.application import application
from sreshow.cli.commands.report import JUNIT_OPTION
from sreshow.cli.options import CONTEXT_OPTION, REPORT_OPTION, check_report_dir
from sreshow.errors import UsageError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sreshow.scenarios.runner import ScenarioResult


def rto_drill(  # noqa: PLR0917 (Typer: one parameter per option)
    ctx: typer.Context,
    level: str = typer.Option(
        "app",
        metavar="app|config|full",
        help="app: a bad release, rolled back; config: the Deployment scaled to zero, "
        "restored from the manifests; full: the whole stack torn down and rebuilt.",
    ),
    target: str | None = typer.Option(
        None,
        help="The RTO to meet, in real time (scaled by the stack's time scale, as every "
        "limit is); default: the seed's figures, app 30s, config 5m, full 20m.",
    ),
    report: Annotated[Path | None, REPORT_OPTION] = None,
    junit: Annotated[Path | None, JUNIT_OPTION] = None,
    yes: bool = typer.Option(False, "--yes", help="full: do not ask before tearing down."),
    context: str | None = CONTEXT_OPTION,
) -> int:
    """Break the service, restore it, measure the RTO against a target: exit 0 when met,
    1 when missed (naming the slowest phase)."""
    from sreshow.core.durations import parse_duration
    from sreshow.report.render import check_junit_path
    from sreshow.scenarios.drill import DEFAULT_TARGETS

    app = application(ctx).on_context(context)
    check_report_dir(report)
    check_junit_path(junit)
    if level not in DEFAULT_TARGETS:
        levels = ", ".join(DEFAULT_TARGETS)
        raise UsageError(f"--level {level}: unknown level; use one of {levels}")
    if target is None:
        target = DEFAULT_TARGETS[level]
    try:
        target_s = parse_duration(target) / 1000
    except ValueError:
        target_s = 0.0
    if target_s <= 0:
        raise UsageError(f"--target {target}: not a positive duration; write one like 30s or 2m")
    if level == "full":
        from sreshow.cli.commands.rebuild_drill import run_full_drill

        return run_full_drill(app, target_s=target_s, report_dir=report, yes=yes, junit=junit)
    from sreshow.cli.commands.scenario_run import execute
    from sreshow.scenarios.drill import drill_spec

    spec = drill_spec("app" if level == "app" else "config", target_s)
    return execute(
        spec,
        auto=True,  # a drill has no pause steps
        report_dir=report,
        app=app,
        closing=lambda result: _drill_closing(result, level, target_s),
        junit=junit,
    )


def _drill_closing(
    result: "ScenarioResult", level: str, target_s: float
) -> "tuple[dict[str, Any], RenderableType]":
    from sreshow.cli.drill_view import phases_view
    from sreshow.core.drill import drill_record, drill_verdict, timeline_phases
    from sreshow.scenarios.drill import DETECTED_BY

    phases = timeline_phases(result.events, DETECTED_BY[level])
    verdict = drill_verdict(
        result.metrics.rto_s, phases, target_s=target_s, time_scale=result.time_scale
    )
    return {"drill": drill_record(level, phases, verdict)}, phases_view(phases, verdict)


def register(app: typer.Typer) -> None:
    app.command("rto-drill")(rto_drill)
