"""The monitoring configuration, checked by the tools that run it.

promtool checks the Prometheus config and the rules and runs the rules' unit tests
(tests/manifests/promtool/) on the verbatim files; amtool checks the Alertmanager
config, its routing and its Slack template; the blackbox exporter checks its
modules; and a real Prometheus applies the scrape jobs' relabelling to targets
shaped like Kubernetes pods, scraping the real app through the real exporter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import yaml

from sreshow.adapters.manifests import monitoring_files
from sreshow.core.timescale import scale_monitoring
from tests.app.support import AUTH, TOKEN, app_process
from tests.manifests.stack import (
    ALERTMANAGER_CONFIG,
    BLACKBOX_CONFIG,
    MONITORING,
    MOUNTED_RULES,
    MOUNTED_TEMPLATES,
    MOUNTED_WEBHOOK_FILE,
    PROMETHEUS_CONFIG,
    ROOT,
    RULES_DIR,
    SLACK_RECEIVER,
    SLACK_TEMPLATE,
    blackbox_exporter,
    prometheus,
    query,
    rule_files,
    wait_until,
)
from tests.tools import INSTALL_HINT, require_tool, tools_bin

pytestmark = pytest.mark.manifests

PROMTOOL_TESTS = ROOT / "tests" / "manifests" / "promtool"
DOCS = ROOT / "docs" / "monitoring.md"
RUNBOOK_BASE = "https://github.com/sreshow/sreshow/blob/main/docs/monitoring.md#"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount/"
BLACKBOX_SERVICE = "blackbox-exporter.monitoring.svc:9115"
CONTRACT_ALERTS = {
    "HighErrorRate": "1m",
    "HighLatency": "2m",
    "PodsDown": "1m",
    "HealthCheckFailing": "30s",
}
SLO_ALERTS = ("ErrorBudgetBurnFast", "ErrorBudgetBurnSlow")


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd)


def alert_rules() -> dict[str, dict[str, Any]]:
    """Every alerting rule of the shipped rule files, by alert name."""
    return {
        rule["alert"]: rule
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def promtool_with_kubernetes_sd(workdir: Path) -> str:
    """A promtool that knows `kubernetes_sd_configs`; Debian's is built without it."""
    probe = workdir / "kubernetes-sd-probe.yml"
    probe.write_text(
        "scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: pod\n"
    )
    # scripts/install-tools.sh builds upstream promtool as promtool-<version>.
    built = sorted(tools_bin().glob("promtool-*"), reverse=True)
    for candidate in [*map(str, built), shutil.which("promtool")]:
        if candidate and os.access(candidate, os.X_OK):
            probed = run([candidate, "check", "config", "--syntax-only", str(probe)])
            if probed.returncode == 0:
                return candidate
    message = (
        "no promtool with Kubernetes service discovery (Debian's promtool is built without "
        f"it; {INSTALL_HINT}, which builds upstream promtool)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# --- Prometheus ---------------------------------------------------------------------


def test_prometheus_config_passes_promtool_check_config(tmp_path: Path) -> None:
    promtool = promtool_with_kubernetes_sd(tmp_path)
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in rule_files():
        shutil.copy(path, rules / path.name)
    service_account = tmp_path / "serviceaccount"
    service_account.mkdir()
    (service_account / "token").write_text("not-a-real-token")
    (service_account / "ca.crt").write_text("")
    text = PROMETHEUS_CONFIG.read_text()
    # Only the mounted paths move to this test's copies; everything else is verbatim.
    assert MOUNTED_RULES in text
    assert SERVICE_ACCOUNT_DIR in text
    text = text.replace(MOUNTED_RULES, str(rules / "*.rules.yml"))
    text = text.replace(SERVICE_ACCOUNT_DIR, f"{service_account}/")
    config = tmp_path / "prometheus.yml"
    config.write_text(text)

    result = run([promtool, "check", "config", str(config)])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 2 rule files found" in result.stdout
    assert "SUCCESS: 4 rules found" in result.stdout  # the contract alerts
    assert "SUCCESS: 9 rules found" in result.stdout  # 7 SLO recordings and 2 alerts


@pytest.mark.parametrize("rules", rule_files(), ids=lambda path: path.name)
def test_rule_file_passes_promtool_check_rules(rules: Path) -> None:
    result = run([require_tool("promtool"), "check", "rules", str(rules)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    "unit_tests", sorted(PROMTOOL_TESTS.glob("*.test.yml")), ids=lambda path: path.name
)
def test_rule_unit_tests_pass_on_the_verbatim_rules(unit_tests: Path) -> None:
    result = run(
        [require_tool("promtool"), "test", "rules", unit_tests.name], cwd=unit_tests.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_unit_tests_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in PROMTOOL_TESTS.glob("*.test.yml"):
        for group in yaml.safe_load(path.read_text())["tests"]:
            for check in group.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == set(alert_rules()), "an alert has no unit test where it fires"
    assert quiet == set(alert_rules()), "an alert has no unit test where it stays quiet"


class BrokenRule(NamedTuple):
    """A change to one threshold, window or `for` of a shipped rule file."""

    rules: str  # the rule file's stem
    old: str
    new: str
    caught_by: str  # the unit-test group that must fail
    occurrence: int = 1  # which occurrence of `old` changes


ALERTS, SLO = "sre-app-alerts", "sre-app-slo"
ERRORS_BELOW = "HighErrorRate stays quiet at 4.9% errors"
ERRORS_ABOVE = "HighErrorRate fires at 5.1% errors"
ERRORS_FOR = "HighErrorRate waits its 1m `for`"
LATENCY_BELOW = "HighLatency stays quiet with 4.9% of requests over 1s"
LATENCY_ABOVE = "HighLatency fires with 5.1% of requests over 1s"
LATENCY_FOR = "HighLatency waits its 2m `for`"
PODS_ABSENT = "PodsDown fires when no target exists at all"
PODS_OTHER_JOBS = "PodsDown ignores other jobs"
PODS_FOR = "PodsDown fires when every target is down, after 1m"
HEALTH_FOR = "HealthCheckFailing fires for the failing pod after 30s"
FAST_1H = "the fast burn alert pages on a big burn (2% errors) after 43 minutes"
FAST_SPIKE = "a short spike pages briefly and never opens a ticket"
FAST_6H = "the fast burn alert pages on 6x over 6h and resets with the 30m window"
SLOW_1D = "the slow burn alert tickets on 3x over 1d and resets with the 2h window"
SLOW_3D = "the slow burn alert tickets on 1x over 3d and resets with the 6h window"
UP = 'up{job="sre-app"} == 1'
PROBE = 'probe_success{job="sre-app-health"} == 0'

# Every one of these must make the unit tests fail (a test that cannot fail is a defect).
BROKEN_RULES = {
    "HighErrorRate at 4%": BrokenRule(ALERTS, "> 0.05", "> 0.04", ERRORS_BELOW),
    "HighErrorRate at 6%": BrokenRule(ALERTS, "> 0.05", "> 0.06", ERRORS_ABOVE),
    "HighErrorRate with 4xx": BrokenRule(ALERTS, '"5.."', '"[45].."', ERRORS_BELOW),
    "HighErrorRate 500 only": BrokenRule(ALERTS, '=~"5.."', '="500"', ERRORS_ABOVE),
    "HighErrorRate for 45s": BrokenRule(ALERTS, "for: 1m\n", "for: 45s\n", ERRORS_FOR),
    "HighErrorRate for 75s": BrokenRule(ALERTS, "for: 1m\n", "for: 75s\n", ERRORS_FOR),
    "HighLatency at 0.9s": BrokenRule(ALERTS, ") > 1\n", ") > 0.9\n", LATENCY_BELOW),
    "HighLatency at 1.1s": BrokenRule(ALERTS, ") > 1\n", ") > 1.1\n", LATENCY_ABOVE),
    "HighLatency for 105s": BrokenRule(ALERTS, "for: 2m\n", "for: 105s\n", LATENCY_FOR),
    "PodsDown without absent": BrokenRule(ALERTS, f"absent({UP})", "up == 0", PODS_ABSENT),
    "PodsDown with other jobs": BrokenRule(ALERTS, UP, "up == 1", PODS_OTHER_JOBS),
    "PodsDown for 45s": BrokenRule(ALERTS, "for: 1m\n", "for: 45s\n", PODS_FOR, 2),
    "HealthCheckFailing for 15s": BrokenRule(ALERTS, "for: 30s\n", "for: 15s\n", HEALTH_FOR),
    "HealthCheckFailing summed": BrokenRule(ALERTS, PROBE, f"sum({PROBE})", HEALTH_FOR),
    "fast 1h pair at 13x": BrokenRule(SLO, "(14.4 * 0.001)", "(13 * 0.001)", FAST_1H),
    "fast 1h pair at 16x": BrokenRule(SLO, "(14.4 * 0.001)", "(16 * 0.001)", FAST_1H),
    "fast 5m window of 10m": BrokenRule(SLO, "[5m]", "[10m]", FAST_SPIKE),
    "fast 6h pair at 5.8x": BrokenRule(SLO, "(6 * 0.001)", "(5.8 * 0.001)", FAST_6H),
    "fast 6h pair at 6.2x": BrokenRule(SLO, "(6 * 0.001)", "(6.2 * 0.001)", FAST_6H),
    "slow 1d pair at 2.9x": BrokenRule(SLO, "(3 * 0.001)", "(2.9 * 0.001)", SLOW_1D),
    "slow 1d pair at 3.1x": BrokenRule(SLO, "(3 * 0.001)", "(3.1 * 0.001)", SLOW_1D),
    "slow 3d pair at 0.8x": BrokenRule(SLO, "> 0.001", "> 0.0008", SLOW_3D),
    "slow 3d pair at 1.2x": BrokenRule(SLO, "> 0.001", "> 0.0012", SLOW_3D),
    "slow 6h window at 0.8x": BrokenRule(SLO, "> 0.001", "> 0.0008", SLOW_3D, 2),
}


@pytest.mark.parametrize("broken", BROKEN_RULES.values(), ids=BROKEN_RULES.keys())
def test_rule_unit_tests_fail_when_a_rule_breaks(tmp_path: Path, broken: BrokenRule) -> None:
    text = (RULES_DIR / f"{broken.rules}.rules.yml").read_text()
    parts = text.split(broken.old)
    assert len(parts) > broken.occurrence, f"{broken.old!r} is not in {broken.rules} that often"
    rules = tmp_path / f"{broken.rules}.rules.yml"
    nth = broken.occurrence
    rules.write_text(broken.old.join(parts[:nth]) + broken.new + broken.old.join(parts[nth:]))
    # Only the group that should notice runs, against the broken copy of the rules.
    unit_tests = yaml.safe_load((PROMTOOL_TESTS / f"{broken.rules}.test.yml").read_text())
    unit_tests["rule_files"] = [str(rules)]
    unit_tests["tests"] = [t for t in unit_tests["tests"] if t["name"] == broken.caught_by]
    assert len(unit_tests["tests"]) == 1, f"no unit-test group named {broken.caught_by!r}"
    test_file = tmp_path / f"{broken.rules}.test.yml"
    test_file.write_text(yaml.safe_dump(unit_tests, sort_keys=False))

    result = run([require_tool("promtool"), "test", "rules", str(test_file)])

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # A failed expectation names the alert it checked; a broken rule file would not.
    assert re.search(r"^\s+alertname: \w+, time: ", output, flags=re.MULTILINE), output


def test_alerts_carry_the_contract_labels_annotations_and_runbooks() -> None:
    rules = alert_rules()
    assert set(rules) == set(CONTRACT_ALERTS) | set(SLO_ALERTS)
    anchors = _doc_anchors(DOCS.read_text())
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}, name
        assert rule["annotations"]["runbook_url"] == RUNBOOK_BASE + name.lower(), name
        assert name.lower() in anchors, f"docs/monitoring.md has no section for {name}"
    for name, hold in CONTRACT_ALERTS.items():
        assert rules[name]["for"] == hold, name


def _doc_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown page."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, flags=re.MULTILINE)
    return {
        re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings
    }


# --- Alertmanager ---------------------------------------------------------------------


def alertmanager_copy(tmp_path: Path) -> Path:
    """The verbatim config, with only its mounted paths moved into `tmp_path`."""
    shutil.copy(SLACK_TEMPLATE, tmp_path / SLACK_TEMPLATE.name)
    webhook = tmp_path / "webhook-url"
    webhook.write_text("http://127.0.0.1:9/never-called\n")
    text = ALERTMANAGER_CONFIG.read_text()
    assert MOUNTED_TEMPLATES in text
    assert MOUNTED_WEBHOOK_FILE in text
    text = text.replace(MOUNTED_TEMPLATES, str(tmp_path / "*.tmpl"))
    text = text.replace(MOUNTED_WEBHOOK_FILE, str(webhook))
    config = tmp_path / "alertmanager.yml"
    config.write_text(text)
    return config


def test_alertmanager_config_passes_amtool_check_config(tmp_path: Path) -> None:
    config = alertmanager_copy(tmp_path)
    result = run([require_tool("amtool"), "check-config", str(config)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "1 receivers" in result.stdout
    assert "1 templates" in result.stdout


def test_alertmanager_config_keeps_the_slack_url_out_of_the_file() -> None:
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    (receiver,) = config["receivers"]
    (slack,) = receiver["slack_configs"]
    assert slack["api_url_file"] == MOUNTED_WEBHOOK_FILE
    assert "api_url" not in slack
    assert "slack_api_url" not in config.get("global", {})
    assert "hooks.slack.com" not in ALERTMANAGER_CONFIG.read_text()


@pytest.mark.parametrize("alertname", [*CONTRACT_ALERTS, *SLO_ALERTS])
def test_every_alert_routes_to_the_slack_receiver(tmp_path: Path, alertname: str) -> None:
    config = alertmanager_copy(tmp_path)
    rule = alert_rules()[alertname]
    labels = [f"alertname={alertname}", f"severity={rule['labels']['severity']}"]
    if alertname == "HealthCheckFailing":
        labels += ["pod=sre-app-7d9f5-x2kq4", "namespace=sre-app", "job=sre-app-health"]

    result = run(
        [
            require_tool("amtool"),
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"--verify.receivers={SLACK_RECEIVER}",
            *labels,
        ]
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == SLACK_RECEIVER


def test_alertmanager_route_groups_by_alert_name_with_the_agreed_timers() -> None:
    route = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())["route"]
    assert route["receiver"] == SLACK_RECEIVER
    assert route["group_by"] == ["alertname"]
    timers = {key: route[key] for key in ("group_wait", "group_interval", "repeat_interval")}
    assert timers == {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "12h"}
    assert "routes" not in route  # one receiver for every alert (amtool checks each above)


def _template_data(status: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    common = {k: v for k, v in alerts[0]["labels"].items() if k in {"alertname", "severity"}}
    return {
        "receiver": SLACK_RECEIVER,
        "status": status,
        "alerts": alerts,
        "groupLabels": {"alertname": common["alertname"]},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
    }


def _alert(status: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": "2026-11-27T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://127.0.0.1:9090/graph",
        "fingerprint": "0123456789abcdef",
    }


def render_slack(tmp_path: Path, template: str, data: dict[str, Any]) -> str:
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    result = run(
        [
            require_tool("amtool"),
            "template",
            "render",
            f"--template.glob={SLACK_TEMPLATE}",
            f"--template.text={{{{ template {json.dumps(template)} . }}}}",
            f"--template.data={data_file}",
        ]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_slack_message_shows_summary_severity_pod_and_runbook(tmp_path: Path) -> None:
    rule = alert_rules()["HealthCheckFailing"]
    labels = {
        "alertname": "HealthCheckFailing",
        "severity": rule["labels"]["severity"],
        "pod": "sre-app-7d9f5-x2kq4",
        "namespace": "sre-app",
    }
    annotations = {
        "summary": "Health check failing on pod sre-app-7d9f5-x2kq4",
        "description": "The blackbox probe keeps failing.",
        "runbook_url": rule["annotations"]["runbook_url"],
    }
    firing = _template_data("firing", [_alert("firing", labels, annotations)])

    title = render_slack(tmp_path, "sreshow.slack.title", firing)
    text = render_slack(tmp_path, "sreshow.slack.text", firing)
    color = render_slack(tmp_path, "sreshow.slack.color", firing)
    resolved = _template_data("resolved", [_alert("resolved", labels, annotations)])

    assert title == "[FIRING:1] HealthCheckFailing"
    assert "*Health check failing on pod sre-app-7d9f5-x2kq4*" in text
    assert "*Severity:* `warning`" in text
    assert "*Pod:* `sre-app-7d9f5-x2kq4`" in text
    assert f"*Runbook:* <{RUNBOOK_BASE}healthcheckfailing|HealthCheckFailing runbook>" in text
    assert color == "warning"
    assert (
        render_slack(tmp_path, "sreshow.slack.title", resolved) == "[RESOLVED] HealthCheckFailing"
    )
    assert render_slack(tmp_path, "sreshow.slack.color", resolved) == "good"


def test_slack_message_has_no_pod_line_for_a_service_wide_alert(tmp_path: Path) -> None:
    labels = {"alertname": "HighErrorRate", "severity": "critical"}
    annotations = {"summary": "s", "description": "d", "runbook_url": RUNBOOK_BASE + "x"}
    data = _template_data("firing", [_alert("firing", labels, annotations)])
    assert "Pod:" not in render_slack(tmp_path, "sreshow.slack.text", data)
    assert render_slack(tmp_path, "sreshow.slack.color", data) == "danger"


# --- Blackbox exporter and the scrape jobs --------------------------------------------


def test_blackbox_config_passes_its_own_check() -> None:
    binary = require_tool("prometheus-blackbox-exporter")
    result = run([binary, f"--config.file={BLACKBOX_CONFIG}", "--config.check"])
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Config file is ok" in output
    assert "level=warn" not in output  # e.g. a deprecated setting


def _pod_target(
    address: str, pod: str, *, phase: str, annotations: dict[str, str]
) -> dict[str, Any]:
    """A file_sd target group carrying the labels Kubernetes pod discovery would give."""
    labels = {
        "__meta_kubernetes_namespace": "sre-app",
        "__meta_kubernetes_pod_name": pod,
        "__meta_kubernetes_pod_phase": phase,
        "__meta_kubernetes_pod_label_app_kubernetes_io_name": "sre-app",
    }
    for key, value in annotations.items():
        name = re.sub(r"[^a-zA-Z0-9_]", "_", key)
        labels[f"__meta_kubernetes_pod_annotation_{name}"] = value
    return {"targets": [address], "labels": labels}


def test_scrape_jobs_label_app_and_probe_targets_alike(tmp_path: Path) -> None:
    """The verbatim relabelling of jobs sre-app and sre-app-health on a real Prometheus.

    Debian's Prometheus has no Kubernetes discovery, so file_sd hands it targets with
    the same `__meta_kubernetes_*` labels pod discovery produces; everything after
    discovery (relabel rules, blackbox module, probe) is the shipped configuration.
    """
    prometheus_bin = require_tool("prometheus")
    blackbox_bin = require_tool("prometheus-blackbox-exporter")
    scaled = scale_monitoring(monitoring_files(MONITORING), 0.1)
    shipped = yaml.safe_load(scaled.files["prometheus/prometheus.yml"])
    jobs = {job["job_name"]: job for job in shipped["scrape_configs"]}
    pods_file = tmp_path / "pods.json"

    with (
        app_process({"SRESHOW_ADMIN_TOKEN": TOKEN}) as app,
        blackbox_exporter(blackbox_bin, BLACKBOX_CONFIG, tmp_path) as blackbox,
    ):
        app_port = app.url.rsplit(":", 1)[1]
        scrape = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": app_port,
            "prometheus.io/path": "/metrics",
        }
        pods = [
            # The container port (8000) differs: the address must come from the annotation.
            _pod_target("127.0.0.1:8000", "sre-app-a", phase="Running", annotations=scrape),
            _pod_target("127.0.0.2:8000", "sre-app-pending", phase="Pending", annotations=scrape),
            _pod_target("127.0.0.3:8000", "not-annotated", phase="Running", annotations={}),
        ]
        pods_file.write_text(json.dumps(pods))
        scrape_configs = []
        for name in ("sre-app", "sre-app-health"):
            job = dict(jobs[name])
            assert job.pop("kubernetes_sd_configs") == [
                {"role": "pod", "namespaces": {"names": ["sre-app"]}}
            ]
            job["file_sd_configs"] = [{"files": [str(pods_file)]}]
            scrape_configs.append(job)
        blackbox_relabel = [
            rule
            for rule in jobs["sre-app-health"]["relabel_configs"]
            if rule.get("target_label") == "__address__"
        ]
        assert [rule["replacement"] for rule in blackbox_relabel] == [BLACKBOX_SERVICE]
        blackbox_relabel[0]["replacement"] = blackbox.url.removeprefix("http://")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            yaml.safe_dump({"global": shipped["global"], "scrape_configs": scrape_configs})
        )

        with prometheus(prometheus_bin, config, tmp_path) as server:

            def scraped() -> list[dict[str, Any]]:
                found = query(server.url, 'up{job=~"sre-app|sre-app-health"} == 1')
                return found if len(found) == 2 else []

            up = wait_until(scraped, within=20, waiting_for="both jobs to scrape the pod")
            targets = httpx.get(f"{server.url}/api/v1/targets", timeout=5).json()["data"]

            def probe(expected: float) -> Any:
                found = query(server.url, 'probe_success{job="sre-app-health"}')
                return found if found and float(found[0]["value"][1]) == expected else None

            healthy = wait_until(lambda: probe(1), within=15, waiting_for="a passing probe")
            with httpx.Client(base_url=app.url, timeout=5) as client:
                assert (
                    client.patch(
                        "/admin/faults", json={"unhealthy": True}, headers=AUTH
                    ).status_code
                    == 200
                )
            wait_until(lambda: probe(0), within=15, waiting_for="the probe to fail")
            requests = query(server.url, 'http_requests_total{job="sre-app"}')

    instance = f"127.0.0.1:{app_port}"
    expected = {"instance": instance, "pod": "sre-app-a", "namespace": "sre-app"}
    by_job = {series["metric"]["job"]: series["metric"] for series in up}
    assert by_job["sre-app"] == {"__name__": "up", "job": "sre-app", **expected}
    assert by_job["sre-app-health"] == {"__name__": "up", "job": "sre-app-health", **expected}
    assert healthy[0]["metric"] == {
        "__name__": "probe_success",
        "job": "sre-app-health",
        **expected,
    }
    assert requests, "the app's own metrics carry the pod labels"
    assert all({k: series["metric"][k] for k in expected} == expected for series in requests)
    active = {(t["labels"]["job"], t["labels"]["pod"]) for t in targets["activeTargets"]}
    assert active == {("sre-app", "sre-app-a"), ("sre-app-health", "sre-app-a")}
    health_target = next(
        t for t in targets["activeTargets"] if t["labels"]["job"] == "sre-app-health"
    )
    assert health_target["scrapeUrl"].startswith(f"{blackbox.url}/probe?")
    assert f"target=http%3A%2F%2F127.0.0.1%3A{app_port}%2Fhealth" in health_target["scrapeUrl"]
    assert "module=http_health" in health_target["scrapeUrl"]
