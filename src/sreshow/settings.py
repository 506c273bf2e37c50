"""Every SRESHOW_* environment variable the CLI reads, named once, read once.

The demo app's own variables (including `SRESHOW_ADMIN_TOKEN`) live in
`demo_app.config`, which is what reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_DEBUG = "SRESHOW_DEBUG"
ENV_NO_COLOR = "NO_COLOR"

ENVIRONMENT_HELP = {
    ENV_DEBUG: "1 shows the traceback behind an error",
    ENV_NO_COLOR: "any value turns colour off",
}


@dataclass(frozen=True)
class Settings:
    """The CLI's settings from the environment."""

    debug: bool = False
    no_color: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            debug=env.get(ENV_DEBUG, "") not in {"", "0"},
            no_color=env.get(ENV_NO_COLOR, "") != "",
        )
