"""The one place that runs `terraform` or `tofu`: what to run, in which copy.

No maintained Python library streams Terraform's machine-readable UI (python-terraform
parses the human output and has had no release since 2019), so this thin wrapper runs
the binary with `-json` and folds its lines (`core.terraform_ui`) into progress. This
module is the API (find the binary, init/plan/apply/destroy, outputs, state); running
one streamed command (reader thread, Ctrl-C forwarding, failure messages) is
`adapters.terraform_run`'s, kept apart so that each reads on its own. No other module
starts terraform.

The binary works in a copy of the configuration under sreshow's state dir, so that its
local state (`terraform.tfstate`) lives there; variables reach it through a 0600
`-var-file`, never the command line. One sreshow at a time may plan, apply or destroy
there (an fcntl lock; terraform's own state lock is the second line). Ctrl-C during a
run is forwarded once: terraform finishes the operations in flight and writes its
state; a second Ctrl-C stops it at once.

    SreshowError
    ├── UsageError            SRESHOW_TF_BIN names no usable binary
    ├── PlatformError         no binary; a command failed (error diagnostics name
    │                         file:line); another sreshow holds the lock; state in use
    └── TerraformInterrupted  Ctrl-C: says what the state holds and how to resume (130)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sreshow.adapters.terraform_run import (
    ESCALATED_WAIT_S,
    ProgressCallback,
    StreamedRun,
    TerraformInterrupted,
    error_line,
)
from sreshow.core.terraform_ui import (
    ApplyProgress,
    ChangeSummary,
    OutputValue,
    PlannedChange,
)
from sreshow.errors import PlatformError, UsageError
from sreshow.settings import ENV_TF_BIN, SECRET_VARIABLES, Settings

# The public API, kept as it was before the runner moved out (some names live there).
__all__ = [
    "CANDIDATES",
    "DEFAULT_RESUME_HINT",
    "ESCALATED_WAIT_S",
    "INIT_TIMEOUT_S",
    "INSTALL_HINT",
    "LOCK_FILE",
    "MINIMUM_VERSIONS",
    "PLAN_FILE",
    "QUICK_TIMEOUT_S",
    "SKIPPED_IN_COPY",
    "VARIABLES_FILE",
    "PlanSummary",
    "ProgressCallback",
    "Terraform",
    "TerraformBinary",
    "TerraformInterrupted",
    "locate_binary",
]

CANDIDATES = ("terraform", "tofu")  # looked for on PATH, in this order
MINIMUM_VERSIONS = {"terraform": (1, 5), "tofu": (1, 6)}
INSTALL_HINT = (
    "install Terraform >= 1.5 or OpenTofu >= 1.6, or set "
    f"{ENV_TF_BIN} to the path of one (scripts/install-tools.sh test builds tofu)"
)
PLAN_FILE = "sreshow.tfplan"
VARIABLES_FILE = "sreshow.tfvars.json"
LOCK_FILE = ".sreshow.lock"
SKIPPED_IN_COPY = {".terraform", "terraform.tfstate", "terraform.tfstate.backup", PLAN_FILE}
QUICK_TIMEOUT_S = 120.0  # version, output, state list
INIT_TIMEOUT_S = 600.0  # may download providers
DEFAULT_RESUME_HINT = "run the same command again to finish, or destroy what was made"
_VERSION_LINE = re.compile(r"^(Terraform|OpenTofu) v(\d+)\.(\d+)\.(\S+)")


@dataclass(frozen=True)
class TerraformBinary:
    path: Path
    tool: str  # "terraform" or "tofu"
    version: str

    def __str__(self) -> str:
        return f"{self.tool} {self.version} ({self.path})"


@dataclass(frozen=True)
class PlanSummary:
    """A saved plan and what it will do."""

    plan_file: Path
    destroy: bool
    progress: ApplyProgress

    @property
    def changes(self) -> ChangeSummary:
        return self.progress.plan_summary or ChangeSummary("plan", 0, 0, 0, 0)

    @property
    def resources(self) -> tuple[PlannedChange, ...]:
        return tuple(c for c in self.progress.planned if c.action != "noop")


def locate_binary(settings: Settings) -> TerraformBinary:
    """The binary to run: SRESHOW_TF_BIN (UsageError if unusable), else terraform, else
    tofu on PATH (PlatformError with the fix if neither is there), with its version."""
    env = settings.env or os.environ
    if explicit := env.get(ENV_TF_BIN, "").strip():
        path = Path(explicit).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            reason = "is not an executable file" if path.exists() else "does not exist"
            raise UsageError(
                f"{ENV_TF_BIN}={explicit} {reason}; point it at a terraform or tofu binary, "
                "or unset it to use the one on PATH"
            )
        return _identify(path, f"{ENV_TF_BIN}={explicit}", env)
    for name in CANDIDATES:
        if found := shutil.which(name, path=env.get("PATH")):
            return _identify(Path(found), found, env)
    raise PlatformError(f"neither terraform nor tofu is on PATH; {INSTALL_HINT}")


def _identify(path: Path, blame: str, env: Mapping[str, str]) -> TerraformBinary:
    try:
        result = subprocess.run(  # noqa: S603 (a found or configured binary, no shell)
            [str(path), "version"],
            capture_output=True,
            text=True,
            timeout=QUICK_TIMEOUT_S,
            check=False,
            env=_child_environment(env),
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PlatformError(f"{blame}: `version` did not answer ({e}); {INSTALL_HINT}") from e
    match = _VERSION_LINE.match(result.stdout)
    if not match:
        raise UsageError(f"{blame} is not terraform or tofu (`version` said no such thing)")
    tool = "tofu" if match[1] == "OpenTofu" else "terraform"
    version = f"{match[2]}.{match[3]}.{match[4]}"
    if (int(match[2]), int(match[3])) < MINIMUM_VERSIONS[tool]:
        raise PlatformError(f"{blame} is {tool} {version}, too old; {INSTALL_HINT}")
    return TerraformBinary(path=path, tool=tool, version=version)


class Terraform:
    """One configuration, worked on in `working_dir` (its copy and its state)."""

    def __init__(
        self,
        binary: TerraformBinary,
        configuration: Path,
        working_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        resume_hint: str = DEFAULT_RESUME_HINT,
        interrupt_grace_s: float = 600.0,
    ) -> None:
        self.binary = binary
        self.configuration = configuration.absolute()
        self.working_dir = working_dir.absolute()
        self.resume_hint = resume_hint
        self.interrupt_grace_s = interrupt_grace_s
        self._env = _child_environment(os.environ if env is None else env)
        self._lock_depth = 0

    @classmethod
    def locate(
        cls, settings: Settings, configuration: Path, working_dir: Path, **options: Any
    ) -> Terraform:
        """On the binary `locate_binary` finds, in the settings' environment; `options`
        are `resume_hint` and `interrupt_grace_s`."""
        binary = locate_binary(settings)
        return cls(binary, configuration, working_dir, env=settings.env or None, **options)

    def init(self) -> None:
        """Copy the configuration into the working dir and run `init` there."""
        with self.exclusive("init"):
            self._copy_configuration()
            self._run_quiet(["init", "-input=false", "-no-color"], "init", INIT_TIMEOUT_S)

    def plan(
        self,
        variables: Mapping[str, object],
        progress: ProgressCallback | None = None,
        *,
        destroy: bool = False,
    ) -> PlanSummary:
        """A saved plan (`plan -out`) and what it will change."""
        with self.exclusive("plan"):
            args = ["plan", f"-out={PLAN_FILE}", f"-var-file={self._write_variables(variables)}"]
            state = self._stream([*args, *(["-destroy"] if destroy else [])], "plan", progress)
            plan_file = self.working_dir / PLAN_FILE
            plan_file.chmod(0o600)  # it holds the variables' values
            return PlanSummary(plan_file=plan_file, destroy=destroy, progress=state)

    def apply(
        self, plan: PlanSummary, progress: ProgressCallback | None = None
    ) -> dict[str, OutputValue]:
        """Apply a saved plan (once: it is removed after); the outputs afterwards."""
        operation = "destroy" if plan.destroy else "apply"
        with self.exclusive(operation):
            try:
                self._stream(["apply", str(plan.plan_file)], operation, progress)
            finally:
                plan.plan_file.unlink(missing_ok=True)
            return self.outputs()

    def destroy(
        self, variables: Mapping[str, object], progress: ProgressCallback | None = None
    ) -> ApplyProgress:
        """Destroy everything the state lists."""
        with self.exclusive("destroy"):
            args = ["destroy", "-auto-approve", f"-var-file={self._write_variables(variables)}"]
            return self._stream(args, "destroy", progress)

    def outputs(self) -> dict[str, OutputValue]:
        """The outputs in the state, sensitive ones included (`output -json`)."""
        if not self.working_dir.is_dir():
            return {}
        text = self._run_quiet(["output", "-json", "-no-color"], "output", QUICK_TIMEOUT_S).stdout
        return {
            name: OutputValue(name, bool(body.get("sensitive")), body.get("value"))
            for name, body in sorted(json.loads(text or "{}").items())
        }

    def state_resources(self) -> list[str]:
        """The addresses the state lists (none before the first apply)."""
        if not self.working_dir.is_dir():
            return []
        result = self._run_quiet(
            ["state", "list", "-no-color"], "state list", QUICK_TIMEOUT_S, check=False
        )
        if result.returncode != 0 and "No state file was found" in result.stderr:
            return []
        if result.returncode != 0:
            raise self._quiet_failure("state list", result)
        return [line for line in result.stdout.splitlines() if line.strip()]

    def remove_state(self) -> None:
        """Delete the working dir and its state; refused while the state lists resources."""
        with self.exclusive("remove the state"):
            if left := self.state_resources():
                raise PlatformError(
                    f"the state in {self.working_dir} still lists {len(left)} resources "
                    f"({', '.join(left[:3])}{', …' if len(left) > 3 else ''}); "
                    "destroy them first, the state is what finds them"
                )
            shutil.rmtree(self.working_dir)

    @contextlib.contextmanager
    def exclusive(self, operation: str) -> Iterator[None]:
        """Hold the working dir's lock (re-entrant in this object) or refuse at once,
        naming the sreshow process that holds it."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self.working_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.working_dir.chmod(0o700)  # the state and plan hold what the variables hold
        descriptor = os.open(self.working_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(descriptor, 200).decode(errors="replace").split()
                who = f"pid {holder[0]}" if holder else "pid unknown"
                doing = " ".join(holder[1:]) or "work"
                raise PlatformError(
                    f"another sreshow ({who}) is running {self.binary.tool} {doing} in "
                    f"{self.working_dir}; wait for it to finish, then run this again"
                ) from None
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()} {operation}\n".encode())
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                os.ftruncate(descriptor, 0)
        finally:
            os.close(descriptor)  # releases the lock

    def _copy_configuration(self) -> None:
        """Refresh the copy: configuration files in, stale `.tf` files out, state kept."""
        if not self.configuration.is_dir():
            raise UsageError(f"{self.configuration}: no Terraform configuration there")
        for stale in [*self.working_dir.glob("*.tf"), *self.working_dir.glob("*.tf.json")]:
            if not (self.configuration / stale.name).exists():
                stale.unlink()
        for source in sorted(self.configuration.rglob("*")):
            relative = source.relative_to(self.configuration)
            if relative.parts[0] in SKIPPED_IN_COPY or source.suffix == ".tfstate":
                continue
            target = self.working_dir / relative
            if source.is_dir():
                target.mkdir(exist_ok=True)
            else:
                shutil.copy2(source, target)

    def _write_variables(self, variables: Mapping[str, object]) -> str:
        path = self.working_dir / VARIABLES_FILE
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with open(descriptor, "w", encoding="utf-8") as file:
            json.dump(dict(variables), file)
        return VARIABLES_FILE

    def _run_quiet(
        self, args: list[str], what: str, timeout_s: float, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """A command whose output is read whole (PlatformError on failure if `check`)."""
        try:
            result = subprocess.run(  # noqa: S603 (the located binary, argv of ours)
                [str(self.binary.path), *args],
                cwd=self.working_dir,
                env=self._env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise PlatformError(
                f"{self.binary.tool} {what} in {self.working_dir} did not finish within "
                f"{timeout_s:g} s; run it there by hand to see why"
            ) from e
        except OSError as e:
            raise PlatformError(f"{self.binary} could not be run ({e}); {INSTALL_HINT}") from e
        if check and result.returncode != 0:
            raise self._quiet_failure(what, result)
        return result

    def _quiet_failure(self, what: str, result: subprocess.CompletedProcess[str]) -> PlatformError:
        cause = error_line(result.stderr) or error_line(result.stdout)
        return PlatformError(f"{self.binary.tool} {what} in {self.working_dir} failed: {cause}")

    def _stream(
        self, args: list[str], operation: str, progress: ProgressCallback | None
    ) -> ApplyProgress:
        """Run a `-json` command to its end (`terraform_run`), its progress folded."""
        run = StreamedRun(
            self.binary,
            self.configuration,
            self.working_dir,
            self._env,
            resume_hint=self.resume_hint,
            interrupt_grace_s=self.interrupt_grace_s,
        )
        return run.run(args, operation, progress)


def _child_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The user's environment (cloud credentials included) minus sreshow's own secrets;
    no update check goes out (CHECKPOINT_DISABLE), and no prompt waits for input."""
    env = {name: value for name, value in base.items() if name not in SECRET_VARIABLES}
    env.update(CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", TF_INPUT="0")
    return env
