"""The clients' service level indicators over a window of answers: breached, recovered.

Two SLIs, as users feel them: availability (the share of answers that were not a 5xx,
a connection error or a timeout) and latency (p95 of the answers' latency against the
HighLatency threshold). A breach starts at the first bad (or slow) answer of a window
that falls short; a recovery starts at the first answer of an unbroken run of good (or
fast) answers long enough to trust (seen once it has lasted that long, dated from its
start) — not when a window has finally forgotten the
outage, which would add the window's length to every recovery time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass

AVAILABILITY = "availability"
LATENCY = "latency_p95"


@dataclass(frozen=True)
class Answer:
    """One request's outcome: when it was answered (monotonic), bad?, how long it took."""

    at: float
    bad: bool
    latency: float


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
    # A breach ends with an unbroken run of good answers at least this many and this
    # long: long enough that a 20% error rate cannot fake one.
    recovery_answers: int = 5
    recovery_seconds: float = 2.0


def availability(answers: Sequence[Answer]) -> float | None:
    return None if not answers else 1 - sum(a.bad for a in answers) / len(answers)


def p95(answers: Sequence[Answer]) -> float | None:
    latencies = sorted(a.latency for a in answers)
    return latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None


def sli_changes(
    answers: Sequence[Answer],
    breached: Set[str],
    policy: SliPolicy,
    since: Mapping[str, float] | None = None,
) -> list[SliChange]:
    """What changed, given the window's answers (oldest first), what is breached now,
    and when each SLI last changed (older answers no longer count for it)."""
    checks: tuple[tuple[str, Callable[[Answer], bool], Callable[[Sequence[Answer]], bool]], ...] = (
        (AVAILABILITY, lambda a: a.bad, lambda w: (availability(w) or 1.0) < policy.objective),
        (
            LATENCY,
            lambda a: a.latency > policy.latency_threshold,
            lambda w: (p95(w) or 0.0) > policy.latency_threshold,
        ),
    )
    changes = []
    for sli, is_bad, falls_short in checks:
        after = (since or {}).get(sli, float("-inf"))
        window = [a for a in answers if a.at > after]
        if not window:
            continue
        value = (availability(window) if sli == AVAILABILITY else p95(window)) or 0.0
        if sli not in breached:
            if len(window) >= policy.min_answers and falls_short(window):
                first_bad = next(a for a in window if is_bad(a))
                changes.append(SliChange(sli, True, first_bad.at, value))
            continue
        streak = _good_streak(window, is_bad)
        if (
            len(streak) >= policy.recovery_answers
            and streak[-1].at - streak[0].at >= policy.recovery_seconds
        ):
            good = (availability(streak) if sli == AVAILABILITY else p95(streak)) or 0.0
            changes.append(SliChange(sli, False, streak[0].at, good))
    return changes


def _good_streak(answers: Sequence[Answer], is_bad: Callable[[Answer], bool]) -> list[Answer]:
    """The answers after the last bad one."""
    for index in range(len(answers) - 1, -1, -1):
        if is_bad(answers[index]):
            return list(answers[index + 1 :])
    return list(answers)
