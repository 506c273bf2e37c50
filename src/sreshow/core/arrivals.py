"""Open-model arrival schedules: when each request is due, for a rate of a given shape.

A schedule is a piecewise-linear rate r(t) over [0, duration). Arrival k (k = 0, 1, 2 …)
is due at the t where the expected count N(t) = ∫₀ᵗ r reaches k: evenly spaced at a
constant rate, closer together as the rate rises. Each t_k is computed from k alone (no
running sum of intervals), so the millionth arrival is as exact as the first. A
schedule holds ceil(N(duration)) arrivals; 200/s for 10 s is 2,000, the first at 0.

    constant  rps throughout
    ramp      rps → peak, linearly over the whole duration
    spike     rps; peak from spike_at (default: a third of the way) for spike_for
              seconds (default: half of what is left, so the middle third); rps again
    step      `steps` stages of equal length, rising evenly from rps to peak
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

DEFAULT_STEPS = 4
_EPSILON = 1e-9  # N(duration) = 2000.0000000002 is still 2,000 arrivals


class Shape(StrEnum):
    CONSTANT = "constant"
    RAMP = "ramp"
    SPIKE = "spike"
    STEP = "step"


@dataclass(frozen=True)
class Segment:
    """The rate over [start, end): linear from `start_rate` to `end_rate` (per second)."""

    start: float
    end: float
    start_rate: float
    end_rate: float

    @property
    def count(self) -> float:
        """Arrivals expected within the segment."""
        return (self.start_rate + self.end_rate) / 2 * (self.end - self.start)

    def rate_at(self, t: float) -> float:
        share = (t - self.start) / (self.end - self.start)
        return self.start_rate + (self.end_rate - self.start_rate) * share

    def offset_of(self, n: float) -> float:
        """Seconds after `start` at which `n` arrivals are expected within the segment."""
        slope = (self.end_rate - self.start_rate) / (self.end - self.start)
        # n = r0·τ + slope·τ²/2, solved in the form that stays exact as the slope → 0
        root = math.sqrt(max(self.start_rate**2 + 2 * slope * n, 0.0))
        return 2 * n / (self.start_rate + root) if self.start_rate + root > 0 else 0.0


@dataclass(frozen=True)
class Schedule:
    """Arrival times and rates of one shape; every time is seconds since the start."""

    shape: Shape
    segments: tuple[Segment, ...]
    # what it was built from: rps, and for the shapes that have them peak_rps, spike_at,
    # spike_for (seconds), steps
    parameters: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError("a schedule needs at least one segment")
        for segment in self.segments:
            if segment.end <= segment.start or min(segment.start_rate, segment.end_rate) < 0:
                raise ValueError(f"not a segment of a schedule: {segment}")

    @property
    def duration(self) -> float:
        return self.segments[-1].end

    @property
    def total(self) -> int:
        """Arrivals in the whole schedule."""
        return math.ceil(self._before[-1] - _EPSILON)

    @property
    def mean_rate(self) -> float:
        return self._before[-1] / self.duration

    @property
    def peak_rate(self) -> float:
        return max(max(s.start_rate, s.end_rate) for s in self.segments)

    def rate_at(self, t: float) -> float:
        """The rate asked for at `t` (0 outside the schedule)."""
        if not 0 <= t < self.duration:
            return 0.0
        return self.segments[self._segment_at(t)].rate_at(t)

    def expected_by(self, t: float) -> float:
        """N(t): arrivals expected in [0, t)."""
        if t <= 0:
            return 0.0
        if t >= self.duration:
            return self._before[-1]
        index = self._segment_at(t)
        segment = self.segments[index]
        return self._before[index] + (segment.start_rate + segment.rate_at(t)) / 2 * (
            t - segment.start
        )

    def due_before(self, t: float) -> int:
        """How many arrivals are due in [0, t): those with k < N(t)."""
        return min(math.ceil(self.expected_by(t) - _EPSILON), self.total)

    def due_at(self, k: int) -> float:
        """When arrival `k` is due; IndexError past the last one."""
        if not 0 <= k < self.total:
            raise IndexError(f"arrival {k} is outside the schedule's {self.total}")
        index = min(max(bisect.bisect_right(self._before, k) - 1, 0), len(self.segments) - 1)
        while index < len(self.segments) - 1 and self.segments[index].count == 0:
            index += 1  # a segment at rate 0 holds no arrival
        segment = self.segments[index]
        return min(segment.start + segment.offset_of(k - self._before[index]), segment.end)

    def _segment_at(self, t: float) -> int:
        return min(bisect.bisect_right(self._starts, t) - 1, len(self.segments) - 1)

    @cached_property
    def _starts(self) -> list[float]:
        return [s.start for s in self.segments]

    @cached_property
    def _before(self) -> list[float]:
        """Arrivals expected before each segment, then in all (one more entry)."""
        before = [0.0]
        for segment in self.segments:
            before.append(before[-1] + segment.count)
        return before


def build_schedule(
    shape: Shape,
    rps: float,
    duration: float,
    *,
    peak: float | None = None,
    spike_at: float | None = None,
    spike_for: float | None = None,
    steps: int = DEFAULT_STEPS,
) -> Schedule:
    """The schedule of `shape` (see the module's table); ValueError for values that make
    no schedule. `peak` defaults to twice `rps`."""
    if not (rps > 0 and math.isfinite(rps)) or not (duration > 0 and math.isfinite(duration)):
        raise ValueError(f"rate and duration must be positive, not {rps!r} and {duration!r}")
    high = 2 * rps if peak is None else peak
    if shape is not Shape.CONSTANT and not (high > 0 and math.isfinite(high)):
        raise ValueError(f"the peak rate must be positive, not {high!r}")
    parameters: dict[str, float] = {"rps": rps}
    if shape is Shape.CONSTANT:
        segments = [Segment(0, duration, rps, rps)]
    elif shape is Shape.RAMP:
        segments = [Segment(0, duration, rps, high)]
    elif shape is Shape.SPIKE:
        begin = duration / 3 if spike_at is None else spike_at
        length = (duration - begin) / 2 if spike_for is None else spike_for
        if begin < 0 or length <= 0 or begin + length > duration + _EPSILON:
            raise ValueError(f"a spike of {length!r} s at {begin!r} s is not within the duration")
        end = min(begin + length, duration)
        bounds = [(0.0, begin, rps), (begin, end, high), (end, duration, rps)]
        segments = [Segment(a, b, r, r) for a, b, r in bounds if b > a]
        parameters |= {"spike_at": begin, "spike_for": end - begin}
    else:
        if steps < 2:
            raise ValueError(f"a step shape needs at least 2 steps, not {steps!r}")
        stage = duration / steps
        segments = [
            Segment(i * stage, duration if i == steps - 1 else (i + 1) * stage, rate, rate)
            for i in range(steps)
            for rate in [rps + (high - rps) * i / (steps - 1)]
        ]
        parameters["steps"] = steps
    if shape is not Shape.CONSTANT:
        parameters["peak_rps"] = high
    return Schedule(shape, tuple(segments), parameters)
