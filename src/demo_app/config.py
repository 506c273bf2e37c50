"""The app's configuration, read once from the environment.

Every variable the app reads is named here, except the admin token's two: those are
named in `demo_app/__init__.py`, so that the CLI can list them in `sreshow --help`
without building this module's classes. Bad values stop the app at start-up
with one line naming the variable and the fix (`ConfigError`).
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

# The admin token's two are named in the package, for the CLI; re-exported for the app.
from demo_app import ENV_ADMIN_TOKEN as ENV_ADMIN_TOKEN  # noqa: PLC0414 (explicit re-export)
from demo_app import ENV_ADMIN_TOKEN_FILE as ENV_ADMIN_TOKEN_FILE  # noqa: PLC0414
from demo_app import __version__

ENV_VERSION = "APP_VERSION"
ENV_POD_NAME = "POD_NAME"
ENV_BROKEN = "APP_BROKEN"
ENV_FLAKY_RATE = "APP_FLAKY_RATE"
ENV_DRAIN_SECONDS = "APP_DRAIN_SECONDS"
ENV_GRACE_SECONDS = "APP_GRACE_SECONDS"
ENV_INSTRUMENTATION = "APP_INSTRUMENTATION"
ENV_ACCESS_LOG = "APP_ACCESS_LOG"
ENV_HOST = "APP_HOST"
ENV_PORT = "APP_PORT"


class ConfigError(Exception):
    """A setting in the environment is invalid; the message says which and how to fix it."""


class Broken(StrEnum):
    """A simulated bad release, for the rollback scenario (`APP_BROKEN`)."""

    NO = ""
    CRASH = "crash"  # exits at start-up
    UNREADY = "unready"  # never passes /ready
    ERRORS = "errors"  # half of the requests fail


@dataclass(frozen=True)
class AppConfig:
    """Everything the app needs to know about its deployment."""

    version: str = __version__
    pod_name: str = "demo-app"
    broken: Broken = Broken.NO
    flaky_rate: float = 0.1
    drain_seconds: float = 2.0
    grace_seconds: float = 25.0
    instrumentation: bool = True
    access_log: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    # Never in repr: the token must not reach a log line or a traceback.
    admin_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AppConfig:
        """Read the configuration from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        return cls(
            version=env.get(ENV_VERSION) or __version__,
            pod_name=env.get(ENV_POD_NAME) or socket.gethostname(),
            broken=_broken(env.get(ENV_BROKEN, "")),
            flaky_rate=_number(env, ENV_FLAKY_RATE, 0.1, low=0.0, high=1.0),
            drain_seconds=_number(env, ENV_DRAIN_SECONDS, 2.0, low=0.0, high=300.0),
            grace_seconds=_number(env, ENV_GRACE_SECONDS, 25.0, low=0.0, high=3600.0),
            instrumentation=_switch(env, ENV_INSTRUMENTATION, default=True),
            access_log=_switch(env, ENV_ACCESS_LOG, default=False),
            host=env.get(ENV_HOST) or "127.0.0.1",
            port=int(_number(env, ENV_PORT, 8000, low=0, high=65535, integer=True)),
            admin_token=_admin_token(env),
        )


def _broken(raw: str) -> Broken:
    try:
        return Broken(raw.strip().lower())
    except ValueError:
        choices = ", ".join(b.value for b in Broken if b.value)
        raise ConfigError(
            f"{ENV_BROKEN}={raw!r} is not a known bad release; use one of {choices} or unset it"
        ) from None


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    low: float,
    high: float,
    integer: bool = False,
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    kind = "a whole number" if integer else "a number"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not {kind}; set it to {kind} in [{low}, {high}]"
        ) from None
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(f"{name}={raw!r} is out of range; set it to {kind} in [{low}, {high}]")
    return value


def _switch(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "on", "true", "yes"}:
        return True
    if raw in {"0", "off", "false", "no"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a switch; use on or off")


def _admin_token(env: Mapping[str, str]) -> str | None:
    token = env.get(ENV_ADMIN_TOKEN, "").strip()
    if token:
        return token
    path = env.get(ENV_ADMIN_TOKEN_FILE, "").strip()
    if not path:
        return None
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
        raise ConfigError(
            f"{ENV_ADMIN_TOKEN_FILE}={path}: cannot read the admin token ({reason}); "
            "point it at a readable file holding the token"
        ) from None
    return token or None
