from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

RENDITION: dict[str, Any] = {
    "id": "1080p50",
    "label": "Full HD 1080p50",
    "container_format": "MPEG-4",
    "mime_type": "video/mp4",
    "file_name": "panel_1080p50.mp4",
    "file_size": 1_234_567,
    "sha256": "ab" * 32,
    "duration": "PT31M42S",
    "overall_bit_rate": 10_250_000,
    "video_format": {
        "codec": {"name": "H.264/AVC", "profile": "High", "level": "4.2"},
        "width": 1920,
        "height": 1080,
        "frame_rate": "50/1",
        "scanning_format": "progressive",
    },
    "audio_format": {
        "codec": {"name": "AAC", "profile": "LC"},
        "channels": 2,
        "sampling_rate": 48000,
    },
    "storage_key": "videos/panel/1080p50.mp4",
}

DRAFT: dict[str, Any] = {
    "slug": "msc-panel",
    "title": "Panel with NATO Secretary General Mark Rutte",
    "description": "Sécurité européenne et soutien à l'Ukraine.",
    "recorded_on": "2026-02-14",
    "event": "Munich Security Conference 2026",
    "location": {"name": "Hotel Bayerischer Hof", "locality": "Munich", "country_code": "de"},
    "duration": 1902,
    "languages": ["en", "FR"],
    "speakers": [{"name": "Mark Rutte", "role": "NATO Secretary General"}],
    "tags": ["Ukraine"],
    "thumbnail_url": "/static/thumbnails/msc-panel.jpg",
    "renditions": [RENDITION],
}


@pytest.fixture
def rendition_data() -> dict[str, Any]:
    return copy.deepcopy(RENDITION)


@pytest.fixture
def draft_data() -> dict[str, Any]:
    return copy.deepcopy(DRAFT)


@pytest.fixture
def now() -> datetime:
    return NOW


# A tiny evaluator of the MongoDB filter subset the catalog's query builders emit, so a
# query's meaning can be checked without a server. The integration tests run the same
# queries against MongoDB/FerretDB.
_COMPARE = {
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
}


def matches(document: dict[str, Any], query: dict[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$and":
            ok = all(matches(document, part) for part in condition)
        elif key == "$or":
            ok = any(matches(document, part) for part in condition)
        else:
            ok = _field_matches(document.get(key), condition)
        if not ok:
            return False
    return True


def _field_matches(value: Any, condition: Any) -> bool:
    if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
        return all(_operator(value, op, arg) for op, arg in condition.items())
    if isinstance(value, list):
        return bool(condition in value or value == condition)
    return bool(value == condition)


def _operator(value: Any, op: str, arg: Any) -> bool:
    if op == "$all":
        return isinstance(value, list) and all(item in value for item in arg)
    if op == "$ne":
        return bool(value != arg)
    if value is None:
        return False
    return bool(_COMPARE[op](value, arg))


def find_documents(
    documents: list[dict[str, Any]], query: dict[str, Any], sort: list[tuple[str, int]], limit: int
) -> list[dict[str, Any]]:
    rows = [document for document in documents if matches(document, query)]
    for field, direction in reversed(sort):
        rows.sort(key=lambda row: row[field], reverse=direction < 0)
    return rows[:limit]


@pytest.fixture
def mongo_find() -> Any:
    return find_documents
