"""The clients' service level indicators over their stream of answers: breached, recovered.

Two SLIs, as users feel them: availability (the share of answers that were not a 5xx,
a connection error or a timeout) and latency (p95 of the answers' latency against the
HighLatency threshold). A breach starts at the first bad (or slow) answer of a window
that falls short. A recovery needs evidence, not a lucky streak: a run of good (or
fast) answers so long that, at the bad-answer rate the breach showed, chance would
give one that long at most `SliPolicy.false_recovery_chance` of the time. It is seen
once the run is that long and dated from the run's first answer (the likeliest moment
the fault ended) — not when a window has finally forgotten the outage, which would add
the window's length to every recovery time. After a recovery (of either SLI), only
requests *sent* since it count towards a new breach: a request stuck in the outage (on
a connection to a Service that had no endpoints, say) that times out after the fix
tells of the outage, not of the service since.

    breach rate  the lower one-sided 95 % Wilson bound of bad / answered, over the
                 breach's answers from its first bad one to the last bad one before
                 the run: the lowest rate they support (early in a breach a few
                 answers, the first of them bad, overstate the rate, and an overstated
                 rate makes a lucky streak look like a fix)
    run needed   ln(chance) / ln(1 - rate) answers, at least `recovery_answers`, and
                 lasting at least `recovery_seconds`
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass

AVAILABILITY = "availability"
LATENCY = "latency_p95"
RATE_CONFIDENCE_Z = 1.645  # one-sided 95 %


@dataclass(frozen=True)
class Answer:
    """One request's outcome: when it was answered (monotonic), bad?, how long it took
    (from its intended send time)."""

    at: float
    bad: bool
    latency: float

    @property
    def sent_at(self) -> float:
        """When the request was due to be sent."""
        return self.at - self.latency


@dataclass(frozen=True)
class SliChange:
    sli: str
    breached: bool
    at: float  # when it started (the clock of the answers)
    value: float  # the SLI then: over the window (a breach), over the good run (a recovery)


@dataclass(frozen=True)
class SliPolicy:
    objective: float = 0.999  # availability below this breaches
    latency_threshold: float = 1.0  # p95 above this (seconds) breaches
    min_answers: int = 10  # fewer answers in a window say too little to breach on
    # How often chance may fake a recovery, per run of good answers. A 10-minute
    # incident at 5 requests/s and 20 % errors holds ~600 runs (one after each bad
    # answer): at 1e-4 each, simulated, about 3 % of such incidents see one false
    # recovery (the old rule saw six in each), about 1 % of the shipped scenarios'
    # half-minute ones (mostly early in the breach, on few answers). Each factor of
    # ten less makes every real fix wait ~10 more good answers (2 s at 5 requests/s)
    # to be seen — its date stays the same — which `service: healthy` waits pay.
    false_recovery_chance: float = 1e-4
    # ...and never on fewer good answers than this, or a shorter run than this.
    recovery_answers: int = 5
    recovery_seconds: float = 2.0


def availability(answers: Sequence[Answer]) -> float | None:
    return None if not answers else 1 - sum(a.bad for a in answers) / len(answers)


def p95(answers: Sequence[Answer]) -> float | None:
    latencies = sorted(a.latency for a in answers)
    return latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None


def lowest_bad_rate(bad: int, answered: int) -> float:
    """The lowest bad-answer rate `bad` of `answered` support (Wilson, one-sided 95 %)."""
    if answered <= 0 or bad <= 0:
        return 0.0
    z2, share = RATE_CONFIDENCE_Z**2, bad / answered
    spread = RATE_CONFIDENCE_Z * math.sqrt(share * (1 - share) / answered + z2 / (4 * answered**2))
    return max(0.0, (share + z2 / (2 * answered) - spread) / (1 + z2 / answered))


def good_run_needed(bad: int, answered: int, chance: float) -> int | None:
    """How many good answers in a row chance gives at most `chance` of the time, at the
    lowest rate `bad` of `answered` support; None: no run is enough (no bad answer)."""
    rate = lowest_bad_rate(bad, answered)
    if rate <= 0:
        return None
    return max(1, math.ceil(math.log(chance) / math.log1p(-rate)))


@dataclass
class _Breach:
    """One SLI's breach in progress, counted answer by answer."""

    answered: int = 0  # answers from its first bad one to the last bad one
    bad: int = 0
    run_from: float | None = None  # the first good answer after the last bad one
    run_until: float = 0.0
    run_answers: int = 0
    needed: int | None = None  # good answers in a row that end it (None: never)


