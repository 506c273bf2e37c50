"""A scenario in words: one readable line per step, check and expectation.

Pure functions over the parsed spec; `sreshow scenario show`, the `--dry-run` plan
and the runner's narration all say a step the same way. Durations are shown as
written (real time); given the run's `RunClock`, a step also says what the run makes
of a duration when that differs: `sleep 20s (2 s at time scale 0.1)`, `wait until
every replica is ready (within 1m, 10 s at time scale 0.1)` — a wait's bound is
scaled, plus what the platform's own clocks add whatever the scale (`unscaled`), and
never shorter than the clock's `min_wait`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sreshow.core.durations import format_duration
from sreshow.core.timeline import format_seconds
from sreshow.scenarios import spec as s


@dataclass(frozen=True)
class RunClock:
    """How a run spends a written (real-time) duration on a stack at `time_scale`."""

    time_scale: float = 1.0
    min_wait: float = 0.0  # no wait is bounded shorter: processes and rules take real time
    unscaled: float = 0.0  # added to every wait: the platform's clocks that do not scale

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale

    def bound(self, seconds: float) -> float:
        """How long a wait written as `seconds` may take."""
        return max(self.scaled(seconds) + self.unscaled, self.min_wait)


def duration(seconds: float) -> str:
    """30.0 → `30s`, 90.0 → `1m30s`."""
    return format_duration(round(seconds * 1000))


def percent(fraction: float) -> str:
    """0.2 → `20%`."""
    return f"{fraction * 100:g}%"


def describe_step(step: BaseModel, clock: RunClock | None = None) -> str:
    """One line for a parsed step: `wait for HighErrorRate firing (within 3m)`; given the
    run's clock, also what the run makes of its duration."""
    return _STEP_WORDS[s.step_kind(step)](s.step_body(step), clock)


def _scaled(seconds: float, clock: RunClock | None) -> str:
    """`20s`, or `20s (2 s at time scale 0.1)` when the run takes another time for it."""
    if clock is None or clock.scaled(seconds) == seconds:
        return duration(seconds)
    return f"{duration(seconds)} ({_at_scale(clock.scaled(seconds), clock)})"


def _within(seconds: float, clock: RunClock | None) -> str:
    """`within 3m`, or `within 3m, 18 s at time scale 0.1`: the bound the wait is given."""
    if clock is None or clock.bound(seconds) == seconds:
        return f"within {duration(seconds)}"
    if clock.unscaled and clock.bound(seconds) > clock.min_wait:
        scaled = format_seconds(clock.scaled(seconds))
        return (
            f"within {duration(seconds)}, {scaled} at time scale {clock.time_scale:g} "
            f"+ {format_seconds(clock.unscaled)} for the platform's own clocks"
        )
    return f"within {duration(seconds)}, {_at_scale(clock.bound(seconds), clock)}"


def _at_scale(seconds: float, clock: RunClock) -> str:
    return f"{format_seconds(seconds)} at time scale {clock.time_scale:g}"


def _load(load: s.Load, clock: RunClock | None) -> str:
    until = f" for {_scaled(load.duration, clock)}" if load.duration else ""
    return f"start load: {load.rps:g} requests per second on {load.path}{until}"


def _kill(kill: s.Kill) -> str:
    if kill.force:
        return f"force-kill {kill.targets().describe()}"
    return f"kill {kill.targets().describe()} (evicted, the disruption budget permitting)"


def _deploy(deploy: s.Deploy) -> str:
    broken = f", a bad release ({_BROKEN[deploy.broken]})" if deploy.broken else ""
    return f"deploy version {deploy.version}{broken}"


def _rollback(rollback: s.Rollback) -> str:
    to = f"revision {rollback.revision}" if rollback.revision else "the previous revision"
    return f"roll back to {to}"


def _scale(scale: s.Scale) -> str:
    return f"scale to {scale.replicas} replica{'' if scale.replicas == 1 else 's'}"


def _wait_for_notification(wait: s.WaitForNotification, clock: RunClock | None) -> str:
    return f"wait for the {wait.alert} {wait.status} notification ({_within(wait.within, clock)})"


