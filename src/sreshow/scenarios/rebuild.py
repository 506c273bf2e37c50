"""The `full` RTO drill: tear the whole stack down and rebuild it, timing each phase.

    teardown  `down`: every process (or resource) of the stack stopped
    rebuild   `up` with the options the stack ran with, until it reports itself up
              (on `local`: replicas ready, Prometheus scraping them, rules evaluated)
    verify    the app answers its health check through the Service again

The RTO runs from the start of the teardown to the first healthy answer. The drill
is recorded as a run (`ScenarioResult`), so its journal reads like every other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from sreshow.core.drill import Phase
from sreshow.core.timeline import EventKind, RunMetrics, TimelineEvent
from sreshow.core.verdict import judge_rto, overall_verdict
from sreshow.errors import ExitCode, PlatformError
from sreshow.ports import Lifecycle, UpOptions
from sreshow.scenarios.runner import ScenarioResult, StepOutcome
from sreshow.stack_status import StackStatus

VERIFY_WITHIN_SECONDS = 60.0  # for the app to answer after `up` said it is up (real time)
HEALTH_PATH = "/health"
SCENARIO = "rto-drill-full"
SUMMARY = "The whole stack torn down and rebuilt; measure the RTO"
_NOT_MEASURED = {
    "time_to_detect_s": "a rebuild drill breaks on purpose: nothing to detect",
    "time_to_notify_s": "a rebuild drill breaks on purpose: nothing to notify",
    "error_budget_burned": "no load runs while the stack is rebuilt",
}


@dataclass(frozen=True)
class RebuildPlan:
    """What to rebuild: the lifecycle and the options it was brought up with."""

    lifecycle: Lifecycle
    options: UpOptions
    app_url: str


def plan_rebuild(lifecycle: Lifecycle, status: StackStatus, options: UpOptions) -> RebuildPlan:
    """The plan for the stack `status` shows, with `options` for what it does not say."""
    app_url = status.endpoints.get("app")
    if not app_url:
        raise PlatformError(f"the {lifecycle.name} stack reports no app endpoint; is it up?")
    return RebuildPlan(lifecycle, options, app_url)


class RebuildDrill:
    """Runs the phases in order; `phases` holds what was measured, even when cut short."""

    def __init__(
        self, plan: RebuildPlan, progress: Callable[[StackStatus], None], say: Callable[[str], None]
    ) -> None:
        self.plan = plan
        self._progress = progress
        self._say = say
        self.phases: list[Phase] = []
        self._start = 0.0
        self.started_at = 0.0

    def run(self) -> None:
        """Teardown, rebuild, verify; an error of a phase propagates after it is recorded."""
        self.started_at, self._start = time.time(), time.monotonic()
        lifecycle = self.plan.lifecycle
        self._phase("teardown", f"the {lifecycle.name} stack down", self._teardown)
        self._phase("rebuild", f"the {lifecycle.name} stack up", self._rebuild)
        self._phase("verify", f"{HEALTH_PATH} answered", self._verify)

    def _teardown(self) -> None:
        self._say(self.plan.lifecycle.down())

    def _rebuild(self) -> None:
        self.plan.lifecycle.up(self.plan.options, self._progress)

    def _verify(self) -> None:
        url = self.plan.app_url.rstrip("/") + HEALTH_PATH
        deadline = time.monotonic() + VERIFY_WITHIN_SECONDS
        last = "no answer yet"
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
                last = "an answer other than 200"
            except httpx.HTTPError as e:
                last = type(e).__name__
            time.sleep(0.2)
        raise PlatformError(
            f"{url} did not answer 200 within {VERIFY_WITHIN_SECONDS:g} s after the rebuild "
            f"(last: {last}); see `sreshow status`"
        )

    def _phase(self, name: str, what: str, action: Callable[[], None]) -> None:
        started = self.elapsed()
        self.phases.append(Phase(name, what, started, None))
        action()
        self.phases[-1] = Phase(name, what, started, self.elapsed())

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def result(
        self, *, target_s: float, error: str = "", interrupted: bool = False
    ) -> ScenarioResult:
        """The drill as a run: events, the RTO and its expectation, one step per phase."""
        scale = self.plan.options.time_scale
        done = bool(self.phases) and all(phase.ended_s is not None for phase in self.phases)
        rto = self.phases[-1].ended_s if done else None
        reasons = dict(_NOT_MEASURED)
        if rto is None:
            reasons["rto_s"] = reasons["time_to_recover_s"] = "the rebuild did not finish"
        metrics = RunMetrics(None, None, rto, rto, None, reasons)
        expectation = judge_rto(metrics, within=target_s, time_scale=scale)
        failed = bool(error) or interrupted or not done
        verdict = overall_verdict([expectation], steps_failed=failed, steady_state_failed=False)
        if interrupted:
            code = ExitCode.INTERRUPTED
        else:
            code = ExitCode.PASSED if verdict == "passed" else ExitCode.VERDICT_FAILED
        return ScenarioResult(
            scenario=SCENARIO,
            summary=SUMMARY,
            platform=self.plan.lifecycle.name,
            time_scale=scale,
            started_at=self.started_at,
            duration_s=self.elapsed(),
            verdict=verdict,
            exit_code=code,
            metrics=metrics,
            expectations=(expectation,),
            steps=tuple(self._outcomes(error)),
            events=tuple(self._events(rto)),
            interrupted=interrupted,
            error=error,
        )

    def _outcomes(self, error: str) -> list[StepOutcome]:
        return [
            StepOutcome(
                phase="steps",
                index=index,
                kind=phase.name,
                description=phase.what,
                passed=phase.ended_s is not None,
                detail="" if phase.ended_s is not None else error or "cut short",
                started_t=phase.started_s,
                finished_t=phase.ended_s if phase.ended_s is not None else self.elapsed(),
            )
            for index, phase in enumerate(self.phases, start=1)
        ]

    def _events(self, rto: float | None) -> list[TimelineEvent]:
        start = {
            "scenario": SCENARIO,
            "platform": self.plan.lifecycle.name,
            "time_scale": self.plan.options.time_scale,
        }
        events = [TimelineEvent(0.0, EventKind.RUN_STARTED, start)]
        if self.phases:
            events.append(TimelineEvent(0.0, EventKind.SERVICE_UNHEALTHY, {"reason": "torn down"}))
        for index, phase in enumerate(self.phases, start=1):
            step = {"phase": "steps", "index": index, "step": phase.what}
            events.append(TimelineEvent(phase.started_s, EventKind.STEP_STARTED, step))
            if phase.ended_s is not None:
                events.append(TimelineEvent(phase.ended_s, EventKind.STEP_PASSED, step))
        if rto is not None:
            events.append(TimelineEvent(rto, EventKind.SERVICE_HEALTHY))
        events.append(TimelineEvent(self.elapsed(), EventKind.RUN_FINISHED))
        return events
