"""What an overlay adds to the kustomizations `render` reads: strategic-merge `patches`
from files (the part of Kubernetes' strategic merge patch the overlays use, see
`render`'s module doc) and placeholders filled from values only known at deploy time
(the eks platform's Terraform outputs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from sreshow.errors import UsageError

# What a `patches` entry may hold, and what its `target` may match on (exact values).
PATCH_FIELDS = frozenset({"path", "target"})
TARGET_FIELDS = frozenset({"kind", "name", "namespace"})
ONLY_FILE_PATCHES = "sreshow supports only strategic-merge patches from a file (path:)"
# Lists Kubernetes merges item by item, by the item's `name` (patchMergeKey).
NAME_KEYED_LISTS = frozenset({"containers", "initContainers", "env", "volumes", "volumeMounts"})
# The placeholders overlays/eks leaves for the eks platform (see its kustomization.yaml).
EKS_PLACEHOLDERS = (
    "SRESHOW_CLUSTER_NAME",
    "SRESHOW_CLUSTER_AUTOSCALER_ROLE_ARN",
    "SRESHOW_AWS_REGION",
)
PLACEHOLDER_TOKEN = re.compile(r"SRESHOW_[A-Z0-9_]+")


# --- patches -------------------------------------------------------------------------


def apply_patches(
    directory: Path, kustomization: Mapping[str, Any], objects: list[dict[str, Any]]
) -> None:
    """Merge each `patches` entry into every object its target names, in place."""
    source = directory / "kustomization.yaml"
    for entry in kustomization.get("patches") or []:
        patch = _load_patch(source, directory, entry)
        target = _patch_target(source, entry, patch)
        matched = [i for i, obj in enumerate(objects) if _matches(obj, target)]
        if not matched:
            wanted = ", ".join(f"{k} {v}" for k, v in sorted(target.items()))
            raise UsageError(
                f"{source}: patch {entry['path']} targets {wanted}, which no resource "
                "defines; fix the target (or the patch's kind and metadata) to name one"
            )
        for i in matched:
            try:
                objects[i] = _strategic_merge(objects[i], _patch_body(patch))
            except ValueError as e:
                raise UsageError(f"{source}: patch {entry['path']}: {e}; fix the patch") from e


def _load_patch(source: Path, directory: Path, entry: Any) -> dict[str, Any]:
    """The one object a `path:` patch file holds; inline and JSON 6902 patches refused."""
    if not isinstance(entry, dict) or "path" not in entry or set(entry) - PATCH_FIELDS:
        raise UsageError(
            f"{source}: {ONLY_FILE_PATCHES}, not {entry!r}; write the patch as one object in "
            "a file and name it with path: (and, optionally, target:)"
        )
    path = directory / entry["path"]
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except (OSError, yaml.YAMLError) as e:
        raise UsageError(f"{source}: cannot read patch {entry['path']} ({e}); fix it") from e
    patch = documents[0] if len(documents) == 1 else None
    # A JSON 6902 patch is a list of operations, `op:` each: not one object.
    if not isinstance(patch, dict) or "kind" not in patch or "op" in patch:
        raise UsageError(
            f"{source}: patch {entry['path']} is not one object with a kind; {ONLY_FILE_PATCHES}"
        )
    return patch


def _patch_target(
    source: Path, entry: Mapping[str, Any], patch: Mapping[str, Any]
) -> dict[str, str]:
    """What the patch applies to: its `target:`, else the patch's own kind, name, namespace."""
    target = entry.get("target")
    if target is None:
        metadata = patch.get("metadata") or {}
        own = {
            "kind": patch["kind"],
            "name": metadata.get("name"),
            "namespace": metadata.get("namespace"),
        }
        return {k: v for k, v in own.items() if v is not None}
    if not isinstance(target, dict) or set(target) - TARGET_FIELDS:
        raise UsageError(
            f"{source}: patch {entry['path']} has target {target!r}; sreshow matches only "
            f"{', '.join(sorted(TARGET_FIELDS))} (exact values)"
        )
    return dict(target)


