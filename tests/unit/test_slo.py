"""Error budget burned and burn rate, with numbers worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sreshow.core.slo import BudgetInputs, burn_rate, error_budget_burned

THIRTY_DAYS_S = 30 * 24 * 3600


def test_one_percent_bad_for_a_minute_at_time_scale_0_1() -> None:
    # 60 s at 0.1 stand for 600 real seconds. 99.9 % over 30 days allows
    # 0.001 * 2_592_000 s = 2592 s of total failure; 1 % errors for 600 s use 6 s of it.
    inputs = BudgetInputs(bad_requests=12, total_requests=1200, duration_s=60, time_scale=0.1)

    burned = error_budget_burned(inputs)

    assert burned == pytest.approx(6 / 2592, rel=1e-12)
    assert burned is not None
    assert round(burned * 100, 3) == 0.231  # percent of the budget


def test_a_total_outage_as_long_as_the_budget_burns_all_of_it() -> None:
    inputs = BudgetInputs(bad_requests=500, total_requests=500, duration_s=2592, time_scale=1)

    assert error_budget_burned(inputs) == pytest.approx(1.0, rel=1e-12)


def test_objective_and_window_come_from_the_scenario() -> None:
    # 10 % bad for 1 h against 99 % over 1 day: 360 s of 864 s allowed.
    inputs = BudgetInputs(
        bad_requests=100,
        total_requests=1000,
        duration_s=360,
        time_scale=0.1,
        objective=0.99,
        window_s=24 * 3600,
    )

    assert error_budget_burned(inputs) == pytest.approx(360 / 864, rel=1e-12)


def test_no_bad_requests_burn_nothing_and_no_requests_measure_nothing() -> None:
    clean = BudgetInputs(bad_requests=0, total_requests=900, duration_s=60, time_scale=0.1)
    empty = BudgetInputs(bad_requests=0, total_requests=0, duration_s=60, time_scale=0.1)

    assert error_budget_burned(clean) == 0.0
    assert error_budget_burned(empty) is None


def test_defaults_are_three_nines_over_thirty_days() -> None:
    inputs = BudgetInputs(bad_requests=0, total_requests=1, duration_s=1, time_scale=1)

    assert (inputs.objective, inputs.window_s) == (0.999, THIRTY_DAYS_S)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"objective": 0}, "objective must be between 0 and 1"),
        ({"objective": 1}, "objective must be between 0 and 1"),
        ({"objective": 99.9}, "objective must be between 0 and 1"),
        ({"bad_requests": -1}, "bad_requests must be a whole number >= 0"),
        ({"total_requests": -1, "bad_requests": 0}, "total_requests must be a whole number"),
        ({"total_requests": 10.5}, "total_requests must be a whole number"),
        ({"bad_requests": True}, "bad_requests must be a whole number"),
        ({"bad_requests": 11}, r"bad_requests \(11\) cannot exceed total_requests \(10\)"),
        ({"duration_s": -1}, "duration_s must be a finite number >= 0"),
        ({"duration_s": float("inf")}, "duration_s must be a finite number >= 0"),
        ({"time_scale": 0}, r"time scale must be in \(0, 1\]"),
        ({"time_scale": 1.5}, r"time scale must be in \(0, 1\]"),
        ({"time_scale": float("nan")}, r"time scale must be in \(0, 1\]"),
        ({"window_s": 0}, "window_s must be a finite number > 0"),
    ],
)
def test_inputs_are_validated(overrides: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {
        "bad_requests": 1,
        "total_requests": 10,
        "duration_s": 60.0,
        "time_scale": 0.1,
    }
    with pytest.raises(ValueError, match=message):
        BudgetInputs(**(values | overrides))


@pytest.mark.parametrize(
    ("error_ratio", "objective", "rate"),
    [(0.001, 0.999, 1.0), (0.01, 0.999, 10.0), (0.0144, 0.999, 14.4), (0.0, 0.99, 0.0)],
)
def test_burn_rate(error_ratio: float, objective: float, rate: float) -> None:
    assert burn_rate(error_ratio, objective) == pytest.approx(rate, rel=1e-9)


@pytest.mark.parametrize(
    ("error_ratio", "objective", "message"),
    [
        (-0.1, 0.999, "error ratio must be between 0 and 1"),
        (1.5, 0.999, "error ratio must be between 0 and 1"),
        (0.01, 1.0, "objective must be between 0 and 1"),
        (0.01, -0.5, "objective must be between 0 and 1"),
    ],
)
def test_burn_rate_refuses_odd_arguments(
    error_ratio: float, objective: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        burn_rate(error_ratio, objective)


@given(
    st.integers(0, 10_000),
    st.integers(1, 10_000),
    st.floats(0, 3600),
    st.floats(0.01, 1),
)
def test_burned_share_is_the_burn_rate_times_the_share_of_the_window(
    bad: int, extra: int, duration_s: float, time_scale: float
) -> None:
    inputs = BudgetInputs(bad, bad + extra, duration_s, time_scale)
    real_share_of_window = duration_s / time_scale / THIRTY_DAYS_S

    expected = burn_rate(bad / (bad + extra), 0.999) * real_share_of_window
    assert error_budget_burned(inputs) == pytest.approx(expected, rel=1e-9, abs=1e-15)
