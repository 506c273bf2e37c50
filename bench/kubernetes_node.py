"""The kubernetes platform on `make node-up`'s cluster: what it costs the API server and
how long its waits are.

In one command, on one node (as root):
- `node.py up` on a node already built, until it is Ready (warm node-up);
- `sreshow up --platform kubernetes` at time scale 0.1 until it returns (every replica
  ready, Prometheus settled);
- API requests per minute from the API server's own `apiserver_request_total`, over
  windows of the same length: the stack with nobody looking (the baseline, before and
  after), a scenario that waits (steady load, then a long sleep: sreshow's watches,
  snapshots, its reads of Prometheus and of the notification sink), and `kubectl get
  pods` every 2 s (what a user's watch loop costs). Each counted on the series it
  makes (SRESHOW_SERIES, KUBECTL_SERIES), over what those series show in the baseline;
- one replica evicted until every replica is ready again (kill → ready);
- then `sreshow down`. The node is left as found (up, or down again).

Traffic: the API server on the node's bridge address and the Service's cluster IP, both
on the network the node made on this machine.

Run on its own: .venv/bin/python bench/kubernetes_node.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from report import ROOT, BenchError, Check, render_checks, render_table

NODE = ROOT / "scripts" / "node" / "node.py"
OVERLAY = ROOT / "manifests" / "overlays" / "node"
SRESHOW = [sys.executable, "-m", "sreshow"]
TIME_SCALE = 0.1
KUBECTL_EVERY_SECONDS = 2.0
TARGET_REQUESTS_PER_MINUTE = 30.0
Series = tuple[str, str, str]  # (verb, resource, subresource) of apiserver_request_total
# What sreshow asks while a scenario waits: its watches (re-opened every few minutes),
# lists, and Prometheus through the service proxy; what `kubectl get pods` asks. Counted
# over these series only: the controllers' own requests (leases, events, status) vary
# by tens a minute and would bury both.
WATCHED = ("deployments", "replicasets", "pods", "horizontalpodautoscalers", "events")
SRESHOW_SERIES = frozenset(
    {("CONNECT", "services", "proxy"), ("CONNECT", "pods", "proxy")}
    | {(verb, resource, "") for verb in ("WATCH", "LIST") for resource in WATCHED}
    | {("GET", "services", ""), ("GET", "secrets", "")}
)
KUBECTL_SERIES = frozenset({("LIST", "pods", ""), ("GET", "", "api"), ("GET", "", "apis")})
SETTLE_SECONDS = 20.0  # after `up` and around the scenario: their own work is not waiting
TARGET_NODE_UP_SECONDS = 60.0
WAIT_SCENARIO = """\
name: bench-wait
summary: Steady load, then a long wait; nothing broken (the API request benchmark)
steady_state:
  within: 2m
  checks:
    - replicas_ready: all
steps:
  - load: {{rps: 5}}
  - sleep: {sleep}
expectations:
  - max_error_budget_burn: 100%
rollback:
  - stop_load: {{}}
"""


@dataclass(frozen=True)
class Settings:
    window_seconds: float = 60.0

    @classmethod
    def quick(cls) -> Settings:
        return cls(window_seconds=20.0)


@dataclass(frozen=True)
class Result:
    node_up_seconds: float
    sreshow_up_seconds: float
    kill_to_ready_seconds: float
    baseline_per_minute: float  # the controllers' own, nobody looking
    baseline_spread: float  # half the difference of the two baseline windows
    scenario_per_minute: float  # over the baseline
    kubectl_per_minute: float  # over the baseline


def _run(argv: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv[:4])} failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def _requests(kubeconfig: Path) -> dict[Series, float]:
    """The API server's `apiserver_request_total`, summed by (verb, resource, subresource)."""
    from sreshow.adapters.kubernetes.api import KubeApi

    os.environ["KUBECONFIG"] = str(kubeconfig)
    api = KubeApi.connect(None)
    try:
        status, body = api.proxy("GET", "/metrics")
    finally:
        api.close()
    if status != 200:
        raise BenchError(f"the API server's /metrics answered {status}")
    counts: dict[Series, float] = defaultdict(float)
    for line in body.decode().splitlines():
        if line.startswith("apiserver_request_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            series = (
                labels.get("verb", ""),
                labels.get("resource", ""),
                labels.get("subresource", ""),
            )
            counts[series] += float(line.rsplit(" ", 1)[1])
    return counts


def _per_minute(
    kubeconfig: Path, seconds: float, during: subprocess.Popen[Any] | None
) -> dict[Series, float]:
    """API requests per minute by series over `seconds`, while `during` runs."""
    before = _requests(kubeconfig)
    time.sleep(seconds)
    after = _requests(kubeconfig)
    if during is not None and during.poll() is not None:
        raise BenchError(f"the measured command ended early (exit {during.returncode})")
    return {k: (after[k] - before.get(k, 0.0)) * 60 / seconds for k in after}


def _of(rates: dict[Series, float], series: frozenset[Series]) -> float:
    return sum(rate for key, rate in rates.items() if key in series)


