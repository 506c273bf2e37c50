"""Start-up time of `sreshow --help` against a bare `python -c pass`, with hyperfine.

Both run with the project's interpreter (.venv/bin/python; the console script's shebang
points at it), without a shell (`hyperfine -N`), after warm-up runs.

Run on its own: .venv/bin/python bench/cli_startup.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from report import RESULTS_DIR, VENV_BIN, BenchError, Check, render_checks, render_table

TARGET_MEDIAN_MS = 250.0


@dataclass(frozen=True)
class Settings:
    runs: int = 50
    warmup: int = 5

    @classmethod
    def quick(cls) -> Settings:
        return cls(runs=20, warmup=3)


@dataclass(frozen=True)
class Timing:
    """One command's wall-clock times over the runs, in milliseconds."""

    name: str
    median_ms: float
    mean_ms: float
    stddev_ms: float
    min_ms: float
    max_ms: float
    runs: int


@dataclass(frozen=True)
class StartupSummary:
    sreshow: Timing
    python: Timing

    @property
    def ratio(self) -> float:
        return self.sreshow.median_ms / self.python.median_ms

    @property
    def overhead_ms(self) -> float:
        return self.sreshow.median_ms - self.python.median_ms


def measure(settings: Settings) -> StartupSummary:
    """Run hyperfine; its progress goes to stderr, its JSON to bench/results/."""
    if shutil.which("hyperfine") is None:
        raise BenchError("hyperfine not found; install it: apt-get install -y hyperfine")
    sreshow, python = VENV_BIN / "sreshow", VENV_BIN / "python"
    for path in (sreshow, python):
        if not path.exists():
            raise BenchError(
                f"{path} not found; install the project: pip install -e '.[dev,bench]'"
            )
    RESULTS_DIR.mkdir(exist_ok=True)
    export = RESULTS_DIR / "cli_startup.json"
    command = ["hyperfine", "-N", "--style", "basic"]
    command += ["--warmup", str(settings.warmup), "--runs", str(settings.runs)]
    command += ["--export-json", str(export)]
    command += ["-n", "sreshow --help", f"{sreshow} --help", "-n", "python -c pass"]
    command += [f"{python} -c pass"]
    done = subprocess.run(command, check=False, stdout=sys.stderr, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"hyperfine failed with exit code {done.returncode}")
    results = json.loads(export.read_text())["results"]
    sreshow_timing, python_timing = (_timing(r) for r in results)
    return StartupSummary(sreshow_timing, python_timing)


def _timing(result: Mapping[str, Any]) -> Timing:
    """One entry of hyperfine's JSON `results` (times in seconds)."""
    return Timing(
        name=str(result["command"]),
        median_ms=float(result["median"]) * 1000,
        mean_ms=float(result["mean"]) * 1000,
        stddev_ms=float(result["stddev"]) * 1000,
        min_ms=float(result["min"]) * 1000,
        max_ms=float(result["max"]) * 1000,
        runs=len(result["times"]),
    )


def checks(summary: StartupSummary) -> list[Check]:
    median = summary.sreshow.median_ms
    return [
        Check("sreshow --help median", f"{median:.0f} ms", f"<= {TARGET_MEDIAN_MS:.0f} ms",
              median <= TARGET_MEDIAN_MS),
    ]  # fmt: skip


def render(summary: StartupSummary) -> str:
    s = summary.sreshow
    title = f"CLI start-up: hyperfine -N, {s.runs} runs after warm-up; wall-clock times"
    rows = [
        (t.name, f"{t.median_ms:.1f} ms", f"{t.mean_ms:.1f} ± {t.stddev_ms:.1f} ms",
         f"{t.min_ms:.1f}-{t.max_ms:.1f} ms")
        for t in (summary.sreshow, summary.python)
    ]  # fmt: skip
    table = render_table(("command", "median", "mean ± sd", "min-max"), rows)
    ratio = (
        f"sreshow --help / python -c pass: {summary.ratio:.1f}x"
        f" ({summary.overhead_ms:.0f} ms on top of the bare interpreter)"
    )
    return "\n\n".join([title, table, ratio])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 runs after 3 warm-ups")
    args = parser.parse_args(argv)
    try:
        summary = measure(Settings.quick() if args.quick else Settings())
    except BenchError as e:
        print(f"cli_startup: error: {e}", file=sys.stderr)
        return 1
    print(render(summary) + "\n\n" + render_checks(checks(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
