"""`sreshow load` and `python -m sreshow.scenarios.load`: bad flags are one line and exit
2 before anything is sent; a run against the real demo app prints its summary and
writes the JSON result; Ctrl-C still does both and exits 130; the image's entry point
needs nothing the image lacks."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from sreshow.cli import app as cli
from sreshow.cli.commands import load as load_command
from sreshow.scenarios import load_plan
from tests.app.support import ROOT, AppProcess, app_process

CONTRACT_KEYS = {"requested_rps", "achieved_rps", "sent", "dropped", "latency_ms", "status"}


@pytest.fixture(scope="module")
def app() -> Iterator[AppProcess]:
    with app_process() as running:
        yield running


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--rps", "0", "--duration", "5"], "error: --rps 0: give a rate above 0"),
        (["--rps", "10", "--duration", "-1"], "error: --duration -1: give a number of seconds"),
        (["--rps", "10", "--duration", "soon"], "error: --duration soon: give a number of"),
        (["--rps", "abc", "--duration", "5"], "error: Invalid value for '--rps'"),
        (["--rps", "10", "--duration", "5", "--shape", "zigzag"], "error: --shape zigzag:"),
        (["--rps", "10", "--duration", "5", "--peak-rps", "20"], "error: --peak-rps: only"),
        (["--rps", "10", "--duration", "5", "--connections", "0"], "error: --connections 0:"),
        (["--rps", "10", "--duration", "5", "--max-requests", "0"], "error: --max-requests 0"),
        (["--rps", "10", "--duration", "5", "--path", "api"], "error: --path 'api':"),
        (
            ["--rps", "10", "--duration", "9", "--shape", "spike",
             "--spike-at", "8", "--spike-for", "5"],
            "error: --spike-at/--spike-for: the spike (8 + 5) must end within --duration 9",
        ),
        (["--rps", "10", "--duration", "3h"], "error: --duration 3h: a run lasts at most"),
    ],
)  # fmt: skip
def test_a_bad_flag_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], flags: list[str], line: str
) -> None:
    # port 9 (discard): nothing would answer, and nothing is sent before the flags pass
    assert cli.main(["load", "--url", "http://127.0.0.1:9", *flags]) == 2

    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(line), err


@pytest.mark.parametrize("url", ["not-a-url", "http://", "ftp://127.0.0.1/", "http://[::1"])
def test_a_malformed_url_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert cli.main(["load", "--url", url, "--rps", "10", "--duration", "5"]) == 2

    err = capsys.readouterr().err
    assert err == (
        f"error: --url {url!r}: load goes to an http(s) URL with a host; "
        "give one like --url http://127.0.0.1:8080\n"
    )


def test_a_json_file_in_a_missing_directory_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "no-such-dir" / "result.json"
    flags = ["--rps", "10", "--duration", "5", "--json", str(target)]

    assert cli.main(["load", "--url", "http://127.0.0.1:9", *flags]) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"error: --json {target}: give a file in a directory that exists")


@pytest.mark.usefixtures("state")  # a state dir of its own: no stack is up
def test_without_url_or_stack_it_says_how_to_get_either(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["load", "--rps", "10", "--duration", "5"]) == 3

    err = capsys.readouterr().err
    assert err == (
        "error: no local stack is up to send load to; start one with `sreshow up`, "
        "or give a target with --url\n"
    )


def test_a_run_prints_its_summary_and_writes_the_json_result(
    app: AppProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result_file = tmp_path / "load.json"
    flags = ["--rps", "50", "--duration", "1s", "--json", str(result_file)]

    assert cli.main(["load", "--url", app.url, *flags]) == 0

    out = capsys.readouterr().out
    assert out.startswith(
        f"load: constant 50/s for 1 s → {app.url}/api/data, at most 64 connections\n"
    )
    assert re.search(r"^  requests sent\.+: 50 +50\.00/s of 50/s requested$", out, re.M), out
    assert re.search(r"^  answered\.+: 50 +200: 50$", out, re.M), out
    assert re.search(r"^  latency\.+: min=\S+ mean=\S+ p50=\S+ p90=\S+ p95=", out, re.M), out
    result = json.loads(result_file.read_text())
    assert set(result) >= CONTRACT_KEYS
    assert set(result["latency_ms"]) >= {"p50", "p95", "p99"}
    assert result["requested_rps"] == 50
    assert result["achieved_rps"] == pytest.approx(50, rel=0.02)
    assert (result["sent"], result["dropped"], result["scheduled"]) == (50, 0, 50)
    assert result["status"] == {"200": 50}
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] <= result["latency_ms"]["p99"]
    assert result["interrupted"] is False
    assert sum(sample["sent"] for sample in result["samples"]) == 50


def test_ctrl_c_stops_with_the_summary_and_the_json_result_and_exit_130(
    app: AppProcess, tmp_path: Path
) -> None:
    result_file = tmp_path / "load.json"
    command = [sys.executable, "-m", "sreshow", "load", "--url", app.url, "--rps", "100"]
    process = subprocess.Popen(
        [*command, "--duration", "60", "--json", str(result_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SRESHOW_STATE_DIR": str(tmp_path / "state")},
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # piped: a progress line a second
        assert re.match(r"\d+\.\d/60 s  sent \d+", first), first
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, err
    assert "stopped early (interrupted)" in out
    assert err.splitlines()[-1] == "error: interrupted"
    result = json.loads(result_file.read_text())
    assert result["interrupted"] is True
    assert result["sent"] + result["dropped"] == result["scheduled"] > 0
    assert result["elapsed_s"] < 30


def test_the_image_entry_point_runs_without_what_the_image_lacks(
    app: AppProcess, tmp_path: Path
) -> None:
    blocked = sorted(_import_names(_runtime_dependencies() - _image_dependencies()))
    assert {"typer", "rich", "yaml"} <= set(blocked)
    code = (
        "import runpy, sys\n"
        "class Blocked:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.partition('.')[0] in {blocked!r}:\n"
        "            raise ImportError(name + ' is not in the app image')\n"
        "sys.meta_path.insert(0, Blocked())\n"
        "runpy.run_module('sreshow.scenarios.load', run_name='__main__', alter_sys=True)\n"
    )
    result_file = tmp_path / "job.json"
    flags = ["--url", app.url, "--rps", "20", "--duration", "1", "--json", str(result_file)]

    done = subprocess.run(
        [sys.executable, "-c", code, *flags], capture_output=True, text=True, timeout=30
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("load: constant 20/s for 1 s")
    assert json.loads(result_file.read_text())["sent"] == 20


def test_the_image_entry_point_refuses_a_bad_flag_in_one_line() -> None:
    flags = ["--url", "x", "--rps", "1", "--duration", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "sreshow.scenarios.load", *flags],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 2
    assert done.stderr.startswith("error: --url 'x': load goes to an http(s) URL")
    assert len(done.stderr.splitlines()) == 1


def test_the_command_repeats_the_generators_default_path() -> None:
    # repeated there so that `--help` loads neither the generator nor its histogram
    assert load_command.DEFAULT_PATH == load_plan.DEFAULT_PATH


def _runtime_dependencies() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {_name(spec) for spec in pyproject["project"]["dependencies"]}


def _image_dependencies() -> set[str]:
    """The distributions the Dockerfile's build stage installs (its pip line)."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    line = next(ln for ln in text.splitlines() if "pip install --constraint" in ln)
    words = line.split("--constraint constraints.txt", 1)[1].split("&&")[0].split()
    return {_name(word) for word in words}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].strip().lower().replace("_", "-")


def _import_names(distributions: set[str]) -> set[str]:
    names = {
        module
        for module, owners in packages_distributions().items()
        for owner in owners
        if owner.lower().replace("_", "-") in distributions
    }
    return {name for name in names if not name.startswith("_")}
