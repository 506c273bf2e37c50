"""What an RTO drill adds to a run's summary: its phases and the verdict on its target."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sreshow.core.drill import DrillVerdict, Phase
from sreshow.core.timeline import format_seconds, real_time_equivalent


def phases_view(phases: Sequence[Phase], verdict: DrillVerdict) -> RenderableType:
    """The phases (from, to, duration and its real-time figure) and the verdict line."""
    scale = verdict.time_scale
    table = Table(title="RTO drill: where the time went", title_justify="left", show_edge=False)
    for column in ("phase", "until", "from", "took"):
        table.add_column(column, justify="right" if column in ("from", "took") else "left")
    if scale != 1:
        table.add_column(f"real time (x{1 / scale:g})", justify="right")
    for phase in phases:
        took = phase.duration_s
        row = [phase.name, phase.what, f"{phase.started_s:.1f}s", format_seconds(took)]
        if scale != 1:
            row.append(format_seconds(None if took is None else real_time_equivalent(took, scale)))
        style = "bold" if verdict.slowest == phase and not verdict.passed else None
        table.add_row(*row, style=style)
    mark = ("✓ ", "green") if verdict.passed else ("✗ ", "bold red")
    return Group(table, Text.assemble(mark, verdict.describe()))