class SliTracker:
    """Both SLIs over the stream of answers; `update()` with every look at the window."""

    def __init__(self, policy: SliPolicy) -> None:
        self.policy = policy
        self._breaches: dict[str, _Breach] = {}
        # The latest recovery of either SLI: requests sent before it tell of the outage.
        self._recovered_at = float("-inf")
        self._checks: dict[
            str, tuple[Callable[[Answer], bool], Callable[[Sequence[Answer]], float]]
        ] = {
            AVAILABILITY: (lambda a: a.bad, lambda w: availability(w) or 0.0),
            LATENCY: (lambda a: a.latency > policy.latency_threshold, lambda w: p95(w) or 0.0),
        }

    @property
    def breached(self) -> Set[str]:
        return frozenset(self._breaches)

    def update(self, window: Sequence[Answer], new: int) -> list[SliChange]:
        """What changed, given the window's answers (oldest first), the last `new` of
        which were not given before; at most one change per SLI."""
        fresh = window[max(0, len(window) - new) :] if new > 0 else ()
        changes = []
        for sli in self._checks:
            breach = self._breaches.get(sli)
            if breach is None:
                change = self._breach(sli, window)
            else:
                change = self._recovery(sli, breach, fresh, window)
            if change is not None:
                if not change.breached:
                    self._recovered_at = max(self._recovered_at, change.at)
                changes.append(change)
        return changes

    def _breach(self, sli: str, window: Sequence[Answer]) -> SliChange | None:
        is_bad, measure = self._checks[sli]
        recent = [a for a in window if a.sent_at > self._recovered_at]
        if len(recent) < self.policy.min_answers or not self._falls_short(sli, recent):
            return None
        first_bad = next(index for index, a in enumerate(recent) if is_bad(a))
        breach = _Breach()
        for answer in recent[first_bad:]:
            self._count(breach, answer, is_bad(answer))
        self._breaches[sli] = breach
        return SliChange(sli, True, recent[first_bad].at, measure(recent))

    def _falls_short(self, sli: str, answers: Sequence[Answer]) -> bool:
        if sli == AVAILABILITY:
            share = availability(answers)  # 0.0 (every answer bad) falls short too
            return share is not None and share < self.policy.objective
        slowest = p95(answers)
        return slowest is not None and slowest > self.policy.latency_threshold

    def _recovery(
        self, sli: str, breach: _Breach, fresh: Sequence[Answer], window: Sequence[Answer]
    ) -> SliChange | None:
        is_bad, measure = self._checks[sli]
        for answer in (None, *fresh):  # the run may be long enough already
            if answer is not None:
                self._count(breach, answer, is_bad(answer))
            started = self._run_long_enough(breach)
            if started is not None:
                del self._breaches[sli]
                run = [a for a in window if started <= a.at <= breach.run_until]
                return SliChange(sli, False, started, measure(run))
        return None

    def _count(self, breach: _Breach, answer: Answer, bad: bool) -> None:
        if bad:
            breach.answered += breach.run_answers + 1
            breach.bad += 1
            breach.run_from, breach.run_answers = None, 0
            breach.needed = good_run_needed(
                breach.bad, breach.answered, self.policy.false_recovery_chance
            )
            return
        if breach.run_from is None:
            breach.run_from = answer.at
        breach.run_until = answer.at
        breach.run_answers += 1

    def _run_long_enough(self, breach: _Breach) -> float | None:
        """When the run of good answers began, if it is long enough to end the breach."""
        if breach.run_from is None or breach.needed is None:
            return None
        enough = max(breach.needed, self.policy.recovery_answers)
        lasted = breach.run_until - breach.run_from
        if breach.run_answers >= enough and lasted >= self.policy.recovery_seconds:
            return breach.run_from
        return None
