"""Timings of the local platform: up, down, kill → replacement, idle CPU, alert latency.

Cycles at time scale 1, each: a bare app process started until its /ready answers (the
baseline), `sreshow up` until it returns (every replica ready), the stack left idle
while psutil reads the CPU time of its processes, one replica killed with SIGKILL until
its replacement is ready (events.jsonl), then `sreshow down`. Alert runs at time scale
0.1, each on a fresh stack: steady traffic through the app URL, 20% errors injected on
every replica, until Prometheus shows HighErrorRate firing and the sink has the
notification. Every stack lives in a fresh temporary state dir and is always taken down.

Run on its own: .venv/bin/python bench/local_stack.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import psutil
import yaml

from report import (
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
from stack_driver import (
    SRESHOW,
    WAIT_TIMEOUT_SECONDS,
    Stack,
    SteadyTraffic,
    http_status,
    inject_errors,
    parse_duration,
    parse_rfc3339,
    prometheus_get,
    running_stack,
    wait_for,
)

ALERT = "HighErrorRate"
ERROR_RATE = 0.2
TRAFFIC_RPS = 20.0
SETTLE_SECONDS = 2.0  # after `up`, before the idle window: start-up work is not idle
HPA_CPU_TARGET_MILLICORES = 10.0  # 10% of the Deployment's 100m CPU request

TARGET_UP_SECONDS = 5.0
TARGET_DOWN_SECONDS = 2.0
TARGET_REPLACE_SECONDS = 2.0
TARGET_SUPERVISOR_MILLICORES = 20.0  # 2% of a core


@dataclass(frozen=True)
class Settings:
    cycles: int = 5
    idle_seconds: float = 20.0
    alert_runs: int = 3

    @classmethod
    def quick(cls) -> Settings:
        return cls(cycles=2, idle_seconds=5.0, alert_runs=1)


@dataclass(frozen=True)
class Cycle:
    """One up → idle → kill → down cycle at time scale 1 (seconds, millicores)."""

    bare_app_s: float
    up_s: float
    up_replicas_ready_s: float  # from the start of `up` until the last replica_ready event
    supervisor_mc: float
    replica_mc: float  # mean over the replicas
    monitoring_mc: float  # the other children: Prometheus, Alertmanager, blackbox, HAProxy
    other_cores: float  # CPU on the machine outside the stack during the idle window
    kill_to_exited_s: float  # the supervisor noticed the death
    kill_to_started_s: float  # the replacement's process started
    kill_to_ready_s: float  # the replacement passed /ready
    down_s: float
    down_supervisor_exit_s: float  # from the start of `down` until the supervisor exited


@dataclass(frozen=True)
class AlertRun:
    """One fault injection at time scale 0.1; times from the fault, in seconds."""

    scrape_s: float
    evaluation_s: float
    for_s: float
    pending_s: float  # the rule's activeAt
    firing_s: float  # first poll that saw it firing
    notified_s: float  # the sink's received_at
    requests: int  # sent from the fault until the notification
    errors: int  # 5xx answers among them
    replicas_at_end: int  # the autoscaler adds replicas, without the fault

    @property
    def beyond_for_s(self) -> float:
        return self.firing_s - self.for_s

    @property
    def bound_s(self) -> float:
        return 2 * (self.scrape_s + self.evaluation_s)


@dataclass(frozen=True)
class StackSummary:
    settings: Settings
    cycles: list[Cycle]
    alerts: list[AlertRun]

    def spread(self, field: str) -> Spread:
        return Spread.of([getattr(c, field) for c in self.cycles])

    def alert_spread(self, get: Callable[[AlertRun], float]) -> Spread:
        return Spread.of([get(a) for a in self.alerts])

    @property
    def up_over_bare(self) -> Spread:  # paired per cycle
        return Spread.of([c.up_s / c.bare_app_s for c in self.cycles])


# --- cycles at time scale 1 ------------------------------------------------------


def bare_app_start() -> float:
    """Seconds from starting one `python -m demo_app` until its /ready answers 200."""
    port = free_port()
    env = {**os.environ, "APP_PORT": str(port), "POD_NAME": "bench", "APP_DRAIN_SECONDS": "0"}
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "demo_app"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def ready() -> float | None:
            if process.poll() is not None:
                raise BenchError(f"python -m demo_app exited {process.returncode} at start-up")
            try:
                return time.perf_counter() - start if http_status(port, "/ready") == 200 else None
            except OSError:
                return None

        return wait_for("the bare app's /ready", ready, WAIT_TIMEOUT_SECONDS)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def machine_cpu_seconds() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def idle_cpu(stack: Stack, seconds: float) -> tuple[float, float, float, float]:
    """Millicores of the supervisor, of each replica (mean) and of the rest of the stack,
    and the cores used by anything else on the machine, over `seconds` of idleness."""
    replica_pids = {r["pid"] for r in stack.status()["replicas"]}
    time.sleep(SETTLE_SECONDS)
    supervisor = stack.supervisor()
    children = supervisor.children(recursive=True)
    replicas = [p for p in children if p.pid in replica_pids]
    rest = [p for p in children if p.pid not in replica_pids]
    if len(replicas) != len(replica_pids):
        raise BenchError("a replica in `status --json` is not a child of the supervisor")
    me = psutil.Process()
    groups = ([supervisor], replicas, rest, [me])
    before = [cpu_seconds(g) for g in groups] + [machine_cpu_seconds(), time.monotonic()]
    time.sleep(seconds)
    after = [cpu_seconds(g) for g in groups] + [machine_cpu_seconds(), time.monotonic()]
    used = [a - b for a, b in zip(after, before, strict=True)]
    wall = used.pop()
    sup, reps, others, mine, machine = used
    other_cores = max(machine - sup - reps - others - mine, 0.0) / wall
    return 1000 * sup / wall, 1000 * reps / wall / len(replicas), 1000 * others / wall, other_cores


def kill_one_replica(stack: Stack) -> tuple[float, float, float]:
    """SIGKILL one replica; seconds until the supervisor saw it exit, started a new pod
    and saw that pod ready (from its events.jsonl)."""
    replicas = stack.status()["replicas"]
    old = {r["name"] for r in replicas}
    victim = replicas[0]
    if psutil.Process(victim["pid"]).status() == psutil.STATUS_ZOMBIE:
        raise BenchError(f"replica {victim['name']} is not running")
    killed_at = time.time()  # events carry time.time() of the supervisor
    os.kill(victim["pid"], signal.SIGKILL)

    def replaced() -> tuple[float, float, float] | None:
        events = [e for e in stack.events() if e["t"] >= killed_at]
        exited = [e for e in events if e["kind"] == "replica_exited" and e["pod"] == victim["name"]]
        started = [e for e in events if e["kind"] == "replica_started" and e["pod"] not in old]
        if not exited or not started:
            return None
        new = started[0]["pod"]
        ready = [e for e in events if e["kind"] == "replica_ready" and e["pod"] == new]
        if not ready:
            return None
        return exited[0]["t"] - killed_at, started[0]["t"] - killed_at, ready[0]["t"] - killed_at

    return wait_for(f"a replacement for {victim['name']}", replaced, WAIT_TIMEOUT_SECONDS)


def run_cycle(settings: Settings) -> Cycle:
    bare = bare_app_start()
    with running_stack(1.0) as (stack, up_s):
        ready = [e["t"] for e in stack.events() if e["kind"] == "replica_ready"]
        replicas_ready_s = max(ready) - stack.up_at
        supervisor_mc, replica_mc, monitoring_mc, other = idle_cpu(stack, settings.idle_seconds)
        exited_s, started_s, ready_s = kill_one_replica(stack)
        time.sleep(SETTLE_SECONDS)  # the new replica's probes settle before down
        down_s, supervisor_exit_s = stack.down()
    return Cycle(
        bare, up_s, replicas_ready_s, supervisor_mc, replica_mc, monitoring_mc, other,
        exited_s, started_s, ready_s, down_s, supervisor_exit_s,
    )  # fmt: skip


# --- alert pipeline at time scale 0.1 --------------------------------------------


def rule_timing(prometheus: str) -> tuple[float, float, float]:
    """The running Prometheus's scrape interval, rule evaluation interval and the
    alert's `for`, in seconds (already scaled by the stack)."""
    for group in prometheus_get(prometheus, "/api/v1/rules")["groups"]:
        for rule in group["rules"]:
            if rule.get("name") == ALERT:
                evaluation, for_s = float(group["interval"]), float(rule["duration"])
                break
        else:
            continue
        break
    else:
        raise BenchError(f"Prometheus at {prometheus} has no rule {ALERT}")
    config = yaml.safe_load(prometheus_get(prometheus, "/api/v1/status/config")["yaml"])
    jobs = [j for j in config["scrape_configs"] if j["job_name"] == "sre-app"]
    if not jobs:
        raise BenchError(f"Prometheus at {prometheus} has no sre-app scrape job")
    scrape = jobs[0].get("scrape_interval", config["global"]["scrape_interval"])
    return parse_duration(scrape), evaluation, for_s


