"""Throughput, latency and memory of the demo app with and without instrumentation.

Three variants serve GET /api/data, each its own uvicorn process pinned to core 0;
wrk runs pinned to core 1. Rounds interleave the variants (a, b, c, a, b, c, ...) so
drift on the machine hits all three alike. Per round and variant: a closed-loop
warm-up, a closed-loop run for the maximum rate, a run paced at half that rate for the
p99 latency, then the server's RSS. Figures are medians over the rounds.

Run on its own: .venv/bin/python bench/app_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from report import (
    BENCH_DIR,
    HOST,
    RESULTS_DIR,
    ROOT,
    VENV_BIN,
    BenchError,
    Check,
    Spread,
    free_port,
    render_checks,
    render_table,
)

ENDPOINT = "/api/data"
SERVER_CORE = "0"
WRK_CORE = "1"
CONNECTIONS = 16
WRK_SCRIPT = BENCH_DIR / "wrk_report.lua"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
# Fixed so every variant serves the same payload and shuts down at once.
COMMON_ENV = {
    "POD_NAME": "bench",
    "APP_BROKEN": "",
    "APP_ACCESS_LOG": "off",
    "APP_DRAIN_SECONDS": "0",
}

TARGET_RATIO = 0.85
TARGET_RPS = 2000.0
TARGET_P99_MS = 10.0
TARGET_RSS_MIB = 80.0


@dataclass(frozen=True)
class Variant:
    """One way to serve the app, and a line its `/metrics` must show after load."""

    name: str
    description: str
    command: tuple[str, ...]  # after the interpreter
    env: Mapping[str, str]
    metrics_marker: str | None  # None: `/metrics` must not mention the endpoint at all


VARIANTS = (
    Variant(
        "instrumented",
        "python -m demo_app (our pure-ASGI middleware, the default)",
        ("-m", "demo_app"),
        {"APP_INSTRUMENTATION": "on"},
        f'route="{ENDPOINT}",status="200"',
    ),
    Variant(
        "baseline",
        "python -m demo_app with APP_INSTRUMENTATION=off",
        ("-m", "demo_app"),
        {"APP_INSTRUMENTATION": "off"},
        None,
    ),
    Variant(
        "instrumentator",
        "bench/instrumentator_app.py (baseline + prometheus-fastapi-instrumentator)",
        (str(BENCH_DIR / "instrumentator_app.py"),),
        {"APP_INSTRUMENTATION": "off"},
        f'handler="{ENDPOINT}"',
    ),
)


@dataclass(frozen=True)
class Settings:
    rounds: int = 5
    seconds: int = 10
    warmup_seconds: int = 3

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, seconds=3, warmup_seconds=1)


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reported (its `done()` line)."""

    requests: int
    duration_us: int
    socket_errors: int
    non_2xx: int
    p50_us: int
    p99_us: int
    max_us: int

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6)


@dataclass(frozen=True)
class RoundResult:
    variant: str
    round: int
    max_run: WrkRun
    cpu_us_per_request: float  # server CPU (user + system) during the max-rate run
    other_load: float  # CPU of anything but server and wrk, same run, in cores (both cores)
    half_rate_target: int
    half_run: WrkRun
    rss_mib: float


@dataclass(frozen=True)
class VariantSummary:
    name: str
    max_rps: Spread
    p99_at_max_ms: Spread
    cpu_us_per_request: Spread
    half_rate_target: Spread
    half_rate_achieved: Spread
    p99_at_half_ms: Spread
    rss_mib_final: float  # after the last round, i.e. after all the load


@dataclass(frozen=True)
class ThroughputSummary:
    settings: Settings
    variants: dict[str, VariantSummary]
    # Paired per round (adjacent runs), then the median over the rounds.
    instrumented_over_baseline: Spread
    instrumented_over_instrumentator: Spread
    other_load: Spread  # over every max-rate run: near 0 on a quiet machine


@dataclass(frozen=True)
class Server:
    variant: Variant
    port: int
    process: psutil.Process

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{ENDPOINT}"


