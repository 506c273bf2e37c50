"""Start-up time of `sreshow --help` against a bare `python -c pass`, in the same run.

Target (issue #11): `sreshow --help` takes at most 7x the bare interpreter. Shown beside
them, without a target, `python -c "import typer"`: the floor of any Typer CLI, so the
table tells sreshow's own share from Typer's. All run with the project's interpreter
(.venv/bin/python; the console script's shebang points at it), without a shell, after
warm-up runs. hyperfine times them (`hyperfine -N`); where it is missing, they are timed
with `time.perf_counter` instead, and the title says which.

The ratios are paired, as in the throughput benchmark: several short rounds, each timing
every command (in alternating order), give one ratio each (the round's medians), and the
target is checked on their median. One long run of each would put the two commands
minutes apart, and on a shared machine the load in between decides the ratio.

Both run without PYTHONDONTWRITEBYTECODE, so the warm-up caches sreshow's bytecode as
any install does (pip compiles it at install; an editable install on first run):
otherwise every start would compile sreshow's own modules, which users never pay.

Afterwards `python -X importtime` shows where the time goes: the import time of each
top-level package `sreshow --help` loads beyond the bare interpreter's, so a slow import
that crept onto the path (rule 10 of the style guide) is named, not only felt.

Run on its own: .venv/bin/python bench/cli_startup.py [--quick] [--without-hyperfine]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from report import RESULTS_DIR, VENV_BIN, BenchError, Check, Spread, render_checks, render_table

TARGET_RATIO = 7.0
SRESHOW_NAME, PYTHON_NAME = "sreshow --help", "python -c pass"
TYPER_NAME = "python -c 'import typer'"
IMPORTTIME_RUNS = 5
SHOWN_PACKAGES = 6
# Imported for `--help` only by mistake: each belongs inside the command that needs it.
SLOW_PACKAGES = ("rich", "pydantic", "httpx", "yaml", "fastapi", "kubernetes", "boto3", "psutil")


@dataclass(frozen=True)
class Settings:
    rounds: int = 5
    runs: int = 20  # of each command in each round
    warmup: int = 3  # of each command before each round
    use_hyperfine: bool = True  # False: time with perf_counter even where hyperfine is

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, runs=10, warmup=2)


@dataclass(frozen=True)
class Timing:
    """One command's wall-clock times over all the runs, in milliseconds."""

    name: str
    median_ms: float
    mean_ms: float
    stddev_ms: float
    min_ms: float
    max_ms: float
    runs: int

    @classmethod
    def of(cls, name: str, seconds: Sequence[float]) -> Timing:
        ms = [s * 1000 for s in seconds]
        return cls(
            name=name,
            median_ms=statistics.median(ms),
            mean_ms=statistics.mean(ms),
            stddev_ms=statistics.stdev(ms) if len(ms) > 1 else 0.0,
            min_ms=min(ms),
            max_ms=max(ms),
            runs=len(ms),
        )


@dataclass(frozen=True)
class StartupSummary:
    sreshow: Timing
    typer: Timing  # python -c "import typer": the floor, no target
    python: Timing
    ratios: Spread  # sreshow / python, one per round (the round's medians)
    typer_ratios: Spread  # typer / python, likewise
    method: str  # how the commands were timed, for the title
    packages: Mapping[str, float]  # top-level package -> import ms under -X importtime

    @property
    def overhead_ms(self) -> float:
        return self.sreshow.median_ms - self.python.median_ms

    @property
    def beyond_typer_ms(self) -> float:
        return self.sreshow.median_ms - self.typer.median_ms

    @property
    def slow_packages(self) -> list[str]:
        return [name for name in SLOW_PACKAGES if name in self.packages]


