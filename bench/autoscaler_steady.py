"""Does the local autoscaler stay put under the scenarios' steady load at time scale 0.1?

A fresh stack at time scale 0.1 gets the shipped scenarios' steady load (5 requests/s
through the Service) for a while, on a quiet machine and then with a CPU hog pinned to
core 1 (a busy loop, `taskset -c 1`). Every 2 s the supervisor's record gives the CPU
the autoscaler counts (the stack's own probes and scrapes at their real-time rate,
`core/cpu.py`) and what each replica really used (the baseline: what the autoscaler
counted before). Reported: both, against the scale-up threshold (the HPA scales up once
the utilisation, truncated to a whole percent, is above target x 1.1: 12% of the
request for the shipped 10% target), the margin, and every replica-count change.

Run on its own: .venv/bin/python bench/autoscaler_steady.py [--quick] [--minutes M]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from report import BenchError, Check, Spread, render_checks, render_table
from stack_driver import Stack, SteadyTraffic, running_stack

TIME_SCALE = 0.1
STEADY_RPS = 5.0  # what every shipped scenario sends outside its incident
SAMPLE_SECONDS = 2.0
WARM_UP_SECONDS = 10.0  # one autoscaler window (5 s) and a sync after the load starts
TOLERANCE = 0.1  # the HPA controller's default


@dataclass(frozen=True)
class Settings:
    minutes: float = 10.0

    @classmethod
    def quick(cls) -> Settings:
        return cls(minutes=1.0)


@dataclass(frozen=True)
class Run:
    """One steady run: the autoscaler's counted CPU and the replicas' raw CPU (% of the
    request), and the replica-count changes seen."""

    condition: str
    counted: tuple[float, ...]
    raw: tuple[float, ...]
    target: float
    changes: tuple[str, ...]
    replicas: tuple[int, ...]

    @property
    def threshold(self) -> float:
        """The lowest whole-percent utilisation the HPA scales up at."""
        return math.floor(self.target * (1 + TOLERANCE)) + 1


@contextmanager
def cpu_hog(enabled: bool) -> Iterator[None]:
    """A busy loop pinned to core 1 while the block runs (nothing when not `enabled`)."""
    if not enabled:
        yield
        return
    hog = subprocess.Popen(["taskset", "-c", "1", "sh", "-c", "while :; do :; done"])
    try:
        yield
    finally:
        hog.kill()
        hog.wait(5)


def steady_run(condition: str, seconds: float, *, hog: bool) -> Run:
    with cpu_hog(hog), running_stack(TIME_SCALE) as (stack, _):
        app = stack.status()["endpoints"]["app"]
        counted: list[float] = []
        raw: list[float] = []
        replicas: list[int] = []
        target = 0.0
        with SteadyTraffic(app + "/api/data", STEADY_RPS) as traffic:
            time.sleep(WARM_UP_SECONDS)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(SAMPLE_SECONDS)
                record = _record(stack)
                scaler = record.get("autoscaler") or {}
                cpu = (scaler.get("utilization") or {}).get("cpu")
                target = float((scaler.get("targets") or {}).get("cpu", target))
                if cpu is not None:
                    counted.append(float(cpu))
                # cpu_percent is a share of one core; the request is 100m = 10% of one.
                raw += [10 * r["cpu_percent"] for r in record["replicas"] if r["cpu_percent"]]
                replicas.append(len(record["replicas"]))
        if traffic.failures or traffic.errors:
            raise BenchError(f"{condition}: the steady load saw failures ({traffic.failures})")
        changes = tuple(
            f"{e['previous']} → {e['desired']} ({e.get('reason', '')})"
            for e in stack.events()
            if e["kind"] == "autoscaled"
        )
    if not counted:
        raise BenchError(f"{condition}: the autoscaler never measured the replicas")
    return Run(condition, tuple(counted), tuple(raw), target, changes, tuple(replicas))


def _record(stack: Stack) -> dict[str, Any]:
    """The supervisor's record (stack.json), read as `status` reads it."""
    record: dict[str, Any] = json.loads((stack.local / "stack.json").read_text())
    return record


def measure(settings: Settings) -> list[Run]:
    seconds = settings.minutes * 60
    print(f"autoscaler: {settings.minutes:g} min of {STEADY_RPS:g} req/s, quiet", file=sys.stderr)
    quiet = steady_run("quiet machine", seconds, hog=False)
    print(f"autoscaler: {settings.minutes:g} min, CPU hog on core 1", file=sys.stderr)
    busy = steady_run("CPU hog on core 1", seconds, hog=True)
    return [quiet, busy]


def render(runs: list[Run], settings: Settings) -> str:
    rows = []
    for run in runs:
        counted, raw = Spread.of(run.counted), Spread.of(run.raw)
        rows.append(
            (
                run.condition,
                f"{counted.median:.0f} (max {counted.high:.0f})",
                f"{raw.median:.1f} (max {raw.high:.1f})",
                f"{run.threshold / counted.high:.1f}x",
                f"{run.threshold / raw.median:.1f}x",
                f"{min(run.replicas)}-{max(run.replicas)}",
                "; ".join(run.changes) or "none",
            )
        )
    header = (
        f"Autoscaler under steady load: time scale {TIME_SCALE:g}, {STEADY_RPS:g} req/s, "
        f"{settings.minutes:g} min per run; CPU in % of the 100m request "
        "(the autoscaler scales up at "
        f"{runs[0].threshold:.0f}%)"
    )
    table = render_table(
        (
            "condition",
            "counted, median (max)",
            "raw, median (max)",
            "margin (counted max)",
            "margin (raw median)",
            "replicas",
            "autoscaler changes",
        ),
        rows,
    )
    return header + "\n\n" + table


def checks(runs: list[Run]) -> list[Check]:
    return [
        Check(
            f"no scaling under steady load, {run.condition}",
            f"{len(run.changes)} changes, counted max {max(run.counted):.0f}%",
            f"0 changes, max < {run.threshold:.0f}%",
            not run.changes and max(run.counted) < run.threshold,
        )
        for run in runs
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one minute per run")
    parser.add_argument("--minutes", type=float, help="minutes per run (default 10)")
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    if args.minutes:
        settings = Settings(minutes=args.minutes)
    try:
        runs = measure(settings)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    print(render(runs, settings) + "\n\n" + render_checks(checks(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
