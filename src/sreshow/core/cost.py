"""What the `eks` platform costs: a priced bill of materials for what `terraform/` creates.

Every line is one thing AWS bills (the EKS control plane, the spot nodes, their root
volumes, the NAT gateway, the Network Load Balancer, public IPv4 addresses, traffic),
its quantity and its list price in USD for a region, with the pricing page the price
comes from and when it was known. From the lines follow the cost per hour, per demo,
per month (AWS's 730 hours) and so far.

Nothing here fetches a price: `sreshow cost` needs no network and no credentials. The
prices are AWS's public list prices as published on the named pages, known as of
`PRICES_KNOWN_AS_OF` and not checked since, so each says "verify". Lines that rest on
an assumption rather than a list price are marked `estimate`: the spot price (set by
the spot market per AZ and hour; check it with EC2's DescribeSpotPriceHistory), the
traffic a demo sends, and regional figures less certain than the rest.

An unknown region is refused (ValueError naming the known ones) rather than priced as
us-east-1: regions differ (a NAT gateway hour costs 38 % more in Tokyo than in
Virginia), so a confident-looking figure for the wrong region would mislead more than
none; `--region us-east-1` gives that figure to whoever asks for it knowingly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

PRICES_KNOWN_AS_OF = "2025-01"  # month of the knowledge the prices come from, not a fetch
VERIFY = "list price as published; verify"
HOURS_PER_MONTH = Decimal(730)  # AWS's own hours-per-month for monthly estimates
DEFAULT_DEMO_SECONDS = 30 * 60
NODE_GROUP_MIN, DEFAULT_NODES, NODE_GROUP_MAX = 1, 2, 3  # terraform/'s managed node group
ROOT_VOLUME_GB = 20  # the EKS managed node group's default root volume (gp3)
NLB_PUBLIC_ADDRESSES = 2  # an internet-facing NLB holds one public IPv4 per subnet (AZ)
NAT_PUBLIC_ADDRESSES = 1  # the NAT gateway's Elastic IP
# Traffic while up, an assumption: images pulled through the NAT at start dominate a demo
# (a few hundred MB per node); the app's answers to the audience's load leave through the NLB.
DEFAULT_NAT_GB_PER_HOUR = Decimal("0.5")
DEFAULT_EGRESS_GB_PER_HOUR = Decimal("0.1")
NLCU_PER_HOUR = Decimal(1)  # at most: 1 NLCU = 1 GB/h or 800 new flows/s; a demo uses less

EKS_PAGE = "https://aws.amazon.com/eks/pricing/"
EC2_PAGE = "https://aws.amazon.com/ec2/pricing/on-demand/"
SPOT_PAGE = "https://aws.amazon.com/ec2/spot/pricing/"
EBS_PAGE = "https://aws.amazon.com/ebs/pricing/"
VPC_PAGE = "https://aws.amazon.com/vpc/pricing/"
ELB_PAGE = "https://aws.amazon.com/elasticloadbalancing/pricing/"
TRANSFER_PAGE = "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer"

_EKS_STANDARD = Decimal("0.10")  # the same in every commercial region
_EKS_EXTENDED = Decimal("0.60")  # a Kubernetes version past standard support (since 2024-04)
_PUBLIC_IPV4 = Decimal("0.005")  # every public IPv4 address, in use or idle, since 2024-02


class Unit(StrEnum):
    """What a price is per: an hour of a thing running, a GB moved, a GB stored a month."""

    HOUR = "hour"
    GB = "GB"
    GB_MONTH = "GB-month"


@dataclass(frozen=True)
class PriceItem:
    """One list price: USD per `unit`, where it is published and when it was known."""

    name: str
    unit: Unit
    usd: Decimal
    source: str
    priced_on: str = PRICES_KNOWN_AS_OF
    estimate: bool = False  # an assumption or an uncertain regional figure, not a list price
    note: str = VERIFY
    whole_hours: bool = False  # billed per started hour: a partial hour costs a full one
    ceiling_usd: Decimal | None = None  # the most it can cost per unit (spot: on-demand)


@dataclass(frozen=True)
class LineItem:
    """A price times a quantity: things running (per hour), GB per hour up (per GB), or GB
    stored (per GB-month); `quantity_max` is how far the autoscaler may take it."""

    price: PriceItem
    quantity: Decimal
    counted: str  # what the quantity counts: "nodes", "GB/h", "GB"
    seed_row: str  # the row of the seed's cost table this belongs to (or a row it lacks)
    quantity_max: Decimal | None = None

    @property
    def name(self) -> str:
        return self.price.name

    @property
    def monthly(self) -> Decimal:
        """USD for a month left up (730 h; a GB-month price is already per month)."""
        if self.price.unit is Unit.GB_MONTH:
            return self.quantity * self.price.usd
        return self.quantity * self.price.usd * HOURS_PER_MONTH

    @property
    def hourly(self) -> Decimal:
        """USD per hour up."""
        if self.price.unit is Unit.GB_MONTH:
            return self.quantity * self.price.usd / HOURS_PER_MONTH
        return self.quantity * self.price.usd


@dataclass(frozen=True)
class BillOfMaterials:
    """Everything one eks stack bills for, in one region."""

    region: str
    nodes: int
    items: tuple[LineItem, ...]
    platform: str = "eks"


@dataclass(frozen=True)
class _RegionalPrices:
    """The list prices that differ by region (USD); `unsure` names the estimated ones."""

    t3_small: Decimal  # on-demand Linux, per hour: the ceiling of the spot price
    t3_small_spot: Decimal  # a guess at about a third of on-demand: the market sets it
    gp3_gb_month: Decimal
    nat_hour: Decimal
    nat_gb: Decimal
    nlb_hour: Decimal
    nlcu_hour: Decimal
    egress_gb: Decimal  # to the internet, the first paid tier (after the free 100 GB/month)
    unsure: frozenset[str] = frozenset()


def _prices(*values: str, unsure: tuple[str, ...] = ()) -> _RegionalPrices:
    """One row of the table below, in its column order."""
    t3_small, spot, gp3, nat_hour, nat_gb, nlb_hour, nlcu_hour, egress = map(Decimal, values)
    return _RegionalPrices(
        t3_small, spot, gp3, nat_hour, nat_gb, nlb_hour, nlcu_hour, egress, frozenset(unsure)
    )


# t3.small on-demand, t3.small spot (guess), gp3 GB-month, NAT hour, NAT GB, NLB hour,
# NLCU hour, egress GB
REGIONAL_PRICES: dict[str, _RegionalPrices] = {
    "us-east-1": _prices("0.0208", "0.0070", "0.08", "0.045", "0.045", "0.0225", "0.006", "0.09"),
    "us-east-2": _prices("0.0208", "0.0070", "0.08", "0.045", "0.045", "0.0225", "0.006", "0.09"),
    "us-west-2": _prices("0.0208", "0.0070", "0.08", "0.045", "0.045", "0.0225", "0.006", "0.09"),
    "eu-west-1": _prices("0.0228", "0.0076", "0.088", "0.048", "0.048", "0.0252", "0.006", "0.09"),
    "eu-central-1": _prices(
        "0.024", "0.0080", "0.0952", "0.052", "0.052", "0.027", "0.0072", "0.09",
        unsure=("nlcu_hour",),
    ),
    "eu-west-2": _prices(
        "0.0236", "0.0079", "0.0928", "0.050", "0.050", "0.02646", "0.0063", "0.09",
        unsure=("nlb_hour", "nlcu_hour"),
    ),
    "ap-southeast-1": _prices(
        "0.0264", "0.0088", "0.096", "0.059", "0.059", "0.0252", "0.006", "0.12",
        unsure=("nlcu_hour",),
    ),
    "ap-northeast-1": _prices(
        "0.0272", "0.0091", "0.096", "0.062", "0.062", "0.0243", "0.006", "0.114",
        unsure=("nlcu_hour",),
    ),
}  # fmt: skip
KNOWN_REGIONS = tuple(REGIONAL_PRICES)


_NAT_TRAFFIC = (
    "quantity: an assumption, mostly the images the nodes pull at start (they may come to "
    "~1 GB once, more than a 30-minute demo's share); less when idle"
)
_NLCU_USAGE = "quantity: at most 1 NLCU assumed, a demo uses a fraction"
_EGRESS_TRAFFIC = (
    "quantity: an assumption (dashboards, the app's answers to load); the first 100 GB out "
    "a month are free per account"
)


def bill_of_materials(
    region: str,
    nodes: int = DEFAULT_NODES,
    *,
    extended_support: bool = False,
    nat_gb_per_hour: Decimal = DEFAULT_NAT_GB_PER_HOUR,
    egress_gb_per_hour: Decimal = DEFAULT_EGRESS_GB_PER_HOUR,
) -> BillOfMaterials:
    """What the eks stack bills for in `region` with `nodes` spot nodes running;
    ValueError for a region without prices or a node count the node group cannot hold."""
    if region not in REGIONAL_PRICES:
        raise ValueError(f"no prices for {region}; known: {', '.join(KNOWN_REGIONS)}")
    if isinstance(nodes, bool) or not NODE_GROUP_MIN <= nodes <= NODE_GROUP_MAX:
        raise ValueError(
            f"the node group holds {NODE_GROUP_MIN} to {NODE_GROUP_MAX} nodes, not {nodes}"
        )
    p = REGIONAL_PRICES[region]
    count, most = Decimal(nodes), Decimal(NODE_GROUP_MAX)
    addresses = Decimal(NAT_PUBLIC_ADDRESSES + NLB_PUBLIC_ADDRESSES)
    return BillOfMaterials(
        region,
        nodes,
        (
            LineItem(_eks(extended_support), Decimal(1), "cluster", "EKS Control Plane"),
            LineItem(_spot(region, p), count, "nodes", "EC2 Nodes", quantity_max=most),
            LineItem(
                _listed(p, f"gp3 root volumes ({ROOT_VOLUME_GB} GB a node)", Unit.GB_MONTH,
                        "gp3_gb_month", EBS_PAGE),
                count * ROOT_VOLUME_GB, "GB", "EBS Volumes", quantity_max=most * ROOT_VOLUME_GB,
            ),
            LineItem(
                _listed(p, "NAT gateway", Unit.HOUR, "nat_hour", VPC_PAGE, whole_hours=True),
                Decimal(1), "gateway", "NAT Gateway",
            ),
            LineItem(
                _listed(p, "NAT gateway data processed", Unit.GB, "nat_gb", VPC_PAGE,
                        quantity_note=_NAT_TRAFFIC, assumed=True),
                nat_gb_per_hour, "GB/h", "Data Transfer",
            ),
            LineItem(
                _listed(p, "Network Load Balancer", Unit.HOUR, "nlb_hour", ELB_PAGE,
                        whole_hours=True),
                Decimal(1), "NLB", "Load Balancers",
            ),
            LineItem(
                _listed(p, "NLB capacity units (NLCU)", Unit.HOUR, "nlcu_hour", ELB_PAGE,
                        quantity_note=_NLCU_USAGE, assumed=True),
                NLCU_PER_HOUR, "NLCU", "Load Balancers",
            ),
            LineItem(_public_ipv4(), addresses, "addresses", "Public IPv4"),
            LineItem(
                _listed(p, "data transfer out to the internet", Unit.GB, "egress_gb",
                        TRANSFER_PAGE, quantity_note=_EGRESS_TRAFFIC, assumed=True),
                egress_gb_per_hour, "GB/h", "Data Transfer",
            ),
        ),
    )  # fmt: skip


def _listed(
    prices: _RegionalPrices,
    name: str,
    unit: Unit,
    field: str,
    source: str,
    *,
    quantity_note: str = "",
    assumed: bool = False,
    whole_hours: bool = False,
) -> PriceItem:
    """A regional list price; an estimate when its quantity is `assumed` or the regional
    figure is unsure."""
    notes = [quantity_note, f"price: {VERIFY}" if quantity_note else VERIFY]
    if whole_hours:
        notes.append("a started hour is billed whole")
    return PriceItem(
        name,
        unit,
        getattr(prices, field),
        source,
        estimate=assumed or field in prices.unsure,
        note="; ".join(n for n in notes if n),
        whole_hours=whole_hours,
    )


def _eks(extended_support: bool) -> PriceItem:
    return PriceItem(
        f"EKS control plane ({'extended' if extended_support else 'standard'} support)",
        Unit.HOUR,
        _EKS_EXTENDED if extended_support else _EKS_STANDARD,
        EKS_PAGE,
        note=f"{VERIFY}; a Kubernetes version past standard support costs "
        f"${_EKS_EXTENDED}/h instead of ${_EKS_STANDARD}/h",
    )


def _spot(region: str, prices: _RegionalPrices) -> PriceItem:
    """t3.small spot: a guess, capped at the on-demand list price."""
    return PriceItem(
        "t3.small spot nodes",
        Unit.HOUR,
        prices.t3_small_spot,
        SPOT_PAGE,
        estimate=True,
        note=f"price: an assumption, the spot market sets it per AZ and hour, never above "
        f"on-demand (${prices.t3_small}/h, {EC2_PAGE}); check it with "
        f"`aws ec2 describe-spot-price-history --region {region} --instance-types t3.small "
        f"--product-descriptions Linux/UNIX` (EC2 DescribeSpotPriceHistory); on-demand: {VERIFY}",
        ceiling_usd=prices.t3_small,
    )


def _public_ipv4() -> PriceItem:
    return PriceItem(
        f"public IPv4 addresses (NAT {NAT_PUBLIC_ADDRESSES}, NLB {NLB_PUBLIC_ADDRESSES})",
        Unit.HOUR,
        _PUBLIC_IPV4,
        VPC_PAGE,
        note=f"{VERIFY}; billed since 2024-02 for every public IPv4 address, in use or not",
    )


def hourly(bom: BillOfMaterials) -> Decimal:
    """USD per hour while the stack is up."""
    return sum((item.hourly for item in bom.items), Decimal(0))


def monthly(bom: BillOfMaterials) -> Decimal:
    """USD for a month (730 h) left up."""
    return sum((item.monthly for item in bom.items), Decimal(0))


def for_duration(bom: BillOfMaterials, seconds: float, *, whole_hours: bool = False) -> Decimal:
    """USD for `seconds` up, pro rata; with `whole_hours`, what AWS bills for the items
    charged per started hour (a 30-minute demo pays a full NAT gateway and NLB hour)."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be 0 s or more, not {seconds!r}")
    hours = Decimal(str(seconds)) / 3600
    started = Decimal(math.ceil(seconds / 3600))
    return sum(
        (
            item.hourly * (started if whole_hours and item.price.whole_hours else hours)
            for item in bom.items
        ),
        Decimal(0),
    )


def elapsed(bom: BillOfMaterials, up_since: datetime, now: datetime) -> Decimal:
    """USD spent since `up_since`, pro rata; 0 when the clock says `now` is earlier
    (a skewed clock must not make `status` fail)."""
    return for_duration(bom, max(0.0, (now - up_since).total_seconds()))
