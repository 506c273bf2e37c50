"""Our open-model load generator against wrk, on the same target in one run.

The demo app (the instrumented variant of app_throughput.py) serves GET /api/data pinned
to core 0; wrk and our generator (`python -m sreshow.scenarios.load`, as a Job runs it)
take turns on core 1. Measured:

1. wrk's maximum: closed loop, `wrk -t1 -c16`, after a warm-up;
2. the highest rate our generator sustains over the same 16 connections: the achieved
   rate within 2 % of the rate asked, no request failed (with more connections an open
   model can keep sending into a server that only queues them). Probes from half of
   wrk's maximum up by x1.25 (or down by x0.8) until the answer changes, then bisected;
   each probe a short run;
3. rate accuracy at 1,000 RPS: achieved / asked over `rounds` runs, with its p50/p99,
   with the connections `sreshow load` takes by default;
4. CPU per 1,000 requests at 1,000 RPS, ours and wrk's (paced by wrk_report.lua): the
   child's user + system time, less the start-up and exit of a run of one request.

Run on its own: .venv/bin/python bench/load_generator.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from app_throughput import CONNECTIONS, VARIANTS, Server, run_wrk, running_server
from report import RESULTS_DIR, VENV_BIN, BenchError, Check, Spread, render_checks, render_table

GENERATOR_CORE = "1"  # wrk's core in app_throughput.py: the two take turns on it
ACCURACY = 0.02  # the issue's bound
TARGET_RATIO = 0.5  # our highest sustained rate against wrk's maximum
FIXED_RPS = 1000
UP, DOWN = 1.25, 0.8
MAX_PROBES = 12


@dataclass(frozen=True)
class Settings:
    probe_seconds: float = 5.0
    accuracy_seconds: float = 10.0
    rounds: int = 3
    wrk_seconds: int = 10
    bisections: int = 2

    @classmethod
    def quick(cls) -> Settings:
        return cls(probe_seconds=2.0, accuracy_seconds=3.0, rounds=1, wrk_seconds=3, bisections=1)


@dataclass(frozen=True)
class GeneratorRun:
    """What one run of our generator reported (its --json result) and the CPU it used."""

    rps: float
    achieved_rps: float
    sent: int
    dropped: int
    failed: int
    p50_ms: float | None
    p99_ms: float | None
    cpu_seconds: float

    @property
    def sustained(self) -> bool:
        return self.failed == 0 and self.achieved_rps >= (1 - ACCURACY) * self.rps


@dataclass(frozen=True)
class LoadGeneratorSummary:
    settings: Settings
    wrk_max_rps: float
    sustained_rps: float
    probes: list[GeneratorRun] = field(default_factory=list)
    accuracy: list[GeneratorRun] = field(default_factory=list)
    ours_cpu_ms_per_1000: float = 0.0
    wrk_cpu_ms_per_1000: float = 0.0
    startup_cpu_seconds: float = 0.0

    @property
    def ratio(self) -> float:
        return self.sustained_rps / self.wrk_max_rps

    @property
    def accuracy_spread(self) -> Spread:
        return Spread.of([r.achieved_rps / r.rps for r in self.accuracy])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_generator(
    server: Server, rps: float, seconds: float, startup_cpu: float, connections: int | None = None
) -> GeneratorRun:
    """One run of `python -m sreshow.scenarios.load` on core 1 (its start-up CPU taken off);
    `connections`: its default unless given."""
    result_file = RESULTS_DIR / "load_generator_run.json"
    base = server.url.removesuffix("/api/data")
    command = ["taskset", "-c", GENERATOR_CORE, str(VENV_BIN / "python"), "-m"]
    command += ["sreshow.scenarios.load", "--url", base, "--rps", f"{rps:g}"]
    command += ["--duration", f"{seconds:g}", "--json", str(result_file)]
    command += [] if connections is None else ["--connections", str(connections)]
    before = children_cpu()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    cpu = children_cpu() - before - startup_cpu
    if done.returncode != 0:
        raise BenchError(f"the generator exited with {done.returncode}: {done.stderr.strip()}")
    result = json.loads(result_file.read_text())
    return GeneratorRun(
        rps=rps,
        achieved_rps=result["achieved_rps"],
        sent=result["sent"],
        dropped=result["dropped"],
        failed=result["failed"],
        p50_ms=result["latency_ms"]["p50"],
        p99_ms=result["latency_ms"]["p99"],
        cpu_seconds=max(cpu, 0.0),
    )


def startup_cpu(server: Server) -> float:
    """CPU of a run of one request: interpreter, imports, thread and loop, exit."""
    runs = [run_generator(server, 1000, 0.001, 0.0).cpu_seconds for _ in range(3)]
    return min(runs)


def highest_sustained(probe: Callable[[float], GeneratorRun], start: float) -> list[GeneratorRun]:
    """Probe up (or down) from `start` until the answer changes, then bisect; every probe."""
    runs = [probe(start)]
    step = UP if runs[0].sustained else DOWN
    while len(runs) < MAX_PROBES and runs[-1].sustained == runs[0].sustained:
        runs.append(probe(round(runs[-1].rps * step)))
    return runs


def bisect(probe: Callable[[float], GeneratorRun], runs: list[GeneratorRun], times: int) -> None:
    for _ in range(times):
        good = max((r.rps for r in runs if r.sustained), default=None)
        bad = min((r.rps for r in runs if not r.sustained and (good is None or r.rps > good)),
                  default=None)  # fmt: skip
        if good is None or bad is None or bad - good < 0.02 * good:
            return
        runs.append(probe(round((good + bad) / 2)))


def measure(settings: Settings) -> LoadGeneratorSummary:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} not found; install it: apt-get install -y {tool}")
    RESULTS_DIR.mkdir(exist_ok=True)
    with running_server(VARIANTS[0]) as server:
        run_wrk(server.url, 2)  # warm-up
        wrk_max = run_wrk(server.url, settings.wrk_seconds).rate
        say(f"wrk closed loop: {wrk_max:,.0f} RPS")
        idle = startup_cpu(server)
        say(f"generator start-up and exit: {idle * 1000:.0f} ms CPU")

        def probe(rps: float) -> GeneratorRun:
            run = run_generator(server, rps, settings.probe_seconds, idle, CONNECTIONS)
            verdict = "sustained" if run.sustained else "not sustained"
            say(f"probe {rps:,.0f} RPS: achieved {run.achieved_rps:,.1f} ({verdict})")
            return run

        probes = highest_sustained(probe, round(wrk_max * TARGET_RATIO))
        bisect(probe, probes, settings.bisections)
        sustained = max((r.rps for r in probes if r.sustained), default=0.0)
        accuracy = []
        for index in range(settings.rounds):
            run = run_generator(server, FIXED_RPS, settings.accuracy_seconds, idle)
            accuracy.append(run)
            say(f"accuracy round {index + 1}: {run.achieved_rps:,.2f} of {FIXED_RPS} RPS")
        before = children_cpu()
        paced = run_wrk(server.url, int(settings.accuracy_seconds), rate=FIXED_RPS)
        wrk_cpu = children_cpu() - before
    ours = min(accuracy, key=lambda r: r.cpu_seconds / r.sent)
    summary = LoadGeneratorSummary(
        settings=settings,
        wrk_max_rps=wrk_max,
        sustained_rps=sustained,
        probes=probes,
        accuracy=accuracy,
        ours_cpu_ms_per_1000=ours.cpu_seconds * 1000 / (ours.sent / 1000),
        wrk_cpu_ms_per_1000=wrk_cpu * 1000 / (paced.requests / 1000),
        startup_cpu_seconds=idle,
    )
    raw = asdict(summary) | {"ratio": summary.ratio}
    (RESULTS_DIR / "load_generator.json").write_text(json.dumps(raw, indent=2) + "\n")
    return summary


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def checks(summary: LoadGeneratorSummary) -> list[Check]:
    spread = summary.accuracy_spread
    worst = max(abs(spread.low - 1), abs(spread.high - 1))
    return [
        Check("generator sustained / wrk max", f"{summary.ratio:.2f}x", f">= {TARGET_RATIO}x",
              summary.ratio >= TARGET_RATIO),
        Check(f"rate accuracy at {FIXED_RPS:,} RPS", f"{worst:.2%} off", f"<= {ACCURACY:.0%}",
              worst <= ACCURACY),
    ]  # fmt: skip


def render(summary: LoadGeneratorSummary) -> str:
    s = summary.settings
    title = (
        f"Load generator: GET /api/data; app on core 0, wrk and ours (python -m "
        f"sreshow.scenarios.load) in turn on core {GENERATOR_CORE}; probes of "
        f"{s.probe_seconds:g} s over {CONNECTIONS} connections, {s.rounds} accuracy round(s) "
        f"of {s.accuracy_seconds:g} s"
    )
    rows = [
        (f"{r.rps:,.0f}", f"{r.achieved_rps:,.1f}", f"{r.dropped:,}", f"{r.failed:,}",
         f"{r.p99_ms or 0:.1f} ms", "yes" if r.sustained else "no")
        for r in sorted(summary.probes, key=lambda r: r.rps)
    ]  # fmt: skip
    probes = render_table(("asked RPS", "achieved", "dropped", "failed", "p99", "sustained"), rows)
    accuracy = summary.accuracy_spread
    p50 = Spread.of([r.p50_ms or 0 for r in summary.accuracy])
    p99 = Spread.of([r.p99_ms or 0 for r in summary.accuracy])
    lines = (
        f"wrk max (closed loop, -c{CONNECTIONS}):       {summary.wrk_max_rps:,.0f} RPS\n"
        f"ours, highest sustained within 2%: {summary.sustained_rps:,.0f} RPS"
        f" ({summary.ratio:.2f}x wrk)\n"
        f"ours at {FIXED_RPS:,} RPS: achieved/asked {accuracy.format('.4f')};"
        f" p50 {p50.format('.2f')} ms, p99 {p99.format('.2f')} ms (from intended send time)\n"
        f"CPU per 1,000 requests at {FIXED_RPS:,} RPS: ours {summary.ours_cpu_ms_per_1000:.0f} ms,"
        f" wrk (paced) {summary.wrk_cpu_ms_per_1000:.0f} ms"
        f" (our start-up and exit, {summary.startup_cpu_seconds * 1000:.0f} ms, taken off)"
    )
    return "\n\n".join([title, probes, lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short probes (a smoke run)")
    args = parser.parse_args(argv)
    try:
        summary = measure(Settings.quick() if args.quick else Settings())
    except BenchError as e:
        print(f"load_generator: error: {e}", file=sys.stderr)
        return 1
    print(render(summary) + "\n\n" + render_checks(checks(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