def http_get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def wait_until_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode} at start-up; see {log}")
        try:
            if http_get(port, "/ready")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)
    raise BenchError(f"server on port {port} not ready within {START_TIMEOUT_SECONDS:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)


@contextmanager
def running_server(variant: Variant) -> Iterator[Server]:
    """Start `variant` on core 0 and a free port; stop it on the way out."""
    port = free_port()
    log = RESULTS_DIR / f"server-{variant.name}.log"
    command = ["taskset", "-c", SERVER_CORE, str(VENV_BIN / "python"), *variant.command]
    env = {**os.environ, **COMMON_ENV, **variant.env}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_ready(process, port, log)
            server = psutil.Process(process.pid)  # taskset execs: this is the server itself
            if server.cpu_affinity() != [int(SERVER_CORE)]:
                raise BenchError(f"{variant.name} is not pinned to core {SERVER_CORE}")
            yield Server(variant, port, server)
        finally:
            stop(process)


def run_wrk(url: str, seconds: int, rate: int | None = None) -> WrkRun:
    """Run wrk on core 1: closed loop, or paced at `rate` requests/s."""
    command = ["taskset", "-c", WRK_CORE, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    command += ["--timeout", "5s", "-s", str(WRK_SCRIPT), url]
    if rate is not None:
        command += ["--", str(rate)]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=seconds + 30
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")]
    if done.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    run = WrkRun(**json.loads(lines[-1].removeprefix("WRK_JSON ")))
    if run.socket_errors or run.non_2xx:
        raise BenchError(f"wrk saw {run.socket_errors} socket errors, {run.non_2xx} non-2xx")
    return run


def check_metrics(server: Server) -> None:
    """Fail unless the variant records (or, for the baseline, does not record) the load."""
    status, text = http_get(server.port, "/metrics")
    marker = server.variant.metrics_marker
    recorded = ENDPOINT in text if marker is None else marker in text
    if status != 200 or recorded != (marker is not None):
        wanted = f"a line with {marker}" if marker else f"no mention of {ENDPOINT}"
        raise BenchError(f"{server.variant.name}: /metrics answered {status}, wanted {wanted}")


@dataclass(frozen=True)
class CpuClock:
    """CPU seconds so far: the server's, finished children's (wrk), all cores' (steal too)."""

    wall: float
    server: float
    children: float
    machine: float

    @classmethod
    def read(cls, server: psutil.Process) -> CpuClock:
        own = server.cpu_times()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # servers still run: not in it
        t = psutil.cpu_times()
        return cls(
            wall=time.monotonic(),
            server=own.user + own.system,
            children=children.ru_utime + children.ru_stime,
            machine=t.user + t.nice + t.system + t.irq + t.softirq + t.steal,  # guest is in user
        )


def measure_round(server: Server, round_index: int, settings: Settings) -> RoundResult:
    run_wrk(server.url, settings.warmup_seconds)
    before = CpuClock.read(server.process)
    max_run = run_wrk(server.url, settings.seconds)
    after = CpuClock.read(server.process)
    cpu_seconds = after.server - before.server
    wrk_seconds = after.children - before.children
    other_seconds = max(after.machine - before.machine - cpu_seconds - wrk_seconds, 0.0)
    half_rate = round(max_run.rate / 2)
    half_run = run_wrk(server.url, settings.seconds, rate=half_rate)
    return RoundResult(
        variant=server.variant.name,
        round=round_index,
        max_run=max_run,
        cpu_us_per_request=cpu_seconds * 1e6 / max_run.requests,
        other_load=other_seconds / (after.wall - before.wall),
        half_rate_target=half_rate,
        half_run=half_run,
        rss_mib=server.process.memory_info().rss / 2**20,
    )


def summarise(settings: Settings, results: Sequence[RoundResult]) -> ThroughputSummary:
    by_variant = {v.name: [r for r in results if r.variant == v.name] for v in VARIANTS}
    summaries = {
        name: VariantSummary(
            name=name,
            max_rps=Spread.of([r.max_run.rate for r in rows]),
            p99_at_max_ms=Spread.of([r.max_run.p99_us / 1000 for r in rows]),
            cpu_us_per_request=Spread.of([r.cpu_us_per_request for r in rows]),
            half_rate_target=Spread.of([r.half_rate_target for r in rows]),
            half_rate_achieved=Spread.of([r.half_run.rate for r in rows]),
            p99_at_half_ms=Spread.of([r.half_run.p99_us / 1000 for r in rows]),
            rss_mib_final=rows[-1].rss_mib,
        )
        for name, rows in by_variant.items()
    }

    def paired_ratio(numerator: str, denominator: str) -> Spread:
        pairs = zip(by_variant[numerator], by_variant[denominator], strict=True)
        return Spread.of([a.max_run.rate / b.max_run.rate for a, b in pairs])

    return ThroughputSummary(
        settings=settings,
        variants=summaries,
        instrumented_over_baseline=paired_ratio("instrumented", "baseline"),
        instrumented_over_instrumentator=paired_ratio("instrumented", "instrumentator"),
        other_load=Spread.of([r.other_load for r in results]),
    )


def measure(settings: Settings) -> ThroughputSummary:
    """Run every round; progress goes to stderr, raw results to bench/results/."""
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} not found; install it: apt-get install -y {tool}")
    RESULTS_DIR.mkdir(exist_ok=True)
    results: list[RoundResult] = []
    with ExitStack() as stack:
        servers = [stack.enter_context(running_server(v)) for v in VARIANTS]
        for server in servers:
            run_wrk(server.url, settings.warmup_seconds)
            check_metrics(server)
        for round_index in range(1, settings.rounds + 1):
            for server in servers:
                result = measure_round(server, round_index, settings)
                results.append(result)
                print(
                    f"round {round_index}/{settings.rounds} {server.variant.name:<14}"
                    f" {result.max_run.rate:7,.0f} RPS  p99 {result.half_run.p99_us / 1000:.2f} ms"
                    f" at {result.half_run.rate:,.0f} RPS  RSS {result.rss_mib:.1f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
    summary = summarise(settings, results)
    raw = {"summary": asdict(summary), "rounds": [asdict(r) for r in results]}
    (RESULTS_DIR / "app_throughput.json").write_text(json.dumps(raw, indent=2) + "\n")
    return summary


def checks(summary: ThroughputSummary) -> list[Check]:
    ours = summary.variants["instrumented"]
    ratio = summary.instrumented_over_baseline.median
    return [
        Check("instrumented / baseline max RPS", f"{ratio:.2f}x", f">= {TARGET_RATIO}x",
              ratio >= TARGET_RATIO),
        Check("instrumented max RPS, one core", f"{ours.max_rps.median:,.0f}",
              f">= {TARGET_RPS:,.0f}", ours.max_rps.median >= TARGET_RPS),
        Check("instrumented p99 at half max rate", f"{ours.p99_at_half_ms.median:.2f} ms",
              f"< {TARGET_P99_MS:.0f} ms", ours.p99_at_half_ms.median < TARGET_P99_MS),
        Check("instrumented RSS after the run", f"{ours.rss_mib_final:.1f} MiB",
              f"<= {TARGET_RSS_MIB:.0f} MiB", ours.rss_mib_final <= TARGET_RSS_MIB),
    ]  # fmt: skip


def render(summary: ThroughputSummary) -> str:
    s = summary.settings
    title = (
        f"App throughput: GET {ENDPOINT}; server on core {SERVER_CORE}, wrk -t1 -c{CONNECTIONS}"
        f" on core {WRK_CORE}; {s.rounds} interleaved rounds x {s.seconds} s;"
        " median (min-max) over rounds"
    )
    rows = [
        (
            v.name,
            v.max_rps.format(",.0f"),
            f"{v.p99_at_max_ms.median:.2f} ms",
            f"{v.cpu_us_per_request.median:.0f} µs",
            f"{v.half_rate_target.median:,.0f} / {v.half_rate_achieved.median:,.0f}",
            v.p99_at_half_ms.format(".2f") + " ms",
            f"{v.rss_mib_final:.1f} MiB",
        )
        for v in summary.variants.values()
    ]
    header = (
        "variant",
        "max RPS",
        "p99 @ max",
        "server CPU/req",
        "half rate: target / got",
        "p99 @ half rate",
        "RSS after",
    )
    ratios = (
        f"instrumented / baseline:       {summary.instrumented_over_baseline.format('.3f')}\n"
        f"instrumented / instrumentator: {summary.instrumented_over_instrumentator.format('.3f')}\n"
        f"other work on the machine:     {summary.other_load.format('.2f')} cores"
        " (CPU besides server and wrk during the max-rate runs; near 0 when quiet)"
    )
    return "\n\n".join([title, render_table(header, rows), ratios])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 3 s (a smoke run)")
    args = parser.parse_args(argv)
    try:
        summary = measure(Settings.quick() if args.quick else Settings())
    except BenchError as e:
        print(f"app_throughput: error: {e}", file=sys.stderr)
        return 1
    print(render(summary) + "\n\n" + render_checks(checks(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
