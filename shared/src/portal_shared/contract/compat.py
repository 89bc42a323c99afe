"""Breaking changes between two versions of one event type's schema.

Within a version only additive changes are allowed: a new optional field, a new description.
Everything a consumer built against the old schema could trip over is breaking:

- a field removed (a rename is a removal plus an addition),
- a field's type changed (type, format, enum values, const, nullability, item or object type),
- a new required field, or a field that was required and no longer is,

at the top level and inside every nested object (``$defs``). A breaking change needs a new
version of the type (``v2`` beside ``v1``, see ``docs/EVENTS.md``).
"""

from __future__ import annotations

from typing import Any

_IGNORED = frozenset({"title", "description", "default", "examples", "$comment", "deprecated"})
Schema = dict[str, Any]


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every breaking change from ``old`` to ``new`` (two schemas of one type and version)."""
    problems = _object_changes("data", old, new)
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    for name, old_def in sorted(old_defs.items()):
        if name not in new_defs:
            continue  # no longer referenced: the field that used it is reported as changed
        problems += _object_changes(name, old_def, new_defs[name])
    return problems


def _object_changes(where: str, old: Schema, new: Schema) -> list[str]:
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_props):
        if name not in new_props:
            problems.append(f"{where}.{name}: field removed (or renamed)")
        elif _shape(old_props[name]) != _shape(new_props[name]):
            problems.append(
                f"{where}.{name}: type changed from {_shape(old_props[name])}"
                f" to {_shape(new_props[name])}"
            )
    for name in sorted(new_required - old_required):
        problems.append(f"{where}.{name}: new required field")
    for name in sorted((old_required - new_required) & set(new_props)):
        problems.append(f"{where}.{name}: no longer required")
    return problems


def _shape(node: Any) -> Any:
    """What a value must look like, without the words around it; refs become the def's name."""
    if isinstance(node, dict):
        if "$ref" in node:
            return ("ref", node["$ref"].rsplit("/", 1)[-1])
        shaped = {}
        for key, value in node.items():
            if key in _IGNORED or key.startswith("x-"):
                continue
            if key == "properties":
                shaped[key] = tuple(sorted(value))  # nested inline objects: names only
                continue
            if key in ("anyOf", "oneOf"):
                shaped[key] = tuple(sorted(repr(_shape(v)) for v in value))
                continue
            if key == "enum":
                shaped[key] = tuple(sorted(map(repr, value)))
                continue
            shaped[key] = _shape(value)
        return tuple(sorted(shaped.items()))
    if isinstance(node, list):
        return tuple(_shape(item) for item in node)
    return node
