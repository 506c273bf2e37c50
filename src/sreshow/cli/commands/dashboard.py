"""`sreshow dashboard`: the live dashboard page of the running stack, served on
127.0.0.1 until Ctrl-C, on whatever platform the stack runs."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

import threading
import time
from typing import TYPE_CHECKING

import typer

from sreshow.cli.application import application
from sreshow.cli.options import CONTEXT_OPTION
from sreshow.errors import UsageError

if TYPE_CHECKING:  # http.server costs the CLI's start-up a quarter: loaded when serving
    from collections.abc import Callable
    from http.server import BaseHTTPRequestHandler

DEFAULT_PORT = 8765
MIN_WINDOW_SECONDS = 120.0  # a scaled 15 minutes is too short to see a scenario in


def dashboard(
    ctx: typer.Context,
    port: int = typer.Option(DEFAULT_PORT, help="The port on 127.0.0.1 to serve the page on."),
    refresh: float = typer.Option(
        5.0, "--refresh", help="Seconds between the page's reloads (at least 1)."
    ),
    window: float | None = typer.Option(
        None,
        "--window",
        help="Seconds of history each chart shows (default: Grafana's 15 minutes at the "
        f"stack's time scale, at least {MIN_WINDOW_SECONDS:g}).",
    ),
    context: str | None = CONTEXT_OPTION,
) -> None:
    """Serve a live dashboard of the running stack for the projector: request rate,
    error rate, latency, active pods and requests in the window, with alert states and
    markers. `status` and a scenario's live view link it while it runs."""
    from http.server import ThreadingHTTPServer

    from sreshow.adapters.stack_metrics import SCRAPE_INTERVAL_MS, dashboard_panels_for
    from sreshow.report.live import live_page
    from sreshow.report.live_link import publish, withdraw

    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port; give one from 1 to 65535")
    if refresh < 1:
        raise UsageError(f"--refresh {refresh:g} is too often; give at least 1 second")
    if window is not None and window <= 0:
        raise UsageError(f"--window {window:g} shows nothing; give a positive number of seconds")
    app = application(ctx).on_context(context)
    platform = app.platforms.current().connect(app.settings.admin_token())
    time_scale = platform.time_scale
    window_s = window or max(15 * 60 * time_scale, MIN_WINDOW_SECONDS)
    scrape_s = max(SCRAPE_INTERVAL_MS / 1000 * time_scale, 1.0)
    panels = dashboard_panels_for(time_scale, range_ms=round(window_s * 1000))
    page = _Cached(
        lambda: live_page(
            platform, panels, window_s=window_s, scrape_s=scrape_s, refresh_s=refresh
        ),
        max_age=refresh / 2,
    )
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(page))
    except OSError as e:
        platform.close()
        raise UsageError(
            f"--port {port}: cannot serve on 127.0.0.1:{port} ({e.strerror}); pick another port"
        ) from e
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    publish(app.settings.state_dir, url)
    app.terminal.out.print(f"live dashboard: {url}  (Ctrl-C to stop)", highlight=False)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        app.terminal.out.print("dashboard stopped", highlight=False)
    finally:
        server.server_close()
        withdraw(app.settings.state_dir)
        platform.close()


class _Cached:
    """The page, rendered at most once per `max_age` seconds however many browsers ask."""

    def __init__(self, render: "Callable[[], str]", max_age: float) -> None:
        self._render, self._max_age = render, max_age
        self._lock = threading.Lock()
        self._page, self._at = "", float("-inf")

    def get(self) -> str:
        with self._lock:
            if time.monotonic() - self._at >= self._max_age:
                self._page, self._at = self._render(), time.monotonic()
            return self._page


def _handler(page: _Cached) -> "type[BaseHTTPRequestHandler]":
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in ("/", "/index.html"):
                self.send_error(404, "the dashboard is at /")
                return
            body = page.get().encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the terminal is the presenter's."""

    return Handler


def register(app: typer.Typer) -> None:
    app.command()(dashboard)
