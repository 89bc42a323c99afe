"""How a video is stored: its JSON form, ``_id`` for ``id``, plus derived search fields.

The derived fields (see ``catalog.domain.search``) are recomputed from the video on every
write, so they can never drift from what they index. Dates and durations are stored in
their JSON form (ISO strings), which BSON needs anyway for ``date`` and sorts correctly.

Stored field names are camelCase (``recordedOn``, ``fileSize``...), as they were before the
API moved to snake_case: the indexes, the search's sort keys and every stored video stay as
they are. ``STORED_NAMES`` maps each field name of the video's model tree to its stored name;
it is built from the models, so a new field is stored under its camelCase name at once.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel

from catalog.domain.search import EVENT_TERMS, SEARCH_TERMS, SPEAKER_KEYS, TITLE_KEY
from catalog.domain.text import terms
from catalog.domain.videos import Video

DERIVED_FIELDS = (SEARCH_TERMS, SPEAKER_KEYS, EVENT_TERMS, TITLE_KEY)


def name_phrases(name: str) -> list[str]:
    """Every run of consecutive words of a name: "Mark Rutte" -> mark, mark rutte, rutte."""
    words = terms(name)
    return [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)]


def search_fields(video: Video) -> dict[str, Any]:
    speakers = video.all_speakers
    searchable: Iterable[str] = (
        video.title,
        video.description,
        video.event or "",
        *(credit.name for credit in speakers),
        *video.tags,
        video.location.locality if video.location else "",
    )
    return {
        SEARCH_TERMS: terms(" ".join(searchable)),
        SPEAKER_KEYS: sorted({phrase for c in speakers for phrase in name_phrases(c.name)}),
        EVENT_TERMS: terms(video.event or ""),
        TITLE_KEY: " ".join(terms(video.title)),
    }


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    names: set[str] = set()
    seen.add(model)
    for name, field in model.model_fields.items():
        names.add(name)
        for nested in _models_in(field.annotation):
            if nested not in seen:
                names |= _field_names(nested, seen)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Annotated,):
        return _models_in(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


STORED_NAMES: dict[str, str] = {name: to_camel(name) for name in sorted(_field_names(Video, set()))}
FIELD_NAMES: dict[str, str] = {stored: name for name, stored in STORED_NAMES.items()}


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {names.get(k, k): _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def to_document(video: Video) -> dict[str, Any]:
    values = _renamed(video.model_dump(mode="json"), STORED_NAMES)
    return {"_id": values.pop("id"), **values, **search_fields(video)}


def from_document(document: dict[str, Any]) -> Video:
    values = {k: v for k, v in document.items() if k not in DERIVED_FIELDS and k != "_id"}
    return Video.model_validate({**_renamed(values, FIELD_NAMES), "id": str(document["_id"])})
