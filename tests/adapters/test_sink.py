"""The notification sink as a cluster runs it: its records read back over HTTP at the
secret path, and the user's Slack webhook taken from a mounted file at each message."""

from __future__ import annotations

from pathlib import Path

import httpx

from sreshow.adapters.sink import CLUSTER_SINK, NotificationSink, notifications_from_records

FIRING = {
    "attachments": [
        {
            "title": "[FIRING:1] HighErrorRate",
            "text": ":rotating_light: *Error rate above 5%*\n"
            "*Runbook:* <https://example.test/r.md#higherrorrate|HighErrorRate runbook>\n",
        }
    ]
}


def records(sink: NotificationSink) -> list[object]:
    answer = httpx.get(sink.url, timeout=5)
    answer.raise_for_status()
    found: list[object] = answer.json()["notifications"]
    return found


def test_a_get_of_the_webhook_url_answers_the_messages_received(tmp_path: Path) -> None:
    with NotificationSink(tmp_path / "n.jsonl", name=CLUSTER_SINK) as sink:
        assert records(sink) == []
        httpx.post(sink.url, json=FIRING, timeout=5).raise_for_status()

        (record,) = records(sink)
        (notification,) = notifications_from_records([record])
        assert notification.is_about("HighErrorRate", "firing")
        assert notification.delivered_to == CLUSTER_SINK
        elsewhere = httpx.get(sink.url.rsplit("/", 1)[0] + "/guess", timeout=5)
        assert (elsewhere.status_code, elsewhere.text) == (404, "no_service")


def test_the_slack_webhook_is_read_from_its_file_at_each_message(tmp_path: Path) -> None:
    relay_file = tmp_path / "relay-url"  # a Secret's key, absent until the user gives one
    with (
        NotificationSink(tmp_path / "slack.jsonl") as slack,
        NotificationSink(tmp_path / "n.jsonl", relay_to=relay_file, name=CLUSTER_SINK) as sink,
    ):
        httpx.post(sink.url, json=FIRING, timeout=5).raise_for_status()
        relay_file.write_text(slack.url + "\n")
        httpx.post(sink.url, json=FIRING, timeout=5).raise_for_status()
        relay_file.write_text("")
        httpx.post(sink.url, json=FIRING, timeout=5).raise_for_status()

        delivered = [n.delivered_to for n in notifications_from_records(records(sink))]
        assert delivered == [CLUSTER_SINK, "slack", CLUSTER_SINK]
        assert len(records(slack)) == 1
