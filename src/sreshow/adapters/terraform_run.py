"""Running one streamed (`-json`) terraform or tofu command, for `adapters.terraform`.

`Terraform` (in `adapters.terraform`) decides what to run; `StreamedRun` runs it: it
starts the binary in its own process group, reads its stdout line by line on a reader
thread (a queue between them, so the main thread stays free to notice Ctrl-C and
deadlines), folds each line (`core.terraform_ui`) into progress, and makes sure the
process is gone when it returns. What went wrong is translated here, once: a Ctrl-C
into `TerraformInterrupted` saying what the state holds, a failure into a one-line
`PlatformError` naming the user's `file:line`. This module and `adapters.terraform`
are the only ones that start terraform.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from sreshow.core.terraform_ui import (
    ApplyProgress,
    Diagnostic,
    UnsupportedUIVersion,
    fold,
    parse_line,
)
from sreshow.errors import ExitCode, PlatformError, SreshowError

if TYPE_CHECKING:  # only a type here: `adapters.terraform` imports this module
    from sreshow.adapters.terraform import TerraformBinary

ProgressCallback = Callable[[ApplyProgress], None]

ESCALATED_WAIT_S = 10.0  # after the second Ctrl-C, before SIGKILL
EXIT_WAIT_S = 120.0  # after the output ends, for the binary to exit


class TerraformInterrupted(SreshowError):
    """Ctrl-C stopped a run; the message says what the state holds and how to resume."""

    exit_code = ExitCode.INTERRUPTED


class StreamedRun:
    """The binary's `-json` commands in one working dir, each run to its end."""

    def __init__(
        self,
        binary: TerraformBinary,
        configuration: Path,
        working_dir: Path,
        env: Mapping[str, str],
        *,
        resume_hint: str,
        interrupt_grace_s: float,
    ) -> None:
        self.binary = binary
        self.configuration = configuration
        self.working_dir = working_dir
        self.env = env
        self.resume_hint = resume_hint
        self.interrupt_grace_s = interrupt_grace_s

    def run(
        self, args: list[str], operation: str, progress: ProgressCallback | None
    ) -> ApplyProgress:
        """Run a `-json` command, folding each line and passing the state to `progress`."""
        subcommand, *rest = args  # flags go before a positional plan file
        command = [str(self.binary.path), subcommand, "-json", "-input=false", "-no-color", *rest]
        # Its own process group: the terminal's Ctrl-C reaches sreshow only, which forwards
        # it (`_Interrupts`), so that terraform stops gracefully.
        with (
            tempfile.TemporaryFile() as stderr,
            subprocess.Popen(  # noqa: S603 (the located binary, argv of ours)
                command,
                cwd=self.working_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                process_group=0,
            ) as process,
        ):
            interrupts = _Interrupts(process, self.interrupt_grace_s)
            with interrupts.installed():
                try:
                    state = self._follow(process, ApplyProgress(operation), progress, interrupts)
                finally:
                    self._stop(process)
                stderr.seek(0)
                stderr_text = stderr.read().decode(errors="replace")
        if interrupts.count:
            raise self._interrupted(operation, state, escalated=interrupts.count > 1)
        if process.returncode != 0 or state.errors:
            raise self._failure(operation, state, process.returncode, stderr_text)
        return state

    def _follow(
        self,
        process: subprocess.Popen[str],
        state: ApplyProgress,
        progress: ProgressCallback | None,
        interrupts: _Interrupts,
    ) -> ApplyProgress:
        """Fold lines until the output ends (or for a few seconds after a kill)."""
        lines: queue.Queue[str | None] = queue.Queue()
        stdout = cast(IO[str], process.stdout)
        threading.Thread(target=_pump, args=(stdout, lines), daemon=True).start()
        drain_until = None
        while drain_until is None or time.monotonic() < drain_until:
            if interrupts.overdue():
                drain_until = time.monotonic() + ESCALATED_WAIT_S
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:  # the output ended: the binary is exiting
                process.wait(EXIT_WAIT_S)
                break
            try:
                event = parse_line(line)
            except UnsupportedUIVersion as e:
                raise PlatformError(
                    f"{self.binary} speaks {e}; use a supported release or upgrade sreshow"
                ) from e
            if event is not None:
                state = fold(state, event)
                if progress is not None:
                    progress(state)
        return state

    def _stop(self, process: subprocess.Popen[str]) -> None:
        """Make sure nothing is left running: a graceful interrupt first, bounded."""
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(self.interrupt_grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(ESCALATED_WAIT_S)

    def _interrupted(
        self, operation: str, state: ApplyProgress, *, escalated: bool
    ) -> TerraformInterrupted:
        tool = self.binary.tool
        if operation == "plan":
            return TerraformInterrupted(f"{tool} plan interrupted; nothing was changed")
        if escalated:
            return TerraformInterrupted(
                f"{tool} {operation} stopped at once (a second Ctrl-C): the state in "
                f"{self.working_dir} may miss resources it was making; see what it holds "
                f"with `{tool} state list` there, then {self.resume_hint}"
            )
        cut = f", {len(state.errored)} cut short" if state.errored else ""
        return TerraformInterrupted(
            f"{tool} {operation} interrupted: it wound up the operations in flight and saved "
            f"a consistent state in {self.working_dir} ({state.done_count} of "
            f"{state.planned_count} changes made{cut}); {self.resume_hint}"
        )

    def _failure(
        self, operation: str, state: ApplyProgress, returncode: int | None, stderr: str
    ) -> PlatformError:
        tool = self.binary.tool
        if not state.errors:
            cause = error_line(stderr) or (state.log[-1] if state.log else "no message")
            return PlatformError(
                f"{tool} {operation} in {self.working_dir} exited with status {returncode}: {cause}"
            )
        first = state.errors[0]
        where = f"{self._source(first)}: " if first.location else ""
        address = f" ({first.address})" if first.address else ""
        detail = f": {one_line(first.detail)}" if first.detail.strip() else ""
        more = f" (and {len(state.errors) - 1} more errors)" if len(state.errors) > 1 else ""
        return PlatformError(
            f"{tool} {operation} failed: {where}{first.summary}{address}{detail}{more}; "
            f"fix that, then run again (the state is in {self.working_dir})"
        )

    def _source(self, diagnostic: Diagnostic) -> str:
        """`file:line` in the user's configuration, not in the working copy."""
        original = self.configuration / (diagnostic.filename or "")
        location = diagnostic.location or ""
        return str(self.configuration / location) if original.is_file() else location


class _Interrupts:
    """Ctrl-C during a run, as a SIGINT handler rather than KeyboardInterrupt (which
    could land anywhere, a queue's lock included). Each one is forwarded: terraform
    winds up on the first and exits at once on the second. A run still going when its
    grace is over (`interrupt_grace_s` after the first, a few seconds after the second)
    is killed with its process group."""

    def __init__(self, process: subprocess.Popen[str], grace_s: float) -> None:
        self.process = process
        self.grace_s = grace_s
        self.count = 0
        self.kill_at: float | None = None

    def __call__(self, _signum: int, _frame: object) -> None:
        if self.process.poll() is not None:
            return  # it has exited: nothing to forward, nothing cut short
        self.count += 1
        self.process.send_signal(signal.SIGINT)
        self.kill_at = time.monotonic() + (self.grace_s if self.count == 1 else ESCALATED_WAIT_S)

    def overdue(self) -> bool:
        """Kill the run if its grace is over (once); True when that happened."""
        if self.kill_at is None or time.monotonic() < self.kill_at:
            return False
        self.kill_at = None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.count = max(self.count, 2)
        return True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """The handler in place for the block (Python lets only the main thread set it;
        elsewhere Ctrl-C does not arrive as an exception there either)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Read a stream line by line into a queue, None at its end (a reader thread)."""
    with contextlib.suppress(OSError, ValueError):  # closed under it: the run is over
        for line in stream:
            lines.put(line)
    lines.put(None)


def error_line(text: str) -> str:
    """The last `Error:` of human output (the first may be a preamble, as `init`'s is)
    and the two lines after it (where it is), else the output's last line."""
    lines = [line.strip(" │╷╵\t") for line in text.splitlines()]
    lines = [line for line in lines if line]
    starts = [i for i, line in enumerate(lines) if line.startswith("Error")]
    if starts:
        return one_line(" ".join(lines[starts[-1] : starts[-1] + 3]))
    return one_line(lines[-1] if lines else "")


def one_line(text: str, limit: int = 300) -> str:
    """`text` flattened to one line, cut at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