def measure(settings: Settings) -> Result:
    if os.geteuid() != 0:
        raise BenchError("the node needs root")
    status = subprocess.run(  # exit 1: the node is down
        [sys.executable, str(NODE), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    was_up = status.returncode == 0
    started = time.monotonic()
    kubeconfig = Path(_run([sys.executable, str(NODE), "up"], dict(os.environ), 1800).split()[-1])
    node_up = time.monotonic() - started
    image = _run([sys.executable, str(NODE), "image"], dict(os.environ), 900).split()[-1]
    with tempfile.TemporaryDirectory(prefix="sreshow-bench-k8s-") as state:
        env = dict(os.environ) | {"KUBECONFIG": str(kubeconfig), "SRESHOW_STATE_DIR": state}
        started = time.monotonic()
        _run(
            [*SRESHOW, "up", "--platform", "kubernetes", "--manifests", str(OVERLAY),
             "--image", image, "--time-scale", f"{TIME_SCALE:g}", "--yes"],
            env,
            600,
        )  # fmt: skip
        sreshow_up = time.monotonic() - started
        try:
            result = _windows(settings, kubeconfig, env, Path(state))
            kill = _kill_to_ready(env)
        finally:
            _run([*SRESHOW, "down"], env, 300)
    if not was_up:
        _run([sys.executable, str(NODE), "down"], dict(os.environ), 300)
    return Result(node_up, sreshow_up, kill, *result)


def _windows(
    settings: Settings, kubeconfig: Path, env: dict[str, str], state: Path
) -> tuple[float, float, float, float]:
    """(baseline, its spread, scenario over it, kubectl loop over it), per minute. The
    baseline is measured before and after the two others, once `up`'s own work settled."""
    seconds = settings.window_seconds
    time.sleep(SETTLE_SECONDS)
    first = _per_minute(kubeconfig, seconds, None)
    script = (
        f"while :; do kubectl get pods -n sre-app >/dev/null; sleep {KUBECTL_EVERY_SECONDS:g}; done"
    )
    tools = Path.home() / ".cache" / "sreshow" / "tools" / "bin"
    loop = subprocess.Popen(
        ["sh", "-c", script], env=env | {"PATH": f"{tools}:{os.environ['PATH']}"}
    )
    try:
        kubectl = _per_minute(kubeconfig, seconds, loop)
    finally:
        loop.terminate()
        loop.wait(timeout=10)
    scenario_file = state / "bench-wait.yaml"
    sleep = f"{round(4 * seconds / TIME_SCALE)}s"  # outlasts the window
    scenario_file.write_text(WAIT_SCENARIO.format(sleep=sleep), encoding="utf-8")
    run = subprocess.Popen(
        [*SRESHOW, "scenario", "run", str(scenario_file), "--auto"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        time.sleep(SETTLE_SECONDS)  # past its steady state check and load start
        scenario = _per_minute(kubeconfig, seconds, run)
    finally:
        run.terminate()
        run.wait(timeout=120)
    time.sleep(SETTLE_SECONDS)  # its rollback and exit are not the baseline
    second = _per_minute(kubeconfig, seconds, None)
    baselines = [sum(first.values()), sum(second.values())]
    quiet = (_of(first, SRESHOW_SERIES) + _of(second, SRESHOW_SERIES)) / 2
    quiet_kubectl = (_of(first, KUBECTL_SERIES) + _of(second, KUBECTL_SERIES)) / 2
    return (
        sum(baselines) / 2,
        abs(baselines[0] - baselines[1]) / 2,
        _of(scenario, SRESHOW_SERIES) - quiet,
        _of(kubectl, KUBECTL_SERIES) - quiet_kubectl,
    )


def _kill_to_ready(env: dict[str, str]) -> float:
    """Seconds from evicting one replica until every replica is ready again."""
    from sreshow.platforms import Platforms
    from sreshow.settings import Settings as CliSettings

    os.environ.update(env)
    with Platforms(CliSettings.from_env()).current().connect(None) as platform:
        victim = platform.snapshot().replicas[0].name
        started = time.monotonic()
        platform.kill(victim, force=False)
        deadline = started + 120
        while time.monotonic() < deadline:
            snapshot = platform.snapshot()
            if snapshot.ready == snapshot.desired == len(snapshot.replicas):
                return time.monotonic() - started
            time.sleep(0.1)
    raise BenchError("the evicted replica was not replaced within 120 s")


def checks(result: Result) -> list[Check]:
    return [
        Check(
            "sreshow's API requests/min while a scenario waits",
            f"{result.scenario_per_minute:.1f}",
            f"<= {TARGET_REQUESTS_PER_MINUTE:g}",
            result.scenario_per_minute <= TARGET_REQUESTS_PER_MINUTE,
        ),
        Check(
            "warm `make node-up` to Ready",
            f"{result.node_up_seconds:.1f} s",
            f"<= {TARGET_NODE_UP_SECONDS:g} s",
            result.node_up_seconds <= TARGET_NODE_UP_SECONDS,
        ),
    ]


def render(result: Result) -> str:
    rows = [
        ("node.py up to Ready (warm)", f"{result.node_up_seconds:.1f} s"),
        ("sreshow up --platform kubernetes (0.1) to ready", f"{result.sreshow_up_seconds:.1f} s"),
        ("evict one replica → all ready again", f"{result.kill_to_ready_seconds:.1f} s"),
        ("API requests/min of all clients, nobody looking",
         f"{result.baseline_per_minute:.1f} ± {result.baseline_spread:.1f}"),
        ("sreshow's requests/min while a scenario waits", f"{result.scenario_per_minute:.1f}"),
        (f"kubectl get pods every {KUBECTL_EVERY_SECONDS:g} s, requests/min",
         f"{result.kubectl_per_minute:.1f}"),
        (
            "  sreshow / kubectl loop",
            f"{result.scenario_per_minute / max(result.kubectl_per_minute, 1e-9):.2f}x",
        ),
    ]  # fmt: skip
    return render_table(("kubernetes platform on the node", "measured"), rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = measure(Settings.quick() if args.quick else Settings())
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    print(render(result))
    print()
    print(render_checks(checks(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
