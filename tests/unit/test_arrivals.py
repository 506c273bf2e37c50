"""Arrival schedules: when each request is due for each shape, how many there are, and
the values that make no schedule."""

from __future__ import annotations

import math

import pytest

from sreshow.core.arrivals import Segment, Shape, build_schedule


def test_a_constant_rate_spaces_arrivals_evenly_from_zero() -> None:
    schedule = build_schedule(Shape.CONSTANT, 200, 10)

    assert schedule.total == 2000
    assert [schedule.due_at(k) for k in range(3)] == [0.0, 0.005, 0.01]
    assert schedule.due_at(1999) == pytest.approx(9.995)
    assert schedule.rate_at(0) == schedule.rate_at(9.99) == 200
    assert schedule.mean_rate == schedule.peak_rate == 200


def test_the_millionth_arrival_is_as_exact_as_the_first() -> None:
    schedule = build_schedule(Shape.CONSTANT, 1000, 3600)

    assert schedule.due_at(1_000_000) == pytest.approx(1000.0, abs=1e-9)


def test_arrivals_due_before_a_moment_count_those_at_or_after_zero() -> None:
    schedule = build_schedule(Shape.CONSTANT, 10, 2)

    assert schedule.due_before(0) == 0
    assert schedule.due_before(1e-9) == 1  # arrival 0 is due at 0
    assert schedule.due_before(0.1) == 1
    assert schedule.due_before(0.1 + 1e-9) == 2
    assert schedule.due_before(5) == schedule.total == 20


def test_a_fractional_count_rounds_up_to_the_arrival_that_starts_it() -> None:
    schedule = build_schedule(Shape.CONSTANT, 3, 0.5)  # 1.5 expected: due at 0 and 1/3

    assert schedule.total == 2
    assert schedule.due_at(1) == pytest.approx(1 / 3)


def test_a_ramp_rises_linearly_and_holds_the_mean_of_its_ends() -> None:
    schedule = build_schedule(Shape.RAMP, 100, 10, peak=300)

    assert schedule.rate_at(0) == 100
    assert schedule.rate_at(5) == pytest.approx(200)
    assert schedule.total == 2000  # (100 + 300) / 2 x 10 s
    assert schedule.expected_by(5) == pytest.approx(750)  # the slower first half
    assert schedule.due_at(750) == pytest.approx(5.0)
    gaps = [schedule.due_at(k + 1) - schedule.due_at(k) for k in (0, 1990)]
    assert gaps[0] == pytest.approx(1 / 100, rel=0.01)
    assert gaps[1] == pytest.approx(1 / 300, rel=0.01)


def test_a_ramp_down_works_as_well() -> None:
    schedule = build_schedule(Shape.RAMP, 300, 10, peak=100)

    assert schedule.total == 2000
    assert schedule.due_at(1250) == pytest.approx(5.0)


def test_a_spike_takes_the_middle_third_by_default() -> None:
    schedule = build_schedule(Shape.SPIKE, 10, 9, peak=100)

    assert schedule.segments == (
        Segment(0, 3, 10, 10),
        Segment(3, 6, 100, 100),
        Segment(6, 9, 10, 10),
    )
    assert schedule.total == 30 + 300 + 30
    assert schedule.due_at(30) == pytest.approx(3.0)
    assert schedule.due_at(31) == pytest.approx(3.01)
    assert dict(schedule.parameters) == {
        "rps": 10,
        "spike_at": 3,
        "spike_for": 3,
        "peak_rps": 100,
    }


def test_a_spike_at_the_start_or_up_to_the_end_has_no_empty_segment() -> None:
    first = build_schedule(Shape.SPIKE, 10, 10, peak=50, spike_at=0, spike_for=2)
    last = build_schedule(Shape.SPIKE, 10, 10, peak=50, spike_at=8, spike_for=2)

    assert [s.start_rate for s in first.segments] == [50, 10]
    assert [s.start_rate for s in last.segments] == [10, 50]
    assert first.total == last.total == 100 + 80


def test_steps_rise_evenly_from_the_rate_to_the_peak() -> None:
    schedule = build_schedule(Shape.STEP, 10, 8, peak=40)

    assert [(s.start, s.end, s.start_rate) for s in schedule.segments] == [
        (0, 2, 10),
        (2, 4, 20),
        (4, 6, 30),
        (6, 8, 40),
    ]
    assert schedule.total == 200
    assert schedule.due_at(20) == pytest.approx(2.0)
    assert schedule.rate_at(8) == 0  # after the end


def test_the_peak_defaults_to_twice_the_rate() -> None:
    assert build_schedule(Shape.RAMP, 50, 4).segments[0].end_rate == 100


@pytest.mark.parametrize("shape", list(Shape))
def test_every_arrival_of_every_shape_is_in_order_within_the_duration(shape: Shape) -> None:
    schedule = build_schedule(shape, 37, 7.3, peak=91)
    times = [schedule.due_at(k) for k in range(schedule.total)]

    assert times == sorted(times)
    assert times[0] == 0
    assert times[-1] < schedule.duration
    assert schedule.total == math.ceil(schedule.expected_by(schedule.duration) - 1e-9)
    with pytest.raises(IndexError):
        schedule.due_at(schedule.total)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rps": 0}, "must be positive"),
        ({"rps": math.inf}, "must be positive"),
        ({"duration": -1}, "must be positive"),
        ({"peak": 0, "shape": Shape.RAMP}, "peak rate must be positive"),
        ({"shape": Shape.SPIKE, "spike_at": 8, "spike_for": 5}, "not within the duration"),
        ({"shape": Shape.SPIKE, "spike_at": -1}, "not within the duration"),
        ({"shape": Shape.STEP, "steps": 1}, "at least 2 steps"),
    ],
)
def test_values_that_make_no_schedule_are_refused(
    arguments: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"shape": Shape.CONSTANT, "rps": 10, "duration": 10} | arguments
    with pytest.raises(ValueError, match=message):
        build_schedule(**values)  # type: ignore[arg-type]
