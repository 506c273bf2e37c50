"""Serve the app with uvicorn and shut down gracefully.

On SIGTERM the instance first drains: `/ready` answers 503 at once while the
server keeps answering for `drain_seconds`, so load balancers take it out of
rotation; then uvicorn stops listening and waits for in-flight requests until
`grace_seconds` after the signal, and exits. A second signal ends the drain early.
"""

from __future__ import annotations

import asyncio
import contextlib
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
# uvicorn's own loop wakes every 0.1 s to look for a signal: 2.5 millicores of an idle
# replica's CPU, which the autoscaler counts. Ours sleeps until a signal or the end of
# the drain wakes it, or this long (the Date header's resolution) has passed.
_TICK_SECONDS = 1.0
_TICKS_PER_SECOND = 10  # uvicorn's on_tick() counts tenths of a second


class DrainingServer(uvicorn.Server):
    """A uvicorn server that drains before it stops on SIGTERM."""

    def __init__(self, config: uvicorn.Config, runtime: AppRuntime) -> None:
        super().__init__(config)
        self._runtime = runtime
        self._drain_seconds = min(runtime.config.drain_seconds, runtime.config.grace_seconds)
        self._drain_until: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._runtime.begin_drain()
        first_term = sig == signal.SIGTERM and self._drain_until is None
        if first_term and self._drain_seconds > 0:
            self._drain_until = time.monotonic() + self._drain_seconds
        elif sig == signal.SIGTERM:
            self.should_exit = True  # a clean exit: the signal is not raised again
        else:
            super().handle_exit(sig, frame)
        self._wake_now()

    def _wake_now(self) -> None:
        """Wake the main loop to look at the new state (safe from a signal handler)."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._wake.set)

    def _until_next_look(self) -> float:
        """How long the loop may sleep: a tick, or less when the drain ends sooner. The
        drain's end is a deadline the loop sleeps to, not a wake-up it could miss (a wake
        arriving as the loop clears the last one would cost a whole tick)."""
        if self._drain_until is None:
            return _TICK_SECONDS
        return min(_TICK_SECONDS, max(self._drain_until - time.monotonic(), 0.0))

    async def main_loop(self) -> None:
        """uvicorn's loop, woken by events instead of polling ten times a second."""
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._until_next_look())
            self._wake.clear()  # the state it woke for is read below, after the clear
            counter = (counter + _TICKS_PER_SECOND) % 864000
            should_exit = await self.on_tick(counter)

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
