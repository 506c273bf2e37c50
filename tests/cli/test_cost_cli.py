"""`sreshow cost` as a user runs it: a real subprocess with no AWS settings, credentials
or network; the JSON agrees with the core's figures; bad flags are one line and exit 2."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sreshow.core.cost import PRICES_KNOWN_AS_OF, bill_of_materials, for_duration, hourly, monthly
from sreshow.core.cost_text import cost_line
from tests.cli.offline import offline_sreshow

JSON_KEYS = {"region", "currency", "hourly", "per_demo", "monthly", "items"}
ITEM_KEYS = {"name", "quantity", "unit", "unit_price", "hourly", "source", "priced_on", "estimate"}


def sreshow_cost(
    tmp_path: Path, *flags: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`sreshow cost FLAGS` offline, with no AWS settings (tests.cli.offline)."""
    return offline_sreshow(tmp_path, "cost", *flags, env=env)


def cost_json(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = sreshow_cost(tmp_path, "--json", *flags, env=env)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_cost_shows_the_table_the_summary_and_each_source(tmp_path: Path) -> None:
    done = sreshow_cost(tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "region us-east-1 (the default: AWS_REGION and AWS_DEFAULT_REGION are unset); "
        "2 nodes; 30-minute demo"
    )
    assert "eks in us-east-1: ~$0.24/h, ~$0.12 per 30-minute demo, ~$174/month if left up" in lines
    total = next(line for line in lines if line.lstrip().startswith("total"))
    assert [cell.strip() for cell in total.split("│")][-3:] == ["$0.2384", "$0.1192", "$174.02"]
    spot = next(line for line in lines if "t3.small spot nodes [2]" in line)
    assert "2 nodes (up to 3)" in spot
    assert "~$0.0070/hour" in spot
    assert (
        "NAT gateway and load balancer hours are billed whole: a 30-minute demo is billed "
        "about $0.1529, not $0.1192." in lines
    )
    assert (
        "[1] EKS control plane (standard support): https://aws.amazon.com/eks/pricing/ "
        f"(as of {PRICES_KNOWN_AS_OF}); list price as published; verify"
    ) in done.stdout
    seed_nodes = next(line for line in lines if line.lstrip().startswith("EC2 Nodes"))
    assert "$30" in seed_nodes
    assert "$10.22" in seed_nodes
    assert "on-demand price" in seed_nodes


def test_json_holds_the_core_figures(tmp_path: Path) -> None:
    document = cost_json(tmp_path)
    bom = bill_of_materials("us-east-1", 2)

    assert document.keys() >= JSON_KEYS
    assert document["region"] == "us-east-1"
    assert document["currency"] == "USD"
    assert document["hourly"] == float(hourly(bom))
    assert document["per_demo"]["seconds"] == 1800
    assert document["per_demo"]["cost"] == float(for_duration(bom, 1800))
    assert document["monthly"] == float(monthly(bom)) == 174.02
    assert [item["name"] for item in document["items"]] == [item.name for item in bom.items]
    for shown, item in zip(document["items"], bom.items, strict=True):
        assert shown.keys() >= ITEM_KEYS
        assert Decimal(str(shown["quantity"])) == item.quantity
        assert Decimal(str(shown["unit_price"])) == item.price.usd
        assert shown["unit"] == str(item.price.unit)
        assert shown["hourly"] == float(item.hourly)
        assert shown["source"] == item.price.source
        assert shown["priced_on"] == PRICES_KNOWN_AS_OF
        assert shown["estimate"] is item.price.estimate


def test_duration_and_nodes_change_the_figures(tmp_path: Path) -> None:
    document = cost_json(tmp_path, "--duration", "1h30m", "--nodes", "3", "--region", "eu-west-1")
    bom = bill_of_materials("eu-west-1", 3)

    assert document["region"] == "eu-west-1"
    assert document["region_source"] == "from --region"
    assert document["nodes"] == 3
    assert document["per_demo"] == {
        "seconds": 5400,
        "cost": float(hourly(bom) * Decimal("1.5")),
        "cost_whole_hours": float(for_duration(bom, 5400, whole_hours=True)),
    }
    assert document["hourly"] > cost_json(tmp_path, "--region", "eu-west-1")["hourly"]


UNSET = "AWS_REGION and AWS_DEFAULT_REGION are unset"


@pytest.mark.parametrize(
    ("env", "region", "source"),
    [
        ({"AWS_REGION": "eu-central-1"}, "eu-central-1", "from AWS_REGION"),
        ({"AWS_DEFAULT_REGION": "ap-southeast-1"}, "ap-southeast-1", "from AWS_DEFAULT_REGION"),
        (
            {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-2"},
            "us-west-2",
            "from AWS_REGION",
        ),
        ({"AWS_REGION": ""}, "us-east-1", f"the default: {UNSET}"),
    ],
)  # fmt: skip
def test_the_region_comes_from_the_aws_variables(
    tmp_path: Path, env: dict[str, str], region: str, source: str
) -> None:
    document = cost_json(tmp_path, env=env)

    assert (document["region"], document["region_source"]) == (region, source)
    assert document["hourly"] == float(hourly(bill_of_materials(region)))


def test_the_region_flag_wins_over_the_environment(tmp_path: Path) -> None:
    done = sreshow_cost(tmp_path, "--region", "ap-northeast-1", env={"AWS_REGION": "us-east-1"})

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("region ap-northeast-1 (from --region); 2 nodes")
    assert cost_line(bill_of_materials("ap-northeast-1")) in done.stdout.splitlines()


NOT_A_DURATION = "not a positive duration; write one like 30m, 1h or 1h30m"
NOT_IN_THE_GROUP = "the node group holds 1 to 3 nodes (min 1, max 3); give a number in that range"
KNOWN = (
    "known: us-east-1, us-east-2, us-west-2, eu-west-1, eu-central-1, eu-west-2, "
    "ap-southeast-1, ap-northeast-1; pass --region with a known one"
)


@pytest.mark.parametrize(
    ("flags", "env", "line"),
    [
        (["--duration", "0"], {}, f"error: --duration 0: {NOT_A_DURATION}"),
        (["--duration", "soon"], {}, f"error: --duration soon: {NOT_A_DURATION}"),
        (["--nodes", "0"], {}, f"error: --nodes 0: {NOT_IN_THE_GROUP}"),
        (["--nodes", "4"], {}, f"error: --nodes 4: {NOT_IN_THE_GROUP}"),
        (["--region", "mars-1"], {}, f"error: --region mars-1: no prices for mars-1; {KNOWN}"),
        ([], {"AWS_REGION": "sa-east-1"}, f"error: AWS_REGION=sa-east-1: no prices for sa-east-1; "
                                          f"{KNOWN}"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, flags: list[str], env: dict[str, str], line: str
) -> None:
    done = sreshow_cost(tmp_path, *flags, env=env)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [line]
