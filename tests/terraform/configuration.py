"""The `terraform/` configuration as python-hcl2 reads it, without terraform or a provider.

`configuration()` parses every `.tf` file once per test run into one `Configuration`
whose lookups name blocks the way Terraform does (`aws_subnet.public`,
`var.cluster_version`, `local.tags`). `resolve()` follows the plain references the
configuration uses to hold its numbers in one place (`${local.vpc_cidr}`,
`${var.node_group_size.min}`, `${local.public_subnet_cidrs[count.index]}`), so a test
asserts the value a plan would use, not the spelling of the reference.

Also here: the EKS overlay's objects as written (`overlay_objects`), the inline checkov
skips (`skip_comments`), and `plan_errors`, which runs the real `terraform plan` on
variables.tf alone, where only the validations run and no provider is needed.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2 import SerializationOptions

from tests.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "terraform"
EKS_OVERLAY_DIR = ROOT / "manifests" / "overlays" / "eks"

# Plain values: strings without their quotes, blocks as lists of bodies.
_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
# Inline skips: `#checkov:skip=CKV_AWS_58:<why>`.
_SKIP_COMMENT = re.compile(r"#\s*checkov:skip=(?P<check>[^:\s]*)(?::(?P<reason>.*))?$")
# `${local.NAME}`, `${var.NAME}`, `${var.NAME.FIELD}`, optionally `[count.index]`.
_REFERENCE = re.compile(r"^\$\{(local|var)\.(\w+)(?:\.(\w+))?(\[count\.index\])?\}$")


@dataclass(frozen=True)
class Configuration:
    """Every top-level block of `terraform/*.tf`, by Terraform address."""

    resources: dict[str, dict[str, Any]]  # "aws_vpc.main" -> body
    data: dict[str, dict[str, Any]]  # "aws_availability_zones.available" -> body
    variables: dict[str, dict[str, Any]]  # "region" -> body
    locals: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    providers: dict[str, dict[str, Any]]
    terraform: list[dict[str, Any]]
    modules: dict[str, dict[str, Any]]
    files: dict[str, str]  # file name -> text

    def resource(self, address: str) -> dict[str, Any]:
        assert address in self.resources, f"terraform/ declares no resource {address}"
        return self.resources[address]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            address: body
            for address, body in self.resources.items()
            if address.split(".")[0] == resource_type
        }

    def default(self, variable: str) -> Any:
        assert variable in self.variables, f"terraform/ declares no variable {variable}"
        assert "default" in self.variables[variable], f"variable {variable} has no default"
        return self.variables[variable]["default"]

    def resolve(self, expression: Any, index: int | None = None) -> Any:
        """The value of a plain `local`/`var` reference (a variable gives its default);
        `[count.index]` picks element `index`. Anything else comes back unchanged."""
        if not isinstance(expression, str):
            return expression
        match = _REFERENCE.match(expression)
        if match is None:
            return expression
        kind, name, field, indexed = match.groups()
        if kind == "local":
            assert name in self.locals, f"terraform/ declares no local {name}"
            value = self.resolve(self.locals[name])
        else:
            value = self.default(name)
        if field is not None:
            value = value[field]
        if indexed:
            assert index is not None, f"{expression} needs a count index"
            value = value[index]
        return value

    def per_instance(self, address: str, attribute: str) -> list[Any]:
        """`attribute` of each instance of a `count` resource, resolved."""
        body = self.resource(address)
        count = body.get("count")
        assert isinstance(count, int), f"{address} has no literal count"
        return [self.resolve(body[attribute], index) for index in range(count)]


def block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The one nested block `name` of a resource body (hcl2 gives blocks as lists)."""
    blocks = body.get(name)
    assert isinstance(blocks, list), f"expected a {name} block"
    assert len(blocks) == 1, f"expected one {name} block, found {len(blocks)}"
    found: dict[str, Any] = blocks[0]
    return found


@functools.cache
def configuration() -> Configuration:
    """Every `.tf` file under terraform/, parsed once per test run."""
    resources: dict[str, dict[str, Any]] = {}
    data: dict[str, dict[str, Any]] = {}
    variables: dict[str, dict[str, Any]] = {}
    locals_: dict[str, Any] = {}
    outputs: dict[str, dict[str, Any]] = {}
    providers: dict[str, dict[str, Any]] = {}
    terraform: list[dict[str, Any]] = []
    modules: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        text = path.read_text(encoding="utf-8")
        files[path.name] = text
        parsed = hcl2.loads(text, serialization_options=_OPTIONS)
        for kind, into in (("resource", resources), ("data", data)):
            for entry in parsed.get(kind, []):
                for resource_type, named in entry.items():
                    for name, body in named.items():
                        address = f"{resource_type}.{name}"
                        assert address not in into, f"{kind} {address} declared twice"
                        into[address] = body
        for kind, into in (("variable", variables), ("output", outputs), ("module", modules)):
            for entry in parsed.get(kind, []):
                into.update(entry)
        for entry in parsed.get("provider", []):
            providers.update(entry)
        for entry in parsed.get("locals", []):
            locals_.update(entry)
        terraform.extend(parsed.get("terraform", []))
    return Configuration(
        resources, data, variables, locals_, outputs, providers, terraform, modules, files
    )


def offline_env(tmp_path: Path) -> dict[str, str]:
    """Terraform and checkov without a way out: no checkpoint call, proxies closed."""
    closed = "http://127.0.0.1:9"
    return {
        **os.environ,
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_DATA_DIR": str(tmp_path / ".terraform"),
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "NO_PROXY": "",
    }


def overlay_objects(*files: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for name in files:
        text = (EKS_OVERLAY_DIR / name).read_text(encoding="utf-8")
        objects.extend(o for o in yaml.safe_load_all(text) if o)
    return objects


def skip_comments() -> list[tuple[str, str, str]]:
    """(file:line, check id, reason) of every `checkov:skip` comment under terraform/."""
    found = []
    for path in sorted(TERRAFORM_DIR.glob("*.tf")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _SKIP_COMMENT.search(line)
            if match:
                found.append((f"{path.name}:{number}", match["check"], match["reason"] or ""))
    return found


def plan_errors(tmp_path: Path, values: dict[str, Any]) -> list[str]:
    """The error details `terraform plan` gives for variables.tf alone with `values`: no
    resource, so no provider is needed and only the validations run."""
    terraform = require_tool("terraform")
    workdir = tmp_path / "variables"
    workdir.mkdir()
    shutil.copy(TERRAFORM_DIR / "variables.tf", workdir)
    (workdir / "terraform.tfvars.json").write_text(json.dumps(values), encoding="utf-8")

    result = subprocess.run(
        [terraform, "plan", "-input=false", "-lock=false", "-json"],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=offline_env(tmp_path),
        timeout=60,
        check=False,
    )

    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    errors = [
        m["diagnostic"]["detail"]
        for m in messages
        if m.get("type") == "diagnostic" and m["diagnostic"]["severity"] == "error"
    ]
    assert (result.returncode == 0) == (errors == []), result.stdout + result.stderr
    return errors
