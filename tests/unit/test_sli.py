"""The clients' SLIs: a breach dated at the first bad answer, a recovery dated at the
start of a long enough run of good answers, and no flapping at a steady error rate."""

from __future__ import annotations

from collections.abc import Iterable

from sreshow.core.sli import AVAILABILITY, LATENCY, Answer, SliPolicy, sli_changes

POLICY = SliPolicy(objective=0.999, latency_threshold=1.0, min_answers=10)


def answers(pattern: str, *, start: float = 0.0, every: float = 0.2) -> list[Answer]:
    """`.` a good answer, `x` a failed one, `s` a slow one; one every `every` s."""
    return [
        Answer(at=start + i * every, bad=mark == "x", latency=2.0 if mark == "s" else 0.01)
        for i, mark in enumerate(pattern)
    ]


def changes(window: Iterable[Answer], breached: set[str], since: dict[str, float] | None = None):
    return sli_changes(list(window), breached, POLICY, since)


def test_a_failed_answer_in_a_full_window_breaches_availability_from_that_answer() -> None:
    window = answers("......x.....")

    [change] = changes(window, set())

    assert (change.sli, change.breached, change.at) == (AVAILABILITY, True, window[6].at)
    assert round(change.value, 4) == round(11 / 12, 4)


def test_too_few_answers_say_nothing() -> None:
    assert changes(answers("x..x"), set()) == []


def test_recovery_is_dated_at_the_first_good_answer_after_the_last_failure() -> None:
    window = answers("x.x" + "." * 12)  # 12 good answers over 2.2 s

    [change] = changes(window, {AVAILABILITY})

    assert (change.sli, change.breached, change.at, change.value) == (
        AVAILABILITY,
        False,
        window[3].at,
        1.0,
    )


def test_a_good_run_shorter_than_two_seconds_does_not_end_a_breach() -> None:
    assert changes(answers("x" + "." * 10), {AVAILABILITY}) == []  # 10 answers, 1.8 s


def test_a_steady_twenty_percent_error_rate_never_looks_recovered() -> None:
    assert changes(answers("....x" * 6), {AVAILABILITY}) == []


def test_answers_before_the_last_change_no_longer_count() -> None:
    window = answers("x" + "." * 14)
    recovered_at = window[1].at

    assert changes(window, set(), {AVAILABILITY: recovered_at}) == []


def test_slow_answers_breach_latency_but_not_availability() -> None:
    window = answers("." * 5 + "s" * 10)

    [change] = changes(window, set())

    assert (change.sli, change.breached, change.at) == (LATENCY, True, window[5].at)
    assert change.value == 2.0


def test_latency_recovers_after_a_run_of_fast_answers() -> None:
    window = answers("ss" + "." * 12)

    [change] = changes(window, {LATENCY})

    assert (change.sli, change.breached, change.at) == (LATENCY, False, window[2].at)
