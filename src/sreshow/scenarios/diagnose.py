"""Why a scenario file is wrong, where, and what to write instead.

`FileProblem` is a refusal before the file name is attached: what is wrong, the
fix, and the line and field where they are known. `explain()` turns pydantic's
errors on a scenario into the one `FileProblem` worth showing:

- the location pydantic reports (`steps.0.inject.inject.error_rate`) loses its
  union labels (`steps[0].inject.error_rate`);
- for an untagged union (an expectation, a steady-state check) only the errors of
  the member the item was meant to be count — the one whose keys it has;
- an unknown key explains the errors it causes, so it is shown first; then the
  earliest line;
- the line is the YAML node's (of its key where there is one).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from sreshow.scenarios.spec import STEP_KINDS, ScenarioSpec

Path = tuple[str | int, ...]
DOCS = "see docs/scenarios.md"

# What to write, by field name, in the fix of a missing or mistyped value.
EXAMPLES = {
    "summary": "one line on what the scenario shows",
    "steps": "[{sleep: 20s}]",
    "inject": "{error_rate: 0.2, targets: all}",
    "load": "{rps: 20}",
    "kill": "{count: 1}",
    "deploy": "{version: v2, broken: crash}",
    "scale": "{replicas: 2}",
    "wait_for_alert": "{alert: HighErrorRate, state: firing, within: 3m}",
    "wait_for_notification": "{alert: HighErrorRate, within: 4m}",
    "wait_for": "{replicas_ready: all, within: 2m}",
    "sleep": "20s",
    "narrate": "Watch the error ratio climb.",
    "alert": "HighErrorRate",
    "state": "firing",
    "within": "3m",
    "rps": "20",
    "version": "v2",
    "replicas": "2",
    "alerts_inactive": "all",
    "max_error_budget_burn": "50%",
    "recovered_within": "2m",
    "rto_within": "1m",
}
_PATTERN_HINTS = {
    "name": "lowercase letters, digits and dashes, like high-error-rate",
    "version": "letters, digits and . _ + -, like v2",
    "path": "a path that starts with /, like /api/data",
}
# pydantic's type errors (`int_parsing`, `model_type`, ...) by their first word.
_TYPE_NOUNS = {
    "int": ("a whole number", "2"),
    "float": ("a number", "0.5"),
    "bool": ("true or false", "true"),
    "string": ("text", "some text"),
    "dict": ("a mapping", "{key: value}"),
    "model": ("a mapping", "{key: value}"),
    "tuple": ("a list", "[one, two]"),
    "list": ("a list", "[one, two]"),
}


class FileProblem(Exception):
    """What is wrong with a scenario file and the fix, with its line and field if known."""

    def __init__(self, what: str, fix: str, line: int | None = None, path: Path = ()) -> None:
        super().__init__(what)
        self.what, self.fix, self.line, self.path = what, fix, line, path

    def message(self, file: object) -> str:
        """`<file>:<line>: <field>: <what> (<fix>)`, on one line."""
        where = f"{file}:{self.line}" if self.line else str(file)
        field = f"{dotted(self.path)}: " if self.path else ""
        return " ".join(f"{where}: {field}{self.what} ({self.fix})".split())


@dataclass(frozen=True)
class _Located:
    """One pydantic error placed in the data."""

    error: ErrorDetails
    path: Path  # keys and indexes into the data, union labels removed
    model: type[BaseModel] | None  # the model the last key belongs to
    branches: tuple[tuple[Path, str], ...]  # (an untagged union's path, the member tried)


def explain(
    errors: Sequence[ErrorDetails],
    root: yaml.Node,
    data: object,
    stem: str,
    model: type[BaseModel] = ScenarioSpec,
) -> FileProblem:
    """The one error worth showing of pydantic's `errors` validating `data` (composed
    from `root`) as `model`, in the file named `stem`."""
    located = [_locate(error, model) for error in errors]
    located, unmatched = _drop_other_branches(located, data, model)
    if unmatched is not None:
        return FileProblem(
            unmatched.what, unmatched.fix, node_line(root, unmatched.path), unmatched.path
        )
    located = [place for place in located if not _spurious_length(place, located)]
    place = min(
        located,
        key=lambda p: (p.error["type"] != "extra_forbidden", node_line(root, p.path)),
    )
    path = place.path
    if place.error["type"] not in {"missing", "extra_forbidden"}:
        path = _existing(data, path)
    what, fix = _describe(place, _value_at(data, path), {**EXAMPLES, "name": stem})
    return FileProblem(what, fix, node_line(root, place.path), path)


def _spurious_length(place: _Located, located: list[_Located]) -> bool:
    """pydantic also says `steps` is too short when one of its steps is wrong."""
    return place.error["type"] in {"too_short", "too_long"} and any(
        other.path[: len(place.path)] == place.path != other.path for other in located
    )


# --- from pydantic's loc to the data's path ------------------------------------------------


def _locate(error: ErrorDetails, model: type[BaseModel]) -> _Located:
    tp: object = model
    path: list[str | int] = []
    owner: type[BaseModel] | None = None
    branches: list[tuple[Path, str]] = []
    for part in error["loc"]:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            field = tp.model_fields.get(part)
            owner, tp = tp, field.annotation if field else None
            path.append(part)
        elif get_origin(tp) in (tuple, list) and isinstance(part, int):
            path.append(part)
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType):
            members = [m for m in get_args(tp) if _member_matches(m, part)]
            tp = members[0] if members else None
            if isinstance(tp, type):  # an untagged member: pydantic tried every one
                branches.append((tuple(path), tp.__name__))
        elif isinstance(part, int):
            path.append(part)
    return _Located(error, tuple(path), owner, tuple(branches))


def _unwrap(tp: object) -> object:
    """`X | None` and `Annotated[X, ...]` → X."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _member_matches(member: object, label: str | int) -> bool:
    """Whether `label` (pydantic's name for a union member in `loc`) names `member`:
    its Tag, its class name, or `function-after[..., Name]` when it has a validator."""
    if get_origin(member) is Annotated:
        return any(isinstance(m, Tag) and m.tag == label for m in get_args(member)[1:])
    name = getattr(member, "__name__", "")
    return bool(name) and (label == name or str(label).endswith(f", {name}]"))


