"""The error gate: exactly the asked share of requests fails, spread evenly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from demo_app.faults import RateGate

rates = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(rate=rates, calls=st.integers(min_value=1, max_value=5000))
def test_yes_count_never_strays_from_rate_times_calls_by_one(rate: float, calls: int) -> None:
    gate = RateGate(rate)
    yes = sum(gate() for _ in range(calls))
    assert abs(yes - round(rate * 1_000_000) / 1_000_000 * calls) < 1


@given(rate=rates, start=st.integers(min_value=0, max_value=500), window=st.integers(1, 500))
def test_every_window_holds_its_share(rate: float, start: int, window: int) -> None:
    gate = RateGate(rate)
    decisions = [gate() for _ in range(start + window)]
    assert abs(sum(decisions[start:]) - gate.rate * window) < 2


def test_zero_never_and_one_always() -> None:
    never, always = RateGate(0.0), RateGate(1.0)
    assert not any(never() for _ in range(1000))
    assert all(always() for _ in range(1000))


def test_a_new_rate_starts_a_fresh_cycle_and_the_same_rate_keeps_it() -> None:
    gate = RateGate(0.5)
    assert [gate(), gate(), gate()] == [False, True, False]
    gate.set_rate(0.5)
    assert gate() is True
    gate.set_rate(0.25)
    assert [gate() for _ in range(4)] == [False, False, False, True]
