"""The registry of platforms: a name -> the lifecycle that runs a stack there.

`sreshow up --platform NAME` picks one and the state dir records it (the file
`platform`), so `status`, `scenario` and `down` find the stack that is up without a
flag; with nothing recorded, the default platform is meant. Implementations are
imported only when asked for, so `sreshow --help` loads none of them. Adding a platform
is one line here (see docs/architecture.md, "Adding a platform").
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from sreshow.errors import UsageError

if TYPE_CHECKING:
    from sreshow.ports import Lifecycle
    from sreshow.settings import Settings

DEFAULT_PLATFORM = "local"
# name -> "module:class" of its Lifecycle, built with the Settings
LIFECYCLES = {
    DEFAULT_PLATFORM: "sreshow.adapters.local.lifecycle:LocalLifecycle",
    "kubernetes": "sreshow.adapters.kubernetes.lifecycle:KubernetesLifecycle",
    "eks": "sreshow.adapters.eks.lifecycle:EksLifecycle",
}
RECORD_FILE = "platform"  # in the state dir: the platform whose stack was brought up


class Platforms:
    """The known platforms, and which one's stack the state dir says is up."""

    def __init__(self, settings: Settings, lifecycles: dict[str, str] | None = None) -> None:
        self._settings = settings
        self._lifecycles = LIFECYCLES if lifecycles is None else lifecycles

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._lifecycles)

    def get(self, name: str) -> Lifecycle:
        """The lifecycle of platform `name`; UsageError naming the known ones."""
        target = self._lifecycles.get(name)
        if target is None:
            raise UsageError(
                f"--platform {name}: unknown platform; use one of {', '.join(self.names)}"
            )
        module, _, attribute = target.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
        lifecycle: Lifecycle = factory(self._settings)
        return lifecycle

    def current(self) -> Lifecycle:
        """The platform whose stack was brought up last (the default when none was)."""
        return self.get(self.recorded() or DEFAULT_PLATFORM)

    def recorded(self) -> str | None:
        try:
            name = self._record_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def claim(self, name: str) -> Lifecycle:
        """The lifecycle to bring up `name` with, recorded as the state dir's platform;
        UsageError if another platform's stack is up."""
        lifecycle = self.get(name)
        other = self.recorded() or DEFAULT_PLATFORM
        if other != name and other in self._lifecycles and self.get(other).is_up():
            raise UsageError(
                f"--platform {name}: a {other} stack is up (state in "
                f"{self._settings.state_dir}); bring it down first with `sreshow down`"
            )
        from sreshow.files import write_atomically  # tempfile: not on `--help`'s path

        write_atomically(self._record_file, name + "\n")
        return lifecycle

    def release(self) -> None:
        """Forget the recorded platform and its time to live: its stack is down."""
        from sreshow.expiry import clear_expiry

        self._record_file.unlink(missing_ok=True)
        clear_expiry(self._settings.state_dir)

    @property
    def _record_file(self) -> Path:
        return self._settings.state_dir / RECORD_FILE
