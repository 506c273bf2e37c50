"""What a load run is asked to do (`LoadPlan`, from flags checked one by one) and what it
did (`LoadResult`, whose `as_json()` is `sreshow load --json`'s file).

Both front ends — `sreshow load` and `python -m sreshow.scenarios.load` in the app's
image — build their plan with `plan_load`, so a bad flag reads the same in either: one
line naming the flag and the fix (UsageError, exit 2).
"""

from __future__ import annotations

import json
import math
import resource
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sreshow.core.arrivals import DEFAULT_STEPS, Schedule, Shape, build_schedule
from sreshow.core.durations import parse_duration
from sreshow.errors import UsageError
from sreshow.files import write_atomically
from sreshow.ports import LoadSample
from sreshow.scenarios.load_http import Target
from sreshow.scenarios.load_record import Tally

DEFAULT_PATH = "/api/data"
MIN_CONNECTIONS = 64
# An open model needs rate x latency connections (Little's law): by default enough for
# the peak rate at this latency, so a stall of the target this long drops nothing.
ABSORBED_LATENCY_SECONDS = 0.5
MAX_CONNECTIONS = 4096
MAX_RPS = 50_000.0
MAX_DURATION_SECONDS = 2 * 3600.0
MAX_STEPS = 100
SPARE_FILES = 64  # descriptors left for everything but the connections


@dataclass(frozen=True)
class LoadPlan:
    """One run: where, on which schedule, at most how many requests, over how many
    connections."""

    url: str
    path: str
    schedule: Schedule
    max_requests: int | None = None
    connections: int = MIN_CONNECTIONS

    @property
    def total(self) -> int:
        """Arrivals the run will schedule."""
        cap = self.schedule.total if self.max_requests is None else self.max_requests
        return min(self.schedule.total, cap)

    @property
    def span(self) -> float:
        """Seconds the schedule runs: to its end, or to when the arrival after the last
        allowed one would have been due."""
        if self.total >= self.schedule.total:
            return self.schedule.duration
        return self.schedule.due_at(self.total)

    @property
    def target(self) -> str:
        """The URL requests go to."""
        target = Target.parse(self.url, self.path)
        return target.origin + target.path

    def describe(self) -> str:
        """E.g. `constant 200/s for 10 s`, `ramp 100/s → 400/s for 60 s`."""
        shape, p = self.schedule.shape, self.schedule.parameters
        rates = {
            Shape.CONSTANT: "{rps:g}/s",
            Shape.RAMP: "{rps:g}/s → {peak_rps:g}/s",
            Shape.SPIKE: "{rps:g}/s, {peak_rps:g}/s from {spike_at:g} s for {spike_for:g} s",
            Shape.STEP: "{rps:g}/s → {peak_rps:g}/s in {steps:g} steps",
        }[shape].format(**p)
        cap = f", at most {self.max_requests:,} requests" if self.max_requests else ""
        return f"{shape} {rates} for {self.schedule.duration:g} s{cap}"


def plan_load(
    *,
    url: str,
    rps: float,
    duration: str | float,
    path: str = DEFAULT_PATH,
    shape: str = Shape.CONSTANT,
    peak_rps: float | None = None,
    spike_at: str | float | None = None,
    spike_for: str | float | None = None,
    steps: int | None = None,
    max_requests: int | None = None,
    connections: int | None = None,
) -> LoadPlan:
    """The plan the flags ask for; UsageError naming the first bad flag and the fix."""
    try:
        Target.parse(url, "/")
    except ValueError:
        raise UsageError(
            f"--url {url!r}: load goes to an http(s) URL with a host; "
            "give one like --url http://127.0.0.1:8080"
        ) from None
    if not path.startswith("/"):
        raise UsageError(f"--path {path!r}: give a path that starts with /, like /api/data")
    try:
        kind = Shape(shape)
    except ValueError:
        known = ", ".join(s.value for s in Shape)
        raise UsageError(f"--shape {shape}: unknown shape; use one of {known}") from None
    _check_rate("--rps", rps)
    seconds = _seconds("--duration", duration)
    if seconds > MAX_DURATION_SECONDS:
        raise UsageError(
            f"--duration {duration}: a run lasts at most {MAX_DURATION_SECONDS:g} s (2 h); "
            "give a shorter one"
        )
    _only_for(kind, "--peak-rps", peak_rps, (Shape.RAMP, Shape.SPIKE, Shape.STEP))
    _only_for(kind, "--spike-at", spike_at, (Shape.SPIKE,))
    _only_for(kind, "--spike-for", spike_for, (Shape.SPIKE,))
    _only_for(kind, "--steps", steps, (Shape.STEP,))
    if peak_rps is not None:
        _check_rate("--peak-rps", peak_rps)
    begin = None if spike_at is None else _seconds("--spike-at", spike_at, zero=True)
    length = None if spike_for is None else _seconds("--spike-for", spike_for)
    if steps is not None and not 2 <= steps <= MAX_STEPS:
        raise UsageError(f"--steps {steps}: give between 2 and {MAX_STEPS} steps")
    if max_requests is not None and max_requests < 1:
        raise UsageError(f"--max-requests {max_requests}: give at least 1, or leave it out")
    if connections is not None:
        _check_connections(connections)
    try:
        schedule = build_schedule(
            kind,
            rps,
            seconds,
            peak=peak_rps,
            spike_at=begin,
            spike_for=length,
            steps=steps or DEFAULT_STEPS,
        )
    except ValueError:
        raise UsageError(
            f"--spike-at/--spike-for: the spike ({spike_at} + {spike_for}) must end within "
            f"--duration {duration}; give an earlier or shorter spike"
        ) from None
    if connections is None:
        connections = default_connections(schedule.peak_rate)
    return LoadPlan(url, path, schedule, max_requests, connections)


