"""How `sreshow cost` shows the eks bill of materials: a table, its caveats, each price's
source, the seed's claimed figures beside ours, a JSON document, and one summary line
that `up`, `status` and `down` can reuse."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sreshow.core.cost import (
    DEFAULT_DEMO_SECONDS,
    DEFAULT_NODES,
    HOURS_PER_MONTH,
    NODE_GROUP_MAX,
    PRICES_KNOWN_AS_OF,
    BillOfMaterials,
    LineItem,
    bill_of_materials,
    for_duration,
    hourly,
    monthly,
)
from sreshow.core.cost_text import cost_line, demo_label, usd
from sreshow.core.durations import format_duration
from sreshow.stack_status import Billing

# The seed's "Cost Breakdown" (SEED.md): USD a month left up, by its rows, and what each
# figure is; our lines name the row they belong to (`LineItem.seed_row`). Its figures
# match us-east-1's list prices, so that is the region it priced.
SEED_ROWS: dict[str, tuple[Decimal | None, str]] = {
    "EKS Control Plane": (Decimal(73), "$0.10/h x 730 h"),
    "EC2 Nodes": (
        Decimal(30),
        "2 t3.small at us-east-1's on-demand price ($0.0208/h x 730 h = $30.37), not spot",
    ),
    "NAT Gateway": (Decimal(32), "us-east-1's $0.045/h x 730 h, rounded down"),
    "Load Balancers": (Decimal(20), "one load balancer's hours and capacity units"),
    "Data Transfer": (Decimal(10), "an assumption, as ours is"),
    "EBS Volumes": (None, "left out"),
    "Public IPv4": (None, "left out (AWS has billed every public IPv4 address since 2024-02)"),
}
SEED_TOTAL_MONTHLY = Decimal(165)
SEED_PER_DEMO = "$0.10-0.15"
_SEED_GAP = Decimal(1)  # a monthly difference below $1 is the seed rounding, not an error


def billing_line(billing: Billing, now: float) -> str:
    """`cost_line` for a stack that is up, or why there is no price."""
    try:
        bom = bill_of_materials(billing.region, billing.nodes)
    except ValueError as e:
        return f"not estimated: {e}"
    return cost_line(bom, up_for=now - billing.up_since)


def cost_view(
    bom: BillOfMaterials, demo_seconds: float = DEFAULT_DEMO_SECONDS, region_source: str = ""
) -> RenderableType:
    """The whole `sreshow cost` page: table, summary line, caveats, sources, the seed."""
    where = f"region {bom.region}" + (f" ({region_source})" if region_source else "")
    nodes = f"{bom.nodes} node{'' if bom.nodes == 1 else 's'}"
    return Group(
        Text(f"{where}; {nodes}; {demo_label(demo_seconds)}"),
        Text(""),
        bill_table(bom, demo_seconds),
        Text(""),
        Text(cost_line(bom, demo_seconds=demo_seconds), style="bold"),
        Text(""),
        caveats(bom, demo_seconds),
        Text(""),
        sources(bom),
        Text(""),
        seed_table(bom),
    )


def cost_table(
    region: str, nodes: int = DEFAULT_NODES, demo_seconds: float = DEFAULT_DEMO_SECONDS
) -> RenderableType:
    """The bill table, its summary line and caveats for `region`, as `up --dry-run` shows
    them; for a region without prices, a line saying so (a preview must not fail on it)."""
    try:
        bom = bill_of_materials(region, nodes)
    except ValueError as e:
        return Text(f"cost: {e}; `sreshow cost --region` prices a known one", style="yellow")
    return Group(
        bill_table(bom, demo_seconds),
        Text(cost_line(bom, demo_seconds=demo_seconds), style="bold"),
        caveats(bom, demo_seconds),
        Text(f"Each price's source and date: `sreshow cost --region {region}`."),
    )


def bill_table(bom: BillOfMaterials, demo_seconds: float) -> Table:
    """Item, quantity, unit price, per hour, per demo, per month; a total row. `~` marks
    an estimate, [n] the footnote with its source."""
    table = Table(
        title=f"What {bom.platform} bills for in {bom.region} (USD; list prices known as of "
        f"{PRICES_KNOWN_AS_OF}, not fetched: verify)",
        title_justify="left",
        show_edge=False,
    )
    table.add_column("item")
    table.add_column("quantity")
    table.add_column("unit price", justify="right")
    for column in ("per hour", f"per demo ({format_duration(round(demo_seconds * 1000))})"):
        table.add_column(column, justify="right")
    table.add_column("per month", justify="right")
    demo_hours = Decimal(str(demo_seconds)) / 3600
    for number, item in enumerate(bom.items, start=1):
        mark = "~" if item.price.estimate else ""
        table.add_row(
            f"{item.name} [{number}]",
            _quantity(item),
            _unit_price(item),
            f"{mark}{usd(item.hourly, 4)}",
            f"{mark}{usd(item.hourly * demo_hours, 4)}",
            f"{mark}{usd(item.monthly, 2)}",
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "",
        usd(hourly(bom), 4),
        usd(for_duration(bom, demo_seconds), 4),
        usd(monthly(bom), 2),
        style="bold",
    )
    return table


def caveats(bom: BillOfMaterials, demo_seconds: float) -> Text:
    """What the table's figures leave out: whole billed hours, spot at its ceiling, the
    autoscaler's extra node."""
    lines = ["~ an estimate: an assumption (spot price, traffic) or an uncertain figure."]
    billed = for_duration(bom, demo_seconds, whole_hours=True)
    if billed != for_duration(bom, demo_seconds):
        lines.append(
            f"NAT gateway and load balancer hours are billed whole: a {demo_label(demo_seconds)}"
            f" is billed about {usd(billed, 4)}, not {usd(for_duration(bom, demo_seconds), 4)}."
        )
    on_demand = hourly(bom) + sum(
        (_at_ceiling(i).hourly - i.hourly for i in bom.items if i.price.ceiling_usd), Decimal(0)
    )
    if on_demand != hourly(bom):
        lines.append(
            f"Spot is a market price, capped at on-demand: there the total is "
            f"{usd(on_demand, 4)}/h, {usd(on_demand * HOURS_PER_MONTH, 2)}/month."
        )
    more = sum((_at_most(i).hourly - i.hourly for i in bom.items), Decimal(0))
    if more:
        lines.append(
            f"The cluster autoscaler may grow the node group to {NODE_GROUP_MAX} nodes: "
            f"+{usd(more, 4)}/h at the most."
        )
    return Text("\n".join(lines))


