"""The eks bill of materials, with figures worked out by hand from the stated list prices:
a changed price or quantity fails here, with the line that changed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rich.console import Console

from sreshow.cli.cost_view import cost_table
from sreshow.core.cost import (
    KNOWN_REGIONS,
    PRICES_KNOWN_AS_OF,
    BillOfMaterials,
    Unit,
    bill_of_materials,
    elapsed,
    for_duration,
    hourly,
    monthly,
)
from sreshow.core.cost_text import cost_line, demo_label

D = Decimal
# us-east-1 by hand, 2 nodes (the node group's desired count):
US_EAST_1_HOURLY = (
    D("0.10")  # EKS control plane, standard support
    + 2 * D("0.0070")  # 2 t3.small spot nodes (an assumed spot price)
    + 2 * 20 * D("0.08") / 730  # 2 x 20 GB gp3 at $0.08 a GB-month
    + D("0.045")  # NAT gateway hour
    + D("0.5") * D("0.045")  # 0.5 GB/h through the NAT (assumed) at $0.045/GB
    + D("0.0225")  # NLB hour
    + D("0.006")  # 1 NLCU-hour (assumed at most)
    + 3 * D("0.005")  # public IPv4: the NAT's Elastic IP and the NLB's two
    + D("0.1") * D("0.09")  # 0.1 GB/h out to the internet (assumed) at $0.09/GB
)  # = 0.23838356...
CLOSE = D("1e-15")


def by_name(bom: BillOfMaterials) -> dict[str, tuple[Decimal, Decimal, Unit]]:
    return {item.name: (item.quantity, item.price.usd, item.price.unit) for item in bom.items}


def test_us_east_1_with_two_nodes_matches_the_hand_worked_sum() -> None:
    bom = bill_of_materials("us-east-1")

    assert abs(hourly(bom) - US_EAST_1_HOURLY) < CLOSE
    assert round(hourly(bom), 4) == D("0.2384")
    # a month is AWS's 730 hours; the volumes' GB-month price is already monthly
    assert monthly(bom) == D("174.02")
    assert abs(monthly(bom) - hourly(bom) * 730) < CLOSE


def test_every_line_in_us_east_1_has_its_quantity_and_price() -> None:
    assert by_name(bill_of_materials("us-east-1")) == {
        "EKS control plane (standard support)": (D(1), D("0.10"), Unit.HOUR),
        "t3.small spot nodes": (D(2), D("0.0070"), Unit.HOUR),
        "gp3 root volumes (20 GB a node)": (D(40), D("0.08"), Unit.GB_MONTH),
        "NAT gateway": (D(1), D("0.045"), Unit.HOUR),
        "NAT gateway data processed": (D("0.5"), D("0.045"), Unit.GB),
        "Network Load Balancer": (D(1), D("0.0225"), Unit.HOUR),
        "NLB capacity units (NLCU)": (D(1), D("0.006"), Unit.HOUR),
        "public IPv4 addresses (NAT 1, NLB 2)": (D(3), D("0.005"), Unit.HOUR),
        "data transfer out to the internet": (D("0.1"), D("0.09"), Unit.GB),
    }


def test_a_30_minute_demo_costs_half_an_hour_and_whole_hours_cost_more() -> None:
    bom = bill_of_materials("us-east-1")

    assert for_duration(bom, 1800) == hourly(bom) / 2
    assert round(for_duration(bom, 1800), 4) == D("0.1192")
    # NAT gateway and NLB hours are billed per started hour: a half hour pays a whole one
    whole = for_duration(bom, 1800, whole_hours=True)
    assert abs(whole - (hourly(bom) / 2 + (D("0.045") + D("0.0225")) / 2)) < CLOSE
    assert for_duration(bom, 3600, whole_hours=True) == for_duration(bom, 3600)
    assert for_duration(bom, 0) == 0


def test_more_nodes_add_a_spot_node_and_its_volume_each() -> None:
    one, two, three = (hourly(bill_of_materials("us-east-1", n)) for n in (1, 2, 3))
    per_node = D("0.0070") + 20 * D("0.08") / 730

    assert abs((two - one) - per_node) < CLOSE
    assert abs((three - two) - per_node) < CLOSE


@pytest.mark.parametrize("nodes", [0, 4, -1, True])
def test_a_node_count_outside_the_node_group_is_refused(nodes: int) -> None:
    with pytest.raises(ValueError, match="the node group holds 1 to 3 nodes"):
        bill_of_materials("us-east-1", nodes)


def test_an_unknown_region_is_refused_naming_the_known_ones() -> None:
    message = (
        "no prices for sa-east-1; known: us-east-1, us-east-2, us-west-2, eu-west-1, "
        "eu-central-1, eu-west-2, ap-southeast-1, ap-northeast-1"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        bill_of_materials("sa-east-1")


def test_regions_differ_where_aws_prices_differ() -> None:
    totals = {region: hourly(bill_of_materials(region)) for region in KNOWN_REGIONS}
    tokyo = by_name(bill_of_materials("ap-northeast-1"))
    frankfurt = by_name(bill_of_materials("eu-central-1"))

    # the three US regions share one price list
    assert totals["us-east-1"] == totals["us-east-2"] == totals["us-west-2"]
    # everywhere else costs more: NAT gateway, NLB, EC2 and EBS prices are higher
    assert all(totals[r] > totals["us-east-1"] for r in KNOWN_REGIONS if not r.startswith("us-"))
    assert tokyo["NAT gateway"][1] == D("0.062")
    assert tokyo["data transfer out to the internet"][1] == D("0.114")
    assert frankfurt["gp3 root volumes (20 GB a node)"][1] == D("0.0952")
    # the EKS control plane and public IPv4 addresses cost the same in every region
    for region in KNOWN_REGIONS:
        prices = by_name(bill_of_materials(region))
        assert prices["EKS control plane (standard support)"][1] == D("0.10")
        assert prices["public IPv4 addresses (NAT 1, NLB 2)"][1] == D("0.005")


def test_extended_support_costs_fifty_cents_more_an_hour() -> None:
    standard = hourly(bill_of_materials("us-east-1"))
    extended = bill_of_materials("us-east-1", extended_support=True)

    assert hourly(extended) - standard == D("0.50")
    assert extended.items[0].name == "EKS control plane (extended support)"


def test_spot_is_a_marked_guess_below_its_on_demand_ceiling_everywhere() -> None:
    for region in KNOWN_REGIONS:
        spot = bill_of_materials(region).items[1]
        assert spot.name == "t3.small spot nodes"
        assert spot.price.estimate
        assert spot.price.ceiling_usd is not None
        assert spot.price.usd < spot.price.ceiling_usd
        assert f"describe-spot-price-history --region {region}" in spot.price.note
    assert bill_of_materials("us-east-1").items[1].price.ceiling_usd == D("0.0208")


def test_every_price_names_its_page_and_date_and_says_verify() -> None:
    estimates = set()
    for region in KNOWN_REGIONS:
        for item in bill_of_materials(region).items:
            assert item.price.source.startswith("https://aws.amazon.com/")
            assert item.price.priced_on == PRICES_KNOWN_AS_OF
            assert "verify" in item.price.note
            if item.price.estimate:
                estimates.add(item.name)
    # assumptions are marked, and so are regional figures less certain than the rest
    assert {
        "t3.small spot nodes",
        "NAT gateway data processed",
        "NLB capacity units (NLCU)",
        "data transfer out to the internet",
        "Network Load Balancer",  # eu-west-2's hourly NLB price
    } == estimates
    list_prices = {i.name for i in bill_of_materials("us-east-1").items if not i.price.estimate}
    assert "EKS control plane (standard support)" in list_prices
    assert "NAT gateway" in list_prices


def test_elapsed_is_the_cost_of_the_time_up_so_far() -> None:
    bom = bill_of_materials("us-east-1")
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    assert elapsed(bom, now - timedelta(minutes=42), now) == hourly(bom) * D("0.7")
    assert elapsed(bom, now - timedelta(hours=2), now) == hourly(bom) * 2
    # a clock that went backwards must not make `status` fail or show a negative cost
    assert elapsed(bom, now + timedelta(minutes=5), now) == 0


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="0 s or more"):
        for_duration(bill_of_materials("us-east-1"), -1)


def test_the_summary_line_for_other_commands() -> None:
    bom = bill_of_materials("us-east-1")

    assert cost_line(bom) == (
        "eks in us-east-1: ~$0.24/h, ~$0.12 per 30-minute demo, ~$174/month if left up"
    )
    # 42 minutes at $0.23838/h = $0.1669
    assert cost_line(bom, up_for=42 * 60 + 13) == (
        "eks in us-east-1: ~$0.24/h, ~$0.12 per 30-minute demo, ~$174/month if left up; "
        "up 42m: ~$0.17 so far"
    )
    assert cost_line(bom, up_for=20).endswith("; up 20s: <$0.01 so far")
    assert cost_line(bom, demo_seconds=3600).startswith(
        "eks in us-east-1: ~$0.24/h, ~$0.24 per 60-minute demo"
    )


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(1800, "30-minute demo"), (5400, "90-minute demo"), (45, "45s demo"), (90, "1m30s demo")],
)
def test_demo_label(seconds: float, label: str) -> None:
    assert demo_label(seconds) == label


def rendered(renderable: object) -> list[str]:
    console = Console(width=200, record=True, no_color=True)
    console.print(renderable)
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_the_preview_table_up_dry_run_shows() -> None:
    lines = rendered(cost_table("eu-west-1"))
    total = next(line for line in lines if line.lstrip().startswith("total"))

    assert cost_line(bill_of_materials("eu-west-1")) in lines
    assert total.split()[-1] == f"${monthly(bill_of_materials('eu-west-1')):.2f}"
    assert lines[-1] == "Each price's source and date: `sreshow cost --region eu-west-1`."


def test_the_preview_of_a_region_without_prices_says_so_instead_of_failing() -> None:
    assert rendered(cost_table("sa-east-1")) == [
        "cost: no prices for sa-east-1; known: us-east-1, us-east-2, us-west-2, eu-west-1, "
        "eu-central-1, eu-west-2, ap-southeast-1, ap-northeast-1; `sreshow cost --region` "
        "prices a known one"
    ]
