"""Presenter mode: a tour's steps, each run at the speaker's pace.

Each step shows its cue first and starts on `next` (or, with `auto`, after the tour's
`auto_pause`); a scenario or baseline step is a scenario run (the runner, in the main
thread, so its signal handling and cleanup are the same as `scenario run`'s) and its
journal is written into the show's folder; the scorecard step shows the results so far.

The keys arrive on another thread (`on_key`). Between steps they are queued for the
main thread. While a step runs, `quit` and `emergency` interrupt it as Ctrl-C does
(SIGINT to this process: the runner's rollback block and restore run, no waits), and
after it the show ends — an emergency stop also clears every replica's faults and
stops the load itself; `pause` holds the run before its next step; `repeat` runs the
step again once it is over.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sreshow.core.timeline import TimelineEvent
from sreshow.errors import ExitCode
from sreshow.ports import Load, Platform
from sreshow.report.narrative import event_line
from sreshow.scenarios.observer import Observer, RunView
from sreshow.scenarios.runner import RunHooks, ScenarioResult, ScenarioRunner
from sreshow.scenarios.signals import routed_signals
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.walkthrough.keys import Key
from sreshow.walkthrough.scorecard import StepScore, show_passed
from sreshow.walkthrough.tour import Stop, Tour

Phase = Literal["cue", "running", "scorecard", "stopping", "done"]
PAUSE_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class PresenterView:
    """What the screen shows, taken at one moment."""

    tour: Tour
    stop: Stop
    total: int
    phase: Phase
    paused: bool
    notice: str
    run: RunView | None  # the running step's live view
    scores: tuple[StepScore, ...]
    starts_in: float | None  # --auto: seconds until the step starts by itself


@dataclass
class _Shared:
    """What the key thread and the main thread both touch, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    index: int = 0
    phase: Phase = "cue"
    paused: bool = False
    notice: str = ""
    observer: Observer | None = None
    starts_at: float | None = None
    quit: bool = False
    emergency: bool = False
    repeat: bool = False


