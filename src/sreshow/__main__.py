"""`python -m sreshow`: the same as the `sreshow` command."""

from sreshow.cli.app import run

run()
