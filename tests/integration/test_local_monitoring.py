"""The local platform's monitoring: real app replicas, Prometheus, Alertmanager, the
blackbox exporter and the notification sink, fed with the shipped files at time scale 0.1.

Bounds are derived from the scaled files (scrape and evaluation interval, each rule's
`for:` and rate window, group_wait, group_interval), so they follow the manifests.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import yaml

from sreshow.adapters.local.monitoring import (
    APP_NAMESPACE,
    MONITORING_DIR,
    TARGET_CHANGES_APPLIED_WITHIN_SECONDS,
    MonitoringStack,
    local_alertmanager_config,
    local_prometheus_config,
    write_targets,
)
from sreshow.adapters.local.processes import ChildProcess, free_port, start_process, wait_for_http
from sreshow.adapters.manifests import monitoring_files
from sreshow.adapters.sink import NotificationSink, read_notifications
from sreshow.core.durations import parse_duration
from sreshow.core.notifications import Notification
from sreshow.core.timescale import scale_monitoring
from sreshow.errors import PlatformError
from tests.manifests.stack import query, steady_traffic, wait_until
from tests.tools import require_tool

pytestmark = pytest.mark.integration

TIME_SCALE = 0.1
TOKEN = "integration-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PODS = ("sre-app-5d8c7-abcde", "sre-app-5d8c7-fghij")
PROMETHEUS_YML = "prometheus/prometheus.yml"
ALERTMANAGER_YML = "alertmanager/alertmanager.yml"
ALERT_RULES = "prometheus/rules/sre-app-alerts.rules.yml"
TRAFFIC_PER_REPLICA = 20.0  # requests per second
# The stack's first scrape of its targets: discovery (see the constant) and a scrape.
FIRST_SCRAPE_WITHIN = TARGET_CHANGES_APPLIED_WITHIN_SECONDS + 5


# --- the clocks of the scaled files ----------------------------------------------------


@dataclass(frozen=True)
class Clocks:
    """Seconds, as the scaled files set them."""

    scrape: float
    evaluation: float
    group_wait: float
    group_interval: float
    rules: dict[str, dict[str, Any]]

    def hold(self, alert: str) -> float:
        """The alert's `for:`."""
        return parse_duration(str(self.rules[alert].get("for", "0s"))) / 1000

    def window(self, alert: str) -> float:
        """The longest range selector of the alert's expression (0 without one)."""
        ranges = re.findall(r"\[(\w+)\]", self.rules[alert]["expr"])
        return max((parse_duration(r) / 1000 for r in ranges), default=0.0)

    @property
    def cycle(self) -> float:
        """One scrape plus one evaluation: the delay before a change can be seen."""
        return self.scrape + self.evaluation

    def firing_within(self, alert: str) -> float:
        """Fault → firing: the window fills, the rule holds `for:`, two cycles of slack."""
        return self.window(alert) + self.hold(alert) + 2 * self.cycle


