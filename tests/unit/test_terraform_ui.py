"""Terraform's JSON UI parsed and folded, and the progress view drawn from it.

The lines are the real binaries' (terraform 1.11.4, tofu 1.6.3), trimmed to the fields
that matter; the terraform tier runs the same parsing on live output.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from sreshow.cli.terraform_view import plain_lines, plan_line, progress_view
from sreshow.core.terraform_ui import (
    ApplyProgress,
    ChangeSummary,
    Diagnostic,
    LogLine,
    UnsupportedUIVersion,
    VersionEvent,
    fold_lines,
    parse_line,
)

T0 = datetime(2026, 12, 5, 6, 34, 23, tzinfo=UTC)


def line(kind: str, at: float = 0.0, **fields: Any) -> str:
    stamp = (T0 + timedelta(seconds=at)).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {"@level": "info", "@message": "…", "@timestamp": stamp, "type": kind, **fields}
    )


def resource(addr: str) -> dict[str, Any]:
    return {"addr": addr, "module": "", "resource": addr, "implied_provider": "terraform"}


def planned(addr: str, action: str = "create") -> str:
    return line("planned_change", change={"resource": resource(addr), "action": action})


def hook(kind: str, addr: str, at: float, action: str = "create", elapsed: float = 0) -> str:
    body: dict[str, Any] = {"resource": resource(addr), "action": action}
    if kind != "apply_start":
        body["elapsed_seconds"] = elapsed
    return line(kind, at, hook=body)


VERSION = line("version", terraform="1.11.4", ui="1.2")
SUMMARY = line(
    "change_summary",
    changes={"add": 2, "change": 0, "import": 0, "remove": 1, "operation": "apply"},
)


def test_version_names_the_tool_for_terraform_and_tofu() -> None:
    assert parse_line(VERSION) == VersionEvent("terraform", "1.11.4", "1.2", T0)
    tofu = parse_line(line("version", tofu="1.6.3", ui="1.2"))
    assert isinstance(tofu, VersionEvent)
    assert (tofu.tool, tofu.tool_version) == ("tofu", "1.6.3")


def test_an_unknown_major_ui_version_is_refused() -> None:
    with pytest.raises(UnsupportedUIVersion, match=r"UI version 2\.0 \(this sreshow reads 1\.x\)"):
        parse_line(line("version", terraform="2.0.0", ui="2.0"))
    assert isinstance(parse_line(line("version", terraform="1.20.0", ui="1.9")), VersionEvent)


def test_unknown_types_are_ignored_and_text_is_kept_as_log() -> None:
    assert parse_line(line("resource_drift", change={})) is None
    assert parse_line(line("test_abstract")) is None
    assert parse_line("") is None
    assert parse_line("panic: runtime error\n") == LogLine("panic: runtime error")
    assert parse_line("[1, 2]") == LogLine("[1, 2]")
    log = json.dumps({"@level": "info", "@message": "hi", "type": "log"})
    state = fold_lines(ApplyProgress("apply"), ["some text", log])
    assert state.log == ("some text", "hi")
    # a known type whose fields changed shape is kept as its message, not a crash
    assert parse_line(line("planned_change", change={"action": "create"})) == LogLine("…")


def test_a_diagnostic_keeps_its_range_as_file_and_line() -> None:
    event = parse_line(
        line(
            "diagnostic",
            diagnostic={
                "severity": "error",
                "summary": "local-exec provisioner error",
                "detail": "exit status 3",
                "address": "terraform_data.broken",
                "range": {"filename": "main.tf", "start": {"line": 9, "column": 28}},
            },
        )
    )
    assert event == Diagnostic(
        "error", "local-exec provisioner error", "exit status 3", "terraform_data.broken",
        "main.tf", 9,
    )  # fmt: skip
    assert event.location == "main.tf:9"
    bare = parse_line(line("diagnostic", diagnostic={"severity": "error", "summary": "halted"}))
    assert isinstance(bare, Diagnostic)
    assert bare.location is None


def test_plan_then_apply_folds_into_done_of_planned_with_elapsed() -> None:
    lines = [
        VERSION,
        planned("terraform_data.a"),
        planned("terraform_data.b"),
        planned("terraform_data.old", "delete"),
        line("change_summary", changes={"add": 2, "change": 0, "remove": 1, "operation": "plan"}),
        hook("apply_start", "terraform_data.a", 1),
        hook("apply_complete", "terraform_data.a", 3, elapsed=2),
        hook("apply_start", "terraform_data.b", 3),
        hook("apply_progress", "terraform_data.b", 13, elapsed=10),
    ]
    state = fold_lines(ApplyProgress("apply"), lines)
    assert (state.tool, state.tool_version, state.started_at) == ("terraform", "1.11.4", T0)
    assert (state.done_count, state.planned_count) == (1, 3)
    assert state.plan_summary == ChangeSummary("plan", 2, 0, 1, 0)
    assert [(f.addr, f.elapsed_seconds) for f in state.in_flight] == [("terraform_data.b", 10)]
    assert state.in_flight[0].started_at == T0 + timedelta(seconds=3)

    rest = [
        hook("apply_complete", "terraform_data.b", 14, elapsed=11),
        hook("apply_start", "terraform_data.old", 14, "delete"),
        hook("apply_errored", "terraform_data.old", 15, "delete", elapsed=1),
        SUMMARY,
    ]
    final = fold_lines(state, rest)
    assert (final.done_count, final.planned_count) == (2, 3)
    assert final.in_flight == ()
    assert [f.addr for f in final.errored] == ["terraform_data.old"]
    assert final.result_summary == ChangeSummary("apply", 2, 0, 1, 0)
    assert state.done_count == 1  # folding made a new value


def test_a_replaced_resource_is_done_after_both_halves() -> None:
    lines = [
        planned("terraform_data.x", "replace"),
        hook("apply_start", "terraform_data.x", 0, "delete"),
        hook("apply_complete", "terraform_data.x", 1, "delete"),
    ]
    halfway = fold_lines(ApplyProgress("apply"), lines)
    assert halfway.done_count == 0
    done = fold_lines(
        halfway,
        [
            hook("apply_start", "terraform_data.x", 1),
            hook("apply_complete", "terraform_data.x", 2, elapsed=1),
        ],
    )
    assert (done.done_count, done.planned_count) == (1, 1)


def test_outputs_keep_values_but_never_show_a_sensitive_one() -> None:
    state = fold_lines(
        ApplyProgress("apply"),
        [
            line(
                "outputs",
                outputs={
                    "secret": {"sensitive": True, "type": "string", "value": "hunter2"},
                    "name": {"sensitive": False, "type": "string", "value": "demo"},
                },
            )
        ],
    )
    assert [(o.name, o.value) for o in state.outputs] == [("name", "demo"), ("secret", "hunter2")]
    assert "hunter2" not in repr(state)


def render(state: ApplyProgress, now: datetime) -> str:
    console = Console(width=80, record=True, color_system=None)
    console.print(progress_view(state, now))
    return console.export_text()


def test_the_view_shows_done_of_planned_what_runs_for_how_long_and_errors() -> None:
    lines = [
        VERSION,
        planned("aws_vpc.main"),
        planned("aws_eks_cluster.this"),
        hook("apply_start", "aws_vpc.main", 0),
        hook("apply_complete", "aws_vpc.main", 2, elapsed=2),
        hook("apply_start", "aws_eks_cluster.this", 2),
    ]
    state = fold_lines(ApplyProgress("apply"), lines)
    text = render(state, T0 + timedelta(seconds=252))
    assert "terraform apply · 1/2 resources · 4m 12s" in text
    assert "aws_eks_cluster.this  creating  4m 10s" in text.splitlines()  # a line of its own

    failed = fold_lines(
        state,
        [
            hook("apply_errored", "aws_eks_cluster.this", 300, elapsed=298),
            line(
                "diagnostic",
                diagnostic={
                    "severity": "error",
                    "summary": "creating EKS Cluster",
                    "range": {"filename": "eks.tf", "start": {"line": 12}},
                },
            ),
        ],
    )
    text = render(failed, T0 + timedelta(seconds=301))
    assert "aws_eks_cluster.this: create failed after 4m 58s" in text
    assert "error: eks.tf:12: creating EKS Cluster" in text
    assert "creating  " not in text


def test_the_plan_view_counts_changes_and_says_them_in_terraform_s_words() -> None:
    lines = [
        VERSION,
        planned("aws_vpc.main"),
        planned("aws_nat_gateway.main"),
        line("change_summary", changes={"add": 2, "change": 0, "remove": 0, "operation": "plan"}),
    ]
    text = render(fold_lines(ApplyProgress("plan"), lines), T0 + timedelta(seconds=3))
    assert text.splitlines() == [
        "terraform plan · 2 changes planned · 3 s",
        "Plan: 2 to add, 0 to change, 0 to destroy.",
    ]


def test_plain_lines_are_one_per_resource_finished_or_failed() -> None:
    start = fold_lines(ApplyProgress("apply"), [planned("a.one"), planned("a.two")])
    one = fold_lines(
        start, [hook("apply_start", "a.one", 0), hook("apply_complete", "a.one", 2, elapsed=2)]
    )
    two = fold_lines(
        one, [hook("apply_start", "a.two", 2), hook("apply_errored", "a.two", 3, elapsed=1)]
    )
    assert plain_lines(start, one) == ["a.one: created after 2 s (1/2)"]
    assert plain_lines(one, two) == ["a.two: create failed after 1 s"]
    assert plain_lines(two, two) == []
    assert (
        plan_line(ChangeSummary("plan", 3, 1, 2, 0)) == "Plan: 3 to add, 1 to change, 2 to destroy."
    )
