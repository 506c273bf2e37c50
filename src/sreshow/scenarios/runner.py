"""Run one scenario: steady state, steps, the rollback block (always), verdict.

    steady state holds? ──no──▶ (nothing was touched) verdict failed
        │yes
    steps in order ── a step fails, times out, Ctrl-C, SIGTERM ──┐
        │                                                        ▼
    rollback block (always; after an interrupt only its actions, no waits)
    restore what the run changed and the block did not: faults, load, version, replicas
    steady state again (not after an interrupt) → metrics → expectations → verdict

From the rollback block on, SIGINT and SIGTERM are noted, not obeyed: a second Ctrl-C
never leaves a fault behind. One noted after the steps had all passed ends the run
with exit 130 too, once the cleanup is done (the check of the steady state is skipped,
the verdict judged as usual). A caller that still has cleaning up to do after `run()`
(stopping the load, writing the journal) routes signals to `on_signal` until it is
done, and `interrupted_during_cleanup` says whether one came. The result carries the
exit code.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from sreshow.core.alert_band import AlertBand
from sreshow.core.slo import BudgetInputs
from sreshow.core.timeline import EventKind, RunMetrics, TimelineEvent, run_metrics
from sreshow.core.verdict import (
    ExpectationResult,
    judge_alert,
    judge_budget,
    judge_recovery,
    judge_rto,
    overall_verdict,
)
from sreshow.errors import ExitCode, PlatformError, SreshowError
from sreshow.ports import Load, Platform, Snapshot
from sreshow.report.series import run_series
from sreshow.scenarios import spec as s
from sreshow.scenarios.observer import Observer, RunView
from sreshow.scenarios.plan import describe_check, describe_step
from sreshow.scenarios.prediction import band_line, judged, predicted_bands
from sreshow.scenarios.signals import routed_signals
from sreshow.scenarios.steps import (
    WAIT_KINDS,
    Changes,
    StepContext,
    StepFailed,
    condition_holds,
    run_step,
    wait_until,
)

RESTORE_WITHIN_SECONDS = 60.0  # replicas back and ready after the restore (real time)


@dataclass(frozen=True)
class StepOutcome:
    phase: Literal["steps", "rollback"]
    index: int
    kind: str
    description: str
    passed: bool
    detail: str
    started_t: float
    finished_t: float


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    summary: str
    platform: str
    time_scale: float
    started_at: float  # Unix time
    duration_s: float
    verdict: Literal["passed", "failed"]
    exit_code: ExitCode
    metrics: RunMetrics
    expectations: tuple[ExpectationResult, ...]
    steps: tuple[StepOutcome, ...]
    events: tuple[TimelineEvent, ...]
    interrupted: bool = False
    error: str = ""
    steady_state: dict[str, str] = field(default_factory=dict)
    slo_objective: float = 0.999
    slo_window_s: float = 30 * 24 * 3600.0
    requests: dict[str, int] = field(default_factory=dict)
    # The charts' series (report/series.py) and the alerts' predicted bands held against
    # the timeline (scenarios/prediction.py), as the journal keeps them.
    series: dict[str, Any] = field(default_factory=dict)
    predicted: list[dict[str, Any]] = field(default_factory=list)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while the steps ran (a KeyboardInterrupt, so that one
    arriving before the run is under way ends the command as Ctrl-C does: exit 130)."""


@dataclass
class RunHooks:
    """How the runner talks to the presenter (the CLI supplies these)."""

    on_event: Callable[[TimelineEvent], None] | None = None
    ask: Callable[[str], None] | None = None  # None: pauses are skipped (--auto)
    on_observer: Callable[[Observer], None] | None = None
    say: Callable[[str], None] = lambda _: None
    # Called before each of the steps (not the rollback block's): a presenter's pause
    # holds the run there. A signal still interrupts it.
    before_step: Callable[[], None] | None = None


