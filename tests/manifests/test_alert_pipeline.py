"""End to end: app → Prometheus → Alertmanager → a Slack-compatible receiver.

The real demo app, Prometheus and Alertmanager run on 127.0.0.1 with the shipped
rules and Alertmanager config scaled by `scale_monitoring()` at factor 0.1 (15 s
scrapes become 1.5 s, `for: 1m` becomes 6 s, group_wait 3 s, group_interval 30 s).
An error rate injected through the admin API must reach the receiver as a Slack
message naming HighErrorRate, its summary and runbook; clearing it must bring the
resolved message. The webhook URL lives only in a 0600 file and must appear in no log.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sreshow.adapters.manifests import monitoring_files
from sreshow.core.timescale import scale_monitoring
from tests.app.support import AUTH, TOKEN, app_process
from tests.manifests.stack import (
    MONITORING,
    MOUNTED_RULES,
    MOUNTED_TEMPLATES,
    MOUNTED_WEBHOOK_FILE,
    SLACK_TEMPLATE,
    SlackReceiver,
    alertmanager,
    app_scrape_job,
    prometheus,
    query,
    steady_traffic,
    wait_until,
)
from tests.tools import require_tool

pytestmark = pytest.mark.manifests

TIME_SCALE = 0.1
POD = "sre-app-e2e-1"
# The scaled files' keys: paths under manifests/monitoring, as the adapter reads them.
PROMETHEUS_YML = "prometheus/prometheus.yml"
ALERTMANAGER_YML = "alertmanager/alertmanager.yml"
ALERT_RULES = "prometheus/rules/sre-app-alerts.rules.yml"
RULES = (ALERT_RULES, "prometheus/rules/sre-app-slo.rules.yml")
# Bounds at time scale 0.1. Fault → firing is rate window + `for` + an evaluation or
# two (~8-10 s), then group_wait (3 s). The resolved message waits for the group's next
# group_interval tick (30 s after the firing message) once the alert has cleared.
FIRING_WITHIN = 30.0
RESOLVED_WITHIN = 45.0


def write_secret(path: Path, text: str) -> None:
    """Write `text` to a new file only its owner can read (0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as secret:
        secret.write(text + "\n")


def names_alert(alertname: str, status: str) -> Any:
    """Matches a Slack message about `alertname` whose group is `status`."""
    prefix = "[RESOLVED]" if status == "resolved" else "[FIRING:"

    def matches(message: dict[str, Any]) -> bool:
        return any(
            str(attachment.get("title", "")).startswith(prefix)
            and str(attachment.get("title", "")).endswith(f"] {alertname}")
            for attachment in message.get("attachments") or []
        )

    return matches


def test_injected_errors_reach_slack_as_high_error_rate_and_resolve(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    prometheus_bin = require_tool("prometheus")
    alertmanager_bin = require_tool("prometheus-alertmanager")
    scaled = scale_monitoring(monitoring_files(MONITORING), TIME_SCALE)
    # The only clamps at 0.1: `for:` of 1m and 30s wait 10 s (Prometheus's 5 s discovery
    # batches and a scrape), not 6 s and 3 s.
    assert sorted((c.setting, c.scaled, c.used) for c in scaled.clamps) == [
        ("for", "3s", "10s"),
        ("for", "6s", "10s"),
        ("for", "6s", "10s"),
    ]
    high_error_rate = next(
        rule
        for group in yaml.safe_load(scaled.files[ALERT_RULES])["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "HighErrorRate"
    )
    assert high_error_rate["for"] == "10s"
    summary = high_error_rate["annotations"]["summary"]
    runbook_url = high_error_rate["annotations"]["runbook_url"]

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for name in RULES:
        (rules_dir / Path(name).name).write_text(scaled.files[name])
    templates_dir = tmp_path / "templates"
    templates_dir.mkdir()
    (templates_dir / SLACK_TEMPLATE.name).write_text(SLACK_TEMPLATE.read_text())
    webhook_file = tmp_path / "secrets" / "slack" / "webhook-url"

    started = time.monotonic()
    with SlackReceiver() as slack:
        write_secret(webhook_file, slack.url)
        assert stat.S_IMODE(webhook_file.stat().st_mode) == 0o600
        am_text = scaled.files[ALERTMANAGER_YML]
        assert MOUNTED_WEBHOOK_FILE in am_text
        assert MOUNTED_TEMPLATES in am_text
        am_text = am_text.replace(MOUNTED_WEBHOOK_FILE, str(webhook_file))
        am_text = am_text.replace(MOUNTED_TEMPLATES, str(templates_dir / "*.tmpl"))
        am_config = tmp_path / "alertmanager.yml"
        am_config.write_text(am_text)

        env = {"SRESHOW_ADMIN_TOKEN": TOKEN, "POD_NAME": POD}
        with (
            app_process(env) as app,
            alertmanager(alertmanager_bin, am_config, tmp_path) as am,
        ):
            shipped = yaml.safe_load(scaled.files[PROMETHEUS_YML])
            assert shipped["rule_files"] == [MOUNTED_RULES]
            prom_config = tmp_path / "prometheus.yml"
            prom_config.write_text(
                yaml.safe_dump(
                    {
                        "global": shipped["global"],  # scaled: 1500ms scrapes and rules
                        "rule_files": [str(rules_dir / "*.rules.yml")],
                        "alerting": {
                            "alertmanagers": [
                                {"static_configs": [{"targets": [am.url.removeprefix("http://")]}]}
                            ]
                        },
                        "scrape_configs": [app_scrape_job({POD: app.url})],
                    }
                )
            )
            assert shipped["global"]["scrape_interval"] == "1500ms"

            with (
                prometheus(prometheus_bin, prom_config, tmp_path) as prom,
                steady_traffic(f"{app.url}/api/data", per_second=40, at_most_seconds=100),
                httpx.Client(base_url=app.url, headers=AUTH, timeout=5) as admin,
            ):
                wait_until(
                    lambda: query(prom.url, 'up{job="sre-app", pod="sre-app-e2e-1"} == 1'),
                    within=15,
                    waiting_for="Prometheus to scrape the app",
                )
                assert admin.patch("/admin/faults", json={"error_rate": 0.2}).status_code == 200
                injected = time.monotonic()

                firing = slack.wait_for(
                    names_alert("HighErrorRate", "firing"),
                    within=FIRING_WITHIN,
                    waiting_for="naming HighErrorRate as firing",
                )
                notified_after = time.monotonic() - injected

                assert admin.delete("/admin/faults").status_code == 200
                cleared = time.monotonic()
                resolved = slack.wait_for(
                    names_alert("HighErrorRate", "resolved"),
                    within=RESOLVED_WITHIN,
                    waiting_for="saying HighErrorRate resolved",
                )
                resolved_after = time.monotonic() - cleared
                am_status = httpx.get(f"{am.url}/api/v2/status", timeout=5).text
            logs = prom.log_text() + am.log_text()

    # The Slack message, as Alertmanager's Slack notifier sends it.
    assert firing["channel"] == "#sre-alerts"
    (attachment,) = firing["attachments"]
    assert attachment["title"] == "[FIRING:1] HighErrorRate"
    assert attachment["color"] == "danger"
    assert f"*{summary}*" in attachment["text"]
    assert "*Severity:* `critical`" in attachment["text"]
    assert f"<{runbook_url}|HighErrorRate runbook>" in attachment["text"]
    assert "of the requests to sre-app" in attachment["text"]  # the description
    assert attachment["title_link"].startswith(am.url)  # --web.external-url is used
    assert resolved["channel"] == "#sre-alerts"
    assert resolved["attachments"][0]["color"] == "good"
    assert notified_after < FIRING_WITHIN
    assert resolved_after < RESOLVED_WITHIN

    # The webhook URL is a secret: nowhere but in its file.
    captured = capfd.readouterr()
    for where, text in {
        "the Prometheus and Alertmanager logs": logs,
        "Alertmanager's status API": am_status,
        "this test's output": captured.out + captured.err,
    }.items():
        assert slack.secret not in text, f"the Slack webhook URL leaked into {where}"
    assert "Notify success" in logs  # the logs were captured and are the right ones
    print(
        f"pipeline: notified {notified_after:.1f} s after the fault, resolved "
        f"{resolved_after:.1f} s after clearing, {time.monotonic() - started:.1f} s in all"
    )
