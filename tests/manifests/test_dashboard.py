"""The Grafana dashboard, run against a real Prometheus scraping the real demo app.

No Grafana runs here (there is no package for it), so the test does with the dashboard
what Grafana's Prometheus data source does (tests/manifests/grafana.py): resolve the
template variables from Prometheus, substitute `$__range`, `$__interval`,
`$__rate_interval` and the variables, and send every panel query and the alert
annotation query to Prometheus's HTTP API. Each must succeed, return series that are
not all NaN, and carry the labels its legend names; the values must show the faults and
the traffic the test made.
"""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.app.support import AUTH, TOKEN, AppProcess, app_process
from tests.manifests.grafana import (
    GRAFANA,
    SCRAPE_SECONDS,
    DashboardView,
    datasource_references,
    firing_alerts_annotation,
    load_dashboard,
    panel,
    resolve_variables,
    run_annotation_query,
    run_panel_queries,
    step_seconds,
)
from tests.manifests.stack import PrometheusAPI, Series, app_scrape_job, prometheus, wait_until
from tests.tools import require_tool

pytestmark = pytest.mark.manifests

DATASOURCES = GRAFANA / "datasources.yml"
PROVIDERS = GRAFANA / "dashboards.yml"

PANEL_TITLES = {
    "Request rate",
    "Error rate",
    "Request latency",
    "Active pods",
    "Requests in the time window",
    "Error budget remaining (99.9% SLO, 30 days)",
}
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}

NAMESPACE = "sre-app"
PODS = ("sre-app-dash-a", "sre-app-dash-b")
FAULTY_POD = PODS[0]
INJECTED_ERROR_RATE = 0.2
FAST_PATHS = ("/", "/api/data", "/api/status")
FAST_PAUSE_SECONDS = 0.02  # about 40 fast requests/s per pod
SLOW_DELAY_SECONDS = 1.2  # above the 1 s latency threshold
SLOW_CLIENTS_PER_POD = 2  # about 4% of requests slow: p99 above 1 s, p50 far below
MIN_TRAFFIC_SECONDS = 10.0
MAX_TRAFFIC_SECONDS = 40.0

# Test scaffolding, not a contract alert: it fires as soon as a fault is injected, so
# that ALERTS{alertstate="firing"} (the dashboard's annotation query) has a series
# without waiting the minutes the real alerts' `for:` takes.
SCAFFOLDING_RULES = {
    "groups": [
        {
            "name": "dashboard-test-scaffolding",
            "rules": [
                {
                    "alert": "DashboardTestFaultInjected",
                    "expr": 'max by (pod) (app_fault{job="sre-app", kind="error_rate"}) > 0',
                    "labels": {"severity": "test"},
                }
            ],
        }
    ]
}


def prometheus_config(apps: Mapping[str, AppProcess], rules: Path) -> dict[str, Any]:
    """Scrape the apps as the contract says: job sre-app, labels instance, pod, namespace."""
    return {
        "global": {
            "scrape_interval": f"{SCRAPE_SECONDS}s",
            "evaluation_interval": f"{SCRAPE_SECONDS}s",
        },
        "rule_files": [str(rules)],
        "scrape_configs": [app_scrape_job({pod: app.url for pod, app in apps.items()}, NAMESPACE)],
    }


# --- traffic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    at: float
    pod: str
    route: str
    status: int


@dataclass
class TrafficLog:
    """Every answer the test got, with the wall-clock time it arrived."""

    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, pod: str, path: str, status: int) -> None:
        with self.lock:
            self.answers.append(Answer(time.time(), pod, path.partition("?")[0], status))

    def count(self, until: float, *, errors_only: bool = False) -> int:
        with self.lock:
            return sum(
                1 for a in self.answers if a.at <= until and (not errors_only or a.status >= 500)
            )