class ScenarioRunner:
    def __init__(self, spec: s.ScenarioSpec, platform: Platform, load: Load, hooks: RunHooks):
        self.spec = spec
        self.platform = platform
        self.load = load
        self.hooks = hooks
        self._shielded = False
        self._interrupted = False  # the steps were cut short by a signal
        self._signal_during_cleanup = False
        self._outcomes: list[StepOutcome] = []
        self._steady: dict[str, str] = {}
        self._bands = _predicted_bands(spec, platform.time_scale)

    def run(self) -> ScenarioResult:
        started_at = time.time()
        observer = Observer(
            self.platform,
            self.load,
            objective=self.spec.slo.objective,
            on_event=self.hooks.on_event,
        )
        with routed_signals(self.on_signal):
            with observer:
                if self.hooks.on_observer is not None:
                    self.hooks.on_observer(observer)
                first = self.platform.snapshot()
                changes = Changes(initial_desired=first.desired, initial_revision=first.revision)
                ctx = StepContext(self.platform, self.load, observer, changes, self.hooks.ask)
                observer.record(
                    EventKind.RUN_STARTED,
                    scenario=self.spec.name,
                    platform=self.platform.name,
                    time_scale=self.platform.time_scale,
                )
                for band in self._bands:
                    observer.record(EventKind.NARRATION, text=f"predicted: {band_line(band)}")
                try:
                    error, code = self._steps(ctx)
                except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as Interrupted
                    self._interrupted = True
                    error, code = "interrupted", ExitCode.INTERRUPTED
                    observer.record(EventKind.INTERRUPTED)
                finally:
                    self._shielded = True
                    self._clean_up(ctx)
                if code == ExitCode.PASSED and not self._signal_during_cleanup:
                    error, code = self._steady_state_again(ctx)
                if self._signal_during_cleanup and not self._interrupted:
                    observer.record(EventKind.INTERRUPTED, during="cleanup")
                observer.record(EventKind.RUN_FINISHED)
                duration = observer.now()
                events = observer.events()
            return self._result(started_at, duration, events, error, code)

    # --- phases -------------------------------------------------------------------------

    def _steps(self, ctx: StepContext) -> tuple[str, ExitCode]:
        """The steady state, then the steps: what stopped them, and the exit code so far.
        (A signal raises through here, also from within these handlers, to `run()`.)"""
        try:
            self._steady_state(ctx, "before")
            self._run_steps(ctx, self.spec.steps, "steps")
        except StepFailed as e:
            return str(e), ExitCode.VERDICT_FAILED
        except SreshowError as e:
            return str(e), e.exit_code
        return "", ExitCode.PASSED

    def _steady_state_again(self, ctx: StepContext) -> tuple[str, ExitCode]:
        """The steady state after the cleanup: what failed, and the exit code."""
        try:
            self._steady_state(ctx, "after")
        except StepFailed as e:
            return str(e), ExitCode.VERDICT_FAILED
        except SreshowError as e:
            return str(e), e.exit_code
        return "", ExitCode.PASSED

    def _run_steps(
        self, ctx: StepContext, steps: Sequence[BaseModel], phase: Literal["steps", "rollback"]
    ) -> None:
        """Steps in order. In the steps a failure ends them (raised); in the rollback
        block it is noted and the block goes on."""
        for index, step in enumerate(steps, start=1):
            kind = s.step_kind(step)
            interrupted = self._interrupted or self._signal_during_cleanup
            if phase == "rollback" and interrupted and kind in WAIT_KINDS | {"narrate"}:
                continue  # interrupted: restore, do not linger
            if phase == "steps" and self.hooks.before_step is not None:
                self.hooks.before_step()
            description = describe_step(step, ctx.clock)
            prefix = "rollback " if phase == "rollback" else ""
            ctx.observer.set_step(f"{prefix}{index}. {description}")
            started = ctx.observer.now()
            if kind != "narrate":  # a narration is its own event
                ctx.observer.record(
                    EventKind.STEP_STARTED, phase=phase, index=index, step=description
                )
            try:
                detail = run_step(step, ctx)
            except SreshowError as e:
                self._note(
                    ctx,
                    StepOutcome(
                        phase, index, kind, description, False, str(e), started, ctx.observer.now()
                    ),
                )
                if phase == "steps":
                    raise
                continue
            self._note(
                ctx,
                StepOutcome(
                    phase, index, kind, description, True, detail, started, ctx.observer.now()
                ),
            )

    def _note(self, ctx: StepContext, outcome: StepOutcome) -> None:
        self._outcomes.append(outcome)
        if outcome.kind == "narrate":
            return
        ctx.observer.record(
            EventKind.STEP_PASSED if outcome.passed else EventKind.STEP_FAILED,
            phase=outcome.phase,
            index=outcome.index,
            detail=outcome.detail,
        )

    def _steady_state(self, ctx: StepContext, when: Literal["before", "after"]) -> None:
        """Wait (bounded) until every steady-state check holds; StepFailed naming those
        that do not."""
        checks = self.spec.steady_state.checks
        if not checks:
            return
        ctx.observer.set_step(f"checking the steady state ({when} the steps)")

        def failing() -> list[str]:
            view = ctx.observer.view()
            return [describe_check(c) for c in checks if not self._check(c, view)]

        try:
            took = wait_until(
                ctx,
                ctx.bound(self.spec.steady_state.within),
                lambda _: self._signal_during_cleanup or not failing(),
                f"the steady state ({when} the steps)",
                lambda: f"; not holding: {', '.join(failing())}",
            )
        except StepFailed:
            self._steady[when] = "failed"
            ctx.observer.record(
                EventKind.STEADY_STATE_CHECKED, when=when, holds=False, failing=failing()
            )
            raise
        if self._signal_during_cleanup:  # Ctrl-C after the cleanup: not checked, as asked
            return
        self._steady[when] = "held"
        ctx.observer.record(
            EventKind.STEADY_STATE_CHECKED, when=when, holds=True, after_s=round(took, 2)
        )

    def _check(self, check: s.Condition | s.AlertsInactive, view: RunView) -> bool:
        if isinstance(check, s.AlertsInactive):
            names = view.alerts.keys() if check.alerts_inactive == "all" else check.alerts_inactive
            return all(view.alerts.get(name, "inactive") == "inactive" for name in names)
        return condition_holds(check, view, self.platform)

    def _clean_up(self, ctx: StepContext) -> None:
        """The rollback block, then restore whatever the run still changed."""
        ctx.observer.record(EventKind.ROLLBACK_STARTED, interrupted=self._interrupted)
        self._run_steps(ctx, self.spec.rollback, "rollback")
        ctx.observer.set_step("restoring the system as it was")
        self._restore(ctx)

    def _restore(self, ctx: StepContext) -> None:
        changes, platform = ctx.changes, self.platform
        if self.load.running:
            self.load.stop()
            ctx.observer.record(EventKind.LOAD_STOPPED)
        actions: list[tuple[str, Callable[[], None]]] = []
        if changes.faulted:
            actions.append(("clear the faults", lambda: _clear_all(ctx)))
        snapshot = platform.snapshot()
        if snapshot.revision != changes.initial_revision:
            actions.append(("roll back to the first revision", lambda: _roll_back_to_first(ctx)))
        if snapshot.desired != changes.initial_desired:
            if _grown_by_autoscaler(snapshot, changes):
                # Scaling it back by hand would be undone at the autoscaler's next sync
                # (its stabilisation window still remembers the peak), as on Kubernetes.
                ctx.observer.record(
                    EventKind.LEFT_TO_AUTOSCALER,
                    replicas=snapshot.desired,
                    to=changes.initial_desired,
                )
            else:
                actions.append(("restore the replica count", lambda: _scale_back(ctx)))
        for what, action in actions:
            try:
                action()
            except SreshowError as e:
                ctx.observer.record(EventKind.RESTORE_FAILED, action=what, reason=str(e))
                self.hooks.say(f"cleanup could not {what}: {e}")
        try:
            wait_until(
                ctx,
                RESTORE_WITHIN_SECONDS,
                lambda view: (
                    view.snapshot is not None
                    and view.snapshot.rollout.state == "complete"
                    and view.snapshot.ready >= max(view.snapshot.desired, 1)
                ),
                "every replica back and ready",
            )
        except (StepFailed, PlatformError) as e:
            ctx.observer.record(
                EventKind.RESTORE_FAILED, action="wait for the replicas", reason=str(e)
            )
            self.hooks.say(f"cleanup: {e}; check `sreshow status`")

    # --- results ------------------------------------------------------------------------

    def _result(
        self,
        started_at: float,
        duration: float,
        events: list[TimelineEvent],
        error: str,
        code: ExitCode,
    ) -> ScenarioResult:
        stats = self.load.stats()
        budget = BudgetInputs(
            bad_requests=stats.bad,
            total_requests=stats.sent,
            duration_s=max(_load_seconds(events), 1e-3),
            time_scale=self.platform.time_scale,
            objective=self.spec.slo.objective,
            window_s=self.spec.slo.window,
        )
        alerts = [e.alert for e in self.spec.expectations if isinstance(e, s.AlertExpectation)]
        expected = [
            a for a, e in zip(alerts, self._alert_expectations(), strict=True) if not e.never_fires
        ]
        metrics = run_metrics(events, alerts=expected or s.ALERT_NAMES, budget=budget)
        results = tuple(self._judge(events, metrics))
        steps_failed = any(not o.passed for o in self._outcomes if o.phase == "steps")
        verdict = overall_verdict(
            results,
            steps_failed=steps_failed or code != ExitCode.PASSED,
            steady_state_failed="failed" in self._steady.values(),
        )
        if code == ExitCode.PASSED and verdict == "failed":
            code = ExitCode.VERDICT_FAILED
        if self._signal_during_cleanup:
            code = ExitCode.INTERRUPTED
        return ScenarioResult(
            scenario=self.spec.name,
            summary=self.spec.summary,
            platform=self.platform.name,
            time_scale=self.platform.time_scale,
            started_at=started_at,
            duration_s=duration,
            verdict=verdict,
            exit_code=code,
            metrics=metrics,
            expectations=results,
            steps=tuple(self._outcomes),
            events=tuple(events),
            interrupted=self._interrupted or self._signal_during_cleanup,
            error=error,
            steady_state=dict(self._steady),
            slo_objective=self.spec.slo.objective,
            slo_window_s=self.spec.slo.window,
            requests={
                "sent": stats.sent,
                "ok": stats.ok,
                "bad": stats.bad,
                "dropped": stats.dropped,
            },
            series=run_series(
                self.platform,
                started_at=started_at,
                ended_at=started_at + duration,
                time_scale=self.platform.time_scale,
                load_samples=self.load.samples(),
            ),
            predicted=judged(self._bands, events),
        )

    def _alert_expectations(self) -> list[s.AlertExpectation]:
        return [e for e in self.spec.expectations if isinstance(e, s.AlertExpectation)]

    def _judge(
        self, events: list[TimelineEvent], metrics: RunMetrics
    ) -> Iterator[ExpectationResult]:
        scale = self.platform.time_scale
        for expectation in self.spec.expectations:
            if isinstance(expectation, s.AlertExpectation):
                yield from judge_alert(
                    events,
                    alert=expectation.alert,
                    firing_within=expectation.firing_within,
                    notified_within=expectation.notified_within,
                    resolved_within=expectation.resolved_within,
                    never_fires=expectation.never_fires,
                    time_scale=scale,
                )
            elif isinstance(expectation, s.BudgetExpectation):
                yield judge_budget(metrics, max_burn=expectation.max_error_budget_burn)
            elif isinstance(expectation, s.RecoveryExpectation):
                yield judge_recovery(metrics, within=expectation.recovered_within, time_scale=scale)
            else:
                yield judge_rto(metrics, within=expectation.rto_within, time_scale=scale)

    # --- signals ------------------------------------------------------------------------

    @property
    def interrupted_during_cleanup(self) -> bool:
        """A signal came once the cleanup had begun (also after `run()` returned)."""
        return self._signal_during_cleanup

    def on_signal(self, signum: int) -> None:
        """SIGINT or SIGTERM: end the steps (Interrupted); from the cleanup on, note it."""
        if self._shielded:
            self._signal_during_cleanup = True
            self.hooks.say("still cleaning up: faults, load and replicas first; one moment")
            return
        # Shielded at once: a second signal, however soon, cannot cut the cleanup short.
        self._shielded = True
        raise Interrupted(signal.Signals(signum).name)


