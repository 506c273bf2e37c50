"""How long the reports of a 30-minute run take to render: report.md, report.html (six
charts of 1,800 points a line) and the JUnit XML, from a synthetic journal.

Target (issue #15): at most 2 s for a 30-minute run. Checked on `sreshow report RUN_ID`
as a user runs it, a new process each time (interpreter start, imports, reading the
journal, rendering, writing the files), the median of the rounds; beside it, the
renderers in one warm process, so the table shows what the rendering itself costs.

The journal is made here, with the shape a real run writes (journal.json's contract
plus `series` and `predicted`): a run at time scale 1 lasting 30 minutes, one point a
second in every series (the Service's request rate, error share, latency p50/p95/p99
and ready replicas, the load generator's achieved rate, p95 and dropped requests), a
fault at 5 minutes cleared at 20, the alert pending, firing and notified, the
autoscaler stepping the replicas, and steps: 150-odd events in all.

Run on its own: .venv/bin/python bench/report_render.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from report import VENV_BIN, BenchError, Check, Spread, render_checks, render_table

TARGET_SECONDS = 2.0
RUN_SECONDS = 1800
RUN_ID = "20261205T120000Z-high-error-rate"


@dataclass(frozen=True)
class Settings:
    rounds: int = 7

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3)


@dataclass(frozen=True)
class RenderSummary:
    command: Spread  # seconds: `sreshow report RUN_ID`, a new process each round
    timings: dict[str, Spread]  # seconds, each renderer in one warm process
    html_bytes: int
    points: int  # in the journal's series, all lines together
    events: int
    settings: Settings


def synthetic_journal(seconds: int = RUN_SECONDS) -> dict[str, Any]:
    """A 30-minute high-error-rate run with a point a second in every series."""
    rng = random.Random(15)  # noqa: S311 (made-up samples, the same every run)
    fault_at, cleared_at = 300.0, 1200.0
    events: list[dict[str, Any]] = [
        {"t": 0.0, "kind": "run_started", "scenario": "high-error-rate", "platform": "local",
         "time_scale": 1.0},
        {"t": 1.0, "kind": "load_started", "rps": 50.0, "path": "/api/data"},
        {"t": fault_at, "kind": "fault_injected", "pods": ["sre-app-a", "sre-app-b"],
         "faults": {"error_rate": 0.2}},
        {"t": 318.0, "kind": "sli_breached", "sli": "availability", "value": 0.81},
        {"t": 318.0, "kind": "service_unhealthy", "reason": "clients see availability breached"},
        {"t": 330.0, "kind": "alert_pending", "alert": "HighErrorRate"},
        {"t": 390.0, "kind": "alert_firing", "alert": "HighErrorRate"},
        {"t": 421.0, "kind": "notification_delivered", "status": "firing",
         "alerts": ["HighErrorRate"]},
        {"t": cleared_at, "kind": "faults_cleared", "pods": ["sre-app-a", "sre-app-b"]},
        {"t": 1203.0, "kind": "sli_recovered", "sli": "availability", "value": 1.0},
        {"t": 1203.0, "kind": "service_healthy"},
        {"t": 1245.0, "kind": "alert_resolved", "alert": "HighErrorRate"},
        {"t": 1290.0, "kind": "notification_delivered", "status": "resolved",
         "alerts": ["HighErrorRate"]},
    ]  # fmt: skip
    replicas, replica_line = 2, []
    for t in range(seconds):
        if t % 60 == 30 and fault_at < t < 1500:  # the autoscaler follows the retries
            previous, replicas = replicas, 3 if replicas == 2 else 2
            events.append({"t": float(t), "kind": "autoscaled", "previous": previous,
                           "desired": replicas, "reason": "cpu"})  # fmt: skip
            name = f"sre-app-{t}"
            events += [
                {"t": t + 0.5, "kind": "pod_started", "pod": name, "version": "1.0.0"},
                {"t": t + 2.0, "kind": "pod_ready", "pod": name},
            ]
        replica_line.append([t, replicas])
    for index in range(1, 40):
        at = float(index * 45)
        events += [
            {"t": at, "kind": "step_started", "phase": "steps", "index": index,
             "step": f"wait {index}"},
            {"t": at + 1, "kind": "step_passed", "phase": "steps", "index": index,
             "detail": "done"},
        ]  # fmt: skip
    events.sort(key=lambda event: event["t"])

    def line(value: Callable[[int], float | None]) -> list[list[float | None]]:
        return [[t, None if (v := value(t)) is None else round(v, 5)] for t in range(seconds)]

    def faulty(t: int) -> bool:
        return fault_at + 15 <= t < cleared_at + 30

    series = {
        "step_s": 1.0,
        "request_rate": line(lambda _: 50 + rng.gauss(0, 1.5)),
        "error_percent": line(lambda t: (20 + rng.gauss(0, 1)) if faulty(t) else 0.0),
        "latency_p50_s": line(lambda _: 0.004 + rng.random() / 2000),
        "latency_p95_s": line(lambda _: 0.009 + rng.random() / 500),
        "latency_p99_s": line(lambda t: None if t % 600 == 7 else 0.02 + rng.random() / 100),
        "replicas": replica_line,
        "load": {
            "achieved_rps": line(lambda _: 50.0),
            "p95_ms": line(lambda t: 9 + 3 * math.sin(t / 40) + rng.random()),
            "dropped": line(lambda _: 0.0),
        },
        "missing": {},
    }
    expectations = [
        ("HighErrorRate fires within 3m", True, "fired after 1m 30s", "firing", 90.0, 180.0),
        ("HighErrorRate is notified within 2m", True, "notified after 2m 01s", "notified",
         121.0, 120.0),
        ("HighErrorRate resolves within 2m", True, "resolved 45 s after the remediation",
         "resolved", 45.0, 120.0),
        ("PodsDown never fires", True, "never fired", "never_fires", None, None),
        ("recovers within 3m", True, "recovered after 45 s", "recovery", 45.0, 180.0),
        ("error budget burned at most 50%", False, "burned 62.5% of the error budget",
         "budget", 0.625, 0.5),
    ]  # fmt: skip
    return {
        "scenario": "high-error-rate",
        "summary": "20% of requests fail on every replica for 15 minutes",
        "verdict": "failed",
        "exit_code": 1,
        "platform": "local",
        "time_scale": 1.0,
        "started_at": 1796472000.0,
        "duration_s": float(seconds),
        "interrupted": False,
        "error": "",
        "settings": {"slo_objective": 0.999, "slo_window_s": 2592000.0},
        "metrics": {"time_to_detect_s": 90.0, "time_to_notify_s": 121.0,
                    "time_to_recover_s": 45.0, "rto_s": 903.0, "error_budget_burned": 0.625},
        "metrics_real_time": {"time_to_detect_s": 90.0, "time_to_notify_s": 121.0,
                              "time_to_recover_s": 45.0, "rto_s": 903.0,
                              "error_budget_burned": 0.625},
        "expectations": [
            {"expectation": e, "passed": p, "detail": d, "kind": k, "measured": m, "limit": lim}
            for e, p, d, k, m, lim in expectations
        ],
        "steps": [],
        "requests": {"sent": 90000, "ok": 80000, "bad": 10000, "skipped": 0},
        "steady_state": {"before": "held", "after": "held"},
        "events": events,
        "series": series,
        "predicted": [
            {"alert": "HighErrorRate", "fire_band_s": [75.0, 105.0],
             "notify_band_s": [105.0, 140.0], "observed_fire_s": 90.0,
             "observed_notify_s": 121.0, "fire_verdict": "within",
             "notify_verdict": "within", "likely_cause": None},
        ],
    }  # fmt: skip


def _points(journal: dict[str, Any]) -> int:
    series = journal["series"]
    lines = [v for k, v in series.items() if isinstance(v, list)]
    lines += list(series["load"].values())
    return sum(len(points) for points in lines)


def _warm_timings(journal: dict[str, Any], rounds: int) -> dict[str, Spread]:
    from sreshow.report.html import render_html
    from sreshow.report.junit import render_junit
    from sreshow.report.markdown import render_markdown

    renderers = {"report.md": render_markdown, "report.html": render_html, "JUnit": render_junit}
    for render in renderers.values():  # imports and first-use caches, not counted
        render(journal)
    times: dict[str, list[float]] = {name: [] for name in renderers}
    for _ in range(rounds):
        for name, render in renderers.items():
            started = time.perf_counter()
            render(journal)
            times[name].append(time.perf_counter() - started)
    return {name: Spread.of(values) for name, values in times.items()}


def _command_timings(state_dir: Path, rounds: int) -> list[float]:
    sreshow = VENV_BIN / "sreshow"
    if not sreshow.exists():
        raise BenchError(f"{sreshow} is missing; install the project first (make test)")
    env = {**os.environ, "SRESHOW_STATE_DIR": str(state_dir)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached after a run
    argv = [str(sreshow), "report", RUN_ID, "--junit", str(state_dir / "junit.xml")]
    times = []
    for round_index in range(rounds + 1):
        started = time.perf_counter()
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise BenchError(f"sreshow report exited {result.returncode}: {result.stderr.strip()}")
        if round_index:  # the first run compiles bytecode: not counted
            times.append(elapsed)
    return times


def measure(settings: Settings) -> RenderSummary:
    journal = synthetic_journal()
    with tempfile.TemporaryDirectory(prefix="sreshow-bench-report-") as tmp:
        state = Path(tmp)
        run_dir = state / "runs" / RUN_ID
        run_dir.mkdir(parents=True)
        (run_dir / "journal.json").write_text(json.dumps(journal))
        command = _command_timings(state, settings.rounds)
        html_bytes = (run_dir / "report.html").stat().st_size
    print(f"report_render: sreshow report x{settings.rounds}: "
          f"{statistics.median(command):.2f} s median", file=sys.stderr)  # fmt: skip
    return RenderSummary(
        command=Spread.of(command),
        timings=_warm_timings(journal, settings.rounds),
        html_bytes=html_bytes,
        points=_points(journal),
        events=len(journal["events"]),
        settings=settings,
    )


def checks(summary: RenderSummary) -> list[Check]:
    median = summary.command.median
    return [
        Check("sreshow report, 30-minute run", f"{median:.2f} s", f"<= {TARGET_SECONDS:g} s",
              median <= TARGET_SECONDS),
    ]  # fmt: skip


def render(summary: RenderSummary) -> str:
    title = (
        f"Report rendering: a 30-minute run, {summary.points:,} points in its series, "
        f"{summary.events} events; median (min-max) of {summary.settings.rounds} rounds"
    )
    rows = [("sreshow report RUN_ID --junit FILE (new process)", summary.command.format(".2f"))]
    rows += [
        (f"{name} alone (warm process)", spread.format(".3f"))
        for name, spread in summary.timings.items()
    ]
    table = render_table(("what", "seconds"), rows)
    return f"{title}\n\n{table}\n\nreport.html: {summary.html_bytes / 1024:,.0f} KiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    try:
        summary = measure(Settings.quick() if args.quick else Settings())
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    print(render(summary) + "\n\n" + render_checks(checks(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
