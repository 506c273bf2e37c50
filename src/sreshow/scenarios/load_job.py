"""`python -m sreshow.scenarios.load`: the load generator where only the app's image is
(a Kubernetes Job): the flags of `sreshow load`, `--url` required, plain lines.

It imports nothing the image lacks (no Typer, no Rich). Progress goes to stderr once a
second, the summary to stdout, `--json FILE` gets the result. Exit codes are the CLI's:
0 the run ended (errors from the target are a measurement, not a verdict), 2 a bad flag
(one line), 130 interrupted by Ctrl-C or SIGTERM (after the summary and the file).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from sreshow.core.arrivals import Shape
from sreshow.errors import ExitCode, UsageError
from sreshow.report.load_summary import progress_line, summary_lines
from sreshow.scenarios.load import OpenModelLoad, drive
from sreshow.scenarios.load_plan import (
    DEFAULT_PATH,
    LoadResult,
    check_result_path,
    plan_load,
    save_result,
)

PROGRESS_EVERY_SECONDS = 1.0


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _OneLineParser(
        prog="python -m sreshow.scenarios.load",
        description="Open-model HTTP load: requests on a schedule, whatever the answers.",
    )
    p.add_argument("--url", required=True, help="where to send, e.g. http://sre-app.sre-app")
    p.add_argument("--rps", type=float, required=True, help="requests per second (the base)")
    p.add_argument("--duration", required=True, help="seconds, or a duration like 30s or 2m")
    p.add_argument("--path", default=DEFAULT_PATH, help=f"path to GET (default {DEFAULT_PATH})")
    p.add_argument("--shape", default=Shape.CONSTANT.value, choices=[s.value for s in Shape])
    p.add_argument("--peak-rps", type=float, help="ramp, spike, step: the top rate (2x --rps)")
    p.add_argument("--spike-at", help="spike: when the peak starts (a third of the way)")
    p.add_argument("--spike-for", help="spike: how long it lasts (half of what is left)")
    p.add_argument("--steps", type=int, help="step: how many stages (4)")
    p.add_argument("--max-requests", type=int, help="stop after scheduling this many")
    p.add_argument("--connections", type=int, help="at most open (rps/2, at least 64)")
    p.add_argument("--json", type=Path, help="write the result to this file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        plan = plan_load(
            url=args.url,
            rps=args.rps,
            duration=args.duration,
            path=args.path,
            shape=args.shape,
            peak_rps=args.peak_rps,
            spike_at=args.spike_at,
            spike_for=args.spike_for,
            steps=args.steps,
            max_requests=args.max_requests,
            connections=args.connections,
        )
        if args.json is not None:
            check_result_path(args.json)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return ExitCode.USAGE
    result = drive(OpenModelLoad(), plan, _every_second(), every=0.25)
    print("\n".join(summary_lines(result)), flush=True)
    if args.json is not None:
        try:
            save_result(args.json, result)
        except UsageError as e:
            print(f"error: {e}", file=sys.stderr)
            return ExitCode.USAGE
    return ExitCode.INTERRUPTED if result.interrupted else ExitCode.PASSED


def _every_second() -> Callable[[LoadResult], None]:
    """A progress printer that prints at most once a second."""
    last = [0.0]

    def show(result: LoadResult) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_SECONDS:
            last[0] = now
            print(progress_line(result), file=sys.stderr, flush=True)

    return show


if __name__ == "__main__":
    sys.exit(main())
