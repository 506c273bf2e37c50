"""The whole show on `make node-up`'s cluster beside `local`: the same scenarios' times,
what the node costs this machine while the show runs, and the images' cold build.

In one command, on one machine (as root):
- optionally (`--cold-images`) the node's images built from nothing: the image cache is
  set aside, `node.py build` times each image, the new archives are kept;
- each scenario (default: high-error-rate, kill-pods, spike-load) on a `local` stack at
  time scale 0.1, then on the node at 0.1, each run's journal read for time to detect,
  to notify, to recover, the RTO and the autoscaler's first scale-out after the load
  changed: the difference is what Kubernetes' own clocks add
  (the kubelet, the controllers, metrics-server and the watch delays) to the same
  scaled configuration;
- the node's processes (etcd, the control plane, kubelet, kube-proxy, containerd, its
  shims and every container) sampled every second: CPU in cores and resident memory,
  idle (no stack) for the baseline, then while the scenarios run; the ratio is the show's
  cost on top of an idle cluster.
The node is left as found (up, or down again); both stacks are brought down.

Traffic: 127.0.0.1 for `local`; the node's bridge, pod and Service addresses (networks
the node made on this machine) for the node.

Run on its own: .venv/bin/python bench/kubernetes_show.py [--scenarios a,b] [--cold-images]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from report import ROOT, BenchError, render_table

NODE = ROOT / "scripts" / "node" / "node.py"
OVERLAY = ROOT / "manifests" / "overlays" / "node"
SRESHOW = [sys.executable, "-m", "sreshow"]
TIME_SCALE = 0.1
SCENARIOS = ("high-error-rate", "kill-pods", "spike-load")
SCALE_OUT = "first_scale_out_s"  # from the load's change to the autoscaler's first scale-out
JOURNAL_METRICS = ("time_to_detect_s", "time_to_notify_s", "time_to_recover_s", "rto_s")
METRICS = (*JOURNAL_METRICS, SCALE_OUT)
NODE_DIR = "/var/lib/sreshow/node"  # every node process names it (scripts/node/settings.py)
NODE_CACHE = Path.home() / ".cache" / "sreshow" / "node"
IDLE_SECONDS = 30.0
SAMPLE_SECONDS = 1.0
SCENARIO_TIMEOUT = 600.0


@dataclass
class Usage:
    """The node's processes sampled every second: CPU cores and resident MiB."""

    cores: list[float] = field(default_factory=list)
    mib: list[float] = field(default_factory=list)

    def row(self, what: str) -> tuple[str, str, str, str]:
        if not self.cores:
            return (what, "-", "-", "-")
        return (
            what,
            f"{statistics.mean(self.cores):.2f}",
            f"{statistics.mean(self.mib):.0f}",
            f"{max(self.mib):.0f}",
        )


def node_processes() -> list[psutil.Process]:
    """The node's daemons (their command lines name the node's directory or cache) and
    everything under them and under the shims (the containers)."""
    roots = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if NODE_DIR in line or str(NODE_CACHE) in line:
            roots.append(process)
    found: dict[int, psutil.Process] = {}
    for root in roots:
        try:
            for process in [root, *root.children(recursive=True)]:
                found[process.pid] = process
        except psutil.NoSuchProcess:
            continue
    return list(found.values())


class Sampler:
    """Samples the node's processes in a thread until stopped."""

    def __init__(self) -> None:
        self.usage = Usage()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        before = self._cpu_seconds()
        at = time.monotonic()
        while not self._stop.wait(SAMPLE_SECONDS):
            now, cpu = time.monotonic(), self._cpu_seconds()
            # CPU of processes seen both times only: one that came or went in between
            # would count its whole life or nothing.
            used = sum(cpu[pid] - before[pid] for pid in cpu.keys() & before.keys())
            self.usage.cores.append(max(used, 0.0) / (now - at))
            self.usage.mib.append(self._rss_mib())
            before, at = cpu, now

    @staticmethod
    def _cpu_seconds() -> dict[int, float]:
        seconds = {}
        for process in node_processes():
            try:
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return seconds

    @staticmethod
    def _rss_mib() -> float:
        total = 0
        for process in node_processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20


