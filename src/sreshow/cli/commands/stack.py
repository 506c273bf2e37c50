"""`sreshow up`, `status` and `down`: a platform's lifecycle, as the registry gives it."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sreshow.cli.application import application
from sreshow.cli.options import CONTEXT_OPTION
from sreshow.errors import UsageError
from sreshow.platforms import DEFAULT_PLATFORM, LIFECYCLES

if TYPE_CHECKING:  # Rich and the status model load in the commands, not for `--help`
    from rich.console import Console
    from rich.live import Live

    from sreshow.stack_status import StackStatus


def up(  # noqa: PLR0917 (Typer: one parameter per option)
    ctx: typer.Context,
    platform: str = typer.Option(
        DEFAULT_PLATFORM, help=f"Where to run: one of {', '.join(LIFECYCLES)}."
    ),
    time_scale: float = typer.Option(
        1.0, "--time-scale", help="Scale every clock of the stack, e.g. 0.1: ten times faster."
    ),
    replicas: int = typer.Option(2, help="Replicas to start with (the autoscaler's minimum is 2)."),
    port: int | None = typer.Option(
        None, help="local: the app's port on 127.0.0.1 (default 8080, or a free one)."
    ),
    context: str | None = CONTEXT_OPTION,
    image: str | None = typer.Option(
        None,
        help="kubernetes: the app image to run, e.g. one built on the cluster's node; "
        "eks (required): the image in a registry the nodes pull from.",
    ),
    manifests: Annotated[
        Path | None,
        typer.Option(
            help="kubernetes: the kustomization to apply (default: the shipped manifests/; "
            "manifests/overlays/node on `make node-up`'s cluster)."
        ),
    ] = None,
    yes: bool = typer.Option(
        False,
        "--yes",
        help="Do not ask before changing a cluster or an AWS account (the question says "
        "what changes and, on eks, what it costs).",
    ),
    allow_production: bool = typer.Option(
        False,
        "--allow-production",
        help="kubernetes: change a context whose name looks like production (prod, live).",
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Show what `up` would make, and what it costs, and change nothing.",
    ),
    ttl: str | None = typer.Option(
        None,
        help="How long the stack may stay up, e.g. 45m: `status` shows the time left and "
        "every command warns once it has passed (nothing is torn down by itself).",
    ),
) -> None:
    """Bring the stack up: app replicas behind a Service, Prometheus, Alertmanager, an HPA."""
    from dataclasses import replace

    from rich.live import Live

    from sreshow.cli import dashboard
    from sreshow.cli.terraform_view import PrintedProgress, live_build_progress
    from sreshow.expiry import describe_expiry, parse_ttl, record_expiry
    from sreshow.ports import UpOptions

    app = application(ctx).on_context(context)
    ttl_seconds = None if ttl is None else parse_ttl(ttl)
    out = app.terminal.out
    options = UpOptions(
        time_scale=time_scale,
        replicas=replicas,
        port=port,
        admin_token=app.settings.admin_token(),
        slack_webhook_url=app.settings.slack_webhook_url(),
        image=image,
        manifests=manifests,
        allow_production=allow_production,
        confirm=None if yes else app.terminal.confirm,
        ttl_seconds=ttl_seconds,
    )
    if dry_run:
        preview = app.platforms.get(platform).preview(options)
        out.print(dashboard.preview_view(preview, ttl_seconds))
        return
    lifecycle = app.platforms.claim(platform)
    try:
        if out.is_terminal:
            with Live(console=out, transient=True) as live:
                options = replace(
                    options,
                    confirm=_outside(live, options.confirm),
                    build_progress=live_build_progress(live),
                )
                result = lifecycle.up(options, lambda s: live.update(dashboard.progress_table(s)))
        else:
            options = replace(options, build_progress=PrintedProgress(out))
            result = lifecycle.up(options, _print_progress(out))
    except BaseException:
        if not lifecycle.is_up():  # nothing half-done: not even the record of the platform
            app.platforms.release()
        elif ttl_seconds is not None:  # half up (eks: built, not deployed) still expires
            record_expiry(app.settings.state_dir, ttl_seconds)
        raise
    if result.recovered:
        out.print(result.recovered)
    if result.already_running:
        out.print(f"The {lifecycle.name} stack is already up; nothing changed.")
    out.print(dashboard.summary_table(result.status))
    if ttl_seconds is not None:
        expires_at = record_expiry(app.settings.state_dir, ttl_seconds)
        out.print(
            f"Time to live: {describe_expiry(expires_at, time.time())}; every command warns "
            "after that until `sreshow down`."
        )


def _outside(
    live: "Live", confirm: "Callable[[str], bool] | None"
) -> "Callable[[str], bool] | None":
    """`confirm` asked with `live` stopped meanwhile, so the question and its answer are
    not drawn over."""
    if confirm is None:
        return None

    def ask(question: str) -> bool:
        live.stop()
        try:
            return confirm(question)
        finally:
            live.start()

    return ask


def _print_progress(out: "Console") -> "Callable[[StackStatus], None]":
    """`up`'s progress as lines, each component's state once (piped output)."""
    shown: set[str] = set()

    def progress(status: "StackStatus") -> None:
        for name, state in status.components.items():
            line = f"{name}: {state}"
            if line not in shown:
                shown.add(line)
                out.print(line)

    return progress


def status(
    ctx: typer.Context,
    watch: bool = typer.Option(False, "--watch", help="Refresh live until Ctrl-C."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    context: str | None = CONTEXT_OPTION,
) -> None:
    """Show replicas, autoscaler, alerts, notifications, SLIs and URLs."""
    import json

    from rich.live import Live

    from sreshow.cli import dashboard

    app = application(ctx).on_context(context)
    if as_json and watch:
        raise UsageError("--json and --watch do not go together; use one")
    lifecycle = app.platforms.current()
    out = app.terminal.out

    def read() -> "StackStatus":
        """The stack's status, linking the live dashboard while one serves it, and its
        time to live."""
        from dataclasses import replace

        from sreshow.expiry import read_expiry
        from sreshow.report.live_link import live_dashboard_url

        state_dir = app.settings.state_dir
        return replace(
            lifecycle.status(),
            dashboard_url=live_dashboard_url(state_dir),
            expires_at=read_expiry(state_dir),
        )

    if as_json:
        out.print_json(json.dumps(read().as_json()))
        return
    if not watch:
        out.print(dashboard.status_view(read()))
        return
    with Live(console=out, screen=False, auto_refresh=False) as live:
        while True:
            live.update(dashboard.status_view(read()), refresh=True)
            time.sleep(1.0)


def down(
    ctx: typer.Context,
    yes: bool = typer.Option(
        False, "--yes", help="Do not ask for confirmation (only stacks that cost money ask)."
    ),
    context: str | None = CONTEXT_OPTION,
) -> None:
    """Stop everything the stack started; safe to run twice."""
    from rich.live import Live

    from sreshow.cli.terraform_view import PrintedProgress, live_build_progress

    app = application(ctx).on_context(context)
    lifecycle = app.platforms.current()
    out = app.terminal.out
    confirm = None if yes else app.terminal.confirm
    if out.is_terminal:
        with Live(console=out, transient=True) as live:
            said = lifecycle.down(
                confirm=_outside(live, confirm), progress=live_build_progress(live)
            )
    else:
        said = lifecycle.down(confirm=confirm, progress=PrintedProgress(out))
    out.print(said)
    app.platforms.release()


def register(root: typer.Typer) -> None:
    root.command()(up)
    root.command()(status)
    root.command()(down)
