"""Error budget and burn rate: how much of an SLO's allowance a run used up.

An objective of 99.9 % over a 30-day window allows 0.1 % of the window's requests to
fail: the error budget. A run serves `total_requests`, `bad_requests` of them failed,
over `duration_s` measured seconds on a stack whose clocks run `time_scale` times
real time (0.1 = ten times faster). The run's bad ratio, sustained for the run's
real-time-equivalent duration, burns

    error_budget_burned = (bad / total) * (duration_s / time_scale)
                          / (window_s * (1 - objective))

of the window's budget: 1.0 means all of it. A run without requests measured
nothing, so its burn is None, not 0.

The burn rate is how many times faster than "exactly on budget" errors arrive:
`error_ratio / (1 - objective)`; 1.0 spends the budget precisely over the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_OBJECTIVE = 0.999
DEFAULT_WINDOW_S = 30 * 24 * 3600.0


def check_time_scale(time_scale: float) -> None:
    """ValueError unless `time_scale` is a clock factor in (0, 1] (1 = real time)."""
    if isinstance(time_scale, bool) or not (
        isinstance(time_scale, int | float) and 0 < time_scale <= 1
    ):
        raise ValueError(
            f"the time scale must be in (0, 1] (1 = real time, 0.1 = ten times faster), "
            f"not {time_scale!r}"
        )


def check_objective(objective: float) -> None:
    """ValueError unless `objective` is a success ratio strictly between 0 and 1."""
    if isinstance(objective, bool) or not (
        isinstance(objective, int | float) and 0 < objective < 1
    ):
        raise ValueError(
            f"the SLO objective must be between 0 and 1 (e.g. 0.999), not {objective!r}"
        )


@dataclass(frozen=True)
class BudgetInputs:
    """What a run measured, and the SLO it is measured against; validated on creation."""

    bad_requests: int
    total_requests: int
    duration_s: float  # measured run duration, at the stack's time scale
    time_scale: float  # the stack's clock factor (0.1 = ten times faster)
    objective: float = DEFAULT_OBJECTIVE
    window_s: float = DEFAULT_WINDOW_S

    def __post_init__(self) -> None:
        for name in ("bad_requests", "total_requests"):
            count = getattr(self, name)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{name} must be a whole number >= 0, not {count!r}")
        if self.bad_requests > self.total_requests:
            raise ValueError(
                f"bad_requests ({self.bad_requests}) cannot exceed "
                f"total_requests ({self.total_requests})"
            )
        if not _finite_number(self.duration_s) or self.duration_s < 0:
            raise ValueError(f"duration_s must be a finite number >= 0, not {self.duration_s!r}")
        check_time_scale(self.time_scale)
        check_objective(self.objective)
        if not _finite_number(self.window_s) or self.window_s <= 0:
            raise ValueError(f"window_s must be a finite number > 0, not {self.window_s!r}")


def error_budget_burned(inputs: BudgetInputs) -> float | None:
    """Share of the window's error budget the run burned (1.0 = all); None without requests."""
    if inputs.total_requests == 0:
        return None
    bad_ratio = inputs.bad_requests / inputs.total_requests
    real_duration_s = inputs.duration_s / inputs.time_scale
    return bad_ratio * real_duration_s / (inputs.window_s * (1 - inputs.objective))


def burn_rate(error_ratio: float, objective: float) -> float:
    """How many times faster than the objective allows errors arrive (1.0 = on budget)."""
    if not _finite_number(error_ratio) or not 0 <= error_ratio <= 1:
        raise ValueError(f"the error ratio must be between 0 and 1, not {error_ratio!r}")
    check_objective(objective)
    return error_ratio / (1 - objective)


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
