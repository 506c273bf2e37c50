"""Idle CPU of one app replica: `python -m demo_app` (our server, which sleeps until a
signal) against the same app under uvicorn's own server (which wakes ten times a
second), measured alternately in the same run.

Why it matters: the autoscaler's CPU target is 10% of a 100m request, 10 millicores;
whatever an idle replica burns is counted against it. Each variant is started, left
to settle, then its CPU time is read with psutil over a window (the kernel counts in
10 ms ticks, so windows are long). No request is sent.

Run on its own: .venv/bin/python bench/app_idle.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import psutil

from report import VENV_BIN, BenchError, Check, Spread, free_port, render_checks, render_table

TARGET_MILLICORES = 1.0  # a tenth of the autoscaler's per-replica CPU target
SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class Settings:
    window_seconds: float = 20.0
    rounds: int = 3

    @classmethod
    def quick(cls) -> Settings:
        return cls(window_seconds=5.0, rounds=1)


@dataclass(frozen=True)
class IdleSummary:
    ours: Spread  # millicores
    uvicorn: Spread
    settings: Settings


VARIANTS = {
    "ours": ["-m", "demo_app", "--port", "{port}"],
    "uvicorn": ["-m", "uvicorn", "demo_app.app:create_app", "--factory", "--port", "{port}"],
}


def idle_millicores(variant: str, window: float) -> float:
    port = free_port()
    argv = [str(VENV_BIN / "python"), *(a.format(port=port) for a in VARIANTS[variant])]
    env = {**os.environ, "APP_ACCESS_LOG": "off"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(SETTLE_SECONDS)
        if process.poll() is not None:
            raise BenchError(f"{' '.join(argv)} exited with {process.returncode}")
        meter = psutil.Process(process.pid)
        before = meter.cpu_times()
        time.sleep(window)
        after = meter.cpu_times()
    finally:
        process.terminate()
        process.wait(timeout=30)
    used = (after.user + after.system) - (before.user + before.system)
    return 1000 * used / window


def measure(settings: Settings) -> IdleSummary:
    found: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(settings.rounds):
        for name in VARIANTS:
            found[name].append(idle_millicores(name, settings.window_seconds))
    return IdleSummary(Spread.of(found["ours"]), Spread.of(found["uvicorn"]), settings)


def checks(summary: IdleSummary) -> list[Check]:
    ours = summary.ours.median
    return [
        Check("idle replica CPU (python -m demo_app)", f"{ours:.2f} millicores",
              f"<= {TARGET_MILLICORES:g} millicores", ours <= TARGET_MILLICORES),
    ]  # fmt: skip


def render(summary: IdleSummary) -> str:
    s = summary.settings
    title = (
        f"Idle replica CPU: {s.rounds} round(s) of {s.window_seconds:g} s each, variants "
        "alternating; millicores = CPU ms per s"
    )
    rows = [
        ("python -m demo_app (ours)", summary.ours.format(".2f")),
        ("uvicorn's own server, same app", summary.uvicorn.format(".2f")),
    ]
    table = render_table(("server", "idle millicores, median (range)"), rows)
    return f"{title}\n\n{table}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
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
