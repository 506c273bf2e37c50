"""The presenter's screen: where the show is, the cue to say, the live view of the
running step (or the results so far), and the keys. Renderables only; nothing prints."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sreshow.cli import run_view
from sreshow.core.timeline import format_seconds
from sreshow.core.verdict import format_share
from sreshow.walkthrough.presenter import PresenterView
from sreshow.walkthrough.scorecard import StepScore, budget_burned

KEYS_HELP = "space/→ next · p pause · r repeat · q quit · x emergency stop"
_HEADER_LINES = 3  # title, state, keys


def presenter_screen(
    view: PresenterView, platform: str, time_scale: float, width: int, height: int
) -> RenderableType:
    """The whole screen, fitted to `width` x `height`: the cue always, then the live
    view (or the last result, or the scorecard)."""
    stop = view.stop
    title = Text.assemble(
        ("sreshow walkthrough ", "bold"),
        (view.tour.title, "bold cyan"),
        f" · step {stop.number}/{view.total}: ",
        (stop.step.title, "bold"),
    )
    cue_text = reflow(stop.step.cue)
    cue = Panel(Text(cue_text), title="cue", title_align="left", border_style="cyan")
    cue_lines = _wrapped_lines(cue_text, width - 4) + 2
    parts: list[RenderableType] = [title, _state_line(view), Text(KEYS_HELP, style="dim"), cue]
    if view.phase == "running" and view.run is not None and stop.spec is not None:
        room = max(height - _HEADER_LINES - cue_lines, 8)
        parts.append(
            run_view.live_layout(view.run, stop.spec.name, platform, time_scale, room, width=width)
        )
    elif view.phase == "scorecard" or (view.phase == "done" and view.scores):
        parts.append(scorecard_table(view.scores, time_scale))
    elif view.scores:
        parts.append(score_line(view.scores[-1]))
    return Group(*parts)


def reflow(cue: str) -> str:
    """A cue as written in YAML, its paragraphs (split at blank lines) each one line,
    for the panel to wrap at the screen's width."""
    paragraphs = [" ".join(part.split()) for part in cue.strip().split("\n\n")]
    return "\n".join(paragraph for paragraph in paragraphs if paragraph)


def _wrapped_lines(text: str, width: int) -> int:
    return sum(len(textwrap.wrap(line, max(width, 10))) or 1 for line in text.splitlines())


def _state_line(view: PresenterView) -> Text:
    if view.notice:
        style = "bold red" if view.notice.startswith("EMERGENCY") else "yellow"
        return Text(view.notice, style=style)
    if view.paused:
        return Text("paused (p goes on)", style="yellow")
    last = view.stop.number == view.total
    states = {
        "running": Text("running", style="green"),
        "scorecard": Text(f"the scorecard · space {'ends the show' if last else 'goes on'}"),
        "stopping": Text("stopping"),
        "done": Text("done"),
    }
    if view.phase in states:
        return states[view.phase]
    if view.starts_in is not None:
        return Text(f"starts in {view.starts_in:.0f} s (space starts it now)")
    return Text("ready · space starts this step", style="bold")


def score_line(score: StepScore) -> Text:
    """`step 2 high-error-rate passed · detect 14.8 s · notify 17.5 s · …`"""
    metrics = score.metrics
    return Text.assemble(
        f"step {score.number} {score.scenario} ",
        _verdict(score),
        f" · detect {format_seconds(metrics.time_to_detect_s)}"
        f" · notify {format_seconds(metrics.time_to_notify_s)}"
        f" · recover {format_seconds(metrics.time_to_recover_s)}"
        f" · RTO {format_seconds(metrics.rto_s)}",
    )


def scorecard_table(scores: Sequence[StepScore], time_scale: float) -> Table:
    """Each run's verdict, detect / notify / recover / RTO and budget, and the total."""
    caption = "times as measured" + (
        f" at time scale {time_scale:g} (x{1 / time_scale:g} for real time)"
        if time_scale != 1
        else ""
    )
    table = Table(title="scorecard", title_justify="left", caption=caption, caption_justify="left")
    for column in ("#", "scenario", "verdict", "detect", "notify", "recover", "RTO", "budget"):
        table.add_column(
            column, justify="right" if column not in ("scenario", "verdict") else "left"
        )
    for score in scores:
        metrics = score.metrics
        burned = metrics.error_budget_burned
        table.add_row(
            str(score.number),
            score.scenario,
            _verdict(score),
            format_seconds(metrics.time_to_detect_s),
            format_seconds(metrics.time_to_notify_s),
            format_seconds(metrics.time_to_recover_s),
            format_seconds(metrics.rto_s),
            "—" if burned is None else format_share(burned),
        )
    total = budget_burned(scores)
    table.add_section()
    table.add_row("", "the show", "", "", "", "", "", "—" if total is None else format_share(total))
    return table


def _verdict(score: StepScore) -> Text:
    if score.interrupted:
        return Text("stopped", style="yellow")
    return Text(score.verdict, style="green" if score.verdict == "passed" else "bold red")
