"""`sreshow doctor`: am I ready to go on stage?

A check is a function of the `Inspection` (settings, the platform asked about, the
flags, its running stack) giving one or more `Check` lines; `diagnose()` runs `CHECKS`
in order, then any `extra_checks`, and never raises for a check: a check that breaks
becomes a failing line of its own. Adding a check is one line in `CHECKS` (or one more
function passed as `extra_checks`).

    model.py       Check, Inspection, CheckFunction
    stack.py       the stack in the state dir, its time scale, the clock
    webhook.py     the Slack webhook (and `--send-test`), the admin token
    local.py       local: binaries and versions, the app's port
    kubernetes.py  kubernetes: kubeconfig, context, API server, credentials
    eks.py         eks: terraform or tofu, AWS credentials and region, pre-flight checks
    tour.py        the walkthrough's tour resolves; how long it should take

A platform's own checks are found by its name in `PLATFORM_CHECKS`, imported only
for the platform asked about, so checking `local` loads no Kubernetes client.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType

from sreshow.doctor.model import Check, CheckFunction, Inspection
from sreshow.doctor.stack import clock, stack_state, time_scale
from sreshow.doctor.tour import tour_checks
from sreshow.doctor.webhook import admin_token, webhook
from sreshow.platforms import DEFAULT_PLATFORM, Platforms
from sreshow.settings import Settings

__all__ = ["CHECKS", "Check", "CheckFunction", "Inspection", "diagnose", "inspection_for"]

# platform name -> the module with its `checks(inspection)` and `validate(inspection)`
PLATFORM_CHECKS = {
    DEFAULT_PLATFORM: "sreshow.doctor.local",
    "kubernetes": "sreshow.doctor.kubernetes",
    "eks": "sreshow.doctor.eks",
}


def inspection_for(
    settings: Settings,
    platforms: Platforms,
    *,
    platform: str | None,
    port: int | None = None,
    send_test: bool = False,
    tour: str | None = None,
) -> Inspection:
    """What to check: `platform`, else the one the state dir records, else the default;
    UsageError (exit 2) for an unknown platform or a flag it does not take."""
    name = platform or platforms.recorded() or DEFAULT_PLATFORM
    platforms.get(name)  # the registry's UsageError, naming the known platforms
    inspection = Inspection(settings, platforms, name, port=port, send_test=send_test, tour=tour)
    module = _platform_module(name)
    if module is not None:
        module.validate(inspection)
    return inspection


def platform_checks(inspection: Inspection) -> Iterator[Check]:
    """The asked platform's own checks."""
    module = _platform_module(inspection.platform)
    if module is None:
        yield Check.failed(
            "platform",
            f"sreshow doctor has no checks for the {inspection.platform} platform",
            f"check it by hand: `sreshow up --platform {inspection.platform}` says what it lacks",
        )
        return
    yield from module.checks(inspection)


# The report's lines, in order.
CHECKS: tuple[CheckFunction, ...] = (
    stack_state,
    platform_checks,
    clock,
    time_scale,
    webhook,
    admin_token,
    tour_checks,
)


def diagnose(
    inspection: Inspection,
    checks: Sequence[CheckFunction] = CHECKS,
    extra_checks: Iterable[CheckFunction] = (),
) -> list[Check]:
    """Every line of `checks`, then of `extra_checks`; a check that raises gives the
    lines it gave so far and a failing line naming what broke."""
    lines: list[Check] = []
    for check in (*checks, *extra_checks):
        try:
            for line in check(inspection):
                lines.append(line)
        except Exception as e:  # a broken check is a line that says so, not a crash
            if inspection.settings.debug:
                raise  # the top-level handler shows the traceback
            name = getattr(check, "__name__", "check").replace("_", " ")
            lines.append(
                Check.failed(
                    name,
                    f"the check itself failed: {type(e).__name__}: {e}",
                    "a sreshow bug: report it with the traceback SRESHOW_DEBUG=1 shows",
                )
            )
    return lines


def _platform_module(name: str) -> ModuleType | None:
    target = PLATFORM_CHECKS.get(name)
    return None if target is None else importlib.import_module(target)
