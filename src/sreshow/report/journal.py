"""`journal.json`: the record of one scenario run (a contract, see docs/architecture.md).

    {scenario, summary, verdict, exit_code, platform, time_scale, started_at,
     duration_s, interrupted, error, settings: {slo_objective, slo_window_s},
     metrics: {time_to_detect_s, time_to_notify_s, time_to_recover_s, rto_s,
               error_budget_burned},
     metrics_real_time: {... the durations divided by the time scale},
     expectations: [{expectation, passed, detail, kind, measured, limit}],
     steps: [...], requests: {...},
     steady_state: {before, after}, events: [{t, kind, ...}],
     series: {...}, predicted: [...]}

An expectation's `kind` is firing, notified, resolved, never_fires, budget, recovery or
rto; `measured` and `limit` are seconds on the stack's clock (a share of the error
budget for `budget`), `measured` null when nothing happened (journals before these
three keys have only the text).

`series` holds the charts' data, read from Prometheus and the load generator as the
run ended (report/series.py); `predicted`, each expected alert's band for firing and
notification against what the run saw (scenarios/prediction.py, core/alert_judge.py).

An RTO drill adds `drill`: {level, target_s, rto_s, passed, slowest_phase,
phases: [{phase, what, started_s, ended_s, duration_s}]}.

Times in `events` are seconds since the run started: `t` when it happened (the events
are in that order), and for an event the run saw more than half a second later (an
SLI change dated from the answers, a notification, an autoscaler decision) also
`seen_t`, when it was seen. `steady_state` has no `after` when the run was interrupted.
Nothing secret goes in: the runner's events carry pod names, fault levels and alert
names, never a token or URL with a secret in it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sreshow.files import write_atomically
from sreshow.scenarios.runner import ScenarioResult

JOURNAL_FILE = "journal.json"


def run_id(result: ScenarioResult) -> str:
    """`20261127T114415Z-high-error-rate`: sorts by time, names the scenario."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(result.started_at))
    return f"{stamp}-{re.sub(r'[^a-z0-9-]', '-', result.scenario)}"


def journal(result: ScenarioResult, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The journal's content for one run, with `extra` sections (a drill's `drill`)."""
    return {
        "scenario": result.scenario,
        "summary": result.summary,
        "verdict": result.verdict,
        "exit_code": int(result.exit_code),
        "platform": result.platform,
        "time_scale": result.time_scale,
        "started_at": result.started_at,
        "duration_s": round(result.duration_s, 3),
        "interrupted": result.interrupted,
        "error": result.error,
        "settings": {
            "slo_objective": result.slo_objective,
            "slo_window_s": result.slo_window_s,
        },
        "metrics": result.metrics.as_json(),
        "metrics_real_time": result.metrics.real_time(result.time_scale),
        "expectations": [e.as_json() for e in result.expectations],
        "steps": [asdict(o) for o in result.steps],
        "requests": result.requests,
        "steady_state": result.steady_state,
        "events": [e.as_json() for e in result.events],
        "series": result.series,
        "predicted": result.predicted,
        **(extra or {}),
    }


def write_journal(
    result: ScenarioResult, directory: Path, extra: Mapping[str, Any] | None = None
) -> Path:
    """Write `directory/journal.json` (0600, atomically); its path."""
    path = directory / JOURNAL_FILE
    write_atomically(path, json.dumps(journal(result, extra), indent=2) + "\n")
    return path
