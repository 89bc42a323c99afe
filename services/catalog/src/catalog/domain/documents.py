"""How a video is stored: its JSON form, ``_id`` for ``id``, plus derived search fields.

The derived fields (see ``catalog.domain.search``) are recomputed from the video on every
write, so they can never drift from what they index. Dates and durations are stored in
their JSON form (ISO strings), which BSON needs anyway for ``date`` and sorts correctly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


def to_document(video: Video) -> dict[str, Any]:
    values = video.model_dump(mode="json")
    return {"_id": values.pop("id"), **values, **search_fields(video)}


def from_document(document: dict[str, Any]) -> Video:
    values = {k: v for k, v in document.items() if k not in DERIVED_FIELDS and k != "_id"}
    return Video.model_validate({**values, "id": str(document["_id"])})