def alert_state(prometheus: str) -> tuple[str, float] | None:
    for alert in prometheus_get(prometheus, "/api/v1/alerts")["alerts"]:
        if alert["labels"].get("alertname") == ALERT:
            return alert["state"], parse_rfc3339(alert["activeAt"])
    return None


def run_alert() -> AlertRun:
    with running_stack(0.1) as (stack, _):
        status = stack.status()
        app, prometheus = status["endpoints"]["app"], status["endpoints"]["prometheus"]
        scrape_s, evaluation_s, for_s = rule_timing(prometheus)
        with SteadyTraffic(app + "/api/data", TRAFFIC_RPS) as traffic:
            time.sleep(4 * scrape_s)  # the rate() window holds error-free samples first
            if alert_state(prometheus) is not None:
                raise BenchError(f"{ALERT} is active before any fault was injected")
            inject_errors(stack, ERROR_RATE)
            fault_at, sent_before = time.time(), traffic.requests

            def firing() -> tuple[float, float] | None:
                state = alert_state(prometheus)
                if state is None or state[0] != "firing":
                    return None
                return time.time() - fault_at, state[1] - fault_at

            firing_s, pending_s = wait_for(f"{ALERT} firing", firing, WAIT_TIMEOUT_SECONDS)

            def notified() -> float | None:
                for line in (stack.local / "notifications.jsonl").read_text().splitlines():
                    record = json.loads(line)
                    if record["status"] == "firing" and ALERT in record["alerts"]:
                        return float(record["received_at"]) - fault_at
                return None

            notified_s = wait_for(f"the {ALERT} notification", notified, WAIT_TIMEOUT_SECONDS)
            replicas_at_end = len(stack.status()["replicas"])
        if traffic.failures:
            raise BenchError(f"{traffic.failures} requests through {app} got no answer")
        return AlertRun(
            scrape_s, evaluation_s, for_s, pending_s, firing_s, notified_s,
            traffic.requests - sent_before, traffic.errors, replicas_at_end,
        )  # fmt: skip


