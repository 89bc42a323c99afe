"""One JSON Schema (draft 2020-12) per event type and version: the contract of ``data``.

The schema is the producer's model as seen by a consumer: every field the producer always
sends is ``required`` and typed, but objects stay open (no ``additionalProperties: false``),
because consumers are tolerant readers and a field added within a version must not make an
older subscriber's validation fail. Producers stay strict through the models themselves
(``extra="forbid"``).
"""

from __future__ import annotations

from typing import Any

from portal_shared.events.base import Event

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(model: type[Event]) -> str:
    """``docs/events/<type>.json``: the file name is the CloudEvents type."""
    return f"{model.event_type()}.json"


def event_schema(model: type[Event]) -> dict[str, Any]:
    """The published JSON Schema of ``model``'s ``data``, with ``$id`` = the ``dataschema``."""
    # Validation mode: a field with a default (added within a version) is not required, since
    # events from older producers lack it; every field without one is.
    generated = model.model_json_schema(mode="validation")
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": model.schema_uri(),
        "title": model.event_type(),
        "x-portal-event": model.event_name(),
        "x-portal-version": model.version,
        "x-portal-producer": model.producer,
    }
    schema.update(_open(generated))
    schema["title"] = model.event_type()
    return schema


def _open(node: Any) -> Any:
    """Drop ``additionalProperties: false`` (tolerant readers) and pydantic's per-field titles,
    which only repeat the field name."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "additionalProperties" and value is False:
                continue
            if key == "properties":
                out[key] = {
                    name: _open({k: v for k, v in prop.items() if k != "title"})
                    for name, prop in value.items()
                }
                continue
            out[key] = _open(value)
        return out
    if isinstance(node, list):
        return [_open(item) for item in node]
    return node
