"""The kubelet's probe rules (core/probes.py) on plain values."""

from __future__ import annotations

import pytest

from sreshow.core.probes import ProbeSpec, ProbeState, probe_spec

READINESS = ProbeSpec("/ready", period=5, timeout=2, failure_threshold=2)
LIVENESS = ProbeSpec("/health", period=10, timeout=2, failure_threshold=6)


def answers(state: ProbeState, spec: ProbeSpec, oks: list[bool]) -> list[bool]:
    """Feed answers one period apart; `passing` after each."""
    seen = []
    for i, ok in enumerate(oks):
        state.record(spec, ok, now=i * spec.period)
        seen.append(state.passing)
    return seen


def test_readiness_turns_false_after_failure_threshold_failures_in_a_row() -> None:
    state = ProbeState(passing=True)
    # One failure is not enough (failureThreshold 2); a success in between resets the count.
    assert answers(state, READINESS, [False, True, False, False, True]) == [
        True, True, True, False, True,
    ]  # fmt: skip


def test_readiness_needs_success_threshold_successes_to_turn_true() -> None:
    spec = ProbeSpec("/ready", period=5, success_threshold=3)
    state = ProbeState(passing=False)
    assert answers(state, spec, [True, True, False, True, True, True]) == [
        False, False, False, False, False, True,
    ]  # fmt: skip


def test_liveness_fails_only_after_six_failures_in_a_row() -> None:
    state = ProbeState(passing=True)
    seen = answers(state, LIVENESS, [False] * 5 + [True] + [False] * 6)
    assert seen == [True] * 11 + [False]
    assert state.failures == 6


def test_record_says_when_the_verdict_changes_and_schedules_the_next_probe() -> None:
    state = ProbeState(passing=True)
    assert state.record(READINESS, False, now=0) is False
    assert state.record(READINESS, False, now=5) is True
    assert state.record(READINESS, False, now=10) is False  # already failing
    assert state.next_at == 15
    assert not state.due(14.9)
    assert state.due(15)


def test_the_shipped_deployments_probes_and_kubernetes_defaults() -> None:
    assert probe_spec({"httpGet": {"path": "/health"}, "periodSeconds": 10}) == ProbeSpec(
        "/health", period=10, timeout=1, failure_threshold=3, success_threshold=1
    )
    assert probe_spec({}).path == "/"


@pytest.mark.parametrize(
    ("factor", "min_period", "period", "delay"), [(0.1, 0, 1.0, 0.5), (0.01, 0.5, 0.5, 0.05)]
)
def test_scaling_keeps_the_timeout_and_honours_a_floor(
    factor: float, min_period: float, period: float, delay: float
) -> None:
    spec = ProbeSpec("/health", period=10, timeout=2, initial_delay=5)
    scaled = spec.scaled(factor, min_period=min_period)
    assert (scaled.period, scaled.initial_delay, scaled.timeout) == (
        pytest.approx(period),
        pytest.approx(delay),
        2,
    )
    assert spec.failing_for == 30
