"""Generated ConfigMaps: the kustomize name suffix and the object's shape."""

from __future__ import annotations

from sreshow.core.configmaps import config_map, name_suffix


def test_suffix_is_the_one_kustomize_gives() -> None:
    # `configMapGenerator: [{name: lit, literals: [a=1]}]` → lit-h29d89cmmt (kubectl 1.35)
    assert name_suffix({"a": "1"}) == "h29d89cmmt"


def test_suffix_changes_with_the_content_and_not_the_key_order() -> None:
    assert name_suffix({"a": "1", "b": "2"}) == name_suffix({"b": "2", "a": "1"})
    assert name_suffix({"a": "1"}) != name_suffix({"a": "2"})


def test_object_has_the_hashed_name_namespace_and_sorted_data() -> None:
    made = config_map("rules", {"z.yml": "z", "a.yml": "a"}, namespace="monitoring")
    assert made == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"rules-{name_suffix({'a.yml': 'a', 'z.yml': 'z'})}",
            "namespace": "monitoring",
        },
        "data": {"a.yml": "a", "z.yml": "z"},
    }
    assert list(made["data"]) == ["a.yml", "z.yml"]
    assert config_map("rules", {}, hashed=False)["metadata"] == {"name": "rules"}
