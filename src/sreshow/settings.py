"""Every SRESHOW_* environment variable the CLI reads, named once, read once.

The demo app's own variables (including `SRESHOW_ADMIN_TOKEN`) live in
`demo_app.config`, which is what reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_STATE_DIR = "SRESHOW_STATE_DIR"
ENV_DEBUG = "SRESHOW_DEBUG"
ENV_NO_COLOR = "NO_COLOR"

ENVIRONMENT_HELP = {
    ENV_STATE_DIR: "where stacks and runs are kept (default $XDG_STATE_HOME/sreshow)",
    ENV_DEBUG: "1 shows the traceback behind an error",
    ENV_NO_COLOR: "any value turns colour off",
}


@dataclass(frozen=True)
class Settings:
    """The CLI's settings from the environment."""

    state_dir: Path
    debug: bool = False
    no_color: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            state_dir=_state_dir(env),
            debug=env.get(ENV_DEBUG, "") not in {"", "0"},
            no_color=env.get(ENV_NO_COLOR, "") != "",
        )


def _state_dir(env: Mapping[str, str]) -> Path:
    if explicit := env.get(ENV_STATE_DIR):
        return Path(explicit).expanduser().absolute()
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "sreshow"
