"""A stack's time to live: `sreshow up --ttl 45m` records when it should be down by.

The expiry is a Unix time in the state dir's `expires` file, written when `up`
succeeds and removed by `down`. Nothing tears a stack down on its own at that time
(a demo running long must not lose its cluster on stage); instead `status` shows the
time left and every command warns on stderr once it has passed, so a forgotten stack
that costs money by the hour is named each time anyone runs sreshow.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sreshow.core.durations import format_duration, parse_duration
from sreshow.errors import UsageError
from sreshow.files import write_atomically

EXPIRY_FILE = "expires"  # in the state dir
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 7 * 24 * 3600


def parse_ttl(text: str) -> int:
    """Seconds in `--ttl TEXT` (`45m`, `2h`); UsageError naming the flag and the fix."""
    try:
        seconds = parse_duration(text) // 1000
    except ValueError:
        seconds = -1
    if not MIN_TTL_SECONDS <= seconds <= MAX_TTL_SECONDS:
        raise UsageError(
            f"--ttl {text}: give a duration from 1m to 7d, e.g. 45m or 2h "
            "(how long the stack may stay up before every command warns)"
        )
    return seconds


def record_expiry(state_dir: Path, ttl_seconds: int, now: float | None = None) -> float:
    """Record that the stack should be down `ttl_seconds` from `now`; the expiry."""
    expires_at = (time.time() if now is None else now) + ttl_seconds
    write_atomically(state_dir / EXPIRY_FILE, f"{expires_at:.0f}\n")
    return expires_at


def read_expiry(state_dir: Path) -> float | None:
    """The recorded expiry (Unix seconds), None when none was set (or it is unreadable)."""
    try:
        return float((state_dir / EXPIRY_FILE).read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def clear_expiry(state_dir: Path) -> None:
    (state_dir / EXPIRY_FILE).unlink(missing_ok=True)


def describe_expiry(expires_at: float, now: float) -> str:
    """`expires in 12m (at 10:42 UTC)` or `expired 3m ago (at 10:42 UTC)`."""
    at = datetime.fromtimestamp(expires_at, UTC).strftime("%H:%M UTC")
    left = round(expires_at - now)
    span = format_duration(max(60, abs(left)) // 60 * 60 * 1000)
    return f"expires in {span} (at {at})" if left > 0 else f"expired {span} ago (at {at})"


def expiry_warning(state_dir: Path, platform: str, now: float | None = None) -> str | None:
    """The warning every command prints once the stack's time to live has passed."""
    expires_at = read_expiry(state_dir)
    now = time.time() if now is None else now
    if expires_at is None or expires_at > now:
        return None
    return (
        f"warning: the {platform} stack's --ttl {describe_expiry(expires_at, now)}; "
        "bring it down with `sreshow down`"
    )
