"""What `sreshow doctor` reports (`Check`) and what it looks at (`Inspection`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sreshow.errors import SreshowError

if TYPE_CHECKING:
    from sreshow.platforms import Platforms
    from sreshow.ports import Lifecycle
    from sreshow.settings import Settings
    from sreshow.stack_status import StackStatus


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it is ready, what was found,
    and (only when it is not ready) what to do about it."""

    check: str
    ok: bool
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        # A failing line without a fix would leave the presenter guessing; a passing one
        # with a fix would read as a failure.
        if self.ok == bool(self.fix):
            raise ValueError(f"check {self.check!r}: a fix goes with a failing line, only")

    @classmethod
    def passed(cls, check: str, detail: str) -> Check:
        return cls(check, True, detail)

    @classmethod
    def failed(cls, check: str, detail: str, fix: str) -> Check:
        return cls(check, False, detail, fix)


@dataclass
class Inspection:
    """What the checks look at: the settings, the platform asked about, the flags, and
    that platform's running stack (asked for once, however many checks read it)."""

    settings: Settings
    platforms: Platforms
    platform: str
    port: int | None = None  # local: the app port `up --port` would be given
    send_test: bool = False  # post a test message to the webhook
    tour: str | None = None  # the walkthrough to check (None: the default tour)
    _lifecycle: Lifecycle | None = field(default=None, init=False, repr=False)
    _stack: StackStatus | SreshowError | None = field(default=None, init=False, repr=False)
    _stack_asked: bool = field(default=False, init=False, repr=False)

    def lifecycle(self) -> Lifecycle:
        if self._lifecycle is None:
            self._lifecycle = self.platforms.get(self.platform)
        return self._lifecycle

    def stack_status(self) -> StackStatus | None:
        """The asked platform's running stack, None when none is up; the error that
        reading it raised, raised again at each call."""
        if not self._stack_asked:
            self._stack_asked = True
            try:
                lifecycle = self.lifecycle()
                self._stack = lifecycle.status() if lifecycle.is_up() else None
            except SreshowError as e:
                self._stack = e
        if isinstance(self._stack, SreshowError):
            raise self._stack
        return self._stack

    def running_stack(self) -> StackStatus | None:
        """The running stack, or None when none is up or it cannot be read (the stack's
        own line says why)."""
        try:
            return self.stack_status()
        except SreshowError:
            return None


# A check: a function of the inspection giving one or more lines, in order.
CheckFunction = Callable[[Inspection], Iterable[Check]]
