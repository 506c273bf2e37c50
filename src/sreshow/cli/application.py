"""The one object every command is handed: settings, the terminal, the platforms."""

from __future__ import annotations

from dataclasses import dataclass, replace

import typer

from sreshow.cli.terminal import Terminal
from sreshow.platforms import Platforms
from sreshow.settings import Settings


@dataclass(frozen=True)
class Application:
    """Built once by `main()` and passed down as the click context's `obj`."""

    settings: Settings
    terminal: Terminal
    platforms: Platforms

    @classmethod
    def from_settings(cls, settings: Settings) -> Application:
        return cls(settings, Terminal(settings), Platforms(settings))

    def on_context(self, context: str | None) -> Application:
        """The application acting on kubeconfig context `context` (`--context`); itself
        when None."""
        if context is None:
            return self
        settings = replace(self.settings, kube_context=context)
        return Application(settings, self.terminal, Platforms(settings))


def application(ctx: typer.Context) -> Application:
    """The application `main()` built (a fresh one when a test invokes a command alone)."""
    found = ctx.find_object(Application)
    return found if found is not None else Application.from_settings(Settings.from_env())