@contextmanager
def traffic(apps: Mapping[str, AppProcess], log: TrafficLog) -> Iterator[None]:
    """Fast and slow requests to every app from background threads, until the block ends."""
    stop = threading.Event()
    deadline = time.monotonic() + MAX_TRAFFIC_SECONDS
    failures: list[BaseException] = []

    def fast(pod: str, app: AppProcess) -> None:
        with app.client(timeout=5.0) as client:
            turn = 0
            while not stop.is_set() and time.monotonic() < deadline:
                path = FAST_PATHS[turn % len(FAST_PATHS)]
                log.add(pod, path, client.get(path).status_code)
                turn += 1
                stop.wait(FAST_PAUSE_SECONDS)

    def slow(pod: str, app: AppProcess) -> None:
        with app.client(timeout=5.0) as client:
            while not stop.is_set() and time.monotonic() < deadline:
                path = f"/api/slow?delay={SLOW_DELAY_SECONDS}"
                log.add(pod, path, client.get(path).status_code)

    def guarded(body: Callable[[str, AppProcess], None], pod: str, app: AppProcess) -> None:
        try:
            body(pod, app)
        except BaseException as e:
            failures.append(e)

    threads = [
        threading.Thread(target=guarded, args=(body, pod, app), daemon=True)
        for pod, app in apps.items()
        for body in (fast, *[slow] * SLOW_CLIENTS_PER_POD)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not any(t.is_alive() for t in threads), "a traffic thread did not stop"
    assert not failures, f"traffic failed: {failures[0]!r}"


# --- the running system ----------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    prometheus: PrometheusAPI
    view: DashboardView
    options: dict[str, list[str]]
    log: TrafficLog


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    """Two app replicas with a fault on one, scraped by Prometheus, after bounded traffic."""
    binary = require_tool("prometheus")
    workdir = tmp_path_factory.mktemp("dashboard")
    dashboard = load_dashboard()
    annotation_step = step_seconds(firing_alerts_annotation(dashboard))
    with ExitStack() as stack:
        # A module fixture runs before the per-test clean environment: clean it here too.
        env_guard = stack.enter_context(pytest.MonkeyPatch.context())
        for name in [n for n in os.environ if n.startswith(("SRESHOW_", "APP_"))]:
            env_guard.delenv(name)
        env_guard.delenv("POD_NAME", raising=False)
        apps = {
            pod: stack.enter_context(
                app_process({"SRESHOW_ADMIN_TOKEN": TOKEN, "POD_NAME": pod, "APP_FLAKY_RATE": "0"})
            )
            for pod in PODS
        }
        rules = workdir / "scaffolding.rules.yml"
        rules.write_text(yaml.safe_dump(SCAFFOLDING_RULES))
        config = workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump(prometheus_config(apps, rules)))
        start = time.time()
        server = stack.enter_context(prometheus(binary, config, workdir))
        api = PrometheusAPI(stack.enter_context(httpx.Client(base_url=server.url, timeout=10.0)))

        # Counters must be scraped once at zero before traffic, so that increase()
        # over the whole range counts every request.
        wait_until(
            lambda: len(api.series('up{job="sre-app"} == 1')) == len(PODS),
            within=15,
            waiting_for="Prometheus to scrape both replicas",
        )
        log = TrafficLog()
        with apps[FAULTY_POD].client() as admin:
            answer = admin.patch(
                "/admin/faults", json={"error_rate": INJECTED_ERROR_RATE}, headers=AUTH
            )
        assert answer.status_code == 200, answer.text
        log.add(FAULTY_POD, "/admin/faults", answer.status_code)

        traffic_started = time.monotonic()
        fired_at: list[float] = []

        def enough_samples() -> bool:
            if not fired_at and api.series('ALERTS{alertstate="firing"}'):
                fired_at.append(time.monotonic())
            return (
                time.monotonic() - traffic_started >= MIN_TRAFFIC_SECONDS
                # an annotation step after the alert fired, the step grid holds a point
                and bool(fired_at)
                and time.monotonic() - fired_at[0] >= annotation_step + SCRAPE_SECONDS
            )

        with traffic(apps, log):
            wait_until(
                enough_samples,
                within=MAX_TRAFFIC_SECONDS - 5,
                waiting_for="enough traffic and a firing alert",
            )
            end = time.time()  # the dashboard's "now": traffic still flows, as on stage
        values, options = resolve_variables(api, dashboard, start, end)
        yield Observed(api, DashboardView(start, end, values), options, log)


