"""Open-model load: requests on a schedule at the rate asked, whatever the answers.

Open model (k6's arrival-rate executors, wrk2): arrival k is due at t_k of the schedule
(`core/arrivals.py`) whether or not earlier ones were answered, so a slow service meets
the arrival rate it would in production (a closed loop politely slows down with it).
Latency is measured from each request's *intended* send time, so time spent waiting for
a connection, or behind a loop that fell behind, is counted (coordinated omission
corrected). Every due arrival ends up in exactly one count:

    sent      it got a connection in time and went out (`late` too when that was more
              than 10 ms after its time: its wait is in its latency)
    dropped   no connection came free within START_TOLERANCE_SECONDS of its time, or
              the run was stopped while it waited (k6's dropped_iterations): never
              silently skipped, never queued without bound

so `sent + dropped == scheduled` once a run is over. Every run is bounded: by its
duration (at most 2 h), `--max-requests`, a per-request timeout, and a grace on stop.

How it sends (chosen by measurement; bench/README.md, "Load generator"): one thread runs
an asyncio loop (uvloop when installed) with at most `connections` HTTP/1.1 connections
of our own (`load_http.py`: asyncio protocols, httptools' parser), driven by callbacks
rather than a task per request. A first closed-loop probe against the demo app on this
2-core VM cost ~55 µs of client CPU per request this way, against ~240 µs with aiohttp
and ~3,400 µs with httpx.AsyncClient (its pool is slow under concurrency); open-model at
1,000 RPS, where every arrival is a timer wake-up of its own, ~130 µs. It needs nothing
the app's image lacks (uvicorn brings httptools and uvloop) but hdrhistogram.

Connections rotate: one serves at most REQUESTS_PER_CONNECTION requests and lives at
most CONNECTION_MAX_AGE_SECONDS (its last request says `Connection: close`), so load
through a Service that balances connections (kube-proxy) spreads over its pods, and an
idle connection is never reused after the server may have timed it out.

`OpenModelLoad` is the scenarios' `Load` (ports.py) and the engine of `sreshow load`;
`python -m sreshow.scenarios.load` runs it in the app's image (`load_job.py`). The
target is whatever URL it is handed (a Service on 127.0.0.1, a cluster IP).
"""

from __future__ import annotations

import asyncio
import math
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from sreshow.core.arrivals import Shape, build_schedule
from sreshow.errors import UsageError
from sreshow.ports import LoadSample, LoadStats, LoadWindow
from sreshow.scenarios.load_http import HttpConnection, Outcome, RequestFailed, Target
from sreshow.scenarios.load_plan import (
    MAX_DURATION_SECONDS,
    LoadPlan,
    LoadResult,
    default_connections,
)
from sreshow.scenarios.load_record import LoadRecord

REQUEST_TIMEOUT_SECONDS = 5.0  # connecting included
START_TOLERANCE_SECONDS = 0.1  # an arrival waits this long for a free connection, then drops
REQUESTS_PER_CONNECTION = 100
CONNECTION_MAX_AGE_SECONDS = 1.0  # under uvicorn's 5 s keep-alive timeout: no reuse races
STOP_GRACE_SECONDS = 1.0  # Ctrl-C: how long requests in flight may still answer
START_TIMEOUT_SECONDS = 5.0  # for the loop's thread to be up
_DRAIN_POLL_SECONDS = 0.05
# uvloop's timers count whole milliseconds: a shorter sleep wakes at once, and waiting
# for the next arrival that way spins the loop (18,000 wake-ups a second at 1,000 RPS).
# Arrivals are sent in ticks of about 1 ms instead, each counting its delay as latency.
_TIMER_RESOLUTION_SECONDS = 0.001
_SWEEP_SECONDS = 0.05  # how often requests are checked against their deadline


