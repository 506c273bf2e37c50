"""What a Slack notification from Alertmanager says: firing or resolved, which alerts.

sreshow's own notification sink records every Slack webhook body it receives;
this module reads them. The message is what `manifests/monitoring/alertmanager/
slack.tmpl` renders, one message per alert group (`group_by: [alertname]`):

    attachments[0].title   `[FIRING:<n>] <alertname>` or `[RESOLVED] <alertname>`
    attachments[0].text    per alert: `:rotating_light:` (firing) or
                           `:white_check_mark:` (resolved), `*<summary>*`,
                           `*Severity:* `<s>`` and, for one replica, `*Pod:* `<pod>``,
                           the description, `*Runbook:* <<url>|<alertname> runbook>`

Parsing never raises on a body it does not recognise: the status is then "unknown"
and the alert names are empty, and the body is kept as it came.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["firing", "resolved", "unknown"]

_TITLE_RE = re.compile(r"^\s*\[(?P<state>FIRING|RESOLVED)(?::\d+)?\]\s*(?P<name>\S*)", re.I)
# Every alert of the group ends with a link to its runbook named after the alert.
_RUNBOOK_RE = re.compile(r"\|(?P<name>[^|<>\s]+) runbook>")
_POD_RE = re.compile(r"\*Pod:\*\s*`(?P<pod>[^`]+)`")
_STATUSES: dict[str, Status] = {"firing": "firing", "resolved": "resolved", "unknown": "unknown"}
_FIRING_MARK = ":rotating_light:"
_RESOLVED_MARK = ":white_check_mark:"


@dataclass(frozen=True)
class SlackMessage:
    """What one Slack webhook body says about its alert group."""

    status: Status
    alerts: tuple[str, ...]  # alert names, each once, in the order the message names them
    title: str
    text: str


def parse_slack_message(payload: object) -> SlackMessage:
    """Read a Slack webhook body (the decoded JSON) as slack.tmpl renders it."""
    attachments = _attachments(payload)
    title = "\n".join(_string(a.get("title")) for a in attachments if a.get("title"))
    text = "\n\n".join(_string(a.get("text")) for a in attachments if a.get("text"))
    if not text and isinstance(payload, Mapping):
        text = _string(payload.get("text"))  # a plain Slack message without attachments
    title_match = _TITLE_RE.match(title)

    names: list[str] = []
    if title_match and title_match["name"]:
        names.append(title_match["name"])
    for match in _RUNBOOK_RE.finditer(text):
        if match["name"] not in names:
            names.append(match["name"])
    return SlackMessage(_status(title_match, text), tuple(names), title, text)


def _status(title_match: re.Match[str] | None, text: str) -> Status:
    if title_match:
        return "resolved" if title_match["state"].upper() == "RESOLVED" else "firing"
    # No recognisable title: each alert's line still starts with its own mark.
    if _FIRING_MARK in text:
        return "firing"
    if _RESOLVED_MARK in text:
        return "resolved"
    return "unknown"


def _attachments(payload: object) -> list[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        return []
    found = payload.get("attachments")
    if not isinstance(found, list):
        return []
    return [a for a in found if isinstance(a, Mapping)]


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Notification:
    """One notification the sink received: when, firing or resolved, about which alerts."""

    received_at: float  # Unix time
    status: Status
    alerts: tuple[str, ...]
    text: str
    payload: Any = field(compare=False, hash=False)  # the body as it came, decoded
    delivered_to: str = "local sink"  # or "cluster sink", or "slack": the user's webhook took it
    error: str = ""  # why the user's webhook refused it (then it was not delivered)

    @property
    def delivered(self) -> bool:
        return not self.error

    @property
    def title(self) -> str:
        return parse_slack_message(self.payload).title

    @property
    def pods(self) -> tuple[str, ...]:
        """The pods the message names (alerts that concern one replica), each once."""
        return tuple(dict.fromkeys(m["pod"] for m in _POD_RE.finditer(self.text)))

    def is_about(self, alertname: str, status: Status) -> bool:
        return self.status == status and alertname in self.alerts


def notification_record(payload: object, received_at: float) -> dict[str, Any]:
    """The JSON object the sink writes (one line) for a body received at `received_at`."""
    message = parse_slack_message(payload)
    return {
        "received_at": received_at,
        "status": message.status,
        "alerts": list(message.alerts),
        "text": message.text,
        "payload": payload,
    }


def notification_from_record(record: object) -> Notification:
    """A `Notification` from one record; ValueError if it is not one the sink wrote."""
    if not isinstance(record, Mapping):
        raise ValueError("a notification record is a JSON object")
    received_at = record.get("received_at")
    status = record.get("status")
    alerts = record.get("alerts")
    text = record.get("text")
    if not isinstance(received_at, int | float) or isinstance(received_at, bool):
        raise ValueError("received_at must be a number (Unix time)")
    known = _STATUSES.get(status) if isinstance(status, str) else None
    if known is None:
        raise ValueError(f"status must be firing, resolved or unknown, not {status!r}")
    if not isinstance(alerts, list) or not all(isinstance(a, str) for a in alerts):
        raise ValueError("alerts must be a list of alert names")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    return Notification(
        float(received_at),
        known,
        tuple(alerts),
        text,
        record.get("payload"),
        delivered_to=str(record.get("delivered_to") or "local sink"),
        error=str(record.get("error") or ""),
    )
