"""Rich renderables of a stack's `StackStatus`, whatever the platform; never printed here."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from sreshow.ports import UpPreview
    from sreshow.stack_status import StackStatus

ALERT_STYLES = {"firing": "bold red", "pending": "yellow", "inactive": "green"}


def progress_table(status: StackStatus) -> Table:
    """`up`'s progress: each component and replica, and where it stands."""
    table = Table(
        title=f"Starting the {status.platform} stack", show_edge=False, title_justify="left"
    )
    table.add_column("component")
    table.add_column("status")
    for name, state in status.components.items():
        table.add_row(name, state)
    for replica in status.replicas:
        table.add_row(replica.name, "ready" if replica.ready else "starting")
    return table


def summary_table(status: StackStatus) -> Table:
    """What runs where, as `up` ends."""
    table = Table(
        title=f"{status.platform.capitalize()} stack",
        show_edge=False,
        title_justify="left",
        show_header=False,
    )
    table.add_column("what", style="bold")
    table.add_column("where", overflow="fold")
    for name in ("app", "prometheus", "alertmanager"):
        if name in status.endpoints:
            table.add_row(name, status.endpoints[name])
    table.add_row(
        "replicas", f"{status.ready}/{status.desired_replicas} ready (version {status.version})"
    )
    table.add_row("time scale", f"{status.time_scale:g}" + _scale_note(status.time_scale))
    table.add_row("state", status.state_location)
    if status.billing is not None:
        from sreshow.cli.cost_view import billing_line

        table.add_row("cost", billing_line(status.billing, time.time()))
    return table


def status_view(status: StackStatus) -> RenderableType:
    """The whole `status` screen."""
    summary = summary_table(status)
    summary.add_row("dashboard", status.dashboard_url or "run `sreshow dashboard` to serve one")
    if status.expires_at is not None:
        summary.add_row("time to live", _expiry(status.expires_at))
    parts: list[RenderableType] = [summary]
    parts += [_replicas(status), _autoscaler(status), _alerts(status), _slis(status)]
    parts += [_notifications(status)]
    parts += [Text(problem, style="yellow") for problem in status.problems]
    return Group(*parts)


def preview_view(preview: UpPreview, ttl_seconds: int | None) -> RenderableType:
    """`up --dry-run`: where, what would be made, what it costs; nothing changed."""
    table = Table(title=f"Would bring up on {preview.where}", title_justify="left", show_edge=False)
    table.add_column("what", style="bold")
    table.add_column("how many / which")
    for what, detail in preview.items:
        table.add_row(what, detail)
    parts: list[RenderableType] = [table]
    if preview.cost_region is not None:
        from sreshow.cli.cost_view import cost_table

        parts.append(cost_table(preview.cost_region))
    if ttl_seconds is not None:
        from sreshow.core.durations import format_duration

        until = dt.datetime.fromtimestamp(time.time() + ttl_seconds, dt.UTC).strftime("%H:%M UTC")
        ttl = format_duration(ttl_seconds * 1000)
        parts.append(Text(f"Time to live: {ttl}, until about {until} if it came up now"))
    parts += [Text(note, style="yellow") for note in preview.notes]
    parts.append(Text("Dry run: nothing was changed.", style="bold"))
    return Group(*parts)


def _expiry(expires_at: float) -> Text:
    from sreshow.expiry import describe_expiry

    line = describe_expiry(expires_at, time.time())
    return Text(line, style="bold red" if line.startswith("expired") else "")


def _scale_note(scale: float) -> str:
    return "" if scale == 1 else f" (clocks {1 / scale:g}x faster than real time)"


def _replicas(status: StackStatus) -> Table:
    table = Table(title="Replicas", title_justify="left", show_edge=False)
    for column in ("name", "version", "ready", "restarts", "CPU", "memory", "faults"):
        table.add_column(column)
    for replica in status.replicas:
        faults = {} if replica.faults is None else replica.faults.model_dump()
        active = ", ".join(f"{k}={v}" for k, v in faults.items() if v)
        table.add_row(
            replica.name,
            replica.version,
            Text("yes", style="green") if replica.ready else Text("no", style="red"),
            str(replica.restarts),
            "-" if replica.cpu_percent is None else f"{replica.cpu_percent:.0f}%",
            "-" if replica.memory_bytes is None else f"{replica.memory_bytes / 2**20:.0f} MiB",
            active or "-",
        )
    table.caption = f"rollout: {status.rollout.message}"
    return table


def _autoscaler(status: StackStatus) -> Table:
    table = Table(title="Autoscaler", title_justify="left", show_edge=False, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    hpa = status.autoscaler
    if hpa is None:
        table.add_row("state", "no decision yet")
        return table
    table.add_row(
        "replicas",
        f"{hpa.current} current / {hpa.desired} desired ({hpa.min_replicas}-{hpa.max_replicas})",
    )
    for resource, target in hpa.targets.items():
        measured = hpa.utilization.get(resource)
        shown = "unknown" if measured is None else f"{measured:.0f}%"
        table.add_row(resource, f"{shown} of request (target {target:g}%)")
    if hpa.note:
        table.add_row("counts", hpa.note)
    if hpa.last_event:
        table.add_row("last scaling", f"{hpa.last_event}: {hpa.last_event_reason}")
    return table


def _alerts(status: StackStatus) -> Table:
    table = Table(title="Alerts", title_justify="left", show_edge=False)
    for column in ("alert", "state", "since"):
        table.add_column(column)
    for alert in status.alerts:
        table.add_row(
            alert.name,
            Text(alert.state, style=ALERT_STYLES.get(alert.state, "")),
            _since(alert.active_at) if alert.state != "inactive" else "-",
        )
    return table


def _slis(status: StackStatus) -> Table:
    table = Table(title="SLIs", title_justify="left", show_edge=False)
    for column in ("requests/s", "errors", "p95 latency"):
        table.add_column(column)
    slis = status.slis
    if slis is None:
        table.add_row("-", "-", "-")
        return table
    table.add_row(
        "-" if slis.requests_per_second is None else f"{slis.requests_per_second:.1f}",
        "-" if slis.error_ratio is None else f"{slis.error_ratio:.1%}",
        "-" if slis.p95_seconds is None else f"{slis.p95_seconds * 1000:.0f} ms",
    )
    return table


def _notifications(status: StackStatus) -> Table:
    table = Table(title="Last notifications", title_justify="left", show_edge=False)
    for column in ("received", "status", "alerts", "delivered to"):
        table.add_column(column)
    for notification in status.notifications:
        received = dt.datetime.fromtimestamp(notification.received_at).strftime("%H:%M:%S")
        where = (
            Text(f"not delivered: {notification.error}", style="red")
            if notification.error
            else notification.delivered_to
        )
        table.add_row(received, notification.status, ", ".join(notification.alerts), where)
    return table


def _since(active_at: str | None) -> str:
    if not active_at:
        return "-"
    try:
        started = dt.datetime.fromisoformat(active_at.replace("Z", "+00:00"))
    except ValueError:
        return active_at
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return f"{started.astimezone().strftime('%H:%M:%S')} ({seconds:.0f} s ago)"
