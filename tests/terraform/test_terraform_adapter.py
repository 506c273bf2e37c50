"""The Terraform adapter on the real binaries: terraform and OpenTofu, each test twice.

The fixtures need no provider download (`terraform_data`, `local-exec`), so plan,
apply, destroy, failures, Ctrl-C and the lock all run for real, offline.
"""

from __future__ import annotations

import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sreshow.adapters.terraform import Terraform, locate_binary
from sreshow.cli.terraform_view import plain_lines
from sreshow.core.terraform_ui import ApplyProgress
from sreshow.errors import ExitCode, PlatformError, UsageError
from sreshow.settings import Settings
from tests.tools import require_tool

pytestmark = pytest.mark.terraform

FIXTURES = Path(__file__).parent / "fixtures"
DRIVER = FIXTURES / "apply_driver.py"
REPO = Path(__file__).parents[2]
WAIT_S = 30.0  # the longest any wait here may take


@pytest.fixture(params=["terraform", "tofu"])
def tf_bin(request: pytest.FixtureRequest) -> str:
    """Each binary the adapter supports (tofu from scripts/install-tools.sh)."""
    return require_tool(request.param)


def settings_for(tf_bin: str, state_dir: Path) -> Settings:
    return Settings.from_env(
        {**os.environ, "SRESHOW_TF_BIN": tf_bin, "SRESHOW_STATE_DIR": str(state_dir)}
    )


def working_dir(state_dir: Path) -> Path:
    return state_dir / "eks" / "terraform"


def terraform_on(tf_bin: str, state_dir: Path, fixture: str) -> Terraform:
    settings = settings_for(tf_bin, state_dir)
    return Terraform.locate(settings, FIXTURES / fixture, working_dir(settings.state_dir))


def line_of(path: Path, text: str) -> int:
    """The 1-based line of `path` holding `text`."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def processes_in(directory: Path) -> list[int]:
    """Processes whose working directory is `directory` or under it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == directory or directory in cwd.parents:
            found.append(int(entry.name))
    return found


