"""Tour files: a named sequence of steps a presenter walks through (`walkthroughs/`).

    name: sre-showcase
    title: SRE showcase
    summary: …
    auto_pause: 5s            # --auto: how long each step's cue shows before it starts
    steps:
      - title: High error rate
        cue: What to say while it runs.
        scenario: high-error-rate     # a shipped scenario, or a file next to the tour
      - title: A healthy baseline
        cue: …
        baseline: 30s                 # steady load, nothing broken, for this long
      - title: The scorecard
        cue: …
        scorecard: true               # the results so far

Every step is exactly one of `scenario`, `baseline` or `scorecard`. A scenario or a
baseline is run as a scenario (the runner, its cleanup, its journal); `auto_pause` is
the presenter's time, never scaled. A bad file is refused like a scenario file: one
line with file, line, field and fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import Field, model_validator

from sreshow.core.durations import format_duration
from sreshow.errors import UsageError
from sreshow.scenarios.diagnose import dotted, node_line
from sreshow.scenarios.loader import SUFFIXES, load_yaml_model, resolve_scenario
from sreshow.scenarios.spec import ScenarioSpec
from sreshow.scenarios.values import Model, Seconds

_PACKAGED = Path(__file__).resolve().parents[1] / "walkthrough_files"  # inside the wheel
_CHECKOUT = Path(__file__).resolve().parents[3] / "walkthroughs"  # an editable install
TOURS_DIR = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
DEFAULT_TOUR = "sre-showcase"
BASELINE_RPS = 5
# The alerts that page; the error-budget alerts' long windows may still hold an earlier
# run's errors, and a baseline does not wait them out.
PAGING_ALERTS = ("HighErrorRate", "HighLatency", "PodsDown", "HealthCheckFailing")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_STEP_KINDS = ("scenario", "baseline", "scorecard")


class TourStep(Model):
    """One step: what the audience sees and what the presenter says."""

    title: str = Field(min_length=1, max_length=80)
    cue: str = Field(min_length=1, max_length=1000)
    scenario: str | None = Field(default=None, min_length=1, max_length=500)
    baseline: Seconds | None = Field(default=None, gt=0, le=3600)
    scorecard: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> TourStep:
        given = [k for k in _STEP_KINDS if getattr(self, k) not in (None, False)]
        if len(given) != 1:
            raise ValueError(
                f"{len(given)} kinds given{': ' if given else ''}{', '.join(given)} (give "
                "exactly one of scenario: NAME, baseline: 30s or scorecard: true)"
            )
        return self


class Tour(Model):
    """One tour file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    title: str = Field(min_length=1, max_length=80)
    summary: str = Field(min_length=1, max_length=300)
    auto_pause: Seconds = Field(default=5.0, gt=0, le=600)
    steps: tuple[TourStep, ...] = Field(min_length=1, max_length=30)


@dataclass(frozen=True)
class Stop:
    """A step of a resolved tour: its scenario to run (None for the scorecard)."""

    number: int  # from 1
    step: TourStep
    spec: ScenarioSpec | None


def resolve_tour(name_or_path: str | None) -> tuple[Tour, Path]:
    """A shipped tour by name (the default one for None), or the tour in a file."""
    name_or_path = name_or_path or DEFAULT_TOUR
    for suffix in SUFFIXES if _NAME.fullmatch(name_or_path) else ():
        shipped = TOURS_DIR / f"{name_or_path}{suffix}"
        if shipped.is_file():
            return _load(shipped), shipped
    path = Path(name_or_path)
    if "/" in name_or_path or path.suffix in SUFFIXES or path.exists():
        return _load(path), path
    known = ", ".join(shipped_tours()) or "none are installed"
    raise UsageError(
        f"unknown walkthrough {name_or_path!r} (known: {known}; or give the path of a "
        "tour's YAML file)"
    )


def _load(path: Path) -> Tour:
    shipped = f"the shipped tours: {', '.join(shipped_tours()) or 'none'}"
    return load_yaml_model(path, Tour, "a tour's", shipped)


def shipped_tours() -> list[str]:
    if not TOURS_DIR.is_dir():
        return []
    return sorted(path.stem for path in TOURS_DIR.iterdir() if path.suffix in SUFFIXES)


def tour_stops(tour: Tour, path: Path) -> list[Stop]:
    """Every step with the scenario it runs: a shipped name, or a file beside the tour;
    UsageError (exit 2) naming the step when one does not resolve."""
    stops = []
    for number, step in enumerate(tour.steps, start=1):
        try:
            spec = _spec_of(step, path.parent)
        except UsageError as e:
            field = ("steps", number - 1, "scenario")
            where = f"{path}:{_line_of(path, field)}: {dotted(field)}"
            raise UsageError(f"{where}: step {step.title!r}: {e}") from None
        stops.append(Stop(number, step, spec))
    return stops


def _line_of(path: Path, field: tuple[str | int, ...]) -> int:
    """The line of `field` in the tour file (it was read and parsed a moment ago)."""
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    return node_line(root, field) if root is not None else 1


def _spec_of(step: TourStep, beside: Path) -> ScenarioSpec | None:
    if step.baseline is not None:
        return baseline_spec(step.baseline)
    if step.scenario is None:
        return None
    candidate = beside / step.scenario
    if not _NAME.fullmatch(step.scenario) and candidate.is_file():
        return resolve_scenario(str(candidate))[0]
    return resolve_scenario(step.scenario)[0]


def baseline_spec(seconds: float) -> ScenarioSpec:
    """Steady load on a healthy stack for `seconds`: the steady state before and after."""
    duration = format_duration(round(seconds * 1000))
    return ScenarioSpec.model_validate(
        {
            "name": "baseline",
            "summary": f"A healthy system under steady load for {duration}",
            "steady_state": {
                "within": "2m",
                "checks": [
                    {"replicas_ready": "all"},
                    {"promql": 'min(up{job="sre-app"}) == 1'},
                    {"alerts_inactive": list(PAGING_ALERTS)},
                ],
            },
            "steps": [
                {"load": {"rps": BASELINE_RPS}},
                {"narrate": "Normal: every replica ready, no alert, every request answered."},
                {"sleep": duration},
            ],
            "expectations": [{"max_error_budget_burn": "0.1%"}],
            "rollback": [{"stop_load": {}}],
        }
    )
