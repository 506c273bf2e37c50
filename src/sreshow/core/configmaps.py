"""ConfigMaps exactly as kustomize's `configMapGenerator` makes them, hash suffix included.

kustomize names a generated ConfigMap `<name>-<hash>`, where the hash is the first ten
hex digits of the SHA-256 of the JSON `{"data": …, "kind": "ConfigMap", "name": ""}`
(Go's encoding: sorted keys, no spaces, HTML characters escaped), with five letters
swapped so the suffix never looks like a number. The name is empty: kustomize 5 looks
up `metadata/name` as one field name, finds nothing and hashes "" (checked against the
kustomize in kubectl 1.35; `kubectl create configmap --append-hash` does hash the name).
Matching it lets sreshow apply the very objects `kubectl apply -k manifests/` would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

_GO_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SUFFIX_SWAPS = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})


def name_suffix(data: Mapping[str, str]) -> str:
    """The ten-character suffix kustomize appends to a generated ConfigMap's name."""
    encoded = json.dumps(
        {"data": dict(data), "kind": "ConfigMap", "name": ""},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    for raw, escaped in _GO_HTML_ESCAPES.items():
        encoded = encoded.replace(raw, escaped)
    digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    return digest[:10].translate(_SUFFIX_SWAPS)


def config_map(
    name: str,
    data: Mapping[str, str],
    *,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    hashed: bool = True,
) -> dict[str, Any]:
    """A ConfigMap object as `kubectl kustomize` prints it (data keys sorted)."""
    metadata: dict[str, Any] = {"name": f"{name}-{name_suffix(data)}" if hashed else name}
    if namespace:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": dict(sorted(data.items())),
    }
