"""The `sreshow` command: registers the commands and handles every error in one place."""

# No `from __future__ import annotations` here: Typer reads these commands' signatures
# on every start, `--help` included, and a string annotation costs it an eval each.

import sys
import traceback

import typer

from sreshow import __version__
from sreshow.cli.application import Application
from sreshow.cli.commands import (
    cost,
    dashboard,
    doctor,
    drill,
    eks,
    load,
    report,
    scenario,
    stack,
    walkthrough,
)
from sreshow.errors import ExitCode, SreshowError
from sreshow.settings import ENVIRONMENT_HELP, Settings

app = typer.Typer(
    name="sreshow",
    help="Stand up a production-shaped service, break it on purpose, measure what happens.",
    epilog="Environment: "
    + "; ".join(f"{name}: {meaning}" for name, meaning in ENVIRONMENT_HELP.items()),
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"sreshow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Show the version and exit.",
        callback=_show_version,
        is_eager=True,
    ),
) -> None:
    """Stand up a production-shaped service, break it on purpose, measure what happens."""


stack.register(app)
scenario.register(app)
drill.register(app)
doctor.register(app)
walkthrough.register(app)
report.register(app)
load.register(app)
dashboard.register(app)
cost.register(app)
eks.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every error ends as one line on stderr and a contract exit code."""
    settings = Settings.from_env()
    application = Application.from_settings(settings)
    terminal = application.terminal
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    _warn_when_expired(application, args)
    try:
        result = command.main(
            args=args or ["--help"], prog_name="sreshow", standalone_mode=False, obj=application
        )
    except typer.TyperException as e:  # click's usage errors, as Typer raises them
        terminal.error(f"{e.format_message()} (see `sreshow --help`)")
        return e.exit_code
    except (typer.Abort, KeyboardInterrupt):
        terminal.error("interrupted")
        return ExitCode.INTERRUPTED
    except SreshowError as e:
        terminal.error(str(e))
        if settings.debug:
            traceback.print_exc()
        return e.exit_code
    except Exception as e:
        if settings.debug:
            traceback.print_exc()
        terminal.error(
            f"internal error: {type(e).__name__}: {e} (set SRESHOW_DEBUG=1 for the traceback)"
        )
        return ExitCode.PLATFORM
    code = result if isinstance(result, int) else ExitCode.PASSED
    if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C in a command into exit 130
        terminal.error("interrupted")
    return code


# Commands that print no warning: `down` is the cure, `eks-token` is read by kubectl.
_QUIET_COMMANDS = {"down", "eks-token"}


def _warn_when_expired(application: Application, args: list[str]) -> None:
    """Every command names a stack whose `--ttl` has passed (on stderr)."""
    if not args or args[0].startswith("-") or args[0] in _QUIET_COMMANDS:
        return
    from sreshow.expiry import expiry_warning

    platform = application.platforms.recorded()
    warning = platform and expiry_warning(application.settings.state_dir, platform)
    if warning:
        application.terminal.err.print(warning, style="yellow", soft_wrap=True, highlight=False)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
