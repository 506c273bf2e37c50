"""The runs stored under `<state>/runs/`: each run's times to detect, notify and recover,
and per scenario how they moved from run to run.

A run is a folder with a `journal.json`: `runs/<run-id>/` for `scenario run` and the
drills, `runs/<walkthrough>/<NN-scenario>/` for each step of a walkthrough. Its id is
that folder's path under `runs/`. Times are real-time equivalents (the journal's
`metrics_real_time`), so runs at different time scales compare.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sreshow.errors import UsageError
from sreshow.report.journal import JOURNAL_FILE

TIMES = ("time_to_detect_s", "time_to_notify_s", "time_to_recover_s")
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class StoredRun:
    """One stored run, as the listing shows it."""

    run_id: str  # its folder under runs/: `20261205T001753Z-high-error-rate`
    path: Path  # its folder
    scenario: str
    verdict: str
    started_at: float  # Unix time
    time_scale: float
    times: Mapping[str, float | None]  # TIMES → real-time seconds (None: not measured)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "path": str(self.path),
            "scenario": self.scenario,
            "verdict": self.verdict,
            "started_at": self.started_at,
            "time_scale": self.time_scale,
            "metrics_real_time": dict(self.times),
        }


@dataclass(frozen=True)
class Trend:
    """One scenario over its stored runs, oldest first."""

    scenario: str
    runs: int
    passed: int
    detect_s: tuple[float | None, ...]  # each run's, oldest first
    last: StoredRun
    # The last run against the one before it (real-time seconds; None: not comparable)
    change: dict[str, float | None]

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "runs": self.runs,
            "passed": self.passed,
            "time_to_detect_s": list(self.detect_s),
            "last_run": self.last.run_id,
            "change_from_previous": self.change,
        }


def stored_runs(runs_dir: Path) -> tuple[list[StoredRun], list[str]]:
    """Every run under `runs_dir`, oldest first, and a line for each journal that could
    not be read (a run cut off mid-write, a file edited by hand)."""
    runs, unreadable = [], []
    paths = sorted({*runs_dir.glob(f"*/{JOURNAL_FILE}"), *runs_dir.glob(f"*/*/{JOURNAL_FILE}")})
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            runs.append(_stored(record, path.parent, runs_dir))
        except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError) as e:
            unreadable.append(f"{path}: {e}")
    runs.sort(key=lambda run: (run.started_at, run.run_id))
    return runs, unreadable


def trends(runs: Sequence[StoredRun]) -> list[Trend]:
    """Per scenario (in the order of their latest run): how many runs, how many passed,
    every time to detect, and the last run against the one before."""
    by_scenario: dict[str, list[StoredRun]] = {}
    for run in runs:
        by_scenario.setdefault(run.scenario, []).append(run)
    result = []
    for scenario, own in by_scenario.items():
        last = own[-1]
        previous = own[-2] if len(own) > 1 else None
        result.append(
            Trend(
                scenario=scenario,
                runs=len(own),
                passed=sum(run.verdict == "passed" for run in own),
                detect_s=tuple(run.times["time_to_detect_s"] for run in own),
                last=last,
                change={key: _change(last, previous, key) for key in TIMES},
            )
        )
    result.sort(key=lambda trend: (trend.last.started_at, trend.scenario))
    return result


def sparkline(values: Sequence[float | None]) -> str:
    """`▁▃█▅`: each value's height between the lowest and the highest; ` ` for None."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    marks = []
    for value in values:
        if value is None or not math.isfinite(value):
            marks.append(" ")
        elif span == 0:
            marks.append(SPARKS[len(SPARKS) // 2])
        else:
            marks.append(SPARKS[round((value - low) / span * (len(SPARKS) - 1))])
    return "".join(marks)


def find_run(runs_dir: Path, reference: str | None) -> Path:
    """The journal a `sreshow report` argument means: a run id (its folder under
    `runs_dir`), a run's folder or a journal file; None: the latest run. UsageError
    when there is none."""
    if reference is None:
        runs, _ = stored_runs(runs_dir)
        if not runs:
            raise UsageError(
                f"no runs stored under {runs_dir} yet; run a scenario first "
                "(`sreshow scenario NAME`)"
            )
        return runs[-1].path / JOURNAL_FILE
    for candidate in (runs_dir / reference, Path(reference).expanduser()):
        if candidate.is_dir() and (candidate / JOURNAL_FILE).is_file():
            return candidate / JOURNAL_FILE
        if candidate.is_file() and candidate.suffix == ".json":
            return candidate
    raise UsageError(
        f"no run {reference!r}: neither a run id under {runs_dir} nor a run folder or "
        "journal.json; `sreshow runs` lists the stored runs"
    )


def _stored(record: Any, folder: Path, runs_dir: Path) -> StoredRun:
    if not isinstance(record, dict) or not isinstance(record.get("scenario"), str):
        raise ValueError("not a journal (no scenario)")
    scale = record.get("time_scale")
    scale = float(scale) if isinstance(scale, int | float) and scale > 0 else 1.0
    real = record.get("metrics_real_time")
    if not isinstance(real, dict):  # older journals: derive it
        measured = record.get("metrics")
        measured = measured if isinstance(measured, dict) else {}
        real = {key: _seconds(measured.get(key), scale) for key in TIMES}
    started = record.get("started_at")
    return StoredRun(
        run_id=folder.relative_to(runs_dir).as_posix(),
        path=folder,
        scenario=record["scenario"],
        verdict=str(record.get("verdict", "unknown")),
        started_at=float(started) if isinstance(started, int | float) else 0.0,
        time_scale=scale,
        times={key: _seconds(real.get(key)) for key in TIMES},
    )


def _seconds(value: object, scale: float = 1.0) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) / scale


def _change(last: StoredRun, previous: StoredRun | None, key: str) -> float | None:
    if previous is None:
        return None
    now, before = last.times[key], previous.times[key]
    return None if now is None or before is None else now - before
