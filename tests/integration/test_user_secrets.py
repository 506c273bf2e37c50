"""A stack started with the user's own secrets: their admin token and their Slack webhook.

The user's "Slack" is a Slack-compatible receiver on 127.0.0.1 (the sink, which answers
as Slack's webhooks do). The stack's pages must reach it, the run's timeline must still
record each delivery and its time, and the user's token must be the one the replicas and
every command use; neither secret may show up in output, journals or environments.
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sreshow.adapters.sink import NotificationSink, read_notifications
from tests.integration.localstack import LocalStack, running_stack, sreshow, stack_processes

pytestmark = pytest.mark.integration

USER_TOKEN = "users-own-admin-token-4f1c9a7e2b"
# Short on purpose: 50% errors fire HighErrorRate (for: 1m → 10 s here) and page.
PAGE_SCENARIO = """\
name: page-to-slack
summary: Errors fire HighErrorRate and the page reaches the user's Slack
steady_state:
  within: 2m
  checks:
    - replicas_ready: all
    - alerts_inactive: [HighErrorRate]
steps:
  - load: {rps: 10}
  - inject: {error_rate: 0.5, targets: all}
  - wait_for_alert: {alert: HighErrorRate, state: firing, within: 4m}
  - wait_for_notification: {alert: HighErrorRate, status: firing, within: 9m}
  - clear_faults: {}
expectations:
  - alert: HighErrorRate
    firing_within: 4m
    notified_within: 9m
rollback:
  - clear_faults: {}
  - stop_load: {}
"""


@dataclass
class UserStack:
    stack: LocalStack
    slack: NotificationSink
    slack_url: str
    token_file: Path

    def run_page_scenario(
        self, tmp_path: Path, token: str = USER_TOKEN
    ) -> subprocess.CompletedProcess[str]:
        """`sreshow scenario run page-to-slack.yaml --auto --report tmp_path/report`, with
        the user's secrets (`token` as SRESHOW_ADMIN_TOKEN) in the environment."""
        scenario = tmp_path / "page-to-slack.yaml"
        scenario.write_text(PAGE_SCENARIO)
        env = {"SRESHOW_ADMIN_TOKEN": token, "SRESHOW_SLACK_WEBHOOK_URL": self.slack_url}
        report = ("--report", str(tmp_path / "report"))
        return sreshow(
            self.stack.state_dir, "scenario", "run", str(scenario), "--auto", *report,
            env=env, timeout=150,
        )  # fmt: skip


@pytest.fixture(scope="module")
def user_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserStack]:
    home = tmp_path_factory.mktemp("user")
    token_file = home / "admin-token"
    token_file.write_text(USER_TOKEN + "\n")
    token_file.chmod(0o600)
    with NotificationSink(home / "slack.jsonl") as slack:
        secrets = {
            "SRESHOW_ADMIN_TOKEN_FILE": str(token_file),
            "SRESHOW_SLACK_WEBHOOK_URL": slack.url,
        }
        with running_stack(home / "state", env=secrets) as stack:
            yield UserStack(stack, slack, slack.url, token_file)


def test_the_users_token_is_the_stacks_and_no_process_carries_a_secret(
    user_stack: UserStack,
) -> None:
    stack = user_stack.stack
    token_file = stack.root / "admin-token"
    assert token_file.read_text().strip() == USER_TOKEN
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((stack.root / "slack-webhook-url").stat().st_mode) == 0o600
    for replica in stack.state()["replicas"]:
        url = f"{replica['url']}/admin/faults"
        mine = httpx.get(url, headers={"Authorization": f"Bearer {USER_TOKEN}"}, timeout=5)
        assert mine.status_code == 200
    for process in stack_processes(stack.state_dir):
        with_secrets = " ".join(f"{k}={v}" for k, v in process.environ().items())
        assert "SRESHOW_ADMIN_TOKEN=" not in with_secrets, process.cmdline()[:3]
        assert user_stack.slack_url not in with_secrets + " ".join(process.cmdline())


def test_pages_reach_the_users_slack_and_the_timeline_records_each_delivery(
    user_stack: UserStack, tmp_path: Path
) -> None:
    result = user_stack.run_page_scenario(tmp_path)
    report = tmp_path / "report"
    output = result.stdout + result.stderr
    journal_text = (report / "journal.json").read_text()
    journal = json.loads(journal_text)

    assert result.returncode == 0, output
    received = [
        n
        for n in read_notifications(user_stack.slack.record_file)
        if n.is_about("HighErrorRate", "firing")
    ]
    assert received, "the page never reached the user's Slack"
    delivered = [
        e
        for e in journal["events"]
        if e["kind"] == "notification_delivered" and "HighErrorRate" in e["alerts"]
    ]
    assert delivered, output
    # Dated when Slack took it: the receiver's clock and the run's agree within the poll.
    slack_t = received[0].received_at - journal["started_at"]
    assert abs(delivered[0]["t"] - slack_t) < 1.0, (delivered[0], slack_t)
    assert journal["metrics"]["time_to_notify_s"] is not None
    for secret in (USER_TOKEN, user_stack.slack_url):
        assert secret not in output
        assert secret not in journal_text
    status = sreshow(user_stack.stack.state_dir, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert user_stack.slack_url not in status.stdout
    last = json.loads(status.stdout)["notifications"][-1]
    assert (last["delivered_to"], last["error"]) == ("slack", None)


def test_a_command_with_another_token_is_refused_naming_the_variable(
    user_stack: UserStack, tmp_path: Path
) -> None:
    result = user_stack.run_page_scenario(tmp_path, token="not-the-stacks-token")

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "error: SRESHOW_ADMIN_TOKEN (or SRESHOW_ADMIN_TOKEN_FILE) is not the token the running "
        "stack was started with; unset it, or restart the stack with it (`sreshow down`, "
        "then `sreshow up`)"
    )
    assert "not-the-stacks-token" not in result.stdout + result.stderr
    assert USER_TOKEN not in result.stdout + result.stderr


def test_a_secret_file_that_cannot_be_read_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = sreshow(tmp_path / "state", "up", env={"SRESHOW_SLACK_WEBHOOK_URL_FILE": str(missing)})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: SRESHOW_SLACK_WEBHOOK_URL_FILE={missing}: cannot read it (No such file or "
        "directory); point it at a readable file holding the value, or unset it"
    )
    assert not (tmp_path / "state" / "local").exists()  # nothing half-done


def test_a_webhook_that_is_not_a_url_is_refused_without_repeating_it(tmp_path: Path) -> None:
    result = sreshow(tmp_path / "state", "up", env={"SRESHOW_SLACK_WEBHOOK_URL": "hooks/secret-x"})
    assert result.returncode == 2
    assert "SRESHOW_SLACK_WEBHOOK_URL" in result.stderr
    assert "secret-x" not in result.stderr
