"""Every SRESHOW_* environment variable the CLI reads, named once, read once.

The demo app's own variables live in `demo_app.config`; the admin token's two names
come from the `demo_app` package, so the CLI and the app read the same ones (and
`--help` need not load the app's configuration to list them). Secrets (the admin
token, the Slack webhook URL) never appear in a repr, a message or a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from demo_app import ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE
from sreshow.errors import UsageError

ENV_STATE_DIR = "SRESHOW_STATE_DIR"
ENV_SLACK_WEBHOOK_URL = "SRESHOW_SLACK_WEBHOOK_URL"
ENV_SLACK_WEBHOOK_URL_FILE = "SRESHOW_SLACK_WEBHOOK_URL_FILE"
ENV_DEBUG = "SRESHOW_DEBUG"
ENV_NO_COLOR = "NO_COLOR"
ENV_TF_BIN = "SRESHOW_TF_BIN"
ENV_EKS_TERRAFORM_DIR = "SRESHOW_EKS_TERRAFORM_DIR"
ENV_EKS_ALLOWED_CIDRS = "SRESHOW_EKS_ALLOWED_CIDRS"

# Secrets a stack is started with: never passed on to its processes' environment.
SECRET_VARIABLES = (
    ENV_ADMIN_TOKEN,
    ENV_ADMIN_TOKEN_FILE,
    ENV_SLACK_WEBHOOK_URL,
    ENV_SLACK_WEBHOOK_URL_FILE,
)

ENVIRONMENT_HELP = {
    ENV_STATE_DIR: "where stacks and runs are kept (default $XDG_STATE_HOME/sreshow)",
    ENV_SLACK_WEBHOOK_URL: "a Slack incoming-webhook URL the stack's alerts are relayed to "
    "(default: sreshow's notification sink answers as Slack would)",
    ENV_SLACK_WEBHOOK_URL_FILE: "a file holding that URL (keep it 0600)",
    ENV_ADMIN_TOKEN: "the fault admin API's token the stack uses (default: generated)",
    ENV_ADMIN_TOKEN_FILE: "a file holding that token (keep it 0600)",
    ENV_DEBUG: "1 shows the traceback behind an error",
    ENV_TF_BIN: "the terraform or tofu binary the eks platform runs "
    "(default: terraform, else tofu, on PATH)",
    ENV_EKS_TERRAFORM_DIR: "the Terraform configuration the eks platform applies "
    "(default: the shipped terraform/)",
    ENV_EKS_ALLOWED_CIDRS: "comma-separated CIDRs allowed to reach the eks cluster's API and "
    "app (default: this machine's public address /32, asked of checkip.amazonaws.com)",
    "AWS_PROFILE, AWS_REGION": "the AWS credentials and region the eks platform uses "
    "(boto3's usual chain; no AWS CLI needed)",
    ENV_NO_COLOR: "any value turns colour off",
}


@dataclass(frozen=True)
class Settings:
    """The CLI's settings from the environment. The secrets are read when a command asks
    for them, so a bad one fails that command (exit 2), not `sreshow --help`."""

    state_dir: Path
    debug: bool = False
    kube_context: str | None = None  # `--context`: the kubeconfig context to act on
    no_color: bool = False
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            state_dir=_state_dir(env),
            debug=env.get(ENV_DEBUG, "") not in {"", "0"},
            no_color=env.get(ENV_NO_COLOR, "") != "",
            env=env,
        )

    def admin_token(self) -> str | None:
        """The user's admin token (SRESHOW_ADMIN_TOKEN or _FILE); UsageError if unreadable."""
        return _secret(self.env, ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE)

    def slack_webhook_url(self) -> str | None:
        """The user's Slack webhook (SRESHOW_SLACK_WEBHOOK_URL or _FILE); UsageError if it
        cannot be read or is not an http(s) URL."""
        url = _secret(self.env, ENV_SLACK_WEBHOOK_URL, ENV_SLACK_WEBHOOK_URL_FILE)
        if url is not None:
            _check_webhook(url)
        return url


def _state_dir(env: Mapping[str, str]) -> Path:
    if explicit := env.get(ENV_STATE_DIR):
        return Path(explicit).expanduser().absolute()
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "sreshow"


def _secret(env: Mapping[str, str], name: str, file_name: str) -> str | None:
    """The secret in `name`, else in the file `file_name` names; None if neither is set."""
    if value := env.get(name, "").strip():
        return value
    path = env.get(file_name, "").strip()
    if not path:
        return None
    try:
        value = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise UsageError(
            f"{file_name}={path}: cannot read it ({reason}); point it at a readable file "
            "holding the value, or unset it"
        ) from None
    if not value:
        raise UsageError(f"{file_name}={path}: the file is empty; put the value in it")
    return value


def _check_webhook(url: str) -> None:
    """An http(s) URL with a host; the message never repeats the URL (a secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{ENV_SLACK_WEBHOOK_URL} (or the file {ENV_SLACK_WEBHOOK_URL_FILE} names) is not "
            "an http(s) URL; give the Slack incoming-webhook URL "
            "(https://hooks.slack.com/services/...)"
        )
