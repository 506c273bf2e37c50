"""Rich renderables for a scenario run: the live layout and the closing summary.

Built from the runner's own `RunView` and `ScenarioResult`; nothing here guesses or
prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sreshow.cli.dashboard import ALERT_STYLES
from sreshow.core.timeline import format_band, format_seconds
from sreshow.core.verdict import format_share
from sreshow.report.narrative import describe_event

if TYPE_CHECKING:
    from sreshow.scenarios.observer import RunView
    from sreshow.scenarios.runner import ScenarioResult

METRIC_LABELS = {
    "time_to_detect_s": "time to detect",
    "time_to_notify_s": "time to notify",
    "time_to_recover_s": "time to recover",
    "rto_s": "RTO",
}


NARROW = 100  # columns: below this the replicas fold into one line, for the alerts' sake


def live_layout(
    view: RunView,
    scenario: str,
    platform: str,
    time_scale: float,
    height: int = 40,
    *,
    width: int = NARROW,
    dashboard_url: str | None = None,
) -> RenderableType:
    """The live screen: the step, replicas, autoscaler, alerts, clients, narration, and
    as much of the timeline (newest last, each at the time it was seen) as fits in
    `height` lines. Narrower than `NARROW` columns it is compact, so that the alerts keep
    their names and the whole fits an 80x24 terminal under a cue: the replicas are one
    line, the tables lose their titles and headers, only the latest narration shows (cut
    to one line), and the timeline shows only when a row of it fits. With
    `dashboard_url`, a line links the live dashboard."""
    narrow = width < NARROW
    header = Text.assemble(
        ("sreshow ", "bold"),
        (scenario, "bold cyan"),
        f" on {platform} · time scale {time_scale:g} · {view.t:5.1f} s",
    )
    step = Text.assemble(("step: ", "bold"), view.step or "starting")
    service = Text.assemble(
        ("service: ", "bold"),
        ("healthy", "green") if view.healthy else (f"unhealthy: {view.health_reason}", "red"),
    )
    top: list[Text] = [header, step, service]
    if dashboard_url:  # `sreshow dashboard` serves the charts of this run live
        top.insert(1, Text.assemble(("live charts: ", "bold"), (dashboard_url, "link")))
    panels = Table.grid(padding=(0, 2))
    if narrow:
        top.append(_replicas_line(view))
        panels.add_row(_alerts(view, compact=True), _clients(view, compact=True))
        panel_lines = max(len(view.alerts), 4)
        narration = [
            Text(f"» {line}", style="italic", no_wrap=True, overflow="ellipsis")
            for line in view.narration[-1:]
        ]
    else:
        panels.add_row(_replicas(view), _alerts(view), _clients(view))
        replicas = len(view.snapshot.replicas) if view.snapshot else 0
        panel_lines = max(len(view.alerts) + 3, replicas + 5, 8)
        narration = [Text(f"» {line}", style="italic") for line in view.narration]
    if view.problem:
        narration.append(Text(view.problem, style="yellow"))
    used = sum(_wrapped(text, width) for text in (*top, *narration)) + panel_lines + 2  # box
    rows = height - used if narrow else max(height - used, 3)
    parts: list[RenderableType] = [*top, panels, *narration]
    if rows > 0:
        parts.append(Panel(_timeline(view, rows), title="timeline", title_align="left"))
    return Group(*parts)


def _wrapped(text: Text, width: int) -> int:
    """The lines `text` takes at `width` columns (one when it does not wrap)."""
    if text.no_wrap:
        return 1
    return max(1, -(-text.cell_len // max(width, 1)))


def _timeline(view: RunView, rows: int) -> Table:
    timeline = Table(show_header=False, show_edge=False, box=None, padding=(0, 1))
    timeline.add_column(justify="right", style="dim")
    timeline.add_column()
    for event in view.recent[-rows:]:
        timeline.add_row(f"{event.shown_t:6.1f}s", describe_event(event))
    return timeline


def _replicas_line(view: RunView) -> Text:
    """`replicas: 2/2 ready · 1.0.0 · rollout complete · autoscaler wants 2`."""
    snapshot = view.snapshot
    if snapshot is None:
        return Text.assemble(("replicas: ", "bold"), "not seen yet")
    ready = sum(replica.ready for replica in snapshot.replicas)
    versions = ", ".join(sorted({replica.version for replica in snapshot.replicas})) or "none"
    text = f"{ready}/{snapshot.desired} ready · {versions} · rollout {snapshot.rollout.state}"
    if snapshot.autoscaler is not None:
        text += f" · autoscaler wants {snapshot.autoscaler.desired}"
    style = "green" if ready >= snapshot.desired else "yellow"
    return Text.assemble(("replicas: ", "bold"), (text, style))


def _replicas(view: RunView) -> Table:
    table = Table(title="replicas", title_justify="left", show_edge=False)
    table.add_column("pod", no_wrap=True)
    table.add_column("version")
    table.add_column("ready")
    snapshot = view.snapshot
    if snapshot is None:
        return table
    for replica in snapshot.replicas:
        table.add_row(
            replica.name,
            replica.version,
            Text("yes", style="green") if replica.ready else Text("no", style="red"),
        )
    scaler = snapshot.autoscaler
    caption = f"desired {snapshot.desired} · rollout {snapshot.rollout.state}"
    if scaler is not None:
        cpu = scaler.utilization.get("cpu")
        caption += f" · autoscaler wants {scaler.desired}"
        caption += f" (cpu {cpu:.0f}% of {scaler.targets.get('cpu', 0):.0f}%)" if cpu else ""
    table.caption = caption
    table.caption_justify = "left"
    return table


def _alerts(view: RunView, *, compact: bool = False) -> Table:
    table = Table(
        title=None if compact else "alerts",
        title_justify="left",
        show_edge=False,
        show_header=not compact,
        box=None if compact else box.HEAVY_HEAD,
    )
    table.add_column("alert", no_wrap=True)
    table.add_column("state")
    for name, state in sorted(view.alerts.items()):
        table.add_row(name, Text(state, style=ALERT_STYLES.get(state, "")))
    return table


def _clients(view: RunView, *, compact: bool = False) -> Table:
    table = Table(
        title=None if compact else "clients",
        title_justify="left",
        show_edge=False,
        show_header=False,
        box=None if compact else box.HEAVY_HEAD,
    )
    table.add_column(style="bold")
    table.add_column()
    stats, window = view.load_stats, view.load_window
    table.add_row("load", "running" if view.load_running else "off")
    table.add_row("sent / bad", f"{stats.sent} / {stats.bad}")
    if window is not None and window.availability is not None:
        table.add_row(f"ok ({window.seconds:g} s)", f"{100 * window.availability:.1f}%")
        if window.p95_seconds is not None:
            table.add_row("p95", f"{1000 * window.p95_seconds:.0f} ms")
    return table


def summary(result: ScenarioResult, journal_path: str) -> RenderableType:
    """The closing summary: the verdict, each measurement (and its real-time
    equivalent), each expectation with what was measured, where the journal is."""
    scale = result.time_scale
    verdict_style = "bold green" if result.verdict == "passed" else "bold red"
    table = Table(
        title=f"{result.scenario}: {result.verdict.upper()}",
        title_style=verdict_style,
        title_justify="left",
        show_edge=False,
    )
    table.add_column("measured")
    table.add_column("value", justify="right")
    if scale != 1:
        table.add_column(f"real time (x{1 / scale:g})", justify="right")
    metrics = result.metrics.as_json()
    real = result.metrics.real_time(scale)
    for key, label in METRIC_LABELS.items():
        table.add_row(label, format_seconds(metrics[key]), format_seconds(real[key]))
    burned = metrics["error_budget_burned"]
    objective = f"{100 * result.slo_objective:g}% over {_days(result.slo_window_s)}"
    table.add_row(
        "error budget burned",
        "—" if burned is None else format_share(burned),
        f"of {objective}",
    )
    requests = result.requests
    table.add_row("requests (bad)", f"{requests.get('sent', 0)} ({requests.get('bad', 0)})")
    lines: list[RenderableType] = [table]
    for expectation in result.expectations:
        mark = ("✓ ", "green") if expectation.passed else ("✗ ", "bold red")
        lines.append(Text.assemble(mark, f"{expectation.expectation}: {expectation.detail}"))
    lines += [_predicted_line(entry) for entry in result.predicted]
    if result.error:
        lines.append(Text.assemble(("stopped by: ", "bold red"), result.error))
    lines.append(Text(f"journal: {journal_path}", style="dim"))
    return Group(*lines)


def _predicted_line(entry: Mapping[str, Any]) -> Text:
    """`HighErrorRate fired at 14.7 s (predicted 11.6 s to 15.6 s: within), …`, and the
    likely cause when outside."""
    parts = []
    for what, done in (("fire", "fired"), ("notify", "notified")):
        band, seen, verdict = (
            entry.get(k) for k in (f"{what}_band_s", f"observed_{what}_s", f"{what}_verdict")
        )
        happened = f"never {done}" if seen is None else f"{done} at {format_seconds(seen)}"
        predicted = format_band(*band) if isinstance(band, list) and len(band) == 2 else "—"
        parts.append(f"{happened} (predicted {predicted}: {verdict})")
    inside = entry.get("fire_verdict") == "within" and entry.get("notify_verdict") == "within"
    mark = ("≈ ", "green") if inside else ("! ", "bold yellow")
    text = Text.assemble(mark, f"{entry.get('alert')} " + ", ".join(parts))
    if entry.get("likely_cause"):
        text.append(f" — likely cause: {entry['likely_cause']}", style="yellow")
    return text


def _days(seconds: float) -> str:
    days = seconds / 86400
    return f"{days:g} days" if days >= 1 else format_seconds(seconds)
