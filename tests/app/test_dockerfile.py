"""The Dockerfile's promises, read from the file (no Docker engine runs here)."""

from __future__ import annotations

import re

from tests.app.support import ROOT, dockerfile_cmd

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions(keyword: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [
        line.split(None, 1)[1].strip()
        for line in joined.splitlines()
        if line.strip().upper().startswith(keyword + " ")
    ]


def test_is_multi_stage_on_a_slim_python_base_pinned_by_version() -> None:
    stages = _instructions("FROM")
    assert len(stages) >= 2
    args = dict(arg.split("=", 1) for arg in _instructions("ARG") if "=" in arg)
    images = [args.get(s.split()[0].strip("${}"), s.split()[0]) for s in stages]
    for image in images:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", image), image


def test_runs_as_uid_1000_and_exposes_8000() -> None:
    users = _instructions("USER")
    assert users
    assert users[-1].split(":")[0] == "1000"
    assert _instructions("EXPOSE") == ["8000"]


def test_writes_only_to_tmp_for_a_read_only_root_filesystem() -> None:
    env = " ".join(_instructions("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "HOME=/tmp" in env
    assert "TMPDIR=/tmp" in env
    assert _instructions("WORKDIR")[-1] == "/tmp"


def test_cmd_starts_the_app_with_uvicorn_on_all_interfaces_of_the_pod() -> None:
    assert dockerfile_cmd() == ["python", "-m", "demo_app"]
    env = " ".join(_instructions("ENV"))
    assert "APP_HOST=0.0.0.0" in env
    assert "APP_PORT=8000" in env


def test_copies_everything_the_wheel_force_includes() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    copied = {part for line in _instructions("COPY") for part in line.split()[:-1]}

    assert set(included) <= copied, f"the build stage lacks {set(included) - copied}"