class OpenModelLoad:
    """Open-model GETs on a schedule; start or run a plan, stop, read what was seen.

    The counts add up over every run of one instance (a scenario may start and stop load
    several times); `sreshow load` uses one instance per run."""

    def __init__(
        self,
        connections: int | None = None,
        *,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        start_tolerance: float = START_TOLERANCE_SECONDS,
        requests_per_connection: int = REQUESTS_PER_CONNECTION,
        connection_max_age: float = CONNECTION_MAX_AGE_SECONDS,
    ) -> None:
        self._connections = connections
        self._timeout = timeout
        self._tolerance = start_tolerance
        self._per_connection = requests_per_connection
        self._max_age = connection_max_age
        # The longest latency there can be: an arrival due at the start, answered as the
        # longest run's last request times out; the record's histogram covers twice that.
        self._record = LoadRecord(MAX_DURATION_SECONDS + start_tolerance + timeout)
        self._run: _Run | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, url: str, rps: float, path: str, duration: float | None) -> None:
        """Send `rps` GETs per second to `url + path` for `duration` seconds (until
        stopped when None; at most 2 h), stopping any load first."""
        try:
            Target.parse(url, path)
        except ValueError as e:
            raise UsageError(str(e)) from None
        seconds = min(duration or MAX_DURATION_SECONDS, MAX_DURATION_SECONDS)
        schedule = build_schedule(Shape.CONSTANT, rps, seconds)
        connections = self._connections or default_connections(rps)
        self.begin(LoadPlan(url, path, schedule, None, connections))

    def begin(self, plan: LoadPlan) -> None:
        """Start `plan` in the background (stopping any load first)."""
        self.stop()
        run = _Run(
            plan,
            self._record,
            timeout=self._timeout,
            tolerance=self._tolerance,
            per_connection=self._per_connection,
            max_age=self._max_age,
        )
        thread = threading.Thread(target=run.run, name="load", daemon=True)
        thread.start()
        if not run.ready.wait(START_TIMEOUT_SECONDS):
            run.request_stop(0)
            raise RuntimeError(
                f"the load's event loop did not start within {START_TIMEOUT_SECONDS:g} s"
            )
        self._run, self._thread = run, thread

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the run to end by itself; whether it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def stop(self, grace: float = REQUEST_TIMEOUT_SECONDS) -> None:
        """Stop scheduling; arrivals waiting for a connection are dropped, requests in flight
        get `grace` seconds to answer. Safe to call twice."""
        run, thread = self._run, self._thread
        if run is None or thread is None:
            return
        run.request_stop(grace)
        thread.join(grace + 2 * _DRAIN_POLL_SECONDS + 1)
        self._thread = None

    def stats(self) -> LoadStats:
        return self._record.stats()

    def window(self) -> LoadWindow:
        """The answers of the last few seconds, oldest first."""
        return self._record.window(time.monotonic())

    def samples(self) -> tuple[LoadSample, ...]:
        return self._record.samples(time.monotonic())

    def result(self, *, interrupted: bool = False) -> LoadResult:
        """The last run so far, or in all once it is over."""
        run = self._run
        if run is None:
            raise RuntimeError("no load was started")
        if run.failure is not None:
            raise RuntimeError(f"the load generator failed: {run.failure!r}") from run.failure
        finished = not self.running
        now = time.monotonic()
        return LoadResult(
            plan=run.plan,
            elapsed=run.elapsed(now),
            tally=self._record.tally(now),
            connections_opened=run.opened,
            finished=finished,
            interrupted=interrupted or run.stopped_early,
            samples=self._record.samples(now, partial=True) if finished else (),
        )


