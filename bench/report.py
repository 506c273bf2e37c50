"""What the benchmarks share: paths, spreads of repeated figures, targets and plain tables."""

from __future__ import annotations

import socket
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"  # git-ignored
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"  # every benchmark stays on this machine


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


class BenchError(Exception):
    """The benchmark itself could not run (not a missed target); the message says why."""


@dataclass(frozen=True)
class Spread:
    """The median of repeated measurements and their range."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def format(self, spec: str) -> str:
        return f"{self.median:{spec}} ({self.low:{spec}}-{self.high:{spec}})"


@dataclass(frozen=True)
class Check:
    """One target: the figure measured against it and whether it was met."""

    name: str
    measured: str
    target: str
    passed: bool


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_checks(checks: Sequence[Check]) -> str:
    rows = [(c.name, c.measured, c.target, "PASS" if c.passed else "FAIL") for c in checks]
    return render_table(("target", "measured", "wanted", "result"), rows)