# --- tests -----------------------------------------------------------------------------


def test_dashboard_structure_users_rely_on() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"] == "sre-app"
    assert dashboard["schemaVersion"] >= 39, "the Grafana 11 schema"
    assert {p["title"] for p in dashboard["panels"]} == PANEL_TITLES
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])

    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    provisioned = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert len(provisioned) == 1
    assert provisioned[0]["type"] == "prometheus"
    assert provisioned[0]["isDefault"] is True
    assert provisioned[0]["url"] == "http://prometheus.monitoring.svc:9090"
    assert variables["datasource"]["current"]["value"] == provisioned[0]["uid"] == "prometheus"

    # Every query names its data source only through the variable, so an import into a
    # Grafana whose Prometheus has another uid works after picking it in the drop-down.
    references = list(datasource_references(dashboard))
    builtin = {"type": "grafana", "uid": "-- Grafana --"}
    assert references
    assert all(ref in (DATASOURCE_REF, builtin) for ref in references), references
    for each in dashboard["panels"]:
        assert each["datasource"] == DATASOURCE_REF
        assert all(t["datasource"] == DATASOURCE_REF for t in each["targets"])
        assert len({t["refId"] for t in each["targets"]}) == len(each["targets"])

    error_rate = panel(dashboard, "Error rate")["fieldConfig"]["defaults"]
    assert error_rate["unit"] == "percentunit"
    assert 0.05 in [step["value"] for step in error_rate["thresholds"]["steps"]]
    assert error_rate["custom"]["thresholdsStyle"]["mode"] != "off"
    latency = panel(dashboard, "Request latency")["fieldConfig"]["defaults"]
    assert latency["unit"] == "s"
    assert 1 in [step["value"] for step in latency["thresholds"]["steps"]]
    assert latency["custom"]["thresholdsStyle"]["mode"] != "off"
    budget = panel(dashboard, "Error budget remaining (99.9% SLO, 30 days)")
    assert "[30d]" in budget["targets"][0]["expr"]
    assert "0.999" in budget["targets"][0]["expr"]

    annotation = firing_alerts_annotation(dashboard)
    assert annotation["expr"] == 'ALERTS{alertstate="firing"}'
    assert annotation["datasource"] == DATASOURCE_REF
    assert annotation["enable"] is True

    provider = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert [p["options"]["path"] for p in provider] == ["/var/lib/grafana/dashboards"]


def test_variables_resolve_to_the_scraped_namespace_and_pods(observed: Observed) -> None:
    assert observed.options == {"namespace": [NAMESPACE], "pod": sorted(PODS)}
    assert observed.view.variables["namespace"] == NAMESPACE
    assert observed.view.variables["pod"] == ".*"  # "All"


def test_every_panel_query_returns_the_labels_its_legend_uses(observed: Observed) -> None:
    dashboard = load_dashboard()
    results = run_panel_queries(observed.prometheus, observed.view, dashboard)
    expected = {f"{p['title']}/{t['refId']}" for p in dashboard["panels"] for t in p["targets"]}
    assert set(results) == expected


def test_alert_annotation_query_marks_firing_alerts(observed: Observed) -> None:
    series = run_annotation_query(observed.prometheus, observed.view, load_dashboard())
    assert [(s.labels["alertname"], s.labels["severity"]) for s in series] == [
        ("DashboardTestFaultInjected", "test")
    ]
    assert set(series[0].values) == {1.0}


