"""`sreshow scenario run NAME` once the file is valid: drive the runner, show it live,
write the journal, print the summary, return the exit code."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from sreshow.cli import run_view
from sreshow.cli.terminal import Terminal
from sreshow.settings import Settings

if TYPE_CHECKING:
    from sreshow.scenarios.observer import Observer
    from sreshow.scenarios.spec import ScenarioSpec

LIVE_REFRESH = 4  # per second


def execute(
    spec: ScenarioSpec,
    *,
    auto: bool,
    report_dir: Path | None,
    settings: Settings,
    terminal: Terminal,
) -> int:
    """Run `spec` on the running stack; the contract exit code."""
    from sreshow.adapters.local.stack import LocalPlatform
    from sreshow.report.journal import run_id, write_journal
    from sreshow.report.narrative import event_line
    from sreshow.scenarios.load import ThreadedLoad
    from sreshow.scenarios.runner import RunHooks, ScenarioRunner

    out = terminal.out
    platform = LocalPlatform(settings.state_dir)
    screen = _LiveScreen(spec.name, platform.name, platform.time_scale, out)
    live = Live(console=out, get_renderable=screen.render, refresh_per_second=LIVE_REFRESH)
    hooks = RunHooks(say=lambda text: terminal.err.print(text, highlight=False))
    if not auto and sys.stdin.isatty():
        hooks.ask = lambda prompt: _ask(terminal, prompt, live if out.is_terminal else None)
    if out.is_terminal:
        hooks.on_observer = screen.watch
    else:
        hooks.on_event = lambda event: out.print(event_line(event), highlight=False, soft_wrap=True)
    load = ThreadedLoad()
    try:
        with live if out.is_terminal else nullcontext():
            result = ScenarioRunner(spec, platform, load, hooks).run()
    finally:
        load.stop()
        platform.close()
    directory = report_dir or settings.state_dir / "runs" / run_id(result)
    journal = write_journal(result, directory)
    out.print(run_view.summary(result, str(journal)))
    if result.error and not result.interrupted:
        terminal.error(result.error)
    return int(result.exit_code)


class _LiveScreen:
    """What the live view shows: the observer's view once the run has one."""

    def __init__(self, scenario: str, platform: str, time_scale: float, console: Console) -> None:
        self.scenario, self.platform, self.time_scale = scenario, platform, time_scale
        self._console = console
        self._observer: Observer | None = None

    def watch(self, observer: Observer) -> None:
        self._observer = observer

    def render(self) -> RenderableType:
        if self._observer is None:
            return Text(f"starting {self.scenario}…")
        view = self._observer.view()
        return run_view.live_layout(
            view, self.scenario, self.platform, self.time_scale, self._console.height
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
