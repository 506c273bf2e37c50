"""`sreshow walkthrough [NAME] [--auto] [--notes FILE]`: presenter mode."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sreshow.cli.application import application
from sreshow.cli.options import CONTEXT_OPTION, REPORT_OPTION, check_report_dir
from sreshow.errors import UsageError

if TYPE_CHECKING:
    from sreshow.cli.application import Application
    from sreshow.scenarios.runner import ScenarioResult
    from sreshow.walkthrough.presenter import Presenter
    from sreshow.walkthrough.tour import Stop, Tour

LIVE_REFRESH = 4  # per second
SCORECARD_FILE = "scorecard.json"


def walkthrough(  # noqa: PLR0917 (Typer: one parameter per option)
    ctx: typer.Context,
    name: str | None = typer.Argument(
        None, metavar="NAME|FILE", help="A shipped tour or a tour file (default: sre-showcase)."
    ),
    auto: bool = typer.Option(
        False, "--auto", help="Run unattended: each step starts after the tour's pause."
    ),
    notes: Annotated[
        Path | None,
        typer.Option("--notes", help="Write speaker notes (Markdown) to FILE and exit."),
    ] = None,
    time_scale: float | None = typer.Option(
        None,
        "--time-scale",
        help="--notes: the time scale to time them at (default: the running stack's, else 1).",
    ),
    report: Annotated[Path | None, REPORT_OPTION] = None,
    context: str | None = CONTEXT_OPTION,
) -> int:
    """Presenter mode: a tour of scenarios, full screen, at your pace. Keys: space/→ next,
    p pause, r repeat, q quit (cleanup runs), x emergency stop. Ends with the scorecard
    (exit 0 when every step passed, 1 when one failed, 130 when stopped)."""
    from sreshow.walkthrough.tour import resolve_tour, tour_stops

    app = application(ctx).on_context(context)
    tour, path = resolve_tour(name)
    stops = tour_stops(tour, path)
    if notes is not None:
        return _write_notes(app, tour, stops, notes, time_scale)
    if time_scale is not None:
        raise UsageError("--time-scale goes with --notes; the show runs at its stack's scale")
    check_report_dir(report)
    screen = app.terminal.out.is_terminal and sys.stdin.isatty()
    if not screen and not auto:
        raise UsageError(
            "presenter mode reads its keys from a terminal; run it in one, or pass --auto "
            "to run the tour unattended"
        )
    return _present(app, tour, stops, report, auto=auto, screen=screen)


def _present(
    app: "Application",
    tour: "Tour",
    stops: "list[Stop]",
    report: Path | None,
    *,
    auto: bool,
    screen: bool,
) -> int:
    from contextlib import ExitStack

    from rich.live import Live

    from sreshow.cli.walkthrough_view import presenter_screen, scorecard_table
    from sreshow.files import write_atomically
    from sreshow.scenarios.load import OpenModelLoad
    from sreshow.walkthrough.keys import KeyReader
    from sreshow.walkthrough.presenter import Presenter
    from sreshow.walkthrough.scorecard import scorecard_json

    platform = app.platforms.current().connect(app.settings.admin_token())
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir = report or app.settings.state_dir / "runs" / f"{stamp}-walkthrough-{tour.name}"
    out = app.terminal.out
    presenter = Presenter(
        tour,
        stops,
        platform,
        OpenModelLoad,
        auto=auto,
        write_journal=lambda stop, result: _write_step_journal(run_dir, stop, result),
        on_line=None if screen else lambda line: out.print(line, highlight=False, soft_wrap=True),
    )
    with ExitStack() as stack:
        stack.enter_context(platform)
        if screen:
            stack.enter_context(
                Live(
                    console=out,
                    screen=True,
                    get_renderable=lambda: presenter_screen(
                        presenter.view(),
                        platform.name,
                        platform.time_scale,
                        out.width,
                        out.height,
                    ),
                    refresh_per_second=LIVE_REFRESH,
                )
            )
            stack.enter_context(KeyReader(sys.stdin.fileno(), presenter.on_key))
        code = presenter.run()
    scorecard = scorecard_json(
        tour.name,
        platform.name,
        platform.time_scale,
        presenter.scores,
        finished=presenter.finished,
    )
    import json

    write_atomically(run_dir / SCORECARD_FILE, json.dumps(scorecard, indent=2) + "\n")
    out.print(scorecard_table(presenter.scores, platform.time_scale))
    out.print(_ending(presenter), highlight=False)
    for score in presenter.scores:
        report = score.journal.parent / "report.html"
        out.print(f"step {score.number}: {report}", highlight=False, soft_wrap=True)
    out.print(f"report: {run_dir}", highlight=False, soft_wrap=True)
    return code


def _ending(presenter: "Presenter") -> str:
    if presenter.emergency_cleared is not None:
        return (
            f"EMERGENCY STOP: faults cleared on all {presenter.emergency_cleared} replicas, "
            "the load stopped, the step's cleanup done"
        )
    if presenter.quit_by_presenter:
        return "stopped by the presenter: every step's cleanup ran (faults cleared, load stopped)"
    passed = sum(score.verdict == "passed" for score in presenter.scores)
    return f"{presenter.tour.title}: {passed} of {len(presenter.scores)} steps passed"


def _write_step_journal(run_dir: Path, stop: "Stop", result: "ScenarioResult") -> Path:
    """The step's journal, with report.md and report.html beside it (not printed: the
    presenter's screen stays the show's)."""
    from sreshow.report.journal import write_journal
    from sreshow.report.render import read_journal, write_reports

    folder = run_dir / f"{stop.number:02d}-{result.scenario}"
    again = 2
    while folder.exists():  # a repeated step keeps each run
        folder = run_dir / f"{stop.number:02d}-{result.scenario}-{again}"
        again += 1
    journal = write_journal(result, folder)
    write_reports(read_journal(journal), folder)
    return journal


def _write_notes(
    app: "Application", tour: "Tour", stops: "list[Stop]", notes: Path, time_scale: float | None
) -> int:
    from sreshow.walkthrough.notes import speaker_notes
    from sreshow.walkthrough.timing import expected_steps, past_durations, run_clock

    lifecycle = app.platforms.current()
    if time_scale is None:
        time_scale = lifecycle.status().time_scale if lifecycle.is_up() else 1.0
    if not 0 < time_scale <= 1:
        raise UsageError(f"--time-scale {time_scale:g} is out of range; give a factor in (0, 1]")
    clock = run_clock(time_scale)
    past = past_durations(app.settings.state_dir / "runs", lifecycle.name, time_scale)
    text = speaker_notes(tour, stops, clock, expected_steps(stops, clock, past))
    try:
        notes.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(
            f"--notes {notes}: cannot write it ({e.strerror}); give a writable path"
        ) from None
    app.terminal.out.print(f"speaker notes for {tour.title}: {notes}", highlight=False)
    return 0


def register(root: typer.Typer) -> None:
    root.command()(walkthrough)
