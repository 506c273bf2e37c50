"""Reading Slack messages as manifests/monitoring/alertmanager/slack.tmpl renders them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sreshow.core.notifications import (
    Notification,
    notification_from_record,
    notification_record,
    parse_slack_message,
)


def alert_lines(name: str, *, resolved: bool = False, pod: str | None = None) -> str:
    """One alert's lines in the message text, as slack.tmpl writes them."""
    mark = ":white_check_mark:" if resolved else ":rotating_light:"
    pod_part = f"   *Pod:* `{pod}`" if pod else ""
    return (
        f"{mark} *Summary of {name}*\n"
        f"*Severity:* `warning`{pod_part}\n"
        f"What {name} means.\n"
        f"*Runbook:* <https://example.test/monitoring.md#{name.lower()}|{name} runbook>\n"
    )


def slack_body(title: str, text: str, color: str = "danger") -> dict[str, Any]:
    """The body Alertmanager 0.25's Slack notifier posts."""
    return {
        "channel": "#sre-alerts",
        "username": "Alertmanager",
        "attachments": [
            {
                "title": title,
                "title_link": "http://127.0.0.1:9093/#/alerts?receiver=slack-sre-alerts",
                "text": text,
                "fallback": title,
                "color": color,
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }


def test_a_firing_group_names_its_alert() -> None:
    message = parse_slack_message(
        slack_body("[FIRING:1] HighErrorRate", alert_lines("HighErrorRate"))
    )
    assert message.status == "firing"
    assert message.alerts == ("HighErrorRate",)
    assert message.title == "[FIRING:1] HighErrorRate"
    assert message.text == alert_lines("HighErrorRate")


def test_a_resolved_group_is_resolved() -> None:
    body = slack_body("[RESOLVED] PodsDown", alert_lines("PodsDown", resolved=True), "good")
    message = parse_slack_message(body)
    assert (message.status, message.alerts) == ("resolved", ("PodsDown",))


def test_a_group_of_several_pods_names_the_alert_once_and_each_pod() -> None:
    text = "\n".join(
        alert_lines("HealthCheckFailing", pod=pod) for pod in ("sre-app-a-1", "sre-app-a-2")
    )
    body = slack_body("[FIRING:2] HealthCheckFailing", text, "warning")
    record = notification_record(body, 1700000000.5)
    notification = notification_from_record(record)
    assert notification.alerts == ("HealthCheckFailing",)
    assert notification.pods == ("sre-app-a-1", "sre-app-a-2")
    assert notification.is_about("HealthCheckFailing", "firing")
    assert not notification.is_about("HealthCheckFailing", "resolved")
    assert not notification.is_about("PodsDown", "firing")


def test_a_firing_group_with_a_resolved_alert_is_firing() -> None:
    text = (
        alert_lines("HealthCheckFailing", pod="p1")
        + "\n"
        + alert_lines("HealthCheckFailing", resolved=True, pod="p2")
    )
    message = parse_slack_message(slack_body("[FIRING:1] HealthCheckFailing", text))
    assert message.status == "firing"


def test_without_a_common_alert_name_the_names_come_from_each_alert() -> None:
    # group_by without alertname: the title has no name, each alert still links its runbook.
    text = alert_lines("HighLatency") + "\n" + alert_lines("HighErrorRate")
    message = parse_slack_message(slack_body("[FIRING:2] ", text))
    assert message.alerts == ("HighLatency", "HighErrorRate")
    assert message.status == "firing"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (alert_lines("PodsDown"), "firing"),
        (alert_lines("PodsDown", resolved=True), "resolved"),
        ("no marks at all", "unknown"),
    ],
)
def test_without_a_title_the_status_comes_from_the_alert_marks(text: str, status: str) -> None:
    body = slack_body("", text)
    assert parse_slack_message(body).status == status


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {},
        {"attachments": "not a list"},
        {"attachments": [None, 3, {"title": 5, "text": ["x"]}]},
        {"text": "a plain Slack message"},
    ],
)
def test_a_body_it_does_not_know_is_unknown_and_never_raises(body: object) -> None:
    message = parse_slack_message(body)
    assert message.status == "unknown"
    assert message.alerts == ()
    record = notification_record(body, 1.0)
    assert record["payload"] == body
    assert notification_from_record(json.loads(json.dumps(record))).status == "unknown"


def test_a_plain_slack_message_keeps_its_text() -> None:
    assert parse_slack_message({"text": "deploy done"}).text == "deploy done"


def test_a_record_round_trips_through_json() -> None:
    body = slack_body("[FIRING:1] HighLatency", alert_lines("HighLatency"), "warning")
    record = json.loads(json.dumps(notification_record(body, 1700000000.25)))
    assert set(record) == {"received_at", "status", "alerts", "text", "payload"}
    notification = notification_from_record(record)
    assert notification == Notification(
        1700000000.25, "firing", ("HighLatency",), alert_lines("HighLatency"), body
    )
    assert notification.title == "[FIRING:1] HighLatency"
    assert notification.payload == body


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"received_at": "yesterday"}, "received_at"),
        ({"received_at": True}, "received_at"),
        ({"status": "pending"}, "status"),
        ({"status": ["firing"]}, "status"),
        ({"alerts": "HighLatency"}, "alerts"),
        ({"alerts": [1]}, "alerts"),
        ({"text": None}, "text"),
    ],
)
def test_a_record_the_sink_did_not_write_is_refused(change: dict[str, Any], complaint: str) -> None:
    record = notification_record(slack_body("[RESOLVED] PodsDown", ""), 1.0) | change
    with pytest.raises(ValueError, match=complaint):
        notification_from_record(record)


def test_a_record_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="object"):
        notification_from_record(["firing"])
