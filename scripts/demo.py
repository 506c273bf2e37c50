"""`make demo`: the local stack, then a real scenario from fault to page and back.

Brings the stack up at time scale 0.1 (every clock ten times faster) and runs
`sreshow scenario run high-error-rate`: live on a terminal, one line per event when
piped. The scenario cleans up after itself whatever happens. On a terminal the stack
stays up afterwards (`sreshow status --watch`, `sreshow down`); otherwise it is stopped.
The exit code is the scenario's.
"""

from __future__ import annotations

import subprocess
import sys

TIME_SCALE = "0.1"
SCENARIO = "high-error-rate"


def sreshow(*args: str) -> int:
    return subprocess.run([sys.executable, "-m", "sreshow", *args], check=False).returncode


def main() -> int:
    code = sreshow("up", "--time-scale", TIME_SCALE)
    if code != 0:
        return code
    keep_running = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        code = sreshow("scenario", "run", SCENARIO)
    except KeyboardInterrupt:  # the scenario has cleaned up; it exits 130 itself
        code = 130
    if keep_running:
        print("\nThe stack keeps running: `sreshow status --watch`; `sreshow down` stops it.")
    else:
        sreshow("down")
    return code


if __name__ == "__main__":
    sys.exit(main())
