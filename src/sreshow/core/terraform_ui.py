"""Terraform's (and OpenTofu's) machine-readable UI, parsed and folded into progress.

`terraform plan|apply|destroy -json` prints one JSON object a line, `version` first.
`parse_line` turns one line into a typed event (None for a type this module does not
know: the set grows with each release); `fold` adds an event to an `ApplyProgress`,
the whole picture a progress view or an error message needs. Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

# The UI's major version this parser understands; a new major may change any field.
SUPPORTED_UI_MAJOR = 1
# Free-text lines (non-JSON output, `log` messages) kept for an error message's context.
LOG_LINES_KEPT = 20


class UnsupportedUIVersion(ValueError):
    """The binary speaks a major UI version this parser does not know."""


@dataclass(frozen=True)
class VersionEvent:
    tool: str  # "terraform" or "tofu", from the key the version is given under
    tool_version: str
    ui_version: str
    timestamp: datetime | None = None


@dataclass(frozen=True)
class PlannedChange:
    addr: str
    action: str  # create, update, delete, replace, read, noop, move, import, remove


@dataclass(frozen=True)
class ChangeSummary:
    operation: str  # plan, apply or destroy
    add: int
    change: int
    remove: int
    import_: int


@dataclass(frozen=True)
class ApplyStart:
    addr: str
    action: str
    timestamp: datetime | None


@dataclass(frozen=True)
class ApplyTick:
    """`apply_progress`: an operation still running (every ten seconds or so)."""

    addr: str
    action: str
    elapsed_seconds: float


@dataclass(frozen=True)
class ApplyComplete:
    addr: str
    action: str
    elapsed_seconds: float


@dataclass(frozen=True)
class ApplyErrored:
    addr: str
    action: str
    elapsed_seconds: float


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # error or warning
    summary: str
    detail: str = ""
    address: str | None = None
    filename: str | None = None
    line: int | None = None

    @property
    def location(self) -> str | None:
        """`file:line` in the configuration, when the diagnostic has a range."""
        if self.filename is None:
            return None
        return self.filename if self.line is None else f"{self.filename}:{self.line}"


@dataclass(frozen=True)
class OutputValue:
    """One output; `value` is absent from the stream for sensitive ones and in plans."""

    name: str
    sensitive: bool
    value: Any = None
    action: str | None = None

    def __repr__(self) -> str:  # a sensitive value never reaches a log through repr
        shown = "<sensitive>" if self.sensitive else repr(self.value)
        return f"OutputValue(name={self.name!r}, sensitive={self.sensitive}, value={shown})"


@dataclass(frozen=True)
class OutputsEvent:
    outputs: tuple[OutputValue, ...]


@dataclass(frozen=True)
class LogLine:
    """A `log` message, or a line that was not JSON at all (kept as text)."""

    text: str


UIEvent = (
    VersionEvent
    | PlannedChange
    | ChangeSummary
    | ApplyStart
    | ApplyTick
    | ApplyComplete
    | ApplyErrored
    | Diagnostic
    | OutputsEvent
    | LogLine
)


def parse_line(line: str) -> UIEvent | None:
    """The event on one line of the JSON UI; None for a type not known here (or a blank
    line). A line that is not a JSON object becomes a `LogLine`."""
    text = line.strip()
    if not text:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return LogLine(text)
    if not isinstance(message, dict):
        return LogLine(text)
    kind = message.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        return None
    try:
        return parser(message)
    except (KeyError, TypeError, ValueError) as e:  # a known type with unexpected fields
        if isinstance(e, UnsupportedUIVersion):
            raise
        return LogLine(str(message.get("@message", text)))


def _version(message: dict[str, Any]) -> VersionEvent:
    ui = str(message["ui"])
    major = ui.split(".", 1)[0]
    if major != str(SUPPORTED_UI_MAJOR):
        raise UnsupportedUIVersion(
            f"machine-readable UI version {ui} (this sreshow reads {SUPPORTED_UI_MAJOR}.x)"
        )
    tool = "tofu" if "tofu" in message else "terraform"
    return VersionEvent(
        tool=tool,
        tool_version=str(message.get(tool, "")),
        ui_version=ui,
        timestamp=_timestamp(message.get("@timestamp")),
    )


def _resource_addr(container: dict[str, Any]) -> str:
    return str(container["resource"]["addr"])


def _planned_change(message: dict[str, Any]) -> PlannedChange:
    change = message["change"]
    return PlannedChange(addr=_resource_addr(change), action=str(change["action"]))


def _change_summary(message: dict[str, Any]) -> ChangeSummary:
    changes = message["changes"]
    return ChangeSummary(
        operation=str(changes.get("operation", "plan")),
        add=int(changes.get("add", 0)),
        change=int(changes.get("change", 0)),
        remove=int(changes.get("remove", 0)),
        import_=int(changes.get("import", 0)),
    )


def _apply_start(message: dict[str, Any]) -> ApplyStart:
    hook = message["hook"]
    return ApplyStart(
        addr=_resource_addr(hook),
        action=str(hook.get("action", "")),
        timestamp=_timestamp(message.get("@timestamp")),
    )


def _apply_tick(message: dict[str, Any]) -> ApplyTick:
    hook = message["hook"]
    return ApplyTick(
        _resource_addr(hook), str(hook.get("action", "")), float(hook["elapsed_seconds"])
    )


def _apply_complete(message: dict[str, Any]) -> ApplyComplete:
    hook = message["hook"]
    return ApplyComplete(
        _resource_addr(hook), str(hook.get("action", "")), float(hook.get("elapsed_seconds", 0))
    )


def _apply_errored(message: dict[str, Any]) -> ApplyErrored:
    hook = message["hook"]
    return ApplyErrored(
        _resource_addr(hook), str(hook.get("action", "")), float(hook.get("elapsed_seconds", 0))
    )


def _diagnostic(message: dict[str, Any]) -> Diagnostic:
    body = message["diagnostic"]
    where = body.get("range") or {}
    start = where.get("start") or {}
    line = start.get("line")
    return Diagnostic(
        severity=str(body.get("severity", "error")),
        summary=str(body.get("summary", "")),
        detail=str(body.get("detail") or ""),
        address=body.get("address"),
        filename=where.get("filename"),
        line=int(line) if line is not None else None,
    )


def _outputs(message: dict[str, Any]) -> OutputsEvent:
    return OutputsEvent(
        tuple(
            OutputValue(
                name=name,
                sensitive=bool(body.get("sensitive", False)),
                value=body.get("value"),
                action=body.get("action"),
            )
            for name, body in sorted(message["outputs"].items())
        )
    )


def _log(message: dict[str, Any]) -> LogLine:
    return LogLine(str(message.get("@message", "")))


def _timestamp(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


_PARSERS: dict[str, Callable[[dict[str, Any]], UIEvent]] = {
    "version": _version,
    "planned_change": _planned_change,
    "change_summary": _change_summary,
    "apply_start": _apply_start,
    "apply_progress": _apply_tick,
    "apply_complete": _apply_complete,
    "apply_errored": _apply_errored,
    "diagnostic": _diagnostic,
    "outputs": _outputs,
    "log": _log,
}


@dataclass(frozen=True)
class InFlight:
    """A resource operation started and not yet finished."""

    addr: str
    action: str
    started_at: datetime | None
    elapsed_seconds: float = 0.0  # the latest the binary reported


@dataclass(frozen=True)
class Finished:
    addr: str
    action: str
    elapsed_seconds: float


@dataclass(frozen=True)
class ApplyProgress:
    """Everything one `plan`, `apply` or `destroy` run has reported so far."""

    operation: str  # the command run: plan, apply or destroy
    tool: str = ""
    tool_version: str = ""
    started_at: datetime | None = None  # when the binary started (its version line)
    planned: tuple[PlannedChange, ...] = ()
    in_flight: tuple[InFlight, ...] = ()
    done: tuple[Finished, ...] = ()
    errored: tuple[Finished, ...] = ()
    half_done: tuple[str, ...] = ()  # replaced resources whose first half finished
    diagnostics: tuple[Diagnostic, ...] = ()
    outputs: tuple[OutputValue, ...] = ()
    plan_summary: ChangeSummary | None = None
    result_summary: ChangeSummary | None = None  # the apply's or destroy's own summary
    log: tuple[str, ...] = ()

    @property
    def planned_count(self) -> int:
        """Resource changes planned (no-ops left out)."""
        return sum(1 for change in self.planned if change.action != "noop")

    @property
    def done_count(self) -> int:
        """Planned changes finished (all finished ones when nothing was planned)."""
        if not self.planned:
            return len(self.done)
        planned = {change.addr for change in self.planned}
        return sum(1 for finished in self.done if finished.addr in planned)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")


def fold(state: ApplyProgress, event: UIEvent) -> ApplyProgress:
    """`state` with `event` added (a new value: `state` is left as it was)."""
    match event:
        case VersionEvent():
            state = replace(
                state,
                tool=event.tool,
                tool_version=event.tool_version,
                started_at=state.started_at or event.timestamp,
            )
        case PlannedChange():
            others = tuple(change for change in state.planned if change.addr != event.addr)
            state = replace(state, planned=(*others, event))
        case ChangeSummary(operation="plan"):
            state = replace(state, plan_summary=event)
        case ChangeSummary():
            state = replace(state, result_summary=event)
        case ApplyStart():
            started = InFlight(event.addr, event.action, event.timestamp)
            state = replace(
                state,
                started_at=state.started_at or event.timestamp,
                in_flight=(*_without(state.in_flight, event.addr), started),
            )
        case ApplyTick():
            state = replace(
                state,
                in_flight=tuple(
                    replace(f, elapsed_seconds=event.elapsed_seconds) if f.addr == event.addr else f
                    for f in state.in_flight
                ),
            )
        case ApplyComplete():
            state = _finished(state, event)
        case ApplyErrored():
            state = replace(
                state,
                in_flight=_without(state.in_flight, event.addr),
                errored=(*state.errored, Finished(event.addr, event.action, event.elapsed_seconds)),
            )
        case Diagnostic():
            state = replace(state, diagnostics=(*state.diagnostics, event))
        case OutputsEvent():
            state = replace(state, outputs=event.outputs)
        case LogLine():
            state = replace(state, log=(*state.log, event.text)[-LOG_LINES_KEPT:])
    return state


def _finished(state: ApplyProgress, event: ApplyComplete) -> ApplyProgress:
    """A replace is two operations (delete and create, in either order): the resource
    counts as done when the second one finishes."""
    in_flight = _without(state.in_flight, event.addr)
    replacing = any(c.addr == event.addr and c.action == "replace" for c in state.planned)
    if replacing and event.addr not in state.half_done:
        return replace(state, in_flight=in_flight, half_done=(*state.half_done, event.addr))
    finished = Finished(event.addr, event.action, event.elapsed_seconds)
    return replace(state, in_flight=in_flight, done=(*state.done, finished))


def _without(in_flight: tuple[InFlight, ...], addr: str) -> tuple[InFlight, ...]:
    return tuple(f for f in in_flight if f.addr != addr)


def fold_lines(state: ApplyProgress, lines: Iterable[str]) -> ApplyProgress:
    """`state` with every event on `lines` folded in, in order."""
    for line in lines:
        event = parse_line(line)
        if event is not None:
            state = fold(state, event)
    return state
