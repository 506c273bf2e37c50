"""What the load generator saw, counted as it happens: one `LoadRecord` per generator
(a scenario's several loads add up in it; `sreshow load` makes one run).

The generator's event loop reports each arrival, send, drop and answer; any thread may
read the counts at any time (one lock: the loop writes a few times per request, readers
a few times per second). Latencies are from each request's *intended* send time, so a
request that waited for a connection, or that the loop sent late, counts its wait.

    whole run     an HDR histogram (`hdrhistogram`, 3 significant figures, 1 µs up to
                  the record's `highest_seconds`) plus exact count, sum, min and max
    per second    exact percentiles of that second's answers, kept as `LoadSample`s
                  (at most `MAX_SAMPLES`, the latest)
    last seconds  the answers of the last `WINDOW_SECONDS` as `Answer`s: the SLIs the
                  scenario observer judges
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from sreshow.core.sli import Answer
from sreshow.ports import LoadSample, LoadStats, LoadWindow

WINDOW_SECONDS = 3.0  # the clients' SLIs are over this many seconds of answers
MAX_SAMPLES = 2 * 3600 + 60  # seconds of per-second samples kept: the longest run and a bit
LATE_SECONDS = 0.010  # a request sent this long after its intended time counts as late
SIGNIFICANT_FIGURES = 3
PERCENTILES = (50.0, 90.0, 95.0, 99.0)


@dataclass(frozen=True)
class Latency:
    """Latency figures in milliseconds (None when nothing was answered)."""

    count: int = 0
    min_ms: float | None = None
    mean_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


@dataclass(frozen=True)
class Tally:
    """The counts of a run at one moment."""

    due: int = 0  # arrivals whose time has come: sent + dropped + still waiting
    sent: int = 0
    answered: int = 0  # a status came back (any status)
    bad: int = 0  # 5xx answers and failed requests
    dropped: int = 0
    late: int = 0  # sent, but more than LATE_SECONDS after their intended time
    status: Mapping[int, int] = field(default_factory=dict)  # answers by status code
    errors: Mapping[str, int] = field(default_factory=dict)  # failures by kind
    latency: Latency = field(default_factory=Latency)

    @property
    def failed(self) -> int:
        """Requests sent that got no status back: timeouts, refused, reset, malformed."""
        return sum(self.errors.values())

    @property
    def in_flight(self) -> int:
        """Sent, neither answered nor failed yet; once a run is over, those its stop cut
        off."""
        return self.sent - self.answered - self.failed


@dataclass
class _Second:
    index: int
    sent: int = 0
    answered: int = 0
    errors: int = 0
    dropped: int = 0
    latencies: list[float] = field(default_factory=list)


class LoadRecord:
    """Counts, latencies and samples of a generator's runs; its seconds start with the
    first run (`begin`)."""

    def __init__(self, highest_seconds: float, *, clock_offset: float | None = None) -> None:
        """`highest_seconds`: the longest latency that can happen (intended send time to
        answer); the histogram tracks twice that, so nothing is ever out of its range.
        `clock_offset`: Unix time minus monotonic time (now's, unless given)."""
        self.started = time.monotonic()
        self._unix_offset = time.time() - self.started if clock_offset is None else clock_offset
        self._highest_us = math.ceil(2 * highest_seconds * 1e6)
        self._histogram = HdrHistogram(1, self._highest_us, SIGNIFICANT_FIGURES)
        self._lock = threading.Lock()
        self._due = self._sent = self._answered = self._bad = 0
        self._dropped = self._late = 0
        self._status: Counter[int] = Counter()
        self._errors: Counter[str] = Counter()
        self._sum = 0.0
        self._min = math.inf
        self._max = 0.0
        self._answers: deque[Answer] = deque()
        self._second = _Second(0)
        self._samples: deque[LoadSample] = deque(maxlen=MAX_SAMPLES)

    # --- written by the generator's loop -----------------------------------------------

    def begin(self, now: float) -> None:
        """A run starts at `now`: the record's seconds start there if it is still empty
        (so a single run's seconds are the schedule's)."""
        with self._lock:
            if self._due == 0:
                self.started = now
                self._second = _Second(0)

    def arrive(self) -> None:
        with self._lock:
            self._due += 1

    def send(self, now: float, lateness: float) -> None:
        with self._lock:
            self._roll(now).sent += 1
            self._sent += 1
            self._late += lateness > LATE_SECONDS

    def drop(self, now: float) -> None:
        with self._lock:
            self._roll(now).dropped += 1
            self._dropped += 1

    def answer(self, now: float, status: int, latency: float) -> None:
        """A status came back `latency` seconds after the request's intended time."""
        with self._lock:
            self._status[status] += 1
            self._answered += 1
            self._done(now, latency, bad=status >= 500)

    def fail(self, now: float, kind: str, latency: float) -> None:
        """No status came back (`kind`: timeout, connect, closed, protocol)."""
        with self._lock:
            self._errors[kind] += 1
            self._done(now, latency, bad=True)

    # --- read by anyone ----------------------------------------------------------------

    def stats(self) -> LoadStats:
        with self._lock:
            ok = self._answered + sum(self._errors.values()) - self._bad
            return LoadStats(self._sent, ok, self._bad, self._dropped)

    def window(self, now: float) -> LoadWindow:
        """The answers of the last WINDOW_SECONDS, oldest first."""
        with self._lock:
            self._trim(now)
            received = self._answered + sum(self._errors.values())
            return LoadWindow(WINDOW_SECONDS, tuple(self._answers), received)

    def samples(self, now: float, *, partial: bool = False) -> tuple[LoadSample, ...]:
        """The whole seconds up to `now`, oldest first; `partial`: and the second `now`
        is in, so far (a run's last)."""
        with self._lock:
            current = self._roll(now)
            last = (self._sample(current, self._unix(now)),) if partial else ()
            return (*self._samples, *last)

    def tally(self, now: float) -> Tally:
        with self._lock:
            self._roll(now)
            return Tally(
                due=self._due,
                sent=self._sent,
                answered=self._answered,
                bad=self._bad,
                dropped=self._dropped,
                late=self._late,
                status=dict(sorted(self._status.items())),
                errors=dict(sorted(self._errors.items())),
                latency=self._latency(),
            )

    # --- inside the lock ---------------------------------------------------------------

    def _done(self, now: float, latency: float, *, bad: bool) -> None:
        micros = max(1, round(latency * 1e6))
        if not self._histogram.record_value(micros):  # False: out of range, not raised
            raise RuntimeError(
                f"latency {latency:.3f} s is beyond the histogram's {self._highest_us} µs; "
                "the record was sized too small (a bug)"
            )
        self._bad += bad
        self._sum += latency
        self._min = min(self._min, latency)
        self._max = max(self._max, latency)
        second = self._roll(now)
        second.answered += 1
        second.errors += bad
        second.latencies.append(latency)
        self._answers.append(Answer(now, bad, latency))
        self._trim(now)

    def _roll(self, now: float) -> _Second:
        """The current second's bucket, the finished ones turned into samples first."""
        index = int(now - self.started)
        current = self._second
        if index > current.index:
            for finished in range(current.index, min(index, current.index + MAX_SAMPLES)):
                second = current if finished == current.index else _Second(finished)
                self._samples.append(self._sample(second, self._unix(self.started + finished + 1)))
            self._second = current = _Second(index)
        return current

    def _unix(self, monotonic: float) -> float:
        return round(monotonic + self._unix_offset, 3)

    @staticmethod
    def _sample(second: _Second, at: float) -> LoadSample:
        ranked = sorted(second.latencies)

        def percentile(q: float) -> float | None:
            if not ranked:
                return None
            return round(ranked[max(math.ceil(q / 100 * len(ranked)) - 1, 0)] * 1000, 3)

        return LoadSample(
            at=at,
            sent=second.sent,
            answered=second.answered,
            errors=second.errors,
            dropped=second.dropped,
            p50_ms=percentile(50),
            p95_ms=percentile(95),
            p99_ms=percentile(99),
        )

    def _trim(self, now: float) -> None:
        while self._answers and self._answers[0].at < now - WINDOW_SECONDS:
            self._answers.popleft()

    def _latency(self) -> Latency:
        count = self._histogram.get_total_count()
        if not count:
            return Latency()
        values = self._histogram.get_percentile_to_value_dict(list(PERCENTILES))
        p50, p90, p95, p99 = (min(values[p] / 1000, self._max * 1000) for p in PERCENTILES)
        return Latency(
            count=count,
            min_ms=self._min * 1000,
            mean_ms=self._sum / count * 1000,
            p50_ms=p50,
            p90_ms=p90,
            p95_ms=p95,
            p99_ms=p99,
            max_ms=self._max * 1000,
        )