def test_panels_show_the_injected_faults_and_the_traffic(observed: Observed) -> None:
    dashboard = load_dashboard()
    view = observed.view

    def instant(title: str, ref: str = "A", at_view: DashboardView = view) -> list[Series]:
        target = next(t for t in panel(dashboard, title)["targets"] if t["refId"] == ref)
        return observed.prometheus.series(at_view.interpolate(target["expr"], title), view.end)

    assert [s.last for s in instant("Active pods")] == [2]

    rates = {(s.labels["route"], s.labels["status"]): s.last for s in instant("Request rate")}
    for route in (*FAST_PATHS, "/api/slow"):
        assert rates[(route, "200")] > 0, route
    for route in FAST_PATHS:  # the faulty pod fails every route (slow ones too rare to see)
        assert rates[(route, "500")] > 0, route

    [overall] = instant("Error rate")
    assert 0.05 < overall.last < INJECTED_ERROR_RATE, "one of two pods fails 20%"
    by_pod = {s.labels["pod"]: s.last for s in instant("Error rate", "B")}
    assert by_pod[PODS[1]] == 0
    assert by_pod[FAULTY_POD] == pytest.approx(INJECTED_ERROR_RATE, abs=0.05)

    healthy_only = DashboardView(view.start, view.end, {**view.variables, "pod": PODS[1]})
    assert [s.last for s in instant("Error rate", at_view=healthy_only)] == [0]

    [p50] = instant("Request latency", "A")
    [p95] = instant("Request latency", "B")
    [p99] = instant("Request latency", "C")
    assert p50.last < 0.25, p50.last  # far below the line: most requests are fast
    assert p99.last > 1, p99.last  # above the line: the slow requests
    assert p50.last <= p95.last <= p99.last

    answered = observed.log.count(view.end)
    failed = observed.log.count(view.end, errors_only=True)
    window = instant("Requests in the time window")
    counted = sum(s.last for s in window)
    counted_errors = sum(s.last for s in window if s.labels["status"].startswith("5"))
    assert counted == pytest.approx(answered, rel=0.05)
    assert counted_errors == pytest.approx(failed, rel=0.05, abs=3)

    [budget] = instant("Error budget remaining (99.9% SLO, 30 days)")
    error_ratio = failed / answered
    assert (1 - budget.last) * 0.001 == pytest.approx(error_ratio, rel=0.05)
    assert budget.last < 0, "10% errors overspend a 0.1% budget"


@pytest.mark.parametrize(
    ("title", "break_it"),
    [
        ("Request rate", lambda t: t | {"expr": t["expr"].replace("requests_total", "request")}),
        ("Request latency", lambda t: t | {"expr": t["expr"].replace("(le)", "(le")}),
        ("Active pods", lambda t: t | {"expr": t["expr"].replace("$namespace", "$namespce")}),
        ("Error rate", lambda t: t | {"legendFormat": "{{path}}"}),
        ("Requests in the time window", lambda t: t | {"expr": t["expr"].replace("route", "r")}),
    ],
)
def test_a_broken_query_fails_the_check(observed: Observed, title: str, break_it: Any) -> None:
    dashboard = copy.deepcopy(load_dashboard())
    broken = panel(dashboard, title)
    broken["targets"][0] = break_it(broken["targets"][0])
    with pytest.raises(AssertionError, match=re.escape(repr(title))):
        run_panel_queries(observed.prometheus, observed.view, dashboard)


def test_a_broken_annotation_query_fails_the_check(observed: Observed) -> None:
    dashboard = copy.deepcopy(load_dashboard())
    firing_alerts_annotation(dashboard)["expr"] = 'ALERT{alertstate="firing"}'
    with pytest.raises(AssertionError, match="Firing alerts"):
        run_annotation_query(observed.prometheus, observed.view, dashboard)