def measure(settings: Settings) -> StartupSummary:
    """Time both commands; progress goes to stderr, raw times to bench/results/."""
    commands = _commands()
    env = _environment()
    _check_help(commands[SRESHOW_NAME], env)
    RESULTS_DIR.mkdir(exist_ok=True)
    use_hyperfine = settings.use_hyperfine and shutil.which("hyperfine") is not None
    if settings.use_hyperfine and not use_hyperfine:
        print(
            "cli_startup: hyperfine not found (apt-get install -y hyperfine);"
            " timing with perf_counter instead",
            file=sys.stderr,
        )
    times: dict[str, list[float]] = {name: [] for name in commands}
    ratios: dict[str, list[float]] = {SRESHOW_NAME: [], TYPER_NAME: []}
    for number in range(settings.rounds):
        # Alternate the order, so no command always follows the same one.
        names = list(commands) if number % 2 == 0 else list(reversed(commands))
        order = {name: commands[name] for name in names}
        if use_hyperfine:
            found = _round_with_hyperfine(settings, order, env, number)
        else:
            found = _round_with_perf_counter(settings, order, env)
        for name, seconds in found.items():
            times[name] += seconds
        bare = statistics.median(found[PYTHON_NAME])
        for name, round_ratios in ratios.items():
            round_ratios.append(statistics.median(found[name]) / bare)
    (RESULTS_DIR / "cli_startup.json").write_text(
        json.dumps({"seconds": times, "ratios_to_python": ratios}, indent=1)
    )
    tool = "hyperfine -N" if use_hyperfine else "perf_counter (no hyperfine), alternating runs"
    method = (
        f"{tool}; {settings.rounds} rounds of {settings.runs} runs of each"
        f" after {settings.warmup} warm-ups"
    )
    return StartupSummary(
        sreshow=Timing.of(SRESHOW_NAME, times[SRESHOW_NAME]),
        typer=Timing.of(TYPER_NAME, times[TYPER_NAME]),
        python=Timing.of(PYTHON_NAME, times[PYTHON_NAME]),
        ratios=Spread.of(ratios[SRESHOW_NAME]),
        typer_ratios=Spread.of(ratios[TYPER_NAME]),
        method=method,
        packages=_import_times(commands[SRESHOW_NAME], env),
    )


def _commands() -> dict[str, list[str]]:
    sreshow, python = VENV_BIN / "sreshow", VENV_BIN / "python"
    for path in (sreshow, python):
        if not path.exists():
            raise BenchError(
                f"{path} not found; install the project: pip install -e '.[dev,bench]'"
            )
    return {
        SRESHOW_NAME: [str(sreshow), "--help"],
        TYPER_NAME: [str(python), "-c", "import typer"],
        PYTHON_NAME: [str(python), "-c", "pass"],
    }


