"""Checks of what runs already: the stack in the state dir, its time scale, the clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

from sreshow.doctor.model import Check, Inspection
from sreshow.errors import SreshowError
from sreshow.platforms import DEFAULT_PLATFORM
from sreshow.stack_status import StackStatus

# This code did not exist before 2024: a wall clock earlier than that is wrong.
EARLIEST_PLAUSIBLE_TIME = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
CLOCK_SAMPLE_SECONDS = 0.05
MAX_CLOCK_DRIFT_SECONDS = 0.25  # over the sample: a clock being stepped, or frozen


def stack_state(inspection: Inspection) -> Iterator[Check]:
    """Which stack the state dir says is up: another platform's stops `up` (the same
    refusal as `Platforms.claim`), the asked platform's own is reported as it is."""
    asked = inspection.platform
    platforms = inspection.platforms
    state_dir = inspection.settings.state_dir
    other = platforms.recorded() or DEFAULT_PLATFORM
    if other != asked and other in platforms.names:
        try:
            other_up = platforms.get(other).is_up()
        except SreshowError as e:
            yield Check.failed(
                "stack",
                f"the {other} stack's state in {state_dir} cannot be read: {e}",
                "clean it up with `sreshow down`",
            )
            return
        if other_up:
            yield Check.failed(
                "stack",
                f"a {other} stack is up (state in {state_dir}); "
                f"`sreshow up --platform {asked}` would refuse to start",
                f"bring it down with `sreshow down` (or check it: "
                f"`sreshow doctor --platform {other}`)",
            )
            return
    try:
        status = inspection.stack_status()
    except SreshowError as e:
        yield Check.failed(
            "stack",
            f"a {asked} stack is recorded in {state_dir}, but its status cannot be read: {e}",
            "fix what the error names, then `sreshow status`; to start over: `sreshow down`",
        )
        return
    if status is None:
        flag = "" if asked == DEFAULT_PLATFORM else f" --platform {asked}"
        yield Check.passed("stack", f"no {asked} stack is up; `sreshow up{flag}` starts one")
        return
    yield describe_stack(status)


def describe_stack(status: StackStatus) -> Check:
    """The running stack's line: ready only when every replica is and it reads whole."""
    app = status.endpoints.get("app", "no app endpoint yet")
    summary = (
        f"{status.platform} stack up: {status.ready}/{status.desired_replicas} replicas "
        f"ready, version {status.version}, app at {app}"
    )
    firing = [a.name for a in status.alerts if a.state == "firing"]
    if firing:
        summary += f"; firing now: {', '.join(firing)}"
    if status.problems:
        return Check.failed(
            "stack",
            f"{summary}; cannot read: {status.problems[0]}",
            "see `sreshow status`; if the stack is broken: `sreshow down`, then `sreshow up`",
        )
    if status.ready < status.desired_replicas:
        return Check.failed(
            "stack",
            summary,
            "wait for the replicas to be ready (`sreshow status --watch`), or restart the "
            "stack: `sreshow down`, then `sreshow up`",
        )
    return Check.passed("stack", summary)


def time_scale(inspection: Inspection) -> Iterator[Check]:
    """The running stack's time scale (the factor every alert clock runs at)."""
    status = inspection.running_stack()
    if status is None:
        yield Check.passed(
            "time scale",
            f"no {inspection.platform} stack up to read it from; `sreshow up --time-scale "
            "0.1` runs the alerts' clocks ten times faster (default 1: alerts take minutes)",
        )
        return
    scale = status.time_scale
    if scale == 1:
        detail = "1: real time, alerts take minutes (for a shorter show: `sreshow down`, "
        detail += "then `sreshow up --time-scale 0.1`)"
    else:
        detail = f"{scale:g}: the stack's clocks run {1 / scale:g} times faster than real time"
    yield Check.passed("time scale", detail)


def clock(inspection: Inspection) -> Iterator[Check]:
    """The wall clock is plausible and moves with the monotonic clock."""
    del inspection  # the machine's clock, whatever the platform
    wall, monotonic = time.time(), time.monotonic()
    time.sleep(CLOCK_SAMPLE_SECONDS)  # a sample of both clocks' progress, not a wait
    yield judge_clock(wall, time.time() - wall, time.monotonic() - monotonic)


def judge_clock(wall_now: float, wall_elapsed: float, monotonic_elapsed: float) -> Check:
    """The clock's line from one sample: the wall time and how far each clock moved."""
    fix = "set the system clock and keep it synchronised: `sudo timedatectl set-ntp true`"
    try:
        shown = f"{datetime.fromtimestamp(wall_now, UTC):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, OSError, ValueError):
        shown = f"{wall_now:g} s since 1970"
    if wall_now < EARLIEST_PLAUSIBLE_TIME:
        return Check.failed("clock", f"the system clock says {shown}, before 2024", fix)
    drift = wall_elapsed - monotonic_elapsed
    if abs(drift) > MAX_CLOCK_DRIFT_SECONDS:
        return Check.failed(
            "clock",
            f"the system clock moved {wall_elapsed:.2f} s while {monotonic_elapsed:.2f} s "
            "passed: it is being stepped, and alert timings would be off",
            fix,
        )
    return Check.passed("clock", f"{shown}, moving in step with the monotonic clock")
