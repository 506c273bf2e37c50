"""`sreshow scenario run NAME` once the file is valid: drive the runner, show it live
(or as one line per event, in the order the run saw them), write the journal, print
the summary, return the exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from sreshow.cli import run_view
from sreshow.cli.terminal import Terminal
from sreshow.errors import ExitCode

if TYPE_CHECKING:
    from sreshow.cli.application import Application
    from sreshow.ports import Load, Platform
    from sreshow.scenarios.observer import Observer
    from sreshow.scenarios.runner import ScenarioResult
    from sreshow.scenarios.spec import ScenarioSpec

LIVE_REFRESH = 4  # per second

# What a command adds to a run's record and summary: journal sections, a renderable.
Closing = Callable[["ScenarioResult"], tuple[dict[str, Any], "RenderableType | None"]]


def execute(
    spec: ScenarioSpec,
    *,
    auto: bool,
    report_dir: Path | None,
    app: Application,
    closing: Closing | None = None,
    junit: Path | None = None,
) -> int:
    """Run `spec` on the running stack, whichever platform it is on; the exit code."""
    from sreshow.report.live_link import live_dashboard_url
    from sreshow.scenarios.load import OpenModelLoad

    platform = app.platforms.current().connect(app.settings.admin_token())
    return run_and_report(
        spec,
        platform,
        OpenModelLoad(),
        auto=auto,
        report_dir=report_dir,
        runs_dir=app.settings.state_dir / "runs",
        terminal=app.terminal,
        closing=closing,
        junit=junit,
        dashboard_url=live_dashboard_url(app.settings.state_dir),
    )


def run_and_report(
    spec: ScenarioSpec,
    platform: Platform,
    load: Load,
    *,
    auto: bool,
    report_dir: Path | None,
    runs_dir: Path,  # where a run's folder goes without `report_dir`
    terminal: Terminal,
    closing: Closing | None = None,
    junit: Path | None = None,
    dashboard_url: str | None = None,  # the live dashboard, linked from the live view
) -> int:
    """Run `spec` on `platform` (closed here), live or as lines, then stop the load,
    write the journal, the reports next to it (and the JUnit XML to `junit`) and print
    the summary (and what `closing` adds to both); the contract exit code.

    From the cleanup on, Ctrl-C and SIGTERM are noted, not obeyed, until the journal is
    written and the summary printed: then the exit code is 130."""
    from sreshow.report.journal import run_id, write_journal
    from sreshow.report.narrative import event_line
    from sreshow.scenarios.runner import RunHooks, ScenarioRunner
    from sreshow.scenarios.signals import routed_signals

    out = terminal.out
    screen = _LiveScreen(spec.name, platform.name, platform.time_scale, out, dashboard_url)
    live = Live(console=out, get_renderable=screen.render, refresh_per_second=LIVE_REFRESH)
    hooks = RunHooks(say=lambda text: terminal.err.print(text, highlight=False))
    if not auto and sys.stdin.isatty():
        hooks.ask = lambda prompt: _ask(terminal, prompt, live if out.is_terminal else None)
    if out.is_terminal:
        hooks.on_observer = screen.watch
    else:
        hooks.on_event = lambda event: out.print(event_line(event), highlight=False, soft_wrap=True)
    runner = ScenarioRunner(spec, platform, load, hooks)
    # The runner's own routing ends when `run()` returns; this one goes on through the
    # tail, with no moment between them where a Ctrl-C would lose the journal.
    with routed_signals(runner.on_signal):
        try:
            with platform, live if out.is_terminal else nullcontext():
                result = runner.run()
        finally:
            load.stop()
        if runner.interrupted_during_cleanup and not result.interrupted:
            result = replace(result, interrupted=True, exit_code=ExitCode.INTERRUPTED)
        extra, epilogue = closing(result) if closing is not None else ({}, None)
        journal = write_journal(result, report_dir or runs_dir / run_id(result), extra)
        out.print(run_view.summary(result, str(journal)))
        if epilogue is not None:
            out.print(epilogue)
        reported = write_run_reports(terminal, journal, junit)
        if result.error and not result.interrupted:
            terminal.error(result.error)
    if runner.interrupted_during_cleanup:
        return int(ExitCode.INTERRUPTED)
    if not reported and result.exit_code == ExitCode.PASSED:
        return int(ExitCode.PLATFORM)  # a pipeline gating on the reports must not pass
    return int(result.exit_code)


def write_run_reports(terminal: Terminal, journal: Path, junit: Path | None) -> bool:
    """Write report.md and report.html next to `journal` (and the JUnit XML to `junit`)
    from the journal as written, and print their paths; False, with one error line
    saying how to write them later, when a file could not be written."""
    from sreshow.report.render import read_journal, write_junit, write_reports

    record = read_journal(journal)
    try:
        written = write_reports(record, journal.parent)
        if junit is not None:
            written.append(write_junit(record, junit))
    except OSError as e:
        terminal.error(
            f"the reports were not written ({e.strerror}: {e.filename}); the journal is "
            f"kept: write them with `sreshow report {journal.parent}`"
        )
        return False
    for path in written:
        terminal.out.print(f"report: {path}", style="dim", highlight=False, soft_wrap=True)
    return True


class _LiveScreen:
    """What the live view shows: the observer's view once the run has one."""

    def __init__(
        self,
        scenario: str,
        platform: str,
        time_scale: float,
        console: Console,
        dashboard_url: str | None,
    ) -> None:
        self.scenario, self.platform, self.time_scale = scenario, platform, time_scale
        self._console = console
        self._dashboard_url = dashboard_url
        self._observer: Observer | None = None

    def watch(self, observer: Observer) -> None:
        self._observer = observer

    def render(self) -> RenderableType:
        if self._observer is None:
            return Text(f"starting {self.scenario}…")
        view = self._observer.view()
        console = self._console
        return run_view.live_layout(
            view,
            self.scenario,
            self.platform,
            self.time_scale,
            console.height,
            width=console.width,
            dashboard_url=self._dashboard_url,
        )


def _ask(terminal: Terminal, prompt: str, live: Live | None) -> None:
    """Wait for Enter, with the live view stopped so the prompt is readable."""
    if live is not None:
        live.stop()
    try:
        terminal.out.input(f"[bold]{prompt}[/] ⏎ ")
    finally:
        if live is not None:
            live.start()