def sources(bom: BillOfMaterials) -> Text:
    """One footnote a line: the item's pricing page, when the price was known, its note."""
    return Text(
        "\n".join(
            f"[{number}] {item.name}: {item.price.source} (as of {item.price.priced_on}); "
            f"{item.price.note}"
            for number, item in enumerate(bom.items, start=1)
        )
    )


def seed_table(bom: BillOfMaterials) -> Table:
    """The seed's monthly figures beside ours, row by row, and why they differ."""
    table = Table(
        title=f"The seed's cost table (us-east-1 prices) beside ours for {bom.region} "
        "(USD a month left up)",
        title_justify="left",
        show_edge=False,
    )
    for column in ("seed's row", "seed", "ours", "why"):
        table.add_column(column, justify="right" if column in ("seed", "ours") else "left")
    for row, (claim, meaning) in SEED_ROWS.items():
        items = [i for i in bom.items if i.seed_row == row]
        ours = sum((i.monthly for i in items), Decimal(0))
        if claim is not None and abs(claim - ours) < _SEED_GAP:
            why = "the same, to the dollar"
        else:
            why = f"seed: {meaning}; ours: " + ", ".join(
                f"{_quantity(i)} x {_unit_price(i)}" for i in items
            )
        table.add_row(row, "-" if claim is None else usd(claim, 0), usd(ours, 2), why)
    table.add_section()
    table.add_row(
        "Total",
        f"~{usd(SEED_TOTAL_MONTHLY, 0)}",
        usd(monthly(bom), 2),
        f"per 30-minute demo: seed {SEED_PER_DEMO}, ours "
        f"{usd(for_duration(bom, DEFAULT_DEMO_SECONDS), 2)} pro rata, "
        f"{usd(for_duration(bom, DEFAULT_DEMO_SECONDS, whole_hours=True), 2)} in whole hours",
        style="bold",
    )
    return table


def cost_document(
    bom: BillOfMaterials, demo_seconds: float = DEFAULT_DEMO_SECONDS, region_source: str = ""
) -> dict[str, Any]:
    """`sreshow cost --json`: figures in USD as unrounded numbers."""
    return {
        "platform": bom.platform,
        "region": bom.region,
        "region_source": region_source,
        "nodes": bom.nodes,
        "currency": "USD",
        "hourly": float(hourly(bom)),
        "per_demo": {
            "seconds": int(demo_seconds) if demo_seconds == int(demo_seconds) else demo_seconds,
            "cost": float(for_duration(bom, demo_seconds)),
            "cost_whole_hours": float(for_duration(bom, demo_seconds, whole_hours=True)),
        },
        "monthly": float(monthly(bom)),
        "items": [
            {
                "name": item.name,
                "quantity": float(item.quantity),
                "quantity_max": None if item.quantity_max is None else float(item.quantity_max),
                "counted": item.counted,
                "unit": str(item.price.unit),
                "unit_price": float(item.price.usd),
                "hourly": float(item.hourly),
                "monthly": float(item.monthly),
                "source": item.price.source,
                "priced_on": item.price.priced_on,
                "estimate": item.price.estimate,
                "note": item.price.note,
            }
            for item in bom.items
        ],
    }


def _at_most(item: LineItem) -> LineItem:
    """The item at the most the autoscaler can take it to."""
    most = item.quantity_max
    return item if most is None else replace(item, quantity=most)


def _at_ceiling(item: LineItem) -> LineItem:
    """The item at the most its price can be (spot at on-demand)."""
    ceiling = item.price.ceiling_usd
    return item if ceiling is None else replace(item, price=replace(item.price, usd=ceiling))


def _unit_price(item: LineItem) -> str:
    """`$0.045/hour`; `~` marks an estimate."""
    return f"{'~' if item.price.estimate else ''}${item.price.usd}/{item.price.unit}"


def _quantity(item: LineItem) -> str:
    counted = item.counted.removesuffix("s") if item.quantity == 1 else item.counted
    text = f"{item.quantity:g} {counted}"
    if item.quantity_max is not None and item.quantity_max != item.quantity:
        text += f" (up to {item.quantity_max:g})"
    return text