class Driver:
    """`apply_driver.py` as a process: a real sreshow-side apply to signal."""

    def __init__(self, tf_bin: str, state_dir: Path, step_seconds: int) -> None:
        env = {**os.environ, "SRESHOW_TF_BIN": tf_bin, "PYTHONPATH": str(REPO / "src")}
        arguments = [str(FIXTURES / "slow"), str(working_dir(state_dir)), str(step_seconds)]
        self.process = subprocess.Popen(
            [sys.executable, str(DRIVER), *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for_line(self, text: str) -> None:
        deadline = time.monotonic() + WAIT_S
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            seen.append(line)
            if text in line:
                return
        pytest.fail(f"the driver never printed {text!r}; it printed {seen}")

    def finish(self) -> tuple[int, str]:
        """Its exit code and stderr, within WAIT_S (stdout stays with the reader)."""
        code = self.process.wait(WAIT_S)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT_S)
        self.reader.join(WAIT_S)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def drivers() -> Iterator[list[Driver]]:
    started: list[Driver] = []
    yield started
    for driver in started:
        driver.stop()


def test_plan_apply_destroy_report_progress_outputs_and_keep_state(
    tf_bin: str, tmp_path: Path
) -> None:
    tf = terraform_on(tf_bin, tmp_path, "basic")
    assert tf.binary.tool == Path(tf_bin).name
    assert tf.binary.version.count(".") == 2
    tf.init()
    assert tf.state_resources() == []

    plan_states: list[ApplyProgress] = []
    plan = tf.plan({"run_id": "run42"}, plan_states.append)
    assert plan_states[-1].planned_count == 3
    assert (plan.changes.add, plan.changes.change, plan.changes.remove) == (3, 0, 0)
    assert {c.addr for c in plan.resources} == {
        "terraform_data.network",
        "terraform_data.cluster",
        "terraform_data.nodes[0]",
    }
    variables_file = working_dir(tmp_path) / "sreshow.tfvars.json"
    assert stat.S_IMODE(variables_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(plan.plan_file.stat().st_mode) == 0o600

    states: list[ApplyProgress] = []
    outputs = tf.apply(plan, states.append)
    final = states[-1]
    assert (final.done_count, final.planned_count) == (3, 3)
    assert any(state.in_flight for state in states)
    assert final.in_flight == ()
    lines = [
        line
        for before, after in zip([None, *states], states, strict=False)
        for line in plain_lines(before, after)
    ]
    assert len(lines) == 3
    assert lines[-1].endswith("(3/3)")
    assert outputs["cluster_name"].value == "cluster-on-network-run42"
    assert outputs["admin_secret"].sensitive
    assert outputs["admin_secret"].value == "not-for-screens"
    assert "not-for-screens" not in repr(outputs)
    assert not plan.plan_file.exists()
    assert (working_dir(tmp_path) / "terraform.tfstate").is_file()
    assert len(tf.state_resources()) == 3

    with pytest.raises(PlatformError, match="still lists 3 resources"):
        tf.remove_state()
    assert (working_dir(tmp_path) / "terraform.tfstate").is_file()

    destroyed = tf.destroy({"run_id": "run42"})
    assert destroyed.result_summary is not None
    assert destroyed.result_summary.remove == 3
    assert destroyed.done_count == 3
    assert tf.state_resources() == []
    tf.remove_state()
    assert not working_dir(tmp_path).exists()


def test_a_failing_resource_names_the_file_and_line(tf_bin: str, tmp_path: Path) -> None:
    tf = terraform_on(tf_bin, tmp_path, "failing")
    tf.init()
    plan = tf.plan({})
    with pytest.raises(PlatformError) as raised:
        tf.apply(plan)
    main_tf = FIXTURES / "failing" / "main.tf"
    line = line_of(main_tf, 'provisioner "local-exec"')
    message = str(raised.value)
    assert f"{main_tf}:{line}: local-exec provisioner error" in message
    assert "terraform_data.broken" in message
    assert "exit status 3" in message
    assert "\n" not in message
    assert raised.value.exit_code == ExitCode.PLATFORM
    assert "terraform_data.fine" in tf.state_resources()


def test_ctrl_c_during_apply_leaves_a_consistent_state_and_says_how_to_resume(
    tf_bin: str, tmp_path: Path, drivers: list[Driver]
) -> None:
    driver = Driver(tf_bin, tmp_path, step_seconds=3)
    drivers.append(driver)
    driver.wait_for_line("in flight: terraform_data.second")
    started = time.monotonic()
    driver.process.send_signal(signal.SIGINT)
    code, stderr = driver.finish()
    assert time.monotonic() - started < 3, "it waited for the whole apply"

    assert code == ExitCode.INTERRUPTED
    assert "apply interrupted" in stderr
    assert "consistent state" in stderr
    assert "run `sreshow up --platform eks` again" in stderr
    assert processes_in(working_dir(tmp_path)) == []

    tf = terraform_on(tf_bin, tmp_path, "slow")
    left = tf.state_resources()
    assert "terraform_data.first" in left
    assert "terraform_data.third" not in left
    remaining = {c.addr for c in tf.plan({"step_seconds": 0}).resources}
    assert "terraform_data.first" not in remaining
    assert "terraform_data.third" in remaining


# A stand-in for a run that takes its time to wind up (an EKS node group, say): the
# built-in resources stop within milliseconds, so a second Ctrl-C could not reach the
# real binaries mid-way. It speaks their JSON UI, winds up for 10 s on the first SIGINT
# and exits at once on the second, as terraform does.
SLOW_TO_STOP = """#!/bin/sh
case "$1" in
version) echo "Terraform v1.11.4"; exit 0 ;;
init) exit 0 ;;
output) echo "{}"; exit 0 ;;
plan) echo '{"type":"version","terraform":"1.11.4","ui":"1.2"}'; : > sreshow.tfplan; exit 0 ;;
esac
interrupts=0
trap 'interrupts=$((interrupts + 1)); [ $interrupts -ge 2 ] && exit 1' INT
echo '{"type":"version","terraform":"1.11.4","ui":"1.2"}'
addr='"resource":{"addr":"aws_eks_node_group.main"}'
echo '{"type":"apply_start","hook":{'"$addr"',"action":"create"}}'
i=0
while [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"""


def test_a_second_ctrl_c_stops_it_at_once_and_says_so(
    tmp_path: Path, drivers: list[Driver]
) -> None:
    stand_in = tmp_path / "terraform"
    stand_in.write_text(SLOW_TO_STOP)
    stand_in.chmod(0o755)
    driver = Driver(str(stand_in), tmp_path, step_seconds=3)
    drivers.append(driver)
    driver.wait_for_line("in flight: aws_eks_node_group.main")
    driver.process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert driver.process.poll() is None, "the first Ctrl-C did not wait for the wind-up"
    started = time.monotonic()
    driver.process.send_signal(signal.SIGINT)
    code, stderr = driver.finish()

    assert time.monotonic() - started < 2
    assert code == ExitCode.INTERRUPTED
    assert "apply stopped at once (a second Ctrl-C)" in stderr
    assert "state list` there, then run `sreshow up --platform eks` again" in stderr
    assert processes_in(working_dir(tmp_path)) == []


def test_a_second_concurrent_apply_is_refused_at_once(
    tf_bin: str, tmp_path: Path, drivers: list[Driver]
) -> None:
    driver = Driver(tf_bin, tmp_path, step_seconds=2)
    drivers.append(driver)
    driver.wait_for_line("in flight: terraform_data.second")

    tf = terraform_on(tf_bin, tmp_path, "slow")
    started = time.monotonic()
    with pytest.raises(PlatformError) as raised:
        tf.plan({"step_seconds": 0})
    assert time.monotonic() - started < 1
    message = str(raised.value)
    assert f"another sreshow (pid {driver.process.pid}) is running" in message
    assert f"apply in {working_dir(tmp_path)}" in message

    code, stderr = driver.finish()
    assert (code, stderr) == (0, "")
    assert len(tf.state_resources()) == 3  # the first apply went on undisturbed
    assert tf.plan({"step_seconds": 2}).resources == ()  # and the lock is free again


def test_tf_bin_naming_no_executable_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-terraform"
    with pytest.raises(UsageError) as raised:
        locate_binary(settings_for(str(missing), tmp_path))
    assert str(raised.value).startswith(f"SRESHOW_TF_BIN={missing} does not exist")
    assert raised.value.exit_code == ExitCode.USAGE

    not_executable = tmp_path / "terraform"
    not_executable.write_text("")
    with pytest.raises(UsageError, match=r"SRESHOW_TF_BIN=\S+ is not an executable file"):
        locate_binary(settings_for(str(not_executable), tmp_path))


def test_terraform_is_preferred_on_path_then_tofu(tmp_path: Path) -> None:
    terraform, tofu = require_tool("terraform"), require_tool("tofu")
    both, only_tofu = tmp_path / "both", tmp_path / "only-tofu"
    for directory, tools in ((both, (terraform, tofu)), (only_tofu, (tofu,))):
        directory.mkdir()
        for tool in tools:
            (directory / Path(tool).name).symlink_to(tool)
    env = {"PATH": str(both), "HOME": str(tmp_path)}
    assert locate_binary(Settings.from_env(env)).tool == "terraform"
    assert locate_binary(Settings.from_env({**env, "PATH": str(only_tofu)})).tool == "tofu"
    with pytest.raises(PlatformError, match="neither terraform nor tofu is on PATH; install"):
        locate_binary(Settings.from_env({**env, "PATH": str(tmp_path)}))


def test_an_unknown_major_ui_version_is_refused(tmp_path: Path) -> None:
    """A stand-in for a future release (the real ones speak 1.x): it says UI 2.0 and
    would then run on; sreshow refuses at once and stops it."""
    future = tmp_path / "terraform"
    future.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo "Terraform v1.99.0"; exit 0; fi\n'
        """echo '{"@level":"info","type":"version","terraform":"1.99.0","ui":"2.0"}'\n"""
        "exec sleep 30\n"
    )
    future.chmod(0o755)
    settings = settings_for(str(future), tmp_path)
    tf = Terraform.locate(settings, FIXTURES / "basic", tmp_path / "work", interrupt_grace_s=2)
    started = time.monotonic()
    with pytest.raises(PlatformError) as raised:
        tf.plan({"run_id": "x"})
    assert time.monotonic() - started < 5
    assert "speaks machine-readable UI version 2.0 (this sreshow reads 1.x)" in str(raised.value)
    assert processes_in(tmp_path / "work") == []