def _clear_all(ctx: StepContext) -> None:
    pods = [r.name for r in ctx.platform.snapshot().replicas]
    ctx.platform.clear_faults(pods)
    ctx.changes.faulted.clear()
    ctx.observer.record(EventKind.FAULTS_CLEARED, pods=pods)


def _roll_back_to_first(ctx: StepContext) -> None:
    revision = ctx.platform.rollback(ctx.changes.initial_revision)
    ctx.observer.record(EventKind.ROLLED_BACK, revision=revision)


def _grown_by_autoscaler(snapshot: Snapshot, changes: Changes) -> bool:
    """More replicas than the run began with, none of them asked for by hand, and an
    autoscaler whose range holds the count the run began with."""
    autoscaler = snapshot.autoscaler
    return (
        not changes.scaled
        and autoscaler is not None
        and snapshot.desired > changes.initial_desired
        and autoscaler.min_replicas <= changes.initial_desired <= autoscaler.max_replicas
    )


def _scale_back(ctx: StepContext) -> None:
    """Back to the count the run began with. Scaling back up ends an outage (a
    remediation, `scaled`); scaling back down after the autoscaler grew the deployment
    is tidying up, not a disruption."""
    previous, wanted = ctx.platform.snapshot().desired, ctx.changes.initial_desired
    ctx.platform.scale(wanted)
    kind = EventKind.SCALED if wanted > previous else EventKind.REPLICAS_RESTORED
    ctx.observer.record(kind, previous=previous, replicas=wanted)


def _predicted_bands(spec: s.ScenarioSpec, time_scale: float) -> list[AlertBand]:
    """The expected alerts' bands; none when the monitoring files cannot be read (the
    run goes on: the journal's `predicted` is then empty)."""
    try:
        return predicted_bands(spec, time_scale)
    except (OSError, ValueError):
        return []


def _load_seconds(events: Sequence[TimelineEvent]) -> float:
    """How long load ran: from each load_started to the next load_stopped (or the end)."""
    total, since = 0.0, None
    for event in events:
        if event.kind == "load_started" and since is None:
            since = event.t
        elif event.kind == "load_stopped" and since is not None:
            total += event.t - since
            since = None
    if since is not None and events:
        total += events[-1].t - since
    return total