# Each kind in words, given its body and (during a run) the run's clock.
_STEP_WORDS: dict[str, Callable[[Any, RunClock | None], str]] = {
    "inject": lambda inject, _: f"inject {_faults(inject)} on {inject.targets.describe()}",
    "clear_faults": lambda _, __: "clear every fault",
    "load": _load,
    "stop_load": lambda _, __: "stop the load",
    "kill": lambda kill, _: _kill(kill),
    "deploy": lambda deploy, _: _deploy(deploy),
    "rollback": lambda rollback, _: _rollback(rollback),
    "scale": lambda scale, _: _scale(scale),
    "wait_for_alert": lambda wait, clock: (
        f"wait for {wait.alert} {wait.state} ({_within(wait.within, clock)})"
    ),
    "wait_for_notification": _wait_for_notification,
    "wait_for": lambda wait, clock: (
        f"wait until {describe_check(wait)} ({_within(wait.within, clock)})"
    ),
    "sleep": lambda seconds, clock: f"sleep {_scaled(seconds, clock)}",
    "narrate": lambda text, _: f"say: {text}",
    "pause": lambda pause, _: f"pause: {pause.prompt!r} (skipped with --auto)",
}


_BROKEN = {
    "crash": "it crashes on start",
    "unready": "it never becomes ready",
    "errors": "it answers with errors",
}
_FAULT_WORDS = {
    "error_rate": "error rate",
    "latency_seconds": "latency",
    "cpu_burn": "CPU burn",
}


def _faults(inject: s.Inject) -> str:
    words = []
    for kind, value in inject.changes().items():
        if isinstance(value, bool):
            words.append(kind if value else f"not {kind}")
        elif kind == "latency_seconds":
            words.append(f"latency +{value:g}s")
        else:
            words.append(f"{_FAULT_WORDS[kind]} {percent(value)}")
    return ", ".join(words)


def describe_check(check: s.Condition | s.AlertsInactive) -> str:
    """One steady-state check or wait_for condition: `every replica is ready`."""
    if isinstance(check, s.AlertsInactive):
        if check.alerts_inactive == "all":
            return "no alert is active"
        names = list(check.alerts_inactive)
        return f"{_either(names, 'and')} {'is' if len(names) == 1 else 'are'} inactive"
    if check.replicas_ready is not None:
        ready = check.replicas_ready
        return (
            "every replica is ready" if ready == "all" else f"at least {ready} replicas are ready"
        )
    texts = {
        "autoscaler_desired_at_least": f"the autoscaler wants at least "
        f"{check.autoscaler_desired_at_least} replicas",
        "rollout": f"the rollout is {check.rollout}",
        "service": "the service is healthy as clients see it",
        "promql": f"the PromQL query `{check.promql}` returns a result",
    }
    return next(text for name, text in texts.items() if getattr(check, name) is not None)


def describe_expectation(expectation: s.Expectation, slo: s.Slo | None = None) -> str:
    """One expectation: `HighErrorRate fires within 3m, is notified within 4m, ...`."""
    match expectation:
        case s.AlertExpectation(never_fires=True):
            return f"{expectation.alert} never fires"
        case s.AlertExpectation():
            parts = [
                f"{verb} within {duration(limit)}"
                for verb, limit in (
                    ("fires", expectation.firing_within),
                    ("is notified", expectation.notified_within),
                    ("resolves", expectation.resolved_within),
                )
                if limit is not None
            ]
            return f"{expectation.alert} {_either(parts, 'and')}"
        case s.BudgetExpectation():
            slo = slo or s.Slo()
            return (
                f"at most {percent(expectation.max_error_budget_burn)} of the error budget "
                f"is burned (SLO {percent(slo.objective)} over {duration(slo.window)})"
            )
        case s.RecoveryExpectation():
            return f"the service recovers within {duration(expectation.recovered_within)}"
        case s.RtoExpectation():
            return (
                "the service is healthy again within "
                f"{duration(expectation.rto_within)} of the first disruption (RTO)"
            )
    return str(expectation)  # pragma: no cover - the union is exhaustive


def plan_lines(spec: s.ScenarioSpec) -> list[str]:
    """The whole run in order: steady state, steps, expectations, rollback block."""
    within = duration(spec.steady_state.within)
    lines = [f"Steady state (must hold within {within}, before and after):"]
    lines += [f"  - {describe_check(check)}" for check in spec.steady_state.checks] or ["  none"]
    lines.append("Steps:")
    lines += [f"  {i}. {describe_step(step)}" for i, step in enumerate(spec.steps, start=1)]
    lines.append("Expectations:")
    lines += [f"  - {describe_expectation(e, spec.slo)}" for e in spec.expectations] or ["  none"]
    lines.append("Rollback (always runs, also on failure and Ctrl-C):")
    lines += [f"  {i}. {describe_step(step)}" for i, step in enumerate(spec.rollback, start=1)]
    if not spec.rollback:
        lines.append("  none beyond the runner's own clean-up")
    return lines


def _either(parts: Sequence[str], word: str) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} {word} {parts[-1]}"
