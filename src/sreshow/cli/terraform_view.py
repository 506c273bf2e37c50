"""Terraform's progress for people: a live Rich view and plain lines for pipes.

Built from `core.terraform_ui.ApplyProgress`; nothing here prints. An EKS apply runs
for a quarter of an hour, so the live view shows what is being made right now and for
how long, not only a count.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from sreshow.core.terraform_ui import ApplyProgress, ChangeSummary, Finished, InFlight
from sreshow.core.timeline import format_seconds

# Each hook action as the view says it: (while running, when done).
_VERBS = {
    "create": ("creating", "created"),
    "update": ("updating", "updated"),
    "delete": ("destroying", "destroyed"),
    "replace": ("replacing", "replaced"),
    "read": ("reading", "read"),
}
BAR_WIDTH = 40


def progress_view(state: ApplyProgress, now: datetime | None = None) -> RenderableType:
    """The run at `now` (default: the clock): resources done of planned, a bar, each
    operation in flight with its elapsed time, and what failed."""
    now = now or datetime.now(UTC)
    planning = state.operation == "plan"
    header = Text.assemble(
        (f"{state.tool or 'terraform'} {state.operation}", "bold"),
        f" · {state.planned_count} changes planned"
        if planning
        else f" · {state.done_count}/{state.planned_count} resources",
        f" · {format_seconds(_since(state.started_at, now))}" if state.started_at else "",
    )
    parts: list[RenderableType] = [header]
    if not planning:
        bar = Table.grid(padding=(0, 1))  # a grid row ends the bar's line
        total = max(state.planned_count, 1)
        bar.add_row(ProgressBar(total=total, completed=state.done_count, width=BAR_WIDTH))
        parts.append(bar)
    if state.in_flight:
        table = Table.grid(padding=(0, 2))
        for running in state.in_flight:
            table.add_row(
                Text(running.addr, style="cyan"),
                _VERBS.get(running.action, (running.action, ""))[0],
                format_seconds(_running_for(running, now)),
            )
        parts.append(table)
    if state.plan_summary and planning:
        parts.append(Text(plan_line(state.plan_summary)))
    parts.extend(Text(failed_line(failed), style="bold red") for failed in state.errored)
    for error in state.errors:
        where = f"{error.location}: " if error.location else ""
        parts.append(Text(f"error: {where}{error.summary}", style="red"))
    return Group(*parts)


class LiveProgress:
    """The renderable to hand `rich.live.Live`: it shows the latest state and re-reads
    the clock at each refresh, so elapsed times move between terraform's events."""

    def __init__(self, state: ApplyProgress) -> None:
        self.state = state

    def update(self, state: ApplyProgress) -> None:
        """A progress callback for the adapter."""
        self.state = state

    def __rich__(self) -> RenderableType:
        return progress_view(self.state)


def live_build_progress(live: Live) -> Callable[[ApplyProgress], None]:
    """A progress callback that shows Terraform's run in `live` (elapsed times move
    between events: the view re-reads the clock at each refresh)."""
    return lambda state: live.update(LiveProgress(state))


class PrintedProgress:
    """A progress callback for piped output: the plan's summary once, then a line per
    resource finished or failed (`plain_lines`)."""

    def __init__(self, out: Console) -> None:
        self._out = out
        self._last: ApplyProgress | None = None

    def __call__(self, state: ApplyProgress) -> None:
        last = self._last
        before = last if last is not None and last.operation == state.operation else None
        summary = state.plan_summary
        if state.operation == "plan" and summary and (before is None or not before.plan_summary):
            self._out.print(plan_line(summary), highlight=False)
        for line in plain_lines(before, state):
            self._out.print(line, highlight=False)
        self._last = state


def plain_lines(before: ApplyProgress | None, after: ApplyProgress) -> list[str]:
    """For piped output: one line per resource finished or failed since `before`."""
    done_before = len(before.done) if before else 0
    errored_before = len(before.errored) if before else 0
    lines = [
        f"{finished.addr}: {_VERBS.get(finished.action, ('', finished.action))[1]} after "
        f"{format_seconds(finished.elapsed_seconds)} "
        f"({index}/{after.planned_count or len(after.done)})"
        for index, finished in enumerate(after.done[done_before:], start=done_before + 1)
    ]
    lines.extend(failed_line(failed) for failed in after.errored[errored_before:])
    return lines


def failed_line(failed: Finished) -> str:
    """`aws_eks_cluster.this: create failed after 4m 10s`."""
    return f"{failed.addr}: {failed.action} failed after {format_seconds(failed.elapsed_seconds)}"


def plan_line(summary: ChangeSummary) -> str:
    """Terraform's own words: `Plan: 3 to add, 0 to change, 1 to destroy.`"""
    imported = f"{summary.import_} to import, " if summary.import_ else ""
    return (
        f"Plan: {imported}{summary.add} to add, {summary.change} to change, "
        f"{summary.remove} to destroy."
    )


def _running_for(running: InFlight, now: datetime) -> float:
    """The longer of what the binary last reported and the time since it started."""
    if running.started_at is None:
        return running.elapsed_seconds
    return max(running.elapsed_seconds, _since(running.started_at, now))


def _since(start: datetime, now: datetime) -> float:
    return max((now - start).total_seconds(), 0.0)
