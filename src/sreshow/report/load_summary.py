"""A load run in words: the live progress line and the closing summary (in the spirit of
k6's end-of-test summary), as plain strings both front ends print."""

from __future__ import annotations

from collections.abc import Mapping

from sreshow.scenarios.load_plan import LoadResult

_LABEL_WIDTH = 18
_VALUE_WIDTH = 8


def progress_line(result: LoadResult) -> str:
    """E.g. `4.0/10 s  sent 800 (200.0/s of 200/s)  p50 1.2 ms ...  dropped 0`."""
    t, latency = result.tally, result.tally.latency
    percentiles = (
        f"p50 {_ms(latency.p50_ms)}  p95 {_ms(latency.p95_ms)}  p99 {_ms(latency.p99_ms)}"
        if latency.count
        else "no answer yet"
    )
    return "  ".join(
        [
            f"{result.elapsed:.1f}/{result.plan.span:g} s",
            f"sent {t.sent:,} ({result.achieved_rps:,.1f}/s of {result.requested_rps:,.4g}/s)",
            percentiles,
            _status(t.status) or "no status yet",
            f"errors {t.failed:,}",
            f"dropped {t.dropped:,}",
        ]
    )


def summary_lines(result: LoadResult) -> list[str]:
    """The closing summary, one figure a line."""
    t, latency, plan = result.tally, result.tally.latency, result.plan
    ended = "stopped early (interrupted)" if result.interrupted else "the whole schedule"
    lines = [
        f"load: {plan.describe()} → {plan.target}, at most {plan.connections:,} connections",
        "",
        _row(
            "requests sent",
            f"{t.sent:,}",
            f"{result.achieved_rps:,.2f}/s of {result.requested_rps:,.4g}/s requested",
        ),
        _row("dropped", f"{t.dropped:,}", "due but never sent: no connection free in time"),
        _row("late", f"{t.late:,}", "sent over 10 ms after their time (the wait is in latency)"),
        _row("answered", f"{t.answered:,}", _status(t.status) or "no status came back"),
        _row("failed", f"{t.failed:,}", _errors(t.errors) or "no timeout, refusal or reset"),
    ]
    if t.in_flight:
        lines.append(_row("unfinished", f"{t.in_flight:,}", "still in flight at the stop"))
    if latency.count:
        figures = (
            f"min={_ms(latency.min_ms)} mean={_ms(latency.mean_ms)} p50={_ms(latency.p50_ms)} "
            f"p90={_ms(latency.p90_ms)} p95={_ms(latency.p95_ms)} p99={_ms(latency.p99_ms)} "
            f"max={_ms(latency.max_ms)}"
        )
        lines.append(_row("latency", figures, "from each request's intended send time"))
    else:
        lines.append(_row("latency", "-", "nothing came back"))
    lines += [
        _row("connections", f"{result.connections_opened:,} opened", ""),
        _row("duration", f"{result.elapsed:.1f} s", ended),
    ]
    return lines


def _row(label: str, value: str, note: str) -> str:
    return f"  {label:.<{_LABEL_WIDTH}}: {value:<{_VALUE_WIDTH}} {note}".rstrip()


def _status(counts: Mapping[int, int]) -> str:
    return "  ".join(f"{code}: {count:,}" for code, count in counts.items())


def _errors(counts: Mapping[str, int]) -> str:
    return "  ".join(f"{kind}: {count:,}" for kind, count in counts.items())


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f}s"
    if value >= 100:
        return f"{value:.0f}ms"
    return f"{value:.1f}ms" if value >= 10 else f"{value:.2f}ms"