class Presenter:
    """Runs a tour's stops on `platform`; `run()` returns the exit code."""

    def __init__(
        self,
        tour: Tour,
        stops: Sequence[Stop],
        platform: Platform,
        new_load: Callable[[], Load],
        *,
        auto: bool,
        write_journal: Callable[[Stop, ScenarioResult], Path],
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        """`on_line`, when given, is told the show as lines (each step, each event of its
        run): for a pipe or a log, where there is no screen."""
        self.tour = tour
        self.stops = list(stops)
        self.platform = platform
        self._new_load = new_load
        self._auto = auto
        self._write_journal = write_journal
        self._on_line = on_line
        self._shared = _Shared()
        self._keys: queue.Queue[Key] = queue.Queue()
        self.scores: list[StepScore] = []
        self.finished = False
        self.quit_by_presenter = False
        self.emergency_cleared: int | None = None  # replicas the emergency stop swept

    # --- the key thread ------------------------------------------------------------

    def on_key(self, key: Key) -> None:
        """A key from the presenter (any thread)."""
        shared = self._shared
        with shared.lock:
            running = shared.phase == "running"
            if key == Key.PAUSE:
                shared.paused = not shared.paused
                shared.notice = _pause_notice(shared.paused, running)
                return
            if not running:
                self._keys.put(key)
                return
            if key == Key.NEXT:
                shared.notice = "the step is running; it ends by itself (q ends the show)"
            elif key == Key.REPEAT:
                shared.repeat = True
                shared.notice = "this step runs again once it is over"
            else:  # quit or emergency: interrupt the run as Ctrl-C does
                shared.quit = True
                shared.emergency = shared.emergency or key == Key.EMERGENCY
                shared.notice = _stop_notice(shared.emergency)
                shared.paused = False
        if key in (Key.QUIT, Key.EMERGENCY):
            os.kill(os.getpid(), signal.SIGINT)

    # --- what the screen reads -------------------------------------------------------

    def view(self) -> PresenterView:
        shared = self._shared
        with shared.lock:
            observer, phase, index = shared.observer, shared.phase, shared.index
            starts_at, paused, notice = shared.starts_at, shared.paused, shared.notice
        run = observer.view() if observer is not None and phase == "running" else None
        starts_in = None if starts_at is None else max(0.0, starts_at - time.monotonic())
        return PresenterView(
            self.tour,
            self.stops[min(index, len(self.stops) - 1)],
            len(self.stops),
            phase,
            paused,
            notice,
            run,
            tuple(self.scores),
            starts_in,
        )

    # --- the main thread --------------------------------------------------------------

    def run(self) -> int:
        """The whole show; always ends with no fault set and no load running."""
        try:
            self._show()
        except KeyboardInterrupt:  # Ctrl-C between steps: nothing runs, nothing to undo
            self.quit_by_presenter = True
        finally:
            with self._shared.lock:
                emergency = self._shared.emergency
                self._shared.phase = "done"
            if emergency:
                self._clear_everything()
        if self.quit_by_presenter:
            return int(ExitCode.INTERRUPTED)
        return int(ExitCode.PASSED if show_passed(self.scores, finished=True) else 1)

    def _show(self) -> None:
        index = 0
        last_run: int | None = None
        while index < len(self.stops):
            stop = self.stops[index]
            self._set(index=index, phase="scorecard" if stop.spec is None else "cue")
            key = self._wait_for_start(stop)
            if key in (Key.QUIT, Key.EMERGENCY):
                self._stop_by_key(key)
                return
            if key == Key.REPEAT and last_run is not None:
                index = last_run
                continue
            if stop.spec is None:  # the scorecard: shown until `next`
                index += 1
                continue
            self._run_stop(stop, stop.spec)
            last_run = index
            with self._shared.lock:
                stopping, again = self._shared.quit, self._shared.repeat
                self._shared.repeat = False
            if stopping:
                self.quit_by_presenter = True
                return
            if not again:
                index += 1
        self.finished = True

    def _wait_for_start(self, stop: Stop) -> Key:
        """The key that ends the wait at a step's cue: `next` when --auto's pause ran out."""
        self._say(f"step {stop.number}/{len(self.stops)}: {stop.step.title}")
        deadline = time.monotonic() + self.tour.auto_pause if self._auto else None
        while True:
            with self._shared.lock:
                paused = self._shared.paused
                if deadline is not None and paused:
                    deadline = time.monotonic() + self.tour.auto_pause  # held while paused
                self._shared.starts_at = deadline
            if deadline is not None and time.monotonic() >= deadline:
                self._set(starts_at=None)
                return Key.NEXT
            try:
                key = self._keys.get(timeout=PAUSE_POLL_SECONDS)
            except queue.Empty:
                continue
            if key != Key.PAUSE:
                self._set(starts_at=None, notice="")
                return key

    def _run_stop(self, stop: Stop, spec: ScenarioSpec) -> None:
        load = self._new_load()
        hooks = RunHooks(
            on_event=None if self._on_line is None else self._say_event,
            on_observer=lambda observer: self._set(observer=observer),
            ask=self._ask if not self._auto else None,
            before_step=self._hold_while_paused,
        )
        runner = ScenarioRunner(spec, self.platform, load, hooks)
        self._set(phase="running", observer=None)
        with routed_signals(runner.on_signal):
            try:
                result = runner.run()
            finally:
                load.stop()
            with self._shared.lock:
                self._shared.phase = "stopping" if self._shared.quit else "cue"
            journal = self._write_journal(stop, result)
        self.scores.append(
            StepScore(
                stop.number,
                stop.step.title,
                spec.name,
                result.verdict,
                result.interrupted,
                result.metrics,
                journal,
            )
        )
        self._say(f"step {stop.number} {result.verdict}: journal {journal}")
        if result.interrupted and not self._shared.quit:  # Ctrl-C, not a key
            with self._shared.lock:
                self._shared.quit = True

    def _say(self, line: str) -> None:
        if self._on_line is not None:
            self._on_line(line)

    def _say_event(self, event: TimelineEvent) -> None:
        self._say(event_line(event))

    def _hold_while_paused(self) -> None:
        while True:
            with self._shared.lock:
                if not self._shared.paused or self._shared.quit:
                    return
            time.sleep(PAUSE_POLL_SECONDS)

    def _ask(self, prompt: str) -> None:
        """A scenario's pause step: wait for `next` from the presenter (quit and the
        emergency stop interrupt the run, as during any other step)."""
        self._set(phase="cue", notice=f"{prompt} (space goes on)")
        try:
            while True:
                try:
                    key = self._keys.get(timeout=PAUSE_POLL_SECONDS)
                except queue.Empty:
                    continue
                if key == Key.NEXT:
                    return
                if key in (Key.QUIT, Key.EMERGENCY):
                    self._set(phase="running")
                    self.on_key(key)  # the SIGINT it sends ends this wait
        finally:
            self._set(phase="running", notice="")

    def _stop_by_key(self, key: Key) -> None:
        with self._shared.lock:
            self._shared.quit = True
            self._shared.emergency = key == Key.EMERGENCY
            self._shared.notice = _stop_notice(self._shared.emergency)
        self.quit_by_presenter = True

    def _clear_everything(self) -> None:
        """The emergency stop's own sweep: every replica's faults cleared."""
        pods = [replica.name for replica in self.platform.snapshot().replicas]
        self.platform.clear_faults(pods)
        self.emergency_cleared = len(pods)
        self._say(f"emergency stop: faults cleared on {len(pods)} replicas, load stopped")

    def _set(self, **changes: object) -> None:
        with self._shared.lock:
            for name, value in changes.items():
                setattr(self._shared, name, value)


def _pause_notice(paused: bool, running: bool) -> str:
    if not paused:
        return ""
    if running:
        return "paused: the run holds before its next step (p goes on)"
    return "paused (p goes on)"


def _stop_notice(emergency: bool) -> str:
    if emergency:
        return "EMERGENCY STOP: clearing every fault, stopping the load"
    return "stopping: the step's cleanup runs"
