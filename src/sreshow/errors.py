"""sreshow's exceptions and the exit codes they map to.

    SreshowError            base: a one-line message that names the thing, the cause, the fix
    ├── UsageError          bad flag, file or setting (exit 2)
    └── PlatformError       the platform or a tool it runs failed (exit 3)
        └── EvictionRefused the disruption budget forbids this eviction now

Exit codes are a contract (docs/architecture.md): 0 passed, 1 verdict failed,
2 usage or config error, 3 platform or infra error, 130 interrupted.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    PASSED = 0
    VERDICT_FAILED = 1
    USAGE = 2
    PLATFORM = 3
    INTERRUPTED = 130


class SreshowError(Exception):
    """An error the user can act on; its message is shown as one line."""

    exit_code: ExitCode = ExitCode.PLATFORM


class UsageError(SreshowError):
    """A flag, file or setting is wrong; the message says which and how to fix it."""

    exit_code = ExitCode.USAGE


class PlatformError(SreshowError):
    """The platform or an external tool failed; the message says what to check."""

    exit_code = ExitCode.PLATFORM


class EvictionRefused(PlatformError):
    """The disruption budget forbids evicting this replica now (Kubernetes' eviction API
    answers 429 for it): an outcome a scenario narrates, not a failure."""