def default_connections(peak_rps: float) -> int:
    """Enough connections for `peak_rps` at ABSORBED_LATENCY_SECONDS each (at least
    MIN_CONNECTIONS), within what the process may open."""
    wanted = max(MIN_CONNECTIONS, math.ceil(peak_rps * ABSORBED_LATENCY_SECONDS))
    return min(wanted, MAX_CONNECTIONS, _file_limit() - SPARE_FILES)


def _file_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MAX_CONNECTIONS + SPARE_FILES if soft == resource.RLIM_INFINITY else soft


def _check_rate(flag: str, rate: float) -> None:
    if not (rate > 0 and math.isfinite(rate)) or rate > MAX_RPS:
        raise UsageError(
            f"{flag} {rate:g}: give a rate above 0 and at most {MAX_RPS:,.0f} requests/s"
        )


def _seconds(flag: str, value: str | float, *, zero: bool = False) -> float:
    """Seconds in `value`: a number (`10`, `2.5`) or a duration (`30s`, `2m`, `1m30s`)."""
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_duration(text) / 1000
        except ValueError:
            seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero):
        least = "0 or more" if zero else "above 0"
        raise UsageError(
            f"{flag} {value}: give a number of seconds {least}, or a duration like 30s or 2m"
        )
    return seconds


def _only_for(shape: Shape, flag: str, value: object, shapes: Sequence[Shape]) -> None:
    """UsageError when `flag` is given with a shape that has no use for it."""
    if value is not None and shape not in shapes:
        names = " or ".join(s.value for s in shapes)
        raise UsageError(
            f"{flag}: only --shape {names} uses it; add --shape {shapes[0]}, or leave {flag} out"
        )


def _check_connections(connections: int) -> None:
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise UsageError(
            f"--connections {connections}: give between 1 and {MAX_CONNECTIONS} connections"
        )
    soft = _file_limit()
    if connections > soft - SPARE_FILES:
        raise UsageError(
            f"--connections {connections}: this process may open {soft} files; give at most "
            f"{soft - SPARE_FILES} connections, or raise the limit (ulimit -n)"
        )


@dataclass(frozen=True)
class LoadResult:
    """What a run did so far (while it runs) or in all (once `finished`)."""

    plan: LoadPlan
    elapsed: float  # seconds of the schedule that ran (to its end, or to the stop)
    tally: Tally
    connections_opened: int
    finished: bool = False
    interrupted: bool = False  # stopped before the schedule's end (Ctrl-C, SIGTERM)
    samples: tuple[LoadSample, ...] = ()

    @property
    def requested_rps(self) -> float:
        """The schedule's mean rate over what ran."""
        if self.elapsed <= 0:
            return self.plan.schedule.rate_at(0)
        return self.plan.schedule.expected_by(self.elapsed) / self.elapsed

    @property
    def achieved_rps(self) -> float:
        """Requests sent per second of the schedule."""
        return self.tally.sent / self.elapsed if self.elapsed > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        """`sreshow load --json`: keys a dashboard or a CI job can rely on."""
        t, latency, schedule = self.tally, self.tally.latency, self.plan.schedule
        return {
            "url": self.plan.target,
            "shape": {"name": schedule.shape.value, **schedule.parameters},
            "plan": self.plan.describe(),
            "duration_s": schedule.duration,
            "elapsed_s": round(self.elapsed, 3),
            "requested_rps": round(self.requested_rps, 3),
            "achieved_rps": round(self.achieved_rps, 3),
            "scheduled": t.due,
            "sent": t.sent,
            "dropped": t.dropped,
            "late": t.late,
            "answered": t.answered,
            "failed": t.failed,
            "unfinished": t.in_flight,
            "status": {str(code): count for code, count in t.status.items()},
            "errors": dict(t.errors),
            "latency_ms": {
                "min": _ms(latency.min_ms),
                "mean": _ms(latency.mean_ms),
                "p50": _ms(latency.p50_ms),
                "p90": _ms(latency.p90_ms),
                "p95": _ms(latency.p95_ms),
                "p99": _ms(latency.p99_ms),
                "max": _ms(latency.max_ms),
            },
            "connections": {"limit": self.plan.connections, "opened": self.connections_opened},
            "max_requests": self.plan.max_requests,
            "interrupted": self.interrupted,
            "samples": [asdict(sample) for sample in self.samples],
        }


def check_result_path(path: Path) -> None:
    """UsageError unless a result can be written to `path` (checked before a run)."""
    if path.is_dir() or not path.parent.is_dir():
        raise UsageError(
            f"--json {path}: give a file in a directory that exists, not "
            f"{'a directory' if path.is_dir() else 'a path whose directory is missing'}"
        )


def save_result(path: Path, result: LoadResult) -> None:
    """Write `result.as_json()` to `path` in one rename; UsageError when it cannot be."""
    try:
        write_atomically(path, json.dumps(result.as_json(), indent=2) + "\n", mode=0o644)
    except OSError as e:
        raise UsageError(f"--json {path}: could not write it ({e.strerror or e})") from e


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
