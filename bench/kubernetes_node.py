"""The kubernetes platform on `make node-up`'s cluster: what it costs the API server and
how long its waits are.

In one command, on one node (as root):
- `node.py up` on a node already built, until it is Ready (warm node-up);
- `sreshow up --platform kubernetes` at time scale 0.1 until it returns (every replica
  ready, Prometheus settled);
- API requests per minute from the API server's own `apiserver_request_total`, over
  three windows of the same length: the stack idle with nobody looking (the baseline:
  the controllers' own requests), a scenario that waits (steady load, then a long
  sleep: sreshow's watches, snapshots and Prometheus reads), and `kubectl get pods`
  every 2 s (what a user's watch loop costs). Reported over the baseline;
- one replica evicted until every replica is ready again (kill → ready);
- then `sreshow down`. The node is left as found (up, or down again).

Traffic: the API server on the node's bridge address and the Service's cluster IP, both
on the network the node made on this machine.

Run on its own: .venv/bin/python bench/kubernetes_node.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from report import ROOT, BenchError, Check, render_checks, render_table

NODE = ROOT / "scripts" / "node" / "node.py"
OVERLAY = ROOT / "manifests" / "overlays" / "node"
SRESHOW = [sys.executable, "-m", "sreshow"]
TIME_SCALE = 0.1
KUBECTL_EVERY_SECONDS = 2.0
TARGET_REQUESTS_PER_MINUTE = 30.0
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
    scenario_per_minute: float  # over the baseline
    kubectl_per_minute: float  # over the baseline


def _run(argv: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"{' '.join(argv[:4])} failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def _requests_total(kubeconfig: Path) -> float:
    """The sum of the API server's `apiserver_request_total` over all its series."""
    from sreshow.adapters.kubernetes.api import KubeApi

    os.environ["KUBECONFIG"] = str(kubeconfig)
    api = KubeApi.connect(None)
    try:
        status, body = api.proxy("GET", "/metrics")
    finally:
        api.close()
    if status != 200:
        raise BenchError(f"the API server's /metrics answered {status}")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith("apiserver_request_total{")
    )


def _per_minute(kubeconfig: Path, seconds: float, during: subprocess.Popen[str] | None) -> float:
    """API requests per minute over `seconds`, while `during` runs (None: nothing)."""
    before = _requests_total(kubeconfig)
    time.sleep(seconds)
    after = _requests_total(kubeconfig)
    if during is not None and during.poll() is not None:
        raise BenchError(f"the measured command ended early (exit {during.returncode})")
    return (after - before - 2) * 60 / seconds  # minus this window's own two reads


def measure(settings: Settings) -> Result:
    if os.geteuid() != 0:
        raise BenchError("the node needs root")
    was_up = "up" in _run([sys.executable, str(NODE), "status"], dict(os.environ), 60)
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
) -> tuple[float, float, float]:
    seconds = settings.window_seconds
    time.sleep(5)  # what `up` started settles first
    baseline = _per_minute(kubeconfig, seconds, None)
    scenario_file = state / "bench-wait.yaml"
    sleep = f"{round(4 * seconds / TIME_SCALE)}s"  # outlasts the window
    scenario_file.write_text(WAIT_SCENARIO.format(sleep=sleep), encoding="utf-8")
    run = subprocess.Popen(
        [*SRESHOW, "scenario", "run", str(scenario_file), "--auto"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(10)  # past its steady state check and load start: the wait itself
        scenario = _per_minute(kubeconfig, seconds, run)
    finally:
        run.terminate()
        run.wait(timeout=120)
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
    return baseline, scenario - baseline, kubectl - baseline


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
            "API requests/min while a scenario waits (over the baseline)",
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
        ("API requests/min, nobody looking (baseline)", f"{result.baseline_per_minute:.1f}"),
        ("  + a scenario waiting (sreshow)", f"{result.scenario_per_minute:.1f}"),
        (f"  + kubectl get pods every {KUBECTL_EVERY_SECONDS:g} s",
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
