"""A stack that costs money (eks) says so in `status` and `status --json`: the cost per
hour and so far, from the same bill of materials `sreshow cost` prints."""

from __future__ import annotations

import io
import time
from dataclasses import replace

from rich.console import Console

from sreshow.cli.dashboard import summary_table
from sreshow.core.cost import bill_of_materials, hourly
from sreshow.core.revisions import RolloutState, RolloutStatus
from sreshow.stack_status import Billing, StackStatus

HOUR = 3600.0
STATUS = StackStatus(
    platform="eks",
    time_scale=1.0,
    endpoints={"app": "http://app.example"},
    desired_replicas=2,
    revision=1,
    version="1.0.0",
    rollout=RolloutStatus(RolloutState.COMPLETE, "complete"),
)


def test_status_json_prices_the_hour_and_what_has_been_spent() -> None:
    up_since = time.time() - 2 * HOUR
    billed = replace(STATUS, billing=Billing(region="us-east-1", nodes=2, up_since=up_since))

    cost = billed.as_json()["cost"]

    per_hour = float(hourly(bill_of_materials("us-east-1", 2)))
    assert cost["region"] == "us-east-1"
    assert cost["usd_per_hour"] == round(per_hour, 4)
    assert abs(cost["usd_so_far"] - 2 * per_hour) < 0.01  # two hours up, pro rata


def test_a_region_without_prices_says_null_not_a_wrong_figure() -> None:
    billed = replace(STATUS, billing=Billing(region="af-south-1", nodes=2, up_since=time.time()))

    cost = billed.as_json()["cost"]

    assert cost["usd_per_hour"] is None
    assert cost["usd_so_far"] is None


def test_a_free_stack_has_no_cost_in_its_status() -> None:
    assert "cost" not in STATUS.as_json()
    assert "cost" not in _shown(STATUS)


def test_the_status_table_has_a_cost_row() -> None:
    billed = replace(STATUS, billing=Billing("eu-west-1", 2, time.time() - 42 * 60))

    shown = _shown(billed)

    assert "eks in eu-west-1: ~$" in shown
    assert "up 42m: ~$" in shown


def _shown(status: StackStatus) -> str:
    out = io.StringIO()
    Console(file=out, width=250).print(summary_table(status))
    return out.getvalue()
