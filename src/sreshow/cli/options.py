"""Options several commands share, declared once."""

# No `from __future__ import annotations`: Typer reads the commands' signatures.

from pathlib import Path

import typer

from sreshow.errors import UsageError

CONTEXT_OPTION = typer.Option(
    None,
    "--context",
    help="kubernetes: the kubeconfig context (default: the current one at `up`; later "
    "commands act only on the context the stack was brought up on).",
)

REPORT_OPTION = typer.Option(
    "--report", help="Write the report here (default: a run folder in the state dir)."
)


def check_report_dir(report: Path | None) -> None:
    """`--report` names a directory (made if missing), not a file (exit 2)."""
    if report is not None and report.exists() and not report.is_dir():
        raise UsageError(f"--report {report} is a file; give a directory for the journal")
