"""The walkthrough's scorecard: each step's verdict and measurements, and the error
budget the whole show burned (pure; the CLI renders it, `scorecard.json` keeps it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sreshow.core.timeline import RunMetrics


@dataclass(frozen=True)
class StepScore:
    """One run of a tour step (a repeated step has one per run)."""

    number: int
    title: str
    scenario: str
    verdict: str  # passed | failed
    interrupted: bool
    metrics: RunMetrics
    journal: Path

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.number,
            "title": self.title,
            "scenario": self.scenario,
            "verdict": self.verdict,
            "interrupted": self.interrupted,
            "metrics": self.metrics.as_json(),
            "journal": str(self.journal),
            "report": str(self.journal.parent / "report.html"),
        }


def budget_burned(scores: Sequence[StepScore]) -> float | None:
    """The error budget every run burned together (shares of the same budget add up);
    None when no run measured one."""
    shares = [s.metrics.error_budget_burned for s in scores]
    measured = [share for share in shares if share is not None]
    return sum(measured) if measured else None


def show_passed(scores: Sequence[StepScore], *, finished: bool) -> bool:
    """The show passed: it ran to its end and every run passed."""
    return finished and all(score.verdict == "passed" for score in scores)


def scorecard_json(
    tour: str,
    platform: str,
    time_scale: float,
    scores: Sequence[StepScore],
    *,
    finished: bool,
) -> dict[str, Any]:
    """`scorecard.json`: the tour, whether it ran to its end, every run, the budget."""
    return {
        "walkthrough": tour,
        "platform": platform,
        "time_scale": time_scale,
        "finished": finished,
        "passed": show_passed(scores, finished=finished),
        "error_budget_burned": budget_burned(scores),
        "steps": [score.as_json() for score in scores],
    }
