"""`sreshow rto-drill --level full`: confirm, tear down, rebuild (showing `up`'s
progress), then the summary and the journal like every run."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sreshow.errors import ExitCode, SreshowError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from rich.live import Live

    from sreshow.cli.application import Application
    from sreshow.stack_status import StackStatus

# A shared cluster is not torn down; eks could be (destroy, apply), not built yet.
REBUILDABLE = ("local",)


def run_full_drill(
    app: Application,
    *,
    target_s: float,
    report_dir: Path | None,
    yes: bool,
    junit: Path | None = None,
) -> int:
    """Tear the running stack down and rebuild it; the contract exit code (the journal,
    the reports next to it and the JUnit XML to `junit` written as for every run)."""
    from rich.live import Live

    from sreshow.cli import run_view
    from sreshow.cli.commands.scenario_run import write_run_reports
    from sreshow.cli.drill_view import phases_view
    from sreshow.core.drill import drill_record, drill_verdict
    from sreshow.ports import UpOptions
    from sreshow.report.journal import run_id, write_journal
    from sreshow.scenarios.drill import manifest_replicas
    from sreshow.scenarios.rebuild import RebuildDrill, plan_rebuild

    lifecycle = app.platforms.current()
    if lifecycle.name not in REBUILDABLE:
        raise UsageError(
            f"--level full: the stack is on {lifecycle.name}, and only a "
            f"{', '.join(REBUILDABLE)} stack is torn down and rebuilt by a drill; "
            "use --level app or --level config there"
        )
    status = lifecycle.status()
    options = UpOptions(
        time_scale=status.time_scale,
        replicas=manifest_replicas(),
        port=urlsplit(status.endpoints.get("app", "")).port,
        admin_token=app.settings.admin_token(),
        slack_webhook_url=app.settings.slack_webhook_url(),
    )
    plan = plan_rebuild(lifecycle, status, options)
    question = (
        f"The {lifecycle.name} stack will be torn down (every replica, Prometheus, "
        f"Alertmanager, the notification sink) and rebuilt at time scale "
        f"{options.time_scale:g} with {options.replicas} replicas. Go on?"
    )
    if not yes and not app.terminal.confirm(question):
        raise UsageError("nothing was changed: not confirmed (pass --yes to skip the question)")
    out = app.terminal.out
    live = Live(console=out, transient=True) if out.is_terminal else None
    progress = _progress_view(live) if live is not None else lambda _: None
    drill = RebuildDrill(plan, progress, say=lambda text: out.print(text, highlight=False))
    error, interrupted = "", False
    try:
        with live if live is not None else nullcontext():
            drill.run()
    except KeyboardInterrupt:
        interrupted = True
    except SreshowError as e:
        error = str(e)
    if interrupted or error:
        _leave_nothing_half_done(app, options.time_scale)
    result = drill.result(target_s=target_s, error=error, interrupted=interrupted)
    verdict = drill_verdict(
        result.metrics.rto_s, drill.phases, target_s=target_s, time_scale=result.time_scale
    )
    journal = write_journal(
        result,
        report_dir or app.settings.state_dir / "runs" / run_id(result),
        {"drill": drill_record("full", drill.phases, verdict)},
    )
    out.print(run_view.summary(result, str(journal)))
    out.print(phases_view(drill.phases, verdict))
    reported = write_run_reports(app.terminal, journal, junit)
    if error:
        app.terminal.error(error)
    if interrupted:
        return int(ExitCode.INTERRUPTED)
    if not reported and result.exit_code == ExitCode.PASSED:
        return int(ExitCode.PLATFORM)
    return int(result.exit_code)


def _progress_view(live: Live) -> Callable[[StackStatus], None]:
    from sreshow.cli import dashboard

    return lambda status: live.update(dashboard.progress_table(status))


def _leave_nothing_half_done(app: Application, time_scale: float) -> None:
    """A rebuild cut short leaves no half-started stack: it is brought down, and the
    user told how to bring it back."""
    lifecycle = app.platforms.current()
    lifecycle.down()
    app.platforms.release()
    app.terminal.error(
        f"the rebuild did not finish; the stack is down — bring it back with "
        f"`sreshow up --time-scale {time_scale:g}`"
    )