def _matches(obj: Mapping[str, Any], target: Mapping[str, str]) -> bool:
    fields = {
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "namespace": obj["metadata"].get("namespace"),
    }
    return all(fields[key] == value for key, value in target.items())


def _patch_body(patch: Mapping[str, Any]) -> dict[str, Any]:
    """The patch without what names its object: a patch changes an object, never which
    object it is (kustomize keeps the target's name when they differ)."""
    body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
    if "metadata" in body:
        body["metadata"] = {
            k: v for k, v in body["metadata"].items() if k not in ("name", "namespace")
        }
    return body


def _strategic_merge(
    base: Mapping[str, Any], patch: Mapping[str, Any], path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`patch` merged into `base` (neither changed): the part of Kubernetes' strategic
    merge patch the module doc describes. `path`: the field names down to `base`."""
    merged = dict(base)
    for key, value in patch.items():
        if key.startswith("$"):
            raise ValueError(f"the directive {key} is not supported")
        old = base.get(key)
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            merged[key] = _strategic_merge(
                old if isinstance(old, dict) else {}, value, (*path, key)
            )
        elif isinstance(value, list) and (merge_key := _merge_key((*path, key))) is not None:
            merged[key] = _merge_list(
                old if isinstance(old, list) else [], value, merge_key, (*path, key)
            )
        else:
            merged[key] = value
    return merged


def _merge_key(path: tuple[str, ...]) -> str | None:
    """The field that identifies an item of the list at `path`, as Kubernetes declares
    it (patchMergeKey); None: a patch's list replaces the object's."""
    field = path[-1]
    if field in NAME_KEYED_LISTS:
        return "name"
    if field == "ports" and path[-2:-1] in (("containers",), ("initContainers",)):
        return "containerPort"
    if path == ("spec", "ports"):  # a Service's: no other kind sreshow applies has one
        return "port"
    return None


def _merge_list(
    base: list[Any], patch: list[Any], merge_key: str, path: tuple[str, ...]
) -> list[Any]:
    """The patch's items, each merged into the base item with the same `merge_key`, then
    the base's other items: the order kustomize gives them."""
    base_items = {old.get(merge_key): old for old in base if isinstance(old, dict)}
    merged = []
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise ValueError(
                f"an item of {'.'.join(path)} has no {merge_key}, the key it merges by"
            )
        merged.append(_strategic_merge(base_items.get(item[merge_key], {}), item, path))
    patched = {item[merge_key] for item in patch}
    return merged + [
        old for old in base if not (isinstance(old, dict) and old.get(merge_key) in patched)
    ]


# --- placeholders --------------------------------------------------------------------


def fill_placeholders(obj: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """`obj` with each placeholder's name in a string value replaced by its value."""
    if not values:
        return obj
    # Longest first, so a name that extends another is replaced whole.
    names = re.compile("|".join(re.escape(n) for n in sorted(values, key=len, reverse=True)))
    filled: dict[str, Any] = _map_strings(obj, lambda text: names.sub(lambda m: values[m[0]], text))
    return filled


def refuse_unfilled_placeholders(manifests_dir: Path, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        for text in _strings(obj):
            for token in PLACEHOLDER_TOKEN.findall(text):
                if token in EKS_PLACEHOLDERS:
                    raise UsageError(
                        f"{manifests_dir}: placeholder {token} in {_described(obj)} has no "
                        "value; give render() one in placeholders"
                    )


def _map_strings(node: Any, change: Callable[[str], str]) -> Any:
    """`node` with `change` applied to every string value (not to keys)."""
    if isinstance(node, str):
        return change(node)
    if isinstance(node, dict):
        return {k: _map_strings(v, change) for k, v in node.items()}
    if isinstance(node, list):
        return [_map_strings(v, change) for v in node]
    return node


def _strings(node: Any) -> Iterator[str]:
    """Every string value in `node` (not keys)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _described(obj: Mapping[str, Any]) -> str:
    """`Deployment kube-system/cluster-autoscaler`, `ClusterRole cluster-autoscaler`."""
    namespace = obj["metadata"].get("namespace")
    name = obj["metadata"]["name"]
    return f"{obj['kind']} {namespace}/{name}" if namespace else f"{obj['kind']} {name}"
