"""Options several commands share, declared once."""

# No `from __future__ import annotations`: Typer reads the commands' signatures.

import typer

CONTEXT_OPTION = typer.Option(
    None,
    "--context",
    help="kubernetes: the kubeconfig context (default: the current one at `up`; later "
    "commands act only on the context the stack was brought up on).",
)
