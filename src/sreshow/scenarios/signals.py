"""SIGINT and SIGTERM routed to the scenario runner while a run (and its cleanup) lasts."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def routed_signals(handler: Callable[[int], None]) -> Iterator[None]:
    """Route SIGINT and SIGTERM to `handler`, then restore the handlers there were (main
    thread only; elsewhere signals are left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _: FrameType | None) -> None:
        handler(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
