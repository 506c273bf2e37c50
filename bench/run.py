"""Run every benchmark and print their results and the targets (what `make bench` runs).

Timings are reported, never asserted: the exit code is 1 only if a benchmark could not
run (a missing tool, a server or stack that did not start, errors from wrk), not for a
missed target.

Run: .venv/bin/python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import sys

import psutil

import app_idle
import app_throughput
import autoscaler_steady
import cli_startup
import load_generator
import local_stack
import report_render
from report import BenchError, render_checks


def machine() -> str:
    cores = psutil.cpu_count(logical=True)
    distro = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    return f"Machine: {cores} cores, {distro}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run of each")
    args = parser.parse_args(argv)
    cli_settings = cli_startup.Settings.quick() if args.quick else cli_startup.Settings()
    app_settings = app_throughput.Settings.quick() if args.quick else app_throughput.Settings()
    stack_settings = local_stack.Settings.quick() if args.quick else local_stack.Settings()
    idle_settings = app_idle.Settings.quick() if args.quick else app_idle.Settings()
    steady_settings = (
        autoscaler_steady.Settings.quick() if args.quick else autoscaler_steady.Settings()
    )
    render_settings = report_render.Settings.quick() if args.quick else report_render.Settings()
    generator_settings = (
        load_generator.Settings.quick() if args.quick else load_generator.Settings()
    )
    try:
        startup = cli_startup.measure(cli_settings)
        throughput = app_throughput.measure(app_settings)
        idle = app_idle.measure(idle_settings)
        stack = local_stack.measure(stack_settings)
        steady = autoscaler_steady.measure(steady_settings)
        rendering = report_render.measure(render_settings)
        generator = load_generator.measure(generator_settings)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    checks = (
        app_throughput.checks(throughput)
        + app_idle.checks(idle)
        + cli_startup.checks(startup)
        + local_stack.checks(stack)
        + autoscaler_steady.checks(steady)
        + report_render.checks(rendering)
        + load_generator.checks(generator)
    )
    sections = [
        machine(),
        app_throughput.render(throughput),
        app_idle.render(idle),
        cli_startup.render(startup),
        local_stack.render(stack),
        autoscaler_steady.render(steady, steady_settings),
        report_render.render(rendering),
        load_generator.render(generator),
        "Targets\n\n" + render_checks(checks),
    ]
    print("\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
