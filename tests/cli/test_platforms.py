"""The platform registry as the CLI uses it: `up --platform NAME` picks one, the state
dir remembers it, `status` and `down` find it without a flag, and a second platform is
refused while one is up.

A second platform is registered here for the test only (`SketchLifecycle`, a stack in a
JSON file): the real `local` lifecycle is exercised by the integration tier.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sreshow import platforms
from sreshow.cli.app import main
from sreshow.core.revisions import RolloutState, RolloutStatus
from sreshow.core.terraform_ui import ApplyProgress
from sreshow.errors import PlatformError, UsageError
from sreshow.platforms import DEFAULT_PLATFORM, Platforms
from sreshow.ports import Platform, UpOptions, UpPreview, UpResult
from sreshow.settings import Settings
from sreshow.stack_status import ReplicaStatus, StackStatus


class SketchLifecycle:
    """A stack that is a file: up writes it, down removes it."""

    name = "sketch"

    def __init__(self, settings: Settings) -> None:
        self._file = settings.state_dir / "sketch.json"

    def preview(self, options: UpOptions) -> UpPreview:
        return UpPreview(f"a file, {self._file}", (("time scale", f"{options.time_scale}"),))

    def up(self, options: UpOptions, progress: Callable[[StackStatus], None]) -> UpResult:
        self._file.write_text(json.dumps({"time_scale": options.time_scale}))
        progress(self.status())
        return UpResult(self.status(), already_running=False)

    def is_up(self) -> bool:
        return self._file.exists()

    def status(self) -> StackStatus:
        if not self.is_up():
            raise PlatformError("no sketch stack is up")
        scale = json.loads(self._file.read_text())["time_scale"]
        return StackStatus(
            platform=self.name,
            time_scale=scale,
            endpoints={"app": "http://127.0.0.1:9"},
            desired_replicas=1,
            revision=1,
            version="1.0.0",
            rollout=RolloutStatus(RolloutState.COMPLETE, "complete"),
            replicas=(ReplicaStatus("sketch-0", "1.0.0", ready=True),),
            components={"sketch": "ready"},
        )

    def down(
        self,
        *,
        confirm: Callable[[str], bool] | None = None,
        progress: Callable[[ApplyProgress], None] | None = None,
    ) -> str:
        del confirm, progress  # a file holds nothing worth a question
        was_up = self.is_up()
        self._file.unlink(missing_ok=True)
        return "Stopped the sketch stack." if was_up else "No sketch stack was up."

    def connect(self, admin_token: str | None) -> Platform:
        raise PlatformError(f"the sketch stack runs no scenario (token given: {bool(admin_token)})")


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state dir, and a registry that knows the sketch platform besides the default."""
    monkeypatch.setenv("SRESHOW_STATE_DIR", str(tmp_path))
    monkeypatch.setitem(platforms.LIFECYCLES, "sketch", f"{__name__}:SketchLifecycle")
    return tmp_path


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_unknown_platform_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sreshow", "up", "--platform", "nowhere"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"SRESHOW_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --platform nowhere: unknown platform; use one of local, kubernetes, eks"
    ]
    assert list(tmp_path.iterdir()) == []  # nothing half-done


def test_status_and_down_find_the_platform_that_was_brought_up(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run("up", "--platform", "sketch", "--time-scale", "0.5", capsys=capsys)
    assert code == 0
    assert "Sketch stack" in out
    assert (state_dir / platforms.RECORD_FILE).read_text() == "sketch\n"

    code, out, _ = run("status", "--json", capsys=capsys)
    assert code == 0
    status = json.loads(out)
    assert (status["platform"], status["time_scale"]) == ("sketch", 0.5)
    assert status["replicas"] == [
        {"name": "sketch-0", "version": "1.0.0", "ready": True, "faults": None, "restarts": 0}
    ]

    code, out, _ = run("down", capsys=capsys)
    assert (code, out) == (0, "Stopped the sketch stack.\n")
    assert not (state_dir / platforms.RECORD_FILE).exists()
    assert Platforms(Settings.from_env()).current().name == DEFAULT_PLATFORM


def test_a_second_platform_is_refused_while_one_is_up(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("up", "--platform", "sketch", capsys=capsys)[0] == 0

    code, out, err = run("up", "--platform", DEFAULT_PLATFORM, capsys=capsys)

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"error: --platform {DEFAULT_PLATFORM}: a sketch stack is up (state in {state_dir}); "
        "bring it down first with `sreshow down`"
    ]
    assert (state_dir / platforms.RECORD_FILE).read_text() == "sketch\n"


@pytest.mark.usefixtures("state_dir")
def test_a_platform_whose_stack_is_gone_does_not_block_another() -> None:
    registry = Platforms(Settings.from_env())
    registry.claim("sketch")  # recorded, but never brought up

    assert registry.claim(DEFAULT_PLATFORM).name == DEFAULT_PLATFORM
    assert registry.recorded() == DEFAULT_PLATFORM


def test_a_failed_up_leaves_no_record_of_the_platform(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run("up", "--platform", DEFAULT_PLATFORM, "--time-scale", "5", capsys=capsys)

    assert code == 2
    assert "--time-scale 5 is out of range" in err
    assert not (state_dir / platforms.RECORD_FILE).exists()


@pytest.mark.usefixtures("state_dir")
def test_the_registry_imports_a_platform_only_when_asked_for_it() -> None:
    probe = (
        "import sys\n"
        "from sreshow.platforms import Platforms\n"
        "from sreshow.settings import Settings\n"
        "registry = Platforms(Settings.from_env())\n"
        "assert registry.names == ('local', 'kubernetes', 'eks'), registry.names\n"
        "assert not any(m.startswith('sreshow.adapters') for m in sys.modules)\n"
        "registry.get('local')\n"
        "assert 'sreshow.adapters.local.lifecycle' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=30)


@pytest.mark.usefixtures("state_dir")
def test_an_unknown_name_in_the_registry_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"use one of local, kubernetes, eks, sketch$"):
        Platforms(Settings.from_env()).get("eks-on-mars")
