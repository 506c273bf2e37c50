"""`make demo`: the local stack, a real alert from fault to notification and back.

Brings the stack up at time scale 0.1, shows the app through its Service, injects a
20% error rate into every replica through the admin API while steady traffic flows,
and narrates what the monitoring does: HighErrorRate pending, firing, the Slack-shaped
notification delivered; then clears the fault and waits for the resolve. Ctrl-C or a
failure always clears the faults and stops the stack. On a terminal the stack stays up
afterwards (stop it with `sreshow down`); otherwise it is stopped.

(`sreshow scenario run high-error-rate` will do this, measured, once scenarios exist.)
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

TIME_SCALE = "0.1"
ALERT = "HighErrorRate"
FIRING_WITHIN_SECONDS = 60
RESOLVED_WITHIN_SECONDS = 90
TRAFFIC_PER_SECOND = 20


def sreshow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sreshow", *args], capture_output=True, text=True, check=False
    )


def status() -> dict[str, Any]:
    result = sreshow("status", "--json")
    if result.returncode != 0:
        raise SystemExit(f"demo: `sreshow status` failed: {result.stderr.strip()}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def state_dir() -> Path:
    explicit = os.environ.get("SRESHOW_STATE_DIR")
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return Path(explicit) if explicit else base / "sreshow"


def set_faults(replicas: list[dict[str, Any]], token: str, faults: dict[str, Any] | None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=5) as client:
        for replica in replicas:
            url = f"{replica['url']}/admin/faults"
            response = (
                client.patch(url, json=faults, headers=headers)
                if faults
                else client.delete(url, headers=headers)
            )
            response.raise_for_status()


def traffic(app_url: str, stop: threading.Event) -> None:
    """Steady requests through the Service until `stop` (bounded to 5 minutes)."""
    deadline = time.monotonic() + 300
    with httpx.Client(base_url=app_url, timeout=5) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                client.get("/api/data")
            time.sleep(1 / TRAFFIC_PER_SECOND)


def alert_state(current: dict[str, Any]) -> str:
    return next((a["state"] for a in current["alerts"] if a["name"] == ALERT), "unknown")


def wait_for(
    wanted_state: str, notification_status: str, within: float, since: float
) -> dict[str, Any]:
    """Narrate the alert's states until it reaches `wanted_state` and a notification
    with `notification_status` has arrived; fail after `within` seconds."""
    deadline, last, notified = time.monotonic() + within, None, False
    while time.monotonic() < deadline:
        current = status()
        state = alert_state(current)
        if state != last:
            say(f"{ALERT} is {state} ({time.time() - since:.1f} s after the change)")
            last = state
        for note in current["notifications"]:
            fresh = note["received_at"] >= since and ALERT in note["alerts"]
            if fresh and note["status"] == notification_status and not notified:
                say(
                    f"notification delivered: {notification_status} {ALERT} "
                    f"({note['received_at'] - since:.1f} s after the change)"
                )
                notified = True
        if state == wanted_state and notified:
            return current
        time.sleep(0.5)
    raise SystemExit(f"demo: {ALERT} did not reach {wanted_state} within {within:g} s")


def main() -> int:
    say(f"bringing the local stack up at time scale {TIME_SCALE} (clocks 10x faster)")
    up = subprocess.run(
        [sys.executable, "-m", "sreshow", "up", "--time-scale", TIME_SCALE], check=False
    )
    if up.returncode != 0:
        return up.returncode
    keep_running = sys.stdin.isatty()
    stop_traffic = threading.Event()
    current = status()
    replicas, app = current["replicas"], current["endpoints"]["app"]
    token = (state_dir() / "local" / "admin-token").read_text().strip()
    try:
        with httpx.Client(base_url=app, timeout=5) as client:
            answer = client.get("/api/data").json()
        say(f"GET {app}/api/data answered by replica {answer['replica']}")
        threading.Thread(target=traffic, args=(app, stop_traffic), daemon=True).start()
        say(f"steady traffic: {TRAFFIC_PER_SECOND} requests/s through the Service")
        time.sleep(3)
        changed = time.time()
        set_faults(replicas, token, {"error_rate": 0.2})
        say(f"injected a 20% error rate into {len(replicas)} replicas (admin API)")
        wait_for("firing", "firing", FIRING_WITHIN_SECONDS, changed)
        changed = time.time()
        set_faults(replicas, token, None)
        say("cleared the faults; Alertmanager sends the resolve on its next group tick")
        wait_for("inactive", "resolved", RESOLVED_WITHIN_SECONDS, changed)
        say("the alert fired, was delivered, and resolved: the monitoring works end to end")
    except BaseException:
        keep_running = False
        raise
    finally:
        stop_traffic.set()
        if keep_running:
            print("\nThe stack keeps running: `sreshow status --watch`; `sreshow down` stops it.")
        else:
            with contextlib.suppress(httpx.HTTPError):
                set_faults(replicas, token, None)
            subprocess.run([sys.executable, "-m", "sreshow", "down"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
