"""`sreshow load`: open-model load against the running stack's Service (or `--url`),
live progress, a closing summary, a JSON result; a thin command over
`scenarios/load.py`."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sreshow.cli.application import application
from sreshow.errors import ExitCode, PlatformError

if TYPE_CHECKING:
    from sreshow.cli.application import Application
    from sreshow.scenarios.load_plan import LoadPlan, LoadResult

DEFAULT_PATH = "/api/data"  # scenarios/load_plan.py's, repeated to keep --help light
LIVE_REFRESH = 4  # progress redraws per second on a terminal
PIPED_EVERY_SECONDS = 1.0  # progress lines per second when stderr is not a terminal


def load(  # noqa: PLR0917 (Typer: one parameter per option)
    ctx: typer.Context,
    rps: float = typer.Option(..., "--rps", help="Requests per second (the base rate)."),
    duration: str = typer.Option(
        ..., "--duration", help="How long: seconds, or a duration like 30s or 2m (at most 2h)."
    ),
    url: str | None = typer.Option(
        None, help="Where to send (default: the running stack's Service, as `status` shows)."
    ),
    path: str = typer.Option(DEFAULT_PATH, help="The path to GET."),
    shape: str = typer.Option(
        "constant",
        metavar="constant|ramp|spike|step",
        help="constant: --rps throughout; ramp: --rps to --peak-rps over the duration; "
        "spike: --peak-rps from --spike-at for --spike-for, --rps around it; step: "
        "--steps equal stages from --rps up to --peak-rps.",
    ),
    peak_rps: float | None = typer.Option(
        None, "--peak-rps", help="ramp, spike, step: the top rate (default: twice --rps)."
    ),
    spike_at: str | None = typer.Option(
        None, "--spike-at", help="spike: when the peak starts (default: a third of the way)."
    ),
    spike_for: str | None = typer.Option(
        None, "--spike-for", help="spike: how long it lasts (default: half of what is left)."
    ),
    steps: int | None = typer.Option(None, help="step: how many stages (default 4)."),
    max_requests: int | None = typer.Option(
        None, "--max-requests", help="Stop once this many requests were scheduled."
    ),
    connections: int | None = typer.Option(
        None,
        help="At most this many open at once (default: enough for the peak rate at 500 ms "
        "each, at least 64); an arrival that finds none free within 100 ms is dropped "
        "(counted, never sent).",
    ),
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Write the result to this file as JSON.")
    ] = None,
) -> int:
    """Send open-model load: requests on a schedule whatever the answers, latency from
    each request's intended send time. Exit 0 when the run ends, whatever the answers
    (a measurement, not a verdict); 2 for a bad flag; 130 on Ctrl-C, after the summary
    and the JSON file."""
    from sreshow.scenarios.load_plan import check_result_path, plan_load

    app = application(ctx)
    plan = plan_load(
        url=url if url is not None else _service_url(app),
        rps=rps,
        duration=duration,
        path=path,
        shape=shape,
        peak_rps=peak_rps,
        spike_at=spike_at,
        spike_for=spike_for,
        steps=steps,
        max_requests=max_requests,
        connections=connections,
    )
    if json_file is not None:
        check_result_path(json_file)
    from sreshow.report.load_summary import summary_lines

    result = _run(app, plan)
    out = app.terminal.out
    for line in summary_lines(result):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    if json_file is not None:
        from sreshow.scenarios.load_plan import save_result

        save_result(json_file, result)
        out.print(f"  result............: {json_file}", markup=False, highlight=False)
    return int(ExitCode.INTERRUPTED if result.interrupted else ExitCode.PASSED)


def _service_url(app: "Application") -> str:
    """The running stack's Service, as `status --json` gives it (`endpoints.app`)."""
    lifecycle = app.platforms.current()
    if not lifecycle.is_up():
        raise PlatformError(
            f"no {lifecycle.name} stack is up to send load to; start one with `sreshow up`, "
            "or give a target with --url"
        )
    return lifecycle.status().endpoints["app"]


def _run(app: "Application", plan: "LoadPlan") -> "LoadResult":
    """Drive the plan with a live progress line on stderr (plain lines when piped)."""
    import time

    from rich.live import Live
    from rich.text import Text

    from sreshow.report.load_summary import progress_line
    from sreshow.scenarios.load import OpenModelLoad, drive

    err = app.terminal.err
    load_ = OpenModelLoad(plan.connections)
    if err.is_terminal:
        with Live(console=err, transient=True, refresh_per_second=LIVE_REFRESH) as live:
            return drive(load_, plan, lambda r: live.update(Text(progress_line(r))))
    shown = [0.0]

    def print_line(result: "LoadResult") -> None:
        if time.monotonic() - shown[0] >= PIPED_EVERY_SECONDS:
            shown[0] = time.monotonic()
            err.print(progress_line(result), markup=False, highlight=False, soft_wrap=True)

    return drive(load_, plan, print_line)


def register(root: typer.Typer) -> None:
    root.command()(load)
