"""How long a tour's steps should take at a time scale: as long as the same scenario
took the last time it ran on this platform at this scale (its journal says), or, never
run yet, at most the sum of its bounded waits."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sreshow.report.journal import JOURNAL_FILE
from sreshow.scenarios import spec as s
from sreshow.scenarios.plan import RunClock
from sreshow.scenarios.runner import RESTORE_WITHIN_SECONDS
from sreshow.scenarios.steps import MIN_WAIT_SECONDS
from sreshow.walkthrough.tour import Stop

MAX_JOURNALS = 2000  # read at most this many past runs, newest first


@dataclass(frozen=True)
class Expected:
    """A step's expected length: `measured` last time, or `at most` its waits' bounds."""

    seconds: float
    measured: bool


def longest_run(spec: s.ScenarioSpec, clock: RunClock) -> float:
    """The most a run may take: the steady state twice, every sleep, every wait's bound,
    the rollback block's waits and the runner's restore (actions count as instant)."""
    total = 2 * clock.bound(spec.steady_state.within) + clock.bound(RESTORE_WITHIN_SECONDS)
    for step in (*spec.steps, *spec.rollback):
        body = s.step_body(step)
        if s.step_kind(step) == "sleep":
            total += clock.scaled(float(body))
        elif hasattr(body, "within"):
            total += clock.bound(float(body.within))
    return total


def past_durations(runs_dir: Path, platform: str, time_scale: float) -> dict[str, float]:
    """Scenario name → how long its latest finished run on `platform` at `time_scale`
    took (runs interrupted or unreadable are skipped)."""
    found: dict[str, tuple[float, float]] = {}
    for journal in _journals(runs_dir):
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
            started, took = float(record["started_at"]), float(record["duration_s"])
            same = record["platform"] == platform and record["time_scale"] == time_scale
            name, interrupted = str(record["scenario"]), bool(record["interrupted"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if same and not interrupted and started > found.get(name, (-1.0, 0.0))[0]:
            found[name] = (started, took)
    return {name: took for name, (_, took) in found.items()}


def expected_steps(
    stops: Sequence[Stop], clock: RunClock, past: dict[str, float]
) -> list[Expected | None]:
    """Each stop's expected length (None for the scorecard)."""
    expected: list[Expected | None] = []
    for stop in stops:
        if stop.spec is None:
            expected.append(None)
        elif stop.spec.name in past:
            expected.append(Expected(past[stop.spec.name], measured=True))
        else:
            expected.append(Expected(longest_run(stop.spec, clock), measured=False))
    return expected


def run_clock(time_scale: float, unscaled: float = 0.0) -> RunClock:
    """The clock a run on a stack at `time_scale` bounds its waits with."""
    return RunClock(time_scale, MIN_WAIT_SECONDS, unscaled)


def _journals(runs_dir: Path) -> Iterator[Path]:
    if not runs_dir.is_dir():
        return
    paths = sorted(runs_dir.glob(f"*/{JOURNAL_FILE}")) + sorted(
        runs_dir.glob(f"*/*/{JOURNAL_FILE}")
    )
    yield from sorted(paths, reverse=True)[:MAX_JOURNALS]
