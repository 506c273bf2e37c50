"""Whether Prometheus has seen a new stack as it is, before anyone looks at it.

A fresh Prometheus shows start-up states no scenario should see: PodsDown pending
before its first scrape, a rule group not yet evaluated. A stack says it is up only
once every replica has been scraped (job `sre-app`) and, on `local`, probed
(`sre-app-health`), and every rule group evaluated after that with no alert pending or
firing. (A replica not probed yet has no `probe_success`: no alert can start from it.)
"""

from __future__ import annotations

import time
from collections.abc import Collection

from sreshow.adapters.prometheus import PrometheusClient
from sreshow.errors import PlatformError

POD_JOB = "sre-app"  # the replicas' own metrics (contract: job="sre-app")
PROBE_JOB = "sre-app-health"  # the blackbox probes of each replica (job="sre-app-health")


class StartupWatch:
    """Whether Prometheus has seen a new stack as it is: every replica scraped and probed,
    then every rule group evaluated after that with no alert active. A fresh Prometheus
    shows PodsDown pending before its first scrape; no scenario should see that.
    `check()` says what it still waits for; after `within` seconds it stops waiting."""

    def __init__(self, prometheus_url: str, within: float, now: float) -> None:
        self.prometheus_url = prometheus_url
        self.deadline = now + within
        self._scraped_at: float | None = None  # (Unix time) every replica first scraped

    def check(self, pods: Collection[str], now: float) -> tuple[bool, str]:
        """(done, what Prometheus still shows or does not yet: '' when nothing)."""
        client = PrometheusClient(self.prometheus_url, timeout=1.0)
        try:
            waiting = unscraped(client, pods)
            if not waiting and self._scraped_at is None:
                self._scraped_at = time.time()
            if not waiting and self._scraped_at is not None:
                waiting = unsettled_rules(client, self._scraped_at)
        except PlatformError as e:
            waiting = str(e)
        finally:
            client.close()
        return not waiting or now >= self.deadline, waiting


def unscraped(
    client: PrometheusClient, pods: Collection[str], jobs: Collection[str] = (POD_JOB, PROBE_JOB)
) -> str:
    """Which of `jobs` have not yet scraped (or probed) every replica in `pods` with
    success ('' when all have): a fresh Prometheus shows PodsDown pending until then."""
    by_job: dict[str, set[str]] = {}
    for target in client.targets():
        if target.health == "up" and target.labels.get("pod"):
            by_job.setdefault(target.job, set()).add(target.labels["pod"])
    waiting = [job for job in jobs if not set(pods) <= by_job.get(job, set())]
    return f"the first {' and '.join(waiting)} scrape of every replica" if waiting else ""


def unsettled_rules(client: PrometheusClient, since: float) -> str:
    """What keeps the rules from showing the stack as it is ('' when nothing): a group
    not evaluated since `since` (Unix time), or an alert pending or firing."""
    stale = [g.name for g in client.rule_groups() if (g.last_evaluation or 0) <= since]
    if stale:
        return f"an evaluation of {', '.join(stale)}"
    active = sorted({rule.name for rule in client.alert_rules() if rule.state != "inactive"})
    return f"{', '.join(active)} to turn inactive" if active else ""