def run(argv: list[str], env: dict[str, str], timeout: float) -> str:
    result = subprocess.run(
        argv, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise BenchError(
            f"{' '.join(argv[:4])} … failed ({result.returncode}): {result.stderr[-800:]}"
        )
    return result.stdout


def cold_image_build() -> list[tuple[str, float]]:
    """Each image's build time from nothing (`node.py build` with the image cache set
    aside); the old cache is put back if the build fails."""
    images = NODE_CACHE / "images"
    aside = NODE_CACHE / "images.bench-aside"
    if aside.exists():
        raise BenchError(f"{aside} exists: a previous run was interrupted; move it back first")
    images.rename(aside)
    times: list[tuple[str, float]] = []
    try:
        started = last = time.monotonic()
        name = "binaries check"
        with subprocess.Popen(
            [sys.executable, str(NODE), "build"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as build:
            for line in build.stdout or ():
                if "building " in line:
                    now = time.monotonic()
                    times.append((name, now - last))
                    name, last = line.split("building ", 1)[1].strip(), now
            code = build.wait(timeout=3600)
        times.append((name, time.monotonic() - last))
        times.append(("all images", time.monotonic() - started))
        if code != 0:
            raise BenchError(f"node.py build failed ({code})")
    except BaseException:
        shutil.rmtree(images, ignore_errors=True)
        aside.rename(images)
        raise
    shutil.rmtree(aside)
    return times[1:]  # the first span is only the check that the binaries are there


def scenario_metrics(env: dict[str, str], state: Path, name: str) -> dict[str, float | None]:
    report = state / "reports" / name
    subprocess.run(
        [*SRESHOW, "scenario", "run", name, "--auto", "--report", str(report)],
        capture_output=True,
        env=env,
        timeout=SCENARIO_TIMEOUT,
        check=False,
    )
    journal_file = report / "journal.json"
    if not journal_file.exists():
        raise BenchError(f"{name} wrote no journal")
    journal = json.loads(journal_file.read_text())
    metrics = {key: journal["metrics"].get(key) for key in JOURNAL_METRICS}
    metrics[SCALE_OUT] = first_scale_out(journal["events"])
    metrics["passed"] = 1.0 if journal["verdict"] == "passed" else 0.0
    return metrics


def first_scale_out(events: list[dict[str, Any]]) -> float | None:
    """Seconds from the last change of load before the autoscaler's first scale-out to
    that scale-out (None: it did not scale out)."""
    load_at = None
    for event in sorted(events, key=lambda e: e["t"]):
        if event["kind"] == "load_started":
            load_at = event["t"]
        elif event["kind"] == "autoscaled" and event["desired"] > event["previous"]:
            return None if load_at is None else event["t"] - load_at
    return None


def on_local(scenarios: list[str]) -> dict[str, dict[str, float | None]]:
    with tempfile.TemporaryDirectory(prefix="sreshow-bench-show-") as state:
        env = dict(os.environ) | {"SRESHOW_STATE_DIR": state}
        env.pop("KUBECONFIG", None)
        run([*SRESHOW, "up", "--time-scale", f"{TIME_SCALE:g}"], env, 600)
        try:
            return {name: scenario_metrics(env, Path(state), name) for name in scenarios}
        finally:
            run([*SRESHOW, "down"], env, 300)


def on_node(scenarios: list[str]) -> tuple[dict[str, dict[str, float | None]], Usage, Usage]:
    was_up = (
        subprocess.run(
            [sys.executable, str(NODE), "status"], capture_output=True, check=False
        ).returncode
        == 0
    )
    kubeconfig = run([sys.executable, str(NODE), "up"], dict(os.environ), 3600).split()[-1]
    image = run([sys.executable, str(NODE), "image"], dict(os.environ), 900).split()[-1]
    try:
        with Sampler() as idle:
            time.sleep(IDLE_SECONDS)
        with tempfile.TemporaryDirectory(prefix="sreshow-bench-show-") as state:
            env = dict(os.environ) | {"KUBECONFIG": kubeconfig, "SRESHOW_STATE_DIR": state}
            run(
                [*SRESHOW, "up", "--platform", "kubernetes", "--manifests", str(OVERLAY),
                 "--image", image, "--time-scale", f"{TIME_SCALE:g}", "--yes"],
                env,
                600,
            )  # fmt: skip
            try:
                with Sampler() as show:
                    metrics = {name: scenario_metrics(env, Path(state), name) for name in scenarios}
            finally:
                run([*SRESHOW, "down"], env, 300)
    finally:
        if not was_up:
            run([sys.executable, str(NODE), "down"], dict(os.environ), 300)
    return metrics, idle.usage, show.usage


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(
    local: dict[str, dict[str, float | None]], node: dict[str, dict[str, float | None]]
) -> str:
    rows = []
    for name in local:
        for key in METRICS:
            here, there = local[name][key], node[name][key]
            difference = "-" if here is None or there is None else f"{there - here:+.1f}"
            rows.append((name, key.removesuffix("_s"), _seconds(here), _seconds(there), difference))
        verdicts = (
            "passed" if local[name]["passed"] else "FAILED",
            "passed" if node[name]["passed"] else "FAILED",
        )
        rows.append((name, "verdict", *verdicts, ""))
    return render_table(("scenario", "metric (s)", "local", "node", "node - local"), rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--cold-images", action="store_true")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: error: the node needs root", file=sys.stderr)
        return 1
    scenarios = args.scenarios.split(",")
    try:
        if args.cold_images:
            built = cold_image_build()
            print(
                render_table(("image (cold build)", "seconds"), [(n, f"{s:.1f}") for n, s in built])
            )
            print()
        local = on_local(scenarios)
        node, idle, show = on_node(scenarios)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    print(render(local, node))
    print()
    rows = [idle.row("idle node (no stack)"), show.row("while the scenarios run")]
    if idle.cores and show.cores:
        rows.append(
            (
                "  show / idle",
                f"{statistics.mean(show.cores) / max(statistics.mean(idle.cores), 1e-9):.1f}x",
                f"{statistics.mean(show.mib) / max(statistics.mean(idle.mib), 1e-9):.2f}x",
                "",
            )
        )
    print(
        render_table(("node's processes", "CPU (cores)", "RSS MiB (mean)", "RSS MiB (peak)"), rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
