"""Checks of the user's secrets: the Slack webhook (and, with `--send-test`, a real
message to it) and the admin token. Neither value is ever part of a line: a webhook
is named by its host only, a failed delivery by the kind of failure."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from demo_app import ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE
from sreshow.doctor.model import Check, Inspection
from sreshow.errors import UsageError
from sreshow.settings import ENV_SLACK_WEBHOOK_URL, ENV_SLACK_WEBHOOK_URL_FILE

SEND_TIMEOUT_SECONDS = 5.0
TEST_MESSAGE = "sreshow doctor: a test message. The stack's alert notifications will arrive here."
WEBHOOK_FIX = (
    f"give the Slack incoming-webhook URL in {ENV_SLACK_WEBHOOK_URL} or in a 0600 file "
    f"named by {ENV_SLACK_WEBHOOK_URL_FILE}, or unset both (the built-in sink then "
    "records the notifications)"
)


def webhook(inspection: Inspection) -> Iterator[Check]:
    """The Slack webhook the stack relays alerts to: none is fine (the built-in sink
    records them), a given one must be readable, private and an http(s) URL."""
    settings = inspection.settings
    problem = _file_problem(settings.env, ENV_SLACK_WEBHOOK_URL, ENV_SLACK_WEBHOOK_URL_FILE)
    if problem is not None:
        yield Check.failed("webhook", *problem)
        return
    try:
        url = settings.slack_webhook_url()
    except UsageError as e:
        yield Check.failed("webhook", str(e), WEBHOOK_FIX)
        return
    if url is None:
        yield Check.passed(
            "webhook",
            "not configured: the stack's built-in sink records the notifications (set "
            f"{ENV_SLACK_WEBHOOK_URL} to have them reach Slack)",
        )
        if inspection.send_test:
            yield Check.passed("webhook test", "nothing sent: no webhook is configured")
        return
    source = _source(settings.env, ENV_SLACK_WEBHOOK_URL, ENV_SLACK_WEBHOOK_URL_FILE)
    yield Check.passed(
        "webhook",
        f"configured ({source}): the stack relays its notifications to {urlsplit(url).hostname}",
    )
    if inspection.send_test:
        yield send_test_message(url)


def send_test_message(url: str) -> Check:
    """Post one test message to the webhook `url`; its HTTP answer is the line."""
    import httpx

    name = "webhook test"
    try:
        answer = httpx.post(url, json={"text": TEST_MESSAGE}, timeout=SEND_TIMEOUT_SECONDS)
    except httpx.HTTPError as e:  # its text may hold the URL: only the kind and errno
        return Check.failed(
            name,
            f"the test message was not delivered: {_failure_kind(e)}",
            "check the network to the webhook's host and the URL itself (Slack: the "
            "app's Incoming Webhooks page)",
        )
    said = _short(answer.text, url)
    if answer.is_success:
        return Check.passed(name, f"sent: HTTP {answer.status_code} {said}".rstrip())
    return Check.failed(
        name,
        f"the webhook answered HTTP {answer.status_code} {said}".rstrip(),
        "Slack answers 403, 404 or 410 for a revoked or mistyped webhook: make a new one "
        f"on the Slack app's Incoming Webhooks page and give it in {ENV_SLACK_WEBHOOK_URL}",
    )


def admin_token(inspection: Inspection) -> Iterator[Check]:
    """The fault admin API's token `up` starts the stack with: none is fine (generated)."""
    settings = inspection.settings
    problem = _file_problem(settings.env, ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE)
    if problem is not None:
        yield Check.failed("admin token", *problem)
        return
    try:
        token = settings.admin_token()
    except UsageError as e:
        yield Check.failed(
            "admin token",
            str(e),
            f"point {ENV_ADMIN_TOKEN_FILE} at a readable 0600 file holding the token, or unset it",
        )
        return
    if token is None:
        yield Check.passed("admin token", "none given: `sreshow up` generates one for the stack")
        return
    source = _source(settings.env, ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE)
    yield Check.passed("admin token", f"given ({source})")


def _file_problem(env: Mapping[str, str], name: str, file_name: str) -> tuple[str, str] | None:
    """(detail, fix) when the secret comes from the file `file_name` names (as Settings
    reads it: only when `name` is empty) and that file is missing or readable by others."""
    if env.get(name, "").strip():
        return None
    given = env.get(file_name, "").strip()
    if not given:
        return None
    path = Path(given).expanduser()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return (
            f"{file_name}={given}: no such file",
            f"point {file_name} at the file holding the value, or unset it",
        )
    except OSError as e:
        return f"{file_name}={given}: cannot read it ({e.strerror})", f"fix its permissions: {e}"
    if mode & 0o077:
        return (
            f"{file_name}={given}: mode {mode:04o}, others than you can read the secret",
            f"make it private: `chmod 600 {given}`",
        )
    return None


def _source(env: Mapping[str, str], name: str, file_name: str) -> str:
    if env.get(name, "").strip():
        return f"in {name}"
    return f"in the private file {env.get(file_name, '').strip()}"


def _failure_kind(error: Exception) -> str:
    """The kind of a failed request, with the operating system's reason when there is
    one (never the URL, which an httpx message may hold)."""
    errno = re.search(r"\[Errno -?\d+\] [^\]\)\"']+", str(error))
    return type(error).__name__ + (f" ({errno.group(0).strip()})" if errno else "")


def _short(text: str, url: str) -> str:
    """The start of an answer's body, in parentheses, without the URL if it echoes it."""
    text = " ".join(text.replace(url, "<webhook URL>").split())[:60]
    return f"({text})" if text else ""