def _environment() -> dict[str, str]:
    """This environment, with bytecode caching on (see the module docstring)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _check_help(sreshow: list[str], env: Mapping[str, str]) -> None:
    """`sreshow --help` must print the usage and exit 0: a fast crash is not a fast start."""
    done = subprocess.run(sreshow, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 or "Usage: sreshow" not in done.stdout:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise BenchError(
            f"{' '.join(sreshow)} exited with {done.returncode} without its usage: "
            + " / ".join(tail)
        )


def _round_with_hyperfine(
    settings: Settings, commands: Mapping[str, list[str]], env: Mapping[str, str], number: int
) -> dict[str, list[float]]:
    export = RESULTS_DIR / f"cli_startup_round{number + 1}.json"
    command = ["hyperfine", "-N", "--style", "basic"]
    command += ["--warmup", str(settings.warmup), "--runs", str(settings.runs)]
    command += ["--export-json", str(export)]
    for name, argv in commands.items():
        command += ["-n", name, shlex.join(argv)]
    done = subprocess.run(command, check=False, stdout=sys.stderr, env=env, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"hyperfine failed with exit code {done.returncode}")
    results = json.loads(export.read_text())["results"]
    return {str(r["command"]): [float(t) for t in r["times"]] for r in results}


def _round_with_perf_counter(
    settings: Settings, commands: Mapping[str, list[str]], env: Mapping[str, str]
) -> dict[str, list[float]]:
    """The commands run by run, so drift on the machine hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(settings.warmup + settings.runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise BenchError(f"{' '.join(argv)} exited with {done.returncode}")
            if run >= settings.warmup:
                times[name].append(elapsed)
    return times


def _import_times(sreshow: list[str], env: Mapping[str, str]) -> dict[str, float]:
    """The import time of each top-level package `sreshow --help` loads and the bare
    interpreter does not (ms, self times summed, median over runs)."""
    bare = set(_importtime(["-c", "pass"], env))
    runs = [_importtime(sreshow, env) for _ in range(IMPORTTIME_RUNS)]
    names = set().union(*runs) - bare
    return {name: statistics.median(run.get(name, 0.0) for run in runs) for name in names}


def _importtime(argv: list[str], env: Mapping[str, str]) -> dict[str, float]:
    """Run the interpreter with `argv` (a script and its arguments, or `-c CODE`)."""
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-X", "importtime", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    return _packages(done.stderr)


def _packages(importtime: str) -> dict[str, float]:
    """`-X importtime` lines (`import time: self | cumulative | name`) -> ms per package."""
    totals: dict[str, float] = defaultdict(float)
    for line in importtime.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header, or a line the program printed itself
        totals[fields[2].strip().split(".")[0]] += int(fields[0]) / 1000
    return dict(totals)


def checks(summary: StartupSummary) -> list[Check]:
    ratio = summary.ratios.median
    return [
        Check("sreshow --help / python -c pass", f"{ratio:.1f}x", f"<= {TARGET_RATIO:.0f}x",
              ratio <= TARGET_RATIO),
    ]  # fmt: skip


def render(summary: StartupSummary) -> str:
    title = f"CLI start-up: {summary.method}; wall-clock times"
    rows = [
        (t.name, f"{t.median_ms:.1f} ms", f"{t.mean_ms:.1f} ± {t.stddev_ms:.1f} ms",
         f"{t.min_ms:.1f}-{t.max_ms:.1f} ms")
        for t in (summary.sreshow, summary.typer, summary.python)
    ]  # fmt: skip
    table = render_table(("command", "median", "mean ± sd", "min-max"), rows)
    r, t = summary.ratios, summary.typer_ratios
    ratio = (
        f"sreshow --help / python -c pass: {r.median:.1f}x, the median of the rounds' ratios"
        f" ({r.low:.1f}-{r.high:.1f}x); {summary.overhead_ms:.0f} ms on top of the bare"
        f" interpreter\n{TYPER_NAME} / python -c pass: {t.median:.1f}x ({t.low:.1f}-{t.high:.1f}x),"
        f" the floor of a Typer CLI; sreshow --help takes {summary.beyond_typer_ms:.0f} ms more"
    )
    largest = sorted(summary.packages.items(), key=lambda item: -item[1])[:SHOWN_PACKAGES]
    imports = "what --help imports beyond python -c pass (-X importtime, ms by package): " + (
        ", ".join(f"{name} {ms:.0f}" for name, ms in largest)
    )
    slow = summary.slow_packages
    verdict = (
        f"slow packages imported for --help (move them into their commands): {', '.join(slow)}"
        if slow
        else f"slow packages imported for --help: none of {', '.join(SLOW_PACKAGES)}"
    )
    return "\n\n".join([title, table, ratio, f"{imports}\n{verdict}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 rounds of 10 runs each after 2 warm-ups"
    )
    parser.add_argument(
        "--without-hyperfine",
        action="store_true",
        help="time with perf_counter even where hyperfine is installed",
    )
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    if args.without_hyperfine:
        settings = replace(settings, use_hyperfine=False)
    try:
        summary = measure(settings)
    except BenchError as e:
        print(f"cli_startup: error: {e}", file=sys.stderr)
        return 1
    print(render(summary) + "\n\n" + render_checks(checks(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
