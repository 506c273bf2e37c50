"""Serve the app with uvicorn and shut down gracefully.

On SIGTERM the instance first drains: `/ready` answers 503 at once while the
server keeps answering for `drain_seconds`, so load balancers take it out of
rotation; then uvicorn stops listening and waits for in-flight requests until
`grace_seconds` after the signal, and exits. A second signal ends the drain early.
"""

from __future__ import annotations

import signal
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from demo_app.config import AppConfig
from demo_app.runtime import AppRuntime

# Time uvicorn spends after the drain besides waiting for requests (its own pause
# and the lifespan shutdown); kept out of the wait so the exit stays within grace.
_SHUTDOWN_OVERHEAD_SECONDS = 0.3


class DrainingServer(uvicorn.Server):
    """A uvicorn server that drains before it stops on SIGTERM."""

    def __init__(self, config: uvicorn.Config, runtime: AppRuntime) -> None:
        super().__init__(config)
        self._runtime = runtime
        self._drain_seconds = min(runtime.config.drain_seconds, runtime.config.grace_seconds)
        self._drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._runtime.begin_drain()
        first_term = sig == signal.SIGTERM and self._drain_until is None
        if first_term and self._drain_seconds > 0:
            self._drain_until = time.monotonic() + self._drain_seconds
        elif sig == signal.SIGTERM:
            self.should_exit = True  # a clean exit: the signal is not raised again
        else:
            super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._drain_until is not None and time.monotonic() >= self._drain_until:
            self.should_exit = True
        return await super().on_tick(counter)


def build_server(app: FastAPI, config: AppConfig) -> DrainingServer:
    """A server for `app` on the configured address, with the configured grace period."""
    runtime: AppRuntime = app.state.runtime
    drain = min(config.drain_seconds, config.grace_seconds)
    request_wait = max(config.grace_seconds - drain - _SHUTDOWN_OVERHEAD_SECONDS, 0.0)
    uvicorn_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        loop="auto",
        http="auto",
        access_log=config.access_log,
        timeout_graceful_shutdown=int(request_wait),  # whole seconds, rounded down
        log_level="info",
        server_header=False,
    )
    return DrainingServer(uvicorn_config, runtime)