def scaled_clocks(files: dict[str, str]) -> Clocks:
    prometheus = yaml.safe_load(files[PROMETHEUS_YML])["global"]
    route = yaml.safe_load(files[ALERTMANAGER_YML])["route"]
    rules = {
        rule["alert"]: rule
        for group in yaml.safe_load(files[ALERT_RULES])["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    return Clocks(
        scrape=parse_duration(prometheus["scrape_interval"]) / 1000,
        evaluation=parse_duration(prometheus["evaluation_interval"]) / 1000,
        group_wait=parse_duration(route["group_wait"]) / 1000,
        group_interval=parse_duration(route["group_interval"]) / 1000,
        rules=rules,
    )


# --- fixtures --------------------------------------------------------------------------


@dataclass
class Replica:
    name: str
    port: int
    process: ChildProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def patch_faults(self, faults: dict[str, Any]) -> None:
        answer = httpx.patch(f"{self.url}/admin/faults", json=faults, headers=AUTH, timeout=5)
        assert answer.status_code == 200, answer.text

    def clear_faults(self) -> None:
        answer = httpx.delete(f"{self.url}/admin/faults", headers=AUTH, timeout=5)
        assert answer.status_code == 200, answer.text


def start_replica(name: str, logs: Path) -> Replica:
    port = free_port()
    process = start_process(
        name,
        [sys.executable, "-m", "demo_app", "--host", "127.0.0.1", "--port", str(port)],
        log=logs / f"{name}.log",
        env={"POD_NAME": name, "SRESHOW_ADMIN_TOKEN": TOKEN, "APP_DRAIN_SECONDS": "0"},
    )
    replica = Replica(name, port, process)
    try:
        wait_for_http(f"{replica.url}/ready", within=20, what=name, process=process)
    except BaseException:
        process.kill()
        raise
    return replica


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    try:
        for name in PODS:
            started.append(start_replica(name, tmp_path / "logs"))
        yield started
    finally:
        for replica in started:
            replica.process.stop()


@dataclass
class Monitoring:
    stack: MonitoringStack
    sink: NotificationSink
    replicas: list[Replica]
    clocks: Clocks

    def notifications(self) -> list[Notification]:
        return read_notifications(self.sink.record_file)

    def notification(self, alert: str, status: str, *, within: float) -> Notification:
        def found() -> Notification | None:
            return next((n for n in self.notifications() if n.is_about(alert, status)), None)

        waiting = f"a {status} notification about {alert} in {self.sink.record_file}"
        notification: Notification = wait_until(
            found, within=within, waiting_for=waiting, every=0.1
        )
        return notification


def servers_of(workdir: Path) -> list[str]:
    """Command lines of the running processes that use files under `workdir`."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(workdir) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


def require_monitoring_tools() -> None:
    for tool in ("prometheus", "prometheus-alertmanager", "prometheus-blackbox-exporter"):
        require_tool(tool)


@pytest.fixture
def monitoring(tmp_path: Path, replicas: list[Replica]) -> Iterator[Monitoring]:
    require_monitoring_tools()
    with (
        NotificationSink(tmp_path / "notifications.jsonl") as sink,
        MonitoringStack(
            tmp_path / "monitoring",
            TIME_SCALE,
            sink.url,
            targets=[(r.name, r.port) for r in replicas],
        ) as stack,
    ):
        assert {(c.setting, c.used) for c in stack.clamps} == {("for", "10s")}, stack.clamps
        yield Monitoring(stack, sink, replicas, scaled_clocks(stack.scaled.files))
    assert servers_of(tmp_path / "monitoring") == [], "the stack left a server running"


@pytest.fixture
def traffic(monitoring: Monitoring) -> Iterator[None]:
    """Steady GETs of /api/data on every replica while the test runs (at most 100 s)."""
    with ExitStack() as stack:
        for replica in monitoring.replicas:
            stack.enter_context(
                steady_traffic(
                    f"{replica.url}/api/data", per_second=TRAFFIC_PER_REPLICA, at_most_seconds=100
                )
            )
        yield


# --- Prometheus and Alertmanager, as a user would look at them -------------------------


def prometheus_alerts(monitoring: Monitoring, name: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{monitoring.stack.prometheus_url}/api/v1/alerts", timeout=5).json()
    return [a for a in answer["data"]["alerts"] if a["labels"]["alertname"] == name]


def alertmanager_alerts(monitoring: Monitoring, name: str) -> list[dict[str, Any]]:
    """The active (firing, not silenced) alerts named `name` in Alertmanager's API."""
    answer = httpx.get(
        f"{monitoring.stack.alertmanager_url}/api/v2/alerts",
        params={"filter": f'alertname="{name}"', "active": "true", "silenced": "false"},
        timeout=5,
    )
    answer.raise_for_status()
    alerts: list[dict[str, Any]] = answer.json()
    return [a for a in alerts if a["status"]["state"] == "active"]


def unix_time(rfc3339: str) -> float:
    """Seconds since the epoch of a Go timestamp (nanoseconds cut to microseconds)."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", rfc3339).replace("Z", "+00:00")
    return datetime.fromisoformat(trimmed).timestamp()


def wait_for_scrapes(monitoring: Monitoring) -> None:
    """Both replicas scraped, and the error-rate window holds traffic (the steady state)."""
    wait_until(
        lambda: len(query(monitoring.stack.prometheus_url, 'up{job="sre-app"} == 1')) == 2,
        within=FIRST_SCRAPE_WITHIN,
        waiting_for="Prometheus to scrape both replicas",
    )
    window = f"{monitoring.clocks.window('HighErrorRate'):g}s"
    wait_until(
        lambda: query(
            monitoring.stack.prometheus_url,
            f'sum(rate(http_requests_total{{job="sre-app"}}[{window}])) > 0',
        ),
        within=15,
        waiting_for=f"request rates over [{window}] in Prometheus",
    )


# --- fast: the generated configs pass the servers' own checkers -------------------------


def test_local_prometheus_config_passes_promtool_check_config(tmp_path: Path) -> None:
    promtool = require_tool("promtool")  # Debian's: built without Kubernetes discovery
    scaled = scale_monitoring(monitoring_files(MONITORING_DIR), TIME_SCALE)
    shipped = yaml.safe_load(scaled.files[PROMETHEUS_YML])
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for name, text in scaled.files.items():
        if name.startswith("prometheus/rules/"):
            (rules_dir / Path(name).name).write_text(text)
    targets = tmp_path / "targets" / "sre-app.json"
    write_targets(targets, [(PODS[0], 18001), (PODS[1], 18002)])

    text = local_prometheus_config(
        scaled.files[PROMETHEUS_YML],
        targets_file=targets,
        rules_glob=str(rules_dir / "*.rules.yml"),
        alertmanager="http://127.0.0.1:19093",
        blackbox="http://127.0.0.1:19115",
        prometheus="127.0.0.1:19090",
    )
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(text)
    result = subprocess.run(
        [promtool, "check", "config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checked = result.stdout + result.stderr
    assert f"{len(list(rules_dir.iterdir()))} rule files found" in checked
    assert "kubernetes" not in text  # Debian's Prometheus could not load it

    config = yaml.safe_load(text)
    assert config["global"] == shipped["global"]
    assert config["global"]["scrape_interval"] == "1500ms"
    assert config["alerting"]["alertmanagers"][0]["static_configs"] == [
        {"targets": ["127.0.0.1:19093"]}
    ]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"prometheus", "sre-app", "sre-app-health"}
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["127.0.0.1:19090"]}]
    shipped_health = next(j for j in shipped["scrape_configs"] if j["job_name"] == "sre-app-health")
    assert jobs["sre-app-health"]["params"] == shipped_health["params"]
    for name in ("sre-app", "sre-app-health"):
        assert jobs[name]["file_sd_configs"] == [
            {"files": [str(targets)], "refresh_interval": "1500ms"}
        ]
    # The targets file as file_sd reads it, with the contract's labels.
    assert json.loads(targets.read_text()) == [
        {"targets": ["127.0.0.1:18001"], "labels": {"pod": PODS[0], "namespace": APP_NAMESPACE}},
        {"targets": ["127.0.0.1:18002"], "labels": {"pod": PODS[1], "namespace": APP_NAMESPACE}},
    ]
    shipped_app = next(j for j in shipped["scrape_configs"] if j["job_name"] == "sre-app")
    assert shipped_app["kubernetes_sd_configs"][0]["namespaces"]["names"] == [APP_NAMESPACE]


def test_local_alertmanager_config_passes_amtool_check_config(tmp_path: Path) -> None:
    amtool = require_tool("amtool")
    scaled = scale_monitoring(monitoring_files(MONITORING_DIR), TIME_SCALE)
    shutil.copy(MONITORING_DIR / "alertmanager" / "slack.tmpl", tmp_path / "slack.tmpl")
    webhook_file = tmp_path / "secrets" / "webhook-url"

    text = local_alertmanager_config(
        scaled.files[ALERTMANAGER_YML],
        webhook_url_file=webhook_file,
        templates_glob=str(tmp_path / "*.tmpl"),
    )
    config_file = tmp_path / "alertmanager.yml"
    config_file.write_text(text)
    result = subprocess.run(
        [amtool, "check-config", str(config_file)], capture_output=True, text=True, timeout=60
    )
    checked = result.stdout + result.stderr
    assert result.returncode == 0, checked
    assert " - 1 receivers" in checked
    assert "SUCCESS" in checked

    config = yaml.safe_load(text)
    shipped = yaml.safe_load(scaled.files[ALERTMANAGER_YML])
    assert config["route"] == shipped["route"]  # routing and grouping untouched (scaled)
    assert config["route"]["group_wait"] == "3s"
    (receiver,) = config["receivers"]
    (slack,) = receiver["slack_configs"]
    (shipped_slack,) = shipped["receivers"][0]["slack_configs"]
    assert slack == {**shipped_slack, "api_url_file": str(webhook_file)}

    # check-config counts template globs without opening them: render every template
    # the Slack receiver uses from the configured glob.
    (templates_glob,) = config["templates"]
    used = sorted(set(re.findall(r'template "([^"]+)"', " ".join(map(str, slack.values())))))
    assert used == ["sreshow.slack.color", "sreshow.slack.text", "sreshow.slack.title"]
    for name in used:
        rendered = subprocess.run(
            [
                amtool,
                "template",
                "render",
                f"--template.glob={templates_glob}",
                f"--template.text={{{{ template {json.dumps(name)} . }}}}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rendered.returncode == 0, f"{name}: {rendered.stderr}"


def test_a_server_that_fails_to_start_is_named_and_nothing_is_left_running(
    tmp_path: Path,
) -> None:
    require_monitoring_tools()
    broken = tmp_path / "manifests-monitoring"
    shutil.copytree(MONITORING_DIR, broken)
    alertmanager_yml = broken / "alertmanager" / "alertmanager.yml"
    alertmanager_yml.write_text(
        alertmanager_yml.read_text().replace(
            "receiver: slack-sre-alerts", "receiver: nobody-listens"
        )
    )
    stack = MonitoringStack(
        tmp_path / "monitoring",
        TIME_SCALE,
        "http://127.0.0.1:9/never",
        monitoring_dir=broken,
        ready_within=10,
    )
    with pytest.raises(PlatformError) as failure, stack:
        pytest.fail("the stack started with an Alertmanager config naming no receiver")
    message = str(failure.value)
    assert message.startswith("Alertmanager exited with code 1 while starting")
    assert str(tmp_path / "monitoring" / "logs" / "alertmanager.log") in message
    assert "nobody-listens" in message  # the log's last lines say why
    assert servers_of(tmp_path / "monitoring") == []  # the blackbox exporter was stopped


# --- the stack end to end --------------------------------------------------------------


def test_prometheus_scrapes_and_probes_each_replica_with_the_contract_labels(
    monitoring: Monitoring,
) -> None:
    stack = monitoring.stack
    assert stat.S_IMODE(stack.webhook_url_file.stat().st_mode) == 0o600
    assert stack.webhook_url_file.read_text().strip() == monitoring.sink.url

    wait_until(
        lambda: (
            len(query(stack.prometheus_url, 'probe_success{job="sre-app-health"} == 1')) == 2
            and len(query(stack.prometheus_url, 'up{job="sre-app"} == 1')) == 2
            # Each job's first scrape comes at its own offset within the interval.
            and query(stack.prometheus_url, 'up{job="prometheus"} == 1')
        ),
        within=FIRST_SCRAPE_WITHIN,
        waiting_for="both replicas up and healthy, and Prometheus itself, in Prometheus",
    )
    expected = {(f"127.0.0.1:{r.port}", r.name, APP_NAMESPACE) for r in monitoring.replicas}
    for metric, job in (("up", "sre-app"), ("probe_success", "sre-app-health")):
        series = query(stack.prometheus_url, f'{metric}{{job="{job}"}}')
        labels = [s["metric"] for s in series]
        assert all(set(s) == {"__name__", "job", "instance", "pod", "namespace"} for s in labels)
        assert {(s["instance"], s["pod"], s["namespace"]) for s in labels} == expected
        assert all(float(s["value"][1]) == 1 for s in series)
    # The app's own series carry the same labels (what the alert expressions join on).
    app_series = query(stack.prometheus_url, 'http_requests_total{job="sre-app"}')
    assert {(s["metric"]["instance"], s["metric"]["pod"]) for s in app_series} == {
        (instance, pod) for instance, pod, _ in expected
    }

    # The shipped rules are loaded, scaled; alerts go to the local Alertmanager.
    rules = httpx.get(f"{stack.prometheus_url}/api/v1/rules", timeout=5).json()["data"]
    holds = {
        rule["name"]: rule["duration"]
        for group in rules["groups"]
        for rule in group["rules"]
        if rule["type"] == "alerting"
    }
    # 1m, 2m, 1m, 30s at 0.1: 6 s and 3 s are clamped to 10 s (Prometheus's 5 s discovery
    # batches and a scrape; see core.timescale)
    contract = {"HighErrorRate": 10, "HighLatency": 12, "PodsDown": 10, "HealthCheckFailing": 10}
    assert {name: holds.get(name) for name in contract} == contract
    managers = httpx.get(f"{stack.prometheus_url}/api/v1/alertmanagers", timeout=5).json()
    assert [m["url"] for m in managers["data"]["activeAlertmanagers"]] == [
        f"{stack.alertmanager_url}/api/v2/alerts"
    ]


@pytest.mark.usefixtures("traffic")
def test_injected_errors_fire_high_error_rate_notify_and_resolve(
    monitoring: Monitoring, capfd: pytest.CaptureFixture[str]
) -> None:
    clocks = monitoring.clocks
    wait_for_scrapes(monitoring)
    rule = clocks.rules["HighErrorRate"]

    injected = time.time()
    for replica in monitoring.replicas:
        replica.patch_faults({"error_rate": 0.2})

    pending = wait_until(
        lambda: [a for a in prometheus_alerts(monitoring, "HighErrorRate") if a["state"]],
        within=clocks.firing_within("HighErrorRate"),
        waiting_for="HighErrorRate in Prometheus",
        every=0.1,
    )
    assert pending[0]["state"] == "pending", "HighErrorRate skipped pending"
    pending_at = time.time()
    (firing,) = wait_until(
        lambda: alertmanager_alerts(monitoring, "HighErrorRate"),
        within=injected + clocks.firing_within("HighErrorRate") - time.time(),
        waiting_for="HighErrorRate firing in Alertmanager",
        every=0.1,
    )
    firing_at = time.time()
    # Prometheus fires `for:` (scaled) after the alert became pending, at an evaluation
    # (its timestamps differ from the schedule by a millisecond or so).
    held = unix_time(firing["startsAt"]) - unix_time(pending[0]["activeAt"])
    hold = clocks.hold("HighErrorRate")
    assert hold - 0.1 <= held <= hold + clocks.evaluation + 0.1, held

    notified = monitoring.notification(
        "HighErrorRate", "firing", within=clocks.group_wait + clocks.cycle + 2
    )
    assert notified.alerts == ("HighErrorRate",)
    assert notified.title == "[FIRING:1] HighErrorRate"
    assert f"*{rule['annotations']['summary']}*" in notified.text
    assert rule["annotations"]["runbook_url"] in notified.text
    assert notified.payload["attachments"][0]["title_link"].startswith(
        monitoring.stack.alertmanager_url
    )

    cleared = time.time()
    for replica in monitoring.replicas:
        replica.clear_faults()
    resolved_within = clocks.window("HighErrorRate") + 2 * clocks.cycle + clocks.group_interval
    resolved = monitoring.notification("HighErrorRate", "resolved", within=resolved_within + 2)
    assert resolved.received_at > notified.received_at
    assert not alertmanager_alerts(monitoring, "HighErrorRate")

    # The webhook URL (a secret) is in its 0600 file only.
    stack = monitoring.stack
    texts = {log.name: log.read_text(errors="replace") for log in stack.logs.iterdir()}
    texts["the record file"] = monitoring.sink.record_file.read_text()
    captured = capfd.readouterr()
    texts["the test's output"] = captured.out + captured.err
    for where, text in texts.items():
        assert monitoring.sink.url not in text, f"the webhook URL leaked into {where}"
    print(
        f"\nHighErrorRate: pending {pending_at - injected:.1f} s after the fault, firing in "
        f"Alertmanager {firing_at - injected:.1f} s, notified {notified.received_at - injected:.1f}"
        f" s; resolved notification {resolved.received_at - cleared:.1f} s after clearing"
    )


@pytest.mark.usefixtures("traffic")
def test_an_unhealthy_replica_fires_health_check_failing_for_its_pod(
    monitoring: Monitoring,
) -> None:
    clocks = monitoring.clocks
    wait_until(
        lambda: (
            len(query(monitoring.stack.prometheus_url, 'probe_success{job="sre-app-health"} == 1'))
            == 2
        ),
        within=FIRST_SCRAPE_WITHIN,
        waiting_for="both replicas probed healthy",
    )
    sick, well = monitoring.replicas
    injected = time.time()
    sick.patch_faults({"unhealthy": True})

    within = clocks.firing_within("HealthCheckFailing")
    firing = wait_until(
        lambda: alertmanager_alerts(monitoring, "HealthCheckFailing"),
        within=within,
        waiting_for="HealthCheckFailing firing in Alertmanager",
        every=0.1,
    )
    firing_at = time.time()
    assert [a["labels"]["pod"] for a in firing] == [sick.name]
    assert firing[0]["labels"]["instance"] == f"127.0.0.1:{sick.port}"
    assert firing[0]["labels"]["namespace"] == APP_NAMESPACE
    healthy = query(monitoring.stack.prometheus_url, 'probe_success{job="sre-app-health"} == 1')
    assert [s["metric"]["pod"] for s in healthy] == [well.name]

    notified = monitoring.notification(
        "HealthCheckFailing", "firing", within=clocks.group_wait + clocks.cycle + 2
    )
    assert notified.pods == (sick.name,)
    print(
        f"\nHealthCheckFailing: firing in Alertmanager {firing_at - injected:.1f} s after the "
        f"fault, notified {notified.received_at - injected:.1f} s"
    )


@pytest.mark.parametrize("how", ["replicas stopped", "targets removed"])
def test_no_replica_up_fires_pods_down(monitoring: Monitoring, how: str) -> None:
    clocks = monitoring.clocks
    wait_until(
        lambda: len(query(monitoring.stack.prometheus_url, 'up{job="sre-app"} == 1')) == 2,
        within=FIRST_SCRAPE_WITHIN,
        waiting_for="Prometheus to scrape both replicas",
    )
    assert not alertmanager_alerts(monitoring, "PodsDown")
    down = time.time()
    within = clocks.firing_within("PodsDown")
    if how == "replicas stopped":
        for replica in monitoring.replicas:
            replica.process.stop()
    else:  # scaled to zero: no target at all, once Prometheus has applied the change
        monitoring.stack.set_targets([])
        within += TARGET_CHANGES_APPLIED_WITHIN_SECONDS

    firing = wait_until(
        lambda: alertmanager_alerts(monitoring, "PodsDown"),
        within=within,
        waiting_for="PodsDown firing in Alertmanager",
        every=0.1,
    )
    firing_at = time.time()
    assert firing[0]["labels"]["severity"] == "critical"
    up = query(monitoring.stack.prometheus_url, 'up{job="sre-app"}')
    if how == "replicas stopped":
        assert sorted(float(s["value"][1]) for s in up) == [0.0, 0.0]
    else:
        assert up == []
    notified = monitoring.notification(
        "PodsDown", "firing", within=clocks.group_wait + clocks.cycle + 2
    )
    print(
        f"\nPodsDown ({how}): firing in Alertmanager {firing_at - down:.1f} s, "
        f"notified {notified.received_at - down:.1f} s"
    )


# --- the sink on its own ---------------------------------------------------------------


SLACK_BODY = {
    "channel": "#sre-alerts",
    "username": "Alertmanager",
    "attachments": [
        {
            "title": "[FIRING:1] PodsDown",
            "text": ":rotating_light: *No sre-app replica is up*\n*Severity:* `critical`\n"
            "Prometheus cannot scrape any sre-app replica.\n"
            "*Runbook:* <https://example.test/monitoring.md#podsdown|PodsDown runbook>\n",
            "color": "danger",
        }
    ],
}


def test_the_sink_answers_like_slack_and_records_each_message(tmp_path: Path) -> None:
    record = tmp_path / "state" / "notifications.jsonl"
    with NotificationSink(record) as sink:
        assert stat.S_IMODE(record.stat().st_mode) == 0o600
        before = time.time()
        answer = httpx.post(sink.url, json=SLACK_BODY, timeout=5)
        assert (answer.status_code, answer.text) == (200, "ok")
        form = {"payload": json.dumps({**SLACK_BODY, "attachments": []} | {"text": "hi"})}
        assert httpx.post(sink.url, data=form, timeout=5).text == "ok"
        wrong_path = sink.url.rsplit("/", 1)[0] + "/not-the-secret"
        answer = httpx.post(wrong_path, json=SLACK_BODY, timeout=5)
        assert (answer.status_code, answer.text) == (404, "no_service")
        answer = httpx.post(sink.url, content=b"{not json", timeout=5)
        assert (answer.status_code, answer.text) == (400, "invalid_payload")
        port = sink.port
    with pytest.raises(httpx.TransportError):  # stopped: nothing listens any more
        httpx.post(f"http://127.0.0.1:{port}/", json={}, timeout=2)

    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 2
    assert set(lines[0]) == {"received_at", "status", "alerts", "text", "payload", "delivered_to"}
    assert lines[0]["delivered_to"] == "local sink"
    assert before <= lines[0]["received_at"] <= time.time()
    assert lines[0]["status"] == "firing"
    assert lines[0]["alerts"] == ["PodsDown"]
    assert lines[0]["payload"] == SLACK_BODY
    assert lines[1]["text"] == "hi"
    first, second = read_notifications(record)
    assert first.is_about("PodsDown", "firing")
    assert first.text == SLACK_BODY["attachments"][0]["text"]
    assert second.status == "unknown"


def test_read_notifications_skips_a_line_cut_short(tmp_path: Path) -> None:
    record = tmp_path / "notifications.jsonl"
    assert read_notifications(record) == []
    with NotificationSink(record) as sink:
        httpx.post(sink.url, json=SLACK_BODY, timeout=5).raise_for_status()
    with record.open("a") as file:
        file.write('{"received_at": 1, "status": "firi')  # killed mid-write
    (only,) = read_notifications(record)
    assert only.alerts == ("PodsDown",)
    record.chmod(0o644)
    with NotificationSink(record):  # a restarted sink appends to it, private again
        assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert len(read_notifications(record)) == 1


def test_with_a_slack_webhook_the_sink_relays_each_message_and_records_the_delivery(
    tmp_path: Path,
) -> None:
    # The user's "Slack": another sink, which answers exactly as Slack's webhooks do.
    with NotificationSink(tmp_path / "slack.jsonl") as slack:
        slack_url = slack.url
        relay_record = tmp_path / "notifications.jsonl"
        with NotificationSink(relay_record, relay_to=slack_url) as relay:
            answer = httpx.post(relay.url, json=SLACK_BODY, timeout=5)
            delivered = time.time()
        assert (answer.status_code, answer.text) == (200, "ok")

    (received,) = read_notifications(tmp_path / "slack.jsonl")
    (relayed,) = read_notifications(relay_record)
    assert received.payload == SLACK_BODY  # the message as Alertmanager wrote it
    assert relayed.is_about("PodsDown", "firing")
    assert (relayed.delivered_to, relayed.delivered) == ("slack", True)
    # Delivered once Slack took it: not before Slack received it.
    assert received.received_at <= relayed.received_at <= delivered
    assert slack_url not in relay_record.read_text()


def test_a_message_slack_refuses_is_answered_so_alertmanager_retries_and_not_delivered(
    tmp_path: Path,
) -> None:
    with NotificationSink(tmp_path / "slack.jsonl") as slack:
        revoked = slack.url.rsplit("/", 1)[0] + "/revoked"  # Slack: 404 no_service
        record = tmp_path / "notifications.jsonl"
        with NotificationSink(record, relay_to=revoked) as relay:
            refused = httpx.post(relay.url, json=SLACK_BODY, timeout=5)
        nowhere = f"http://127.0.0.1:{free_port()}/services/T/B/x"
        with NotificationSink(record, relay_to=nowhere) as relay:
            unreachable = httpx.post(relay.url, json=SLACK_BODY, timeout=5)

    assert (refused.status_code, refused.text) == (404, "relay_refused")
    assert (unreachable.status_code, unreachable.text) == (502, "relay_failed")
    first, second = read_notifications(record)
    assert first.error == "the Slack webhook answered 404"
    assert second.error == "the Slack webhook failed: ConnectError"
    assert not first.delivered
    assert not second.delivered
    assert read_notifications(tmp_path / "slack.jsonl") == []
    assert "revoked" not in record.read_text()
    assert nowhere not in record.read_text()