def drive(
    load: OpenModelLoad,
    plan: LoadPlan,
    on_progress: Callable[[LoadResult], None],
    every: float = 0.25,
) -> LoadResult:
    """Run `plan` to its end, calling `on_progress` every `every` s; Ctrl-C (or SIGTERM,
    as a Job is stopped) stops it with STOP_GRACE_SECONDS for the answers in flight.
    The result says whether it was interrupted."""
    interrupted = False
    with _sigterm_as_interrupt():
        load.begin(plan)
        try:
            while not load.wait(every):
                on_progress(load.result())
        except KeyboardInterrupt:
            interrupted = True
            load.stop(STOP_GRACE_SECONDS)
    return load.result(interrupted=interrupted)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt in the main thread while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Run:
    """One plan on its own thread's event loop. Callbacks, not a task per request: a
    timer hands out the arrivals due (`_tick`), each goes out on a free connection
    (`_try_start`), its connection reports the outcome (`_done`), and a sweep fails the
    requests past their deadline. Every method but `run`, `request_stop` and `elapsed`
    runs on the loop."""

    def __init__(
        self,
        plan: LoadPlan,
        record: LoadRecord,
        *,
        timeout: float,
        tolerance: float,
        per_connection: int,
        max_age: float,
    ) -> None:
        self.plan, self.record = plan, record
        self.target = Target.parse(plan.url, plan.path)
        self.timeout, self.tolerance = timeout, tolerance
        self.per_connection, self.max_age = per_connection, max_age
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.opened = 0  # connections opened in all
        self.started = math.inf  # monotonic, when arrival 0 was due
        self.ended: float | None = None  # when scheduling ended (its end, or a stop)
        self.stopped_early = False
        self._requests = (self.target.request(last=False), self.target.request(last=True))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._total = plan.total
        self._next = 0  # the next arrival's index
        self._next_due = math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._scheduled: asyncio.Future[None] | None = None  # done when scheduling ends
        self._idle: list[HttpConnection] = []
        self._busy: set[HttpConnection] = set()
        self._connecting: set[asyncio.Task[None]] = set()
        self._open = 0  # connections open or opening, idle ones too
        self._waiting: deque[float] = deque()  # due times of arrivals waiting for one
        self._stopping = False
        self._stopped_at = math.inf
        self._drain_until = math.inf

    # --- any thread --------------------------------------------------------------------

    def run(self) -> None:
        """The thread's body: the loop, until the run is over."""
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._main())
        except BaseException as e:  # reported by result(), not lost with the thread
            self.failure = self.failure or e
        finally:
            self.ready.set()

    def request_stop(self, grace: float) -> None:
        loop = self._loop
        if loop is None:
            return
        with suppress(RuntimeError):  # the loop is closed: the run is over already
            loop.call_soon_threadsafe(self._stop, grace)

    def elapsed(self, now: float) -> float:
        end = self.ended if self.ended is not None else min(now, self.started + self.plan.span)
        return max(end - self.started, 0.0)

    # --- the loop ----------------------------------------------------------------------

    async def _main(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._crashed)
        self._scheduled = loop.create_future()
        self.started = self._next_due = time.monotonic()
        self.record.begin(self.started)
        self.ready.set()
        self._tick()
        self._sweep()
        await self._scheduled
        # a run not stopped early ran its whole span, whenever the loop's timer woke
        self.ended = min(self._stopped_at, self.started + self.plan.span)
        await self._settle_waiting()
        await self._drain()
        for connection in (*self._busy, *self._idle):
            connection.give_up()
        await asyncio.sleep(0)  # let the transports tell their protocols they are closed

    def _tick(self) -> None:
        """Every arrival due by now arrives; the timer is set for the next one."""
        now = time.monotonic()
        schedule, total = self.plan.schedule, self._total
        while self._next < total and self._next_due <= now:
            self._arrive(self._next_due, now)
            self._next += 1
            if self._next < total:
                self._next_due = self.started + schedule.due_at(self._next)
        self._expire(now)
        loop = asyncio.get_running_loop()
        if self._next < total:
            delay = max(self._next_due - now, _TIMER_RESOLUTION_SECONDS)
            self._timer = loop.call_later(delay, self._tick)
        else:  # the last has arrived: scheduling ends with the span
            end = self.started + self.plan.span - now
            self._timer = loop.call_later(max(end, 0.0), self._end_schedule)

    def _end_schedule(self) -> None:
        if self._scheduled is not None and not self._scheduled.done():
            self._scheduled.set_result(None)

    def _stop(self, grace: float) -> None:
        now = time.monotonic()
        if not self._stopping and now < self.started + self.plan.span:
            self.stopped_early = True
            self._stopped_at = now
        self._stopping = True
        self._drain_until = min(self._drain_until, now + grace)
        if self._timer is not None:
            self._timer.cancel()
        self._end_schedule()

    def _arrive(self, due: float, now: float) -> None:
        self.record.arrive()
        if self._waiting or not self._try_start(due, now):
            self._waiting.append(due)  # behind those already waiting: first due, first sent

    def _try_start(self, due: float, now: float) -> bool:
        """Send the arrival due at `due` now if a connection is free (or may be opened)."""
        connection = self._idle_connection(now)
        if connection is None and self._open >= self.plan.connections:
            return False
        self.record.send(now, now - due)
        if connection is None:
            self._open += 1
            task = asyncio.create_task(self._connect_and_send(due, now + self.timeout))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)
        else:
            self._send(connection, due, now + self.timeout)
        return True

    def _idle_connection(self, now: float) -> HttpConnection | None:
        while self._idle:
            connection = self._idle.pop()  # the most recently used: warm, least likely closed
            if connection.reusable and now - connection.opened_at < self.max_age:
                return connection
            self._close(connection)
        return None

    async def _connect_and_send(self, due: float, deadline: float) -> None:
        """Open a connection (within the request's deadline), then send on it."""
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                connection = await HttpConnection.open(self.target, self._done)
        except (TimeoutError, RequestFailed) as e:
            now = time.monotonic()
            self.record.fail(now, e.kind if isinstance(e, RequestFailed) else "timeout", now - due)
            self._open -= 1
            self._serve_waiting(now)
            return
        self.opened += 1
        self._send(connection, due, deadline)

    def _send(self, connection: HttpConnection, due: float, deadline: float) -> None:
        age = time.monotonic() - connection.opened_at
        last = connection.served + 1 >= self.per_connection or age >= self.max_age
        self._busy.add(connection)
        connection.send(self._requests[last], due, deadline)

    def _done(self, connection: HttpConnection, outcome: Outcome) -> None:
        """A connection's request is over: record it, reuse or close the connection, and
        start the arrivals waiting for one."""
        now = time.monotonic()
        self._busy.discard(connection)
        latency = now - connection.due
        if isinstance(outcome, RequestFailed):
            self.record.fail(now, outcome.kind, latency)
        else:
            self.record.answer(now, outcome, latency)
        if (
            not isinstance(outcome, RequestFailed)
            and connection.reusable
            and connection.served < self.per_connection
            and now - connection.opened_at < self.max_age
            and not self._stopping
        ):
            self._idle.append(connection)
        else:
            self._close(connection, abort=isinstance(outcome, RequestFailed))
        self._serve_waiting(now)

    def _serve_waiting(self, now: float) -> None:
        if not self._stopping:
            self._expire(now)
            while self._waiting and self._try_start(self._waiting[0], now):
                self._waiting.popleft()

    def _close(self, connection: HttpConnection, *, abort: bool = False) -> None:
        connection.abort() if abort else connection.close()
        self._open -= 1

    def _expire(self, now: float) -> None:
        """Arrivals that waited past the tolerance are dropped."""
        while self._waiting and self._waiting[0] + self.tolerance < now:
            self._waiting.popleft()
            self.record.drop(now)

    def _sweep(self) -> None:
        """Requests past their deadline fail as timeouts (checked every 50 ms: one timer
        for all, not one per request)."""
        now = time.monotonic()
        for connection in [c for c in self._busy if c.deadline <= now]:
            connection.time_out()
        asyncio.get_running_loop().call_later(_SWEEP_SECONDS, self._sweep)

    async def _settle_waiting(self) -> None:
        """After the last arrival: those still waiting are sent or dropped (bounded by
        the tolerance); on a stop, dropped at once."""
        while self._waiting and not self._stopping:
            await asyncio.sleep(min(self.tolerance, _DRAIN_POLL_SECONDS))
            self._expire(time.monotonic())
        now = time.monotonic()
        while self._waiting:
            self._waiting.popleft()
            self.record.drop(now)

    async def _drain(self) -> None:
        """Wait for the requests in flight: each ends by its deadline, or at the stop's
        grace, when the rest are given up (sent, never answered: `in_flight`)."""
        self._drain_until = min(self._drain_until, time.monotonic() + self.timeout + 1)
        while (self._busy or self._connecting) and time.monotonic() < self._drain_until:
            await asyncio.sleep(min(_DRAIN_POLL_SECONDS, self._drain_until - time.monotonic()))
        self._stopping = True
        for task in self._connecting:
            task.cancel()
        if self._connecting:
            await asyncio.wait(set(self._connecting), timeout=1.0)

    def _crashed(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """An exception escaped a callback: a bug, not an answer; end the run, loudly.
        (A transport's own network error is a request's outcome, told to its protocol:
        only logged, as asyncio does.)"""
        error = context.get("exception")
        if isinstance(error, OSError):
            loop.default_exception_handler(context)
            return
        if self.failure is None:
            message = str(context.get("message", "error in the load generator's loop"))
            self.failure = error if isinstance(error, BaseException) else RuntimeError(message)
        self._stop(0)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's loop where it is installed (it halves the client's CPU per request)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        return asyncio.new_event_loop
    return uvloop.new_event_loop


if __name__ == "__main__":
    from sreshow.scenarios.load_job import main

    sys.exit(main())