# --- the whole benchmark ---------------------------------------------------------


def measure(settings: Settings) -> StackSummary:
    """Run every cycle and alert run; progress to stderr, raw results to bench/results/."""
    if not SRESHOW.exists():
        raise BenchError(f"{SRESHOW} not found; install the project: pip install -e '.[dev,bench]'")
    RESULTS_DIR.mkdir(exist_ok=True)
    cycles: list[Cycle] = []
    for index in range(1, settings.cycles + 1):
        c = run_cycle(settings)
        cycles.append(c)
        print(
            f"cycle {index}/{settings.cycles}: bare app {c.bare_app_s:.2f} s, up {c.up_s:.2f} s,"
            f" supervisor {c.supervisor_mc:.1f} m, replica {c.replica_mc:.1f} m,"
            f" kill→ready {c.kill_to_ready_s:.2f} s, down {c.down_s:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    alerts: list[AlertRun] = []
    for index in range(1, settings.alert_runs + 1):
        a = run_alert()
        alerts.append(a)
        print(
            f"alert {index}/{settings.alert_runs}: pending {a.pending_s:.2f} s,"
            f" firing {a.firing_s:.2f} s, notified {a.notified_s:.2f} s after the fault",
            file=sys.stderr,
            flush=True,
        )
    summary = StackSummary(settings, cycles, alerts)
    raw = {"settings": asdict(settings), "cycles": [asdict(c) for c in cycles]}
    raw["alerts"] = [asdict(a) for a in alerts]
    (RESULTS_DIR / "local_stack.json").write_text(json.dumps(raw, indent=2) + "\n")
    return summary


def checks(summary: StackSummary) -> list[Check]:
    up, down = summary.spread("up_s").median, summary.spread("down_s").median
    ready = summary.spread("kill_to_ready_s").median
    supervisor = summary.spread("supervisor_mc").median
    beyond = summary.alert_spread(lambda a: a.beyond_for_s).median
    bound = summary.alerts[0].bound_s
    return [
        Check("sreshow up to all ready, scale 1", f"{up:.2f} s",
              f"<= {TARGET_UP_SECONDS:.0f} s", up <= TARGET_UP_SECONDS),
        Check("sreshow down", f"{down:.2f} s", f"<= {TARGET_DOWN_SECONDS:.0f} s",
              down <= TARGET_DOWN_SECONDS),
        Check("kill -9 → replacement ready", f"{ready:.2f} s",
              f"<= {TARGET_REPLACE_SECONDS:.0f} s", ready <= TARGET_REPLACE_SECONDS),
        Check("supervisor idle CPU", f"{supervisor / 10:.2f} % core",
              f"<= {TARGET_SUPERVISOR_MILLICORES / 10:.0f} % core",
              supervisor <= TARGET_SUPERVISOR_MILLICORES),
        Check(f"{ALERT} firing - for, scale 0.1", f"{beyond:.2f} s", f"<= {bound:g} s",
              beyond <= bound),
    ]  # fmt: skip


def render(summary: StackSummary) -> str:
    s = summary.settings
    title = (
        f"Local stack: {s.cycles} cycles at time scale 1 (2 replicas, {s.idle_seconds:g} s"
        f" idle window), {s.alert_runs} alert run(s) at time scale 0.1; median (min-max)"
    )

    def row(name: str, field: str, spec: str, unit: str) -> tuple[str, str]:
        return name, f"{summary.spread(field).format(spec)} {unit}"

    rows = [
        row("bare app start → /ready (baseline)", "bare_app_s", ".2f", "s"),
        row("sreshow up → all ready", "up_s", ".2f", "s"),
        row("  up → last replica_ready event", "up_replicas_ready_s", ".2f", "s"),
        ("  up / bare app start (paired)", summary.up_over_bare.format(".1f") + "x"),
        row("sreshow down", "down_s", ".2f", "s"),
        row("  down → supervisor exited", "down_supervisor_exit_s", ".2f", "s"),
        row("kill -9 → replica_exited", "kill_to_exited_s", ".2f", "s"),
        row("kill -9 → new replica started", "kill_to_started_s", ".2f", "s"),
        row("kill -9 → new replica ready", "kill_to_ready_s", ".2f", "s"),
        row("idle CPU: supervisor", "supervisor_mc", ".1f", "millicores"),
        row("idle CPU: each replica", "replica_mc", ".1f", "millicores"),
        row("idle CPU: monitoring + HAProxy", "monitoring_mc", ".1f", "millicores"),
        row("other work on the machine (idle window)", "other_cores", ".2f", "cores"),
    ]
    a = summary.alerts[0]
    alert_rows = [
        ("fault → pending (activeAt)", summary.alert_spread(lambda r: r.pending_s)),
        ("fault → firing", summary.alert_spread(lambda r: r.firing_s)),
        (f"fault → firing - for ({a.for_s:g} s)", summary.alert_spread(lambda r: r.beyond_for_s)),
        ("fault → notification received", summary.alert_spread(lambda r: r.notified_s)),
        ("firing → notification", summary.alert_spread(lambda r: r.notified_s - r.firing_s)),
    ]
    rows += [(f"{ALERT}: {name}", spread.format(".2f") + " s") for name, spread in alert_rows]
    replica = summary.spread("replica_mc").median
    notes = (
        f"scale 0.1: scrape {a.scrape_s:g} s, evaluation {a.evaluation_s:g} s, for {a.for_s:g} s;"
        f" traffic {TRAFFIC_RPS:g} req/s, {ERROR_RATE:.0%} errors on every replica;"
        f" 5xx seen by the client from the fault to the notification:"
        f" {summary.alert_spread(lambda r: r.errors / r.requests).format('.0%')},"
        f" replicas by then: {summary.alert_spread(lambda r: r.replicas_at_end).format('.0f')}"
        " (the autoscaler adds replicas, and they come without the fault)\n"
        f"an idle replica uses {replica / HPA_CPU_TARGET_MILLICORES:.0%} of the autoscaler's"
        f" CPU target ({HPA_CPU_TARGET_MILLICORES:g} millicores = 10% of the 100m request)"
    )
    return "\n\n".join([title, render_table(("figure", "measured"), rows), notes])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 cycles, 5 s idle, 1 alert run")
    args = parser.parse_args(argv)
    try:
        summary = measure(Settings.quick() if args.quick else Settings())
    except BenchError as e:
        print(f"local_stack: error: {e}", file=sys.stderr)
        return 1
    print(render(summary) + "\n\n" + render_checks(checks(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
