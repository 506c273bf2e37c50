"""Scenario files: find the shipped ones, read any, refuse a bad one in one line.

Every refusal is a `UsageError` (exit 2) whose message is one line:

    <file>:<line>: <field>: <what is wrong> (<the fix>)

with the line and the field where they are known, and always the fix. The file is
read defensively before YAML sees it (size, NUL bytes, UTF-8), composed with the
pure-Python SafeLoader so every node keeps its line, and refused on anchors and
aliases (no alias bomb can expand), nesting deeper than `MAX_DEPTH` and duplicate
keys. Only then does pydantic validate it; `diagnose` maps its errors back to the
file.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sreshow.errors import UsageError
from sreshow.scenarios.diagnose import DOCS, FileProblem, explain, node_line
from sreshow.scenarios.spec import ScenarioSpec

Named = TypeVar("Named", bound=BaseModel)  # a model with a `name` field

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 50
_PACKAGED = Path(__file__).resolve().parents[1] / "scenario_files"  # inside the wheel
_CHECKOUT = Path(__file__).resolve().parents[3] / "scenarios"  # an editable install
SCENARIOS_DIR = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
SUFFIXES = (".yaml", ".yml")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def load_scenario(path: Path) -> ScenarioSpec:
    """The scenario in `path`; a bad file raises UsageError with file, line, field and fix."""
    return load_yaml_model(
        path, ScenarioSpec, "a scenario's", "`sreshow scenario list` shows the shipped names"
    )


def load_yaml_model(path: Path, model: type[Named], what: str, shipped: str) -> Named:
    """The `model` in the YAML file `path`, whose `name` must be the file's; a bad file
    raises UsageError with file, line, field and fix (as for a scenario). `what` names
    the kind of file ("a tour's"), `shipped` says where the shipped ones are."""
    try:
        root, data = _compose(_read_text(path, what, shipped))
        try:
            loaded = model.model_validate(data)
        except ValidationError as e:
            raise explain(e.errors(include_url=False), root, data, path.stem, model) from None
        name = loaded.model_dump(include={"name"}).get("name")
        if name != path.stem:
            raise FileProblem(
                f"{name!r} is not the file's name {path.stem!r}",
                f"write name: {path.stem}, or rename the file to {name}{path.suffix}",
                node_line(root, ("name",)),
                ("name",),
            )
    except FileProblem as problem:
        raise UsageError(problem.message(path)) from None
    return loaded


def shipped_names() -> list[str]:
    """The names of the shipped scenarios (their file names), without reading them."""
    return [path.stem for path in _shipped_files()]


def shipped_scenarios() -> list[tuple[ScenarioSpec, Path]]:
    """Every shipped scenario and its file, by name; a broken one raises (it is a bug)."""
    return [(load_scenario(path), path) for path in _shipped_files()]


def _shipped_files() -> list[Path]:
    if not SCENARIOS_DIR.is_dir():
        return []
    files = [path for path in SCENARIOS_DIR.iterdir() if path.suffix in SUFFIXES]
    return sorted(files, key=lambda path: path.stem)


def resolve_scenario(name_or_path: str) -> tuple[ScenarioSpec, Path]:
    """A shipped scenario by name, or the scenario in a YAML file by its path."""
    for suffix in SUFFIXES if _NAME.fullmatch(name_or_path) else ():
        shipped = SCENARIOS_DIR / f"{name_or_path}{suffix}"
        if shipped.is_file():
            return load_scenario(shipped), shipped
    path = Path(name_or_path)
    looks_like_a_path = "/" in name_or_path or path.suffix in SUFFIXES
    if looks_like_a_path or path.exists():
        return load_scenario(path), path
    known = ", ".join(shipped_names()) or "none are installed"
    raise UsageError(
        f"unknown scenario {name_or_path!r} (known: {known}; see `sreshow scenario list`, "
        "or give the path of a YAML file)"
    )


# --- reading the file -----------------------------------------------------------------


def _read_text(path: Path, what: str, shipped: str) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FileProblem("no such file", f"check the path; {shipped}") from None
    except OSError as e:
        raise FileProblem(f"cannot be read: {e.strerror}", "check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise FileProblem("is a directory", f"give {what} file in it, like {path}/NAME.yaml")
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(
            "is not a regular file", "give a YAML file; pipes and devices are not read"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise _too_big(info.st_size)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise FileProblem("is not readable: permission denied", f"chmod u+r {path}") from None
    except OSError as e:
        raise FileProblem(f"cannot be read: {e.strerror}", "check the file") from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(len(data))
    if b"\0" in data:
        raise FileProblem(
            "is binary (it holds NUL bytes), not YAML text",
            f"give {what} YAML file",
            data[: data.index(b"\0")].count(b"\n") + 1,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileProblem(
            f"is not UTF-8 text: byte 0x{data[e.start]:02x} is not a character",
            "save the file as UTF-8",
            data[: e.start].count(b"\n") + 1,
        ) from None
    if not text.strip():
        raise _empty()
    return text.removeprefix("\ufeff")


def _too_big(size: int) -> FileProblem:
    return FileProblem(
        f"is {-(-size // 1024)} KiB, over the {MAX_FILE_BYTES // 1024} KiB a scenario may have",
        "a scenario is a few dozen lines; check that this is the right file",
    )


def _empty() -> FileProblem:
    return FileProblem("is empty", f"write name, summary and steps; {DOCS}")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting while it composes."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else None
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
            raise FileProblem(
                f"{sign}{anchor}: YAML anchors and aliases are not allowed",
                "write the value out in full where it is used",
                line,
            )
        if self.depth >= MAX_DEPTH:
            raise FileProblem(
                f"nested deeper than {MAX_DEPTH} levels",
                f"a scenario needs only a few levels; {DOCS}",
                line,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose(text: str) -> tuple[yaml.MappingNode, object]:
    loader = None
    try:
        loader = _StrictLoader(text)  # reads and checks every character already
        root = loader.get_single_node()
        if root is None:
            raise _empty()
        if not isinstance(root, yaml.MappingNode):
            raise FileProblem(
                f"the top level is {_kind(root)}, not a mapping",
                "start with name:, summary: and steps: at the left margin",
                root.start_mark.line + 1,
            )
        return root, _plain(root, loader, ())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        if e.context == "expected a single document in the stream":
            raise FileProblem(
                "more than one YAML document",
                "a scenario file holds one: remove the --- line and what follows, "
                "or move it to a file of its own",
                line,
            ) from None
        context = f"{e.context} at line {e.context_mark.line + 1}; " if e.context_mark else ""
        raise FileProblem(
            f"invalid YAML: {e.problem}",
            f"{context}check the indentation, and quote values that hold ': ' or ' #'",
            line,
        ) from None
    except yaml.reader.ReaderError as e:
        raise FileProblem(
            f"invalid character U+{e.character:04X}",
            "remove it; scenario files are plain text",
            text[: e.position].count("\n") + 1,
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _plain(node: yaml.Node, loader: _StrictLoader, path: tuple[str | int, ...]) -> object:
    """The node as plain Python values, refusing duplicate and non-text keys."""
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.tag.startswith(
        "tag:yaml.org,2002:"
    ):
        raise FileProblem(f"the tag {node.tag} is not allowed", "remove it", line, path)
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, loader, (*path, i)) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, object] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, loader, path)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise FileProblem(
                    f"the key {key_node.value!r} is {_kind(key_node)}, not a name",
                    "keys are names like steps or within; quote a key meant as text",
                    key_line,
                    path,
                )
            if key in mapping:
                raise FileProblem(
                    f"duplicate key, already on line {lines[key]}",
                    "keep one of them",
                    key_line,
                    (*path, key),
                )
            lines[key] = key_line
            mapping[key] = _plain(value_node, loader, (*path, key))
        return mapping
    try:
        return loader.construct_object(node)
    except yaml.constructor.ConstructorError as e:
        raise FileProblem(
            f"cannot read this value: {e.problem}", "remove the tag", line, path
        ) from None
    except ValueError:  # an integer of more than 4300 digits
        raise FileProblem(
            "is a number too long to read", "write a shorter one", line, path
        ) from None


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    words = {"str": "text", "int": "a number", "float": "a number", "bool": "true or false"}
    tag = node.tag.rsplit(":", 1)[-1]
    return words.get(tag, tag)