def _drop_other_branches(
    located: list[_Located], data: object, model: type[BaseModel]
) -> tuple[list[_Located], FileProblem | None]:
    """Keep the errors of the union member each item was meant to be, by its keys."""
    for site in {site for place in located for site, _ in place.branches}:
        members = _members_at(site, model)
        item = _value_at(data, site)
        chosen = _meant_member(members, item)
        if chosen is None:
            keys = [key for member in members for key in _telling_keys(member)]
            noun = str(site[-2]).removesuffix("s") if len(site) > 1 else "item"
            article = "an" if noun[0] in "aeiou" else "a"
            what = (
                f"no known key in this {noun}"
                if isinstance(item, dict)
                else f"{_show(item)} is not {article} {noun}"
            )
            return [], FileProblem(what, f"give it one of the keys {_either(keys)}", None, site)
        located = [
            place
            for place in located
            if all(where != site or member == chosen for where, member in place.branches)
        ]
    return located, None


def _members_at(site: Path, model: type[BaseModel]) -> list[type[BaseModel]]:
    """The models of the untagged union at `site` (a path into the data of `model`)."""
    tp: object = model
    for part in site:
        tp = _unwrap(tp)
        if isinstance(part, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
            tp = tp.model_fields[part].annotation
        else:
            tp = get_args(tp)[0]
    return [m for m in get_args(_unwrap(tp)) if isinstance(m, type) and issubclass(m, BaseModel)]


def _telling_keys(model: type[BaseModel]) -> list[str]:
    """The keys that say an item is this model: its required ones, or else all."""
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    return required or list(model.model_fields)


def _meant_member(members: list[type[BaseModel]], item: object) -> str | None:
    if not isinstance(item, dict):
        return None
    best, best_score = None, (0, 0)
    for member in members:
        score = (
            sum(key in item for key in _telling_keys(member)),
            sum(key in item for key in member.model_fields),
        )
        if score > best_score:
            best, best_score = member, score
    return best.__name__ if best else None


# --- what is wrong, and the fix -------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    """What `_describe` knows about one error."""

    kind: str
    name: str  # the field's name (the last key of the path)
    value: object
    ctx: dict[str, Any]
    model: type[BaseModel] | None
    field: FieldInfo | None
    message: str
    examples: dict[str, str]

    @property
    def example(self) -> str | None:
        return self.examples.get(self.name)


def _describe(place: _Located, value: object, examples: dict[str, str]) -> tuple[str, str]:
    """What is wrong with the value and how to fix it."""
    name = next((str(p) for p in reversed(place.path) if isinstance(p, str)), "")
    model = place.model
    case = _Case(
        kind=place.error["type"],
        name=name,
        value=value,
        ctx=dict(place.error.get("ctx") or {}),
        model=model,
        field=model.model_fields.get(name) if model else None,
        message=place.error["msg"],
        examples=examples,
    )
    describer = _DESCRIBERS.get(case.kind)
    if describer is not None:
        return describer(case)
    if case.kind.split("_", 1)[0] in _TYPE_NOUNS:
        return _wrong_type(case)
    return case.message, f"see `sreshow scenario schema`; {DOCS}"


def _missing(case: _Case) -> tuple[str, str]:
    return "missing", f"add {case.name}: {case.example}" if case.example else f"add it; {DOCS}"


def _unknown_key(case: _Case) -> tuple[str, str]:
    allowed = list(case.model.model_fields) if case.model else []
    close = difflib.get_close_matches(case.name, allowed, n=1)
    guess = f"did you mean {close[0]}? " if close else ""
    return "unknown key", f"{guess}allowed here: {', '.join(allowed)}"


def _from_validator(case: _Case) -> tuple[str, str]:
    """spec.py's validators say `what (fix)`."""
    message = str(case.ctx.get("error", case.message))
    what, _, fix = message.partition(" (")
    return (what, fix.removesuffix(")")) if fix else (message, DOCS)


def _bad_step(case: _Case) -> tuple[str, str]:
    value, kinds = case.value, ", ".join(STEP_KINDS)
    if isinstance(value, dict) and len(value) > 1:
        keys = ", ".join(map(str, value))
        return (
            f"a step has one key, its kind; this one has {len(value)}: {keys}",
            "indent the settings under the kind, or split it into one step per kind",
        )
    if isinstance(value, dict) and value:
        kind = str(next(iter(value)))
        return f"unknown step kind {kind!r}", f"{_guess(kind, STEP_KINDS)}the kinds are {kinds}"
    if isinstance(value, str) and value in STEP_KINDS:
        return f"{value!r} has no settings", f"write - {value}: {EXAMPLES.get(value, '{}')}"
    return f"{_show(value)} is not a step", f"write a mapping with one key, its kind: {kinds}"


def _not_a_choice(case: _Case) -> tuple[str, str]:
    expected = str(case.ctx.get("expected", "")).replace(" or ", ", ")
    choices = [choice.strip("'") for choice in expected.split(", ")]
    noun = "alert" if case.name == "alert" else "value"
    return (
        f"unknown {noun} {_show(case.value)}",
        f"{_guess(case.value, choices)}use {_either(choices)}",
    )


def _out_of_range(case: _Case) -> tuple[str, str]:
    bounds = dict(case.ctx)
    for rule in _constraints(case.field) if case.field else []:
        for bound in ("gt", "ge", "lt", "le"):
            if getattr(rule, bound, None) is not None:
                bounds[bound] = getattr(rule, bound)
    low = {"ge": "of at least {:g}", "gt": "above {:g}"}
    high = {"le": "of at most {:g}", "lt": "below {:g}"}
    words = [
        form.format(bounds[b]) for forms in (low, high) for b, form in forms.items() if b in bounds
    ]
    if "ge" in bounds and "le" in bounds:
        words = [f"from {bounds['ge']:g} to {bounds['le']:g}"]
    return f"{_show(case.value)} is out of range", f"write a number {' and '.join(words)}"


def _constraints(field: FieldInfo) -> list[Any]:
    """The field's constraints, also those of an optional annotated type (`X | None`)."""
    found = list(field.metadata)
    for member in get_args(field.annotation):
        if get_origin(member) is Annotated:
            for extra in get_args(member)[1:]:
                found += getattr(extra, "metadata", [extra])
    return found


def _too_short(case: _Case) -> tuple[str, str]:
    least = case.ctx.get("min_length")
    if case.ctx.get("actual_length") == 0:
        like = f", like {case.name}: {case.example}" if case.example else ""
        return "is empty", f"add at least {least}{like}"
    return f"has {case.ctx.get('actual_length')} items", f"add at least {least}"


def _wrong_type(case: _Case) -> tuple[str, str]:
    noun, example = _TYPE_NOUNS[case.kind.split("_", 1)[0]]
    what = "has no value" if case.value is None else f"{_show(case.value)} is not {noun}"
    if case.kind == "string_type" and case.value is not None:
        return what, f'quote it, like {case.name}: "{case.value}"'
    inner = _unwrap(case.field.annotation) if case.field else None
    if isinstance(inner, type) and issubclass(inner, BaseModel) and not inner.model_fields:
        return what, f"write {case.name}: {{}}"
    return what, f"write {noun}, like {case.name}: {case.example or example}"


_DESCRIBERS: dict[str, Callable[[_Case], tuple[str, str]]] = {
    "missing": _missing,
    "extra_forbidden": _unknown_key,
    "value_error": _from_validator,
    "unknown_step": _bad_step,
    "union_tag_invalid": _bad_step,
    "literal_error": _not_a_choice,
    "greater_than": _out_of_range,
    "greater_than_equal": _out_of_range,
    "less_than": _out_of_range,
    "less_than_equal": _out_of_range,
    "too_short": _too_short,
    "too_long": lambda case: (
        f"has {case.ctx.get('actual_length')} items",
        f"keep at most {case.ctx.get('max_length')}",
    ),
    "string_too_short": lambda case: (
        "is empty",
        f"write some text, like {case.name}: {case.example}" if case.example else "write some text",
    ),
    "string_too_long": lambda case: (
        f"is {len(str(case.value))} characters long",
        f"shorten it to {case.ctx.get('max_length')}",
    ),
    "string_pattern_mismatch": lambda case: (
        f"{_show(case.value)} is not allowed",
        f"use {_PATTERN_HINTS.get(case.name, case.ctx.get('pattern'))}",
    ),
}


def _guess(word: object, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1)
    return f"did you mean {close[0]}? " if close else ""


def _either(choices: Sequence[str]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


# --- places in the data and the file --------------------------------------------------


def dotted(path: Path) -> str:
    """`('steps', 2, 'inject')` → `steps[2].inject`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _holds(data: object, part: str | int) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _value_at(data: object, path: Path) -> object:
    for part in path:
        if not _holds(data, part):
            return None
        data = data[part]  # type: ignore[index]
    return data


def _existing(data: object, path: Path) -> Path:
    """The longest start of `path` that is in the data."""
    for size in range(len(path), 0, -1):
        if _holds(_value_at(data, path[: size - 1]), path[size - 1]):
            return path[:size]
    return ()


def node_line(root: yaml.Node, path: Path) -> int:
    """The 1-based line of the node at `path` (of its key in a mapping), or of the
    deepest node on the way that exists."""
    node = root
    line = root.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = [(key, value) for key, value in node.value if key.value == part]
            if not found:
                break
            key_node, node = found[0]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
