"""The cost of the eks stack in words, for every command that mentions it (`cost`,
`up`, `status`, `down`): one line, dollars rounded as a person rounds money."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sreshow.core.cost import (
    DEFAULT_DEMO_SECONDS,
    BillOfMaterials,
    for_duration,
    hourly,
    monthly,
)
from sreshow.core.durations import format_duration


def demo_label(seconds: float) -> str:
    """`30-minute demo`, `90-minute demo`, `45s demo`."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}-minute demo"
    return f"{format_duration(round(seconds * 1000))} demo"


def cost_line(
    bom: BillOfMaterials, up_for: float | None = None, demo_seconds: float = DEFAULT_DEMO_SECONDS
) -> str:
    """One line for other commands: `eks in us-east-1: ~$0.24/h, ~$0.12 per 30-minute demo,
    ~$174/month if left up`; with `up_for` (seconds up so far) `; up 42m: ~$0.17 so far`."""
    line = (
        f"{bom.platform} in {bom.region}: {about(hourly(bom), 2)}/h, "
        f"{about(for_duration(bom, demo_seconds), 2)} per {demo_label(demo_seconds)}, "
        f"{about(monthly(bom), 0)}/month if left up"
    )
    if up_for is None:
        return line
    so_far = for_duration(bom, max(0.0, up_for))
    return f"{line}; up {up_for_text(up_for)}: {about(so_far, 2)} so far"


def usd(value: Decimal, places: int) -> str:
    """`$0.2384`; rounding half up, as a person rounds money."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if value and not rounded:
        return f"<${Decimal(1).scaleb(-places)}"
    return f"${rounded:,}"


def about(value: Decimal, places: int) -> str:
    """`~$0.12`, or `<$0.01` for what rounds to nothing."""
    shown = usd(value, places)
    return shown if shown.startswith("<") else f"~{shown}"


def up_for_text(seconds: float) -> str:
    """`45s` under a minute, else whole minutes: `42m`, `2h5m`."""
    if seconds < 60:
        return format_duration(int(max(0.0, seconds)) * 1000)
    return format_duration(int(seconds // 60) * 60_000)
