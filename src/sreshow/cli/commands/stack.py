"""`sreshow up`, `status` and `down`: the local platform's lifecycle."""

from __future__ import annotations

import json
import time

import typer
from rich.live import Live

from sreshow.cli import dashboard
from sreshow.cli.terminal import Terminal
from sreshow.errors import PlatformError, UsageError
from sreshow.settings import Settings

PLATFORMS = ("local",)


def up(
    platform: str = typer.Option("local", help="Where to run: local (real processes here)."),
    time_scale: float = typer.Option(
        1.0, "--time-scale", help="Scale every clock of the stack, e.g. 0.1: ten times faster."
    ),
    replicas: int = typer.Option(2, help="Replicas to start with (the autoscaler's minimum is 2)."),
    port: int | None = typer.Option(
        None, help="The app's port on 127.0.0.1 (default 8080, or a free one)."
    ),
) -> None:
    """Bring the stack up: app replicas behind HAProxy, Prometheus, Alertmanager, a supervisor."""
    from sreshow.adapters.local import platform as local
    from sreshow.adapters.local.state import StackRecord

    _require_local(platform)
    settings = Settings.from_env()
    terminal = Terminal(settings)
    options = local.UpOptions(
        time_scale=time_scale,
        replicas=replicas,
        port=port,
        admin_token=settings.admin_token(),
        slack_webhook_url=settings.slack_webhook_url(),
    )
    if terminal.out.is_terminal:
        with Live(console=terminal.out, transient=True) as live:
            result = local.up(
                settings.state_dir, options, lambda r: live.update(dashboard.progress_table(r))
            )
    else:
        shown: set[str] = set()

        def progress(record: StackRecord) -> None:
            for name, state in record.components.items():
                line = f"{name}: {state}"
                if line not in shown:
                    shown.add(line)
                    terminal.out.print(line)

        result = local.up(settings.state_dir, options, progress)
    if result.recovered:
        terminal.out.print(result.recovered)
    if result.already_running:
        terminal.out.print("The local stack is already up; nothing changed.")
    terminal.out.print(dashboard.summary_table(result.record, str(settings.state_dir)))


def status(
    watch: bool = typer.Option(False, "--watch", help="Refresh live until Ctrl-C."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show replicas, autoscaler, alerts, notifications, SLIs and URLs."""
    from sreshow.adapters.local import platform as local
    from sreshow.adapters.local import status as local_status
    from sreshow.adapters.local.state import StackDir

    settings = Settings.from_env()
    terminal = Terminal(settings)
    stack = StackDir(settings.state_dir)

    def collect() -> local_status.StackStatus:
        record = local.status(settings.state_dir)
        if record is None:
            raise PlatformError(
                f"no local stack is up (state in {settings.state_dir}); start one with `sreshow up`"
            )
        return local_status.collect(stack, record)

    if as_json:
        if watch:
            raise UsageError("--json and --watch do not go together; use one")
        terminal.out.print_json(json.dumps(collect().as_json()))
        return
    if not watch:
        terminal.out.print(dashboard.status_view(collect(), str(settings.state_dir)))
        return
    with Live(console=terminal.out, screen=False, auto_refresh=False) as live:
        while True:
            live.update(dashboard.status_view(collect(), str(settings.state_dir)), refresh=True)
            time.sleep(1.0)


def down(
    yes: bool = typer.Option(False, "--yes", help="Do not ask (the local stack never asks)."),
) -> None:
    """Stop everything the stack started; safe to run twice."""
    from sreshow.adapters.local import platform as local

    del yes  # the local stack holds nothing worth a question; eks will ask
    settings = Settings.from_env()
    terminal = Terminal(settings)
    stopped = local.down(settings.state_dir)
    if stopped:
        terminal.out.print("Stopped the local stack: no process of it is left.")
    else:
        terminal.out.print("No local stack was running; nothing to stop.")


def _require_local(platform: str) -> None:
    if platform not in PLATFORMS:
        raise UsageError(f"--platform {platform}: not available yet; use --platform local")


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(status)
    app.command()(down)
