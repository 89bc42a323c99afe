"""The storage edge: the API is snake_case, stored videos keep their camelCase field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog.domain.documents import FIELD_NAMES, STORED_NAMES, from_document, to_document
from catalog.domain.videos import VideoDraft, create_video


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for item in value for k in _keys(item)}
    return set()


def test_stored_names_are_camel_case_and_one_to_one() -> None:
    assert len(FIELD_NAMES) == len(STORED_NAMES)
    assert STORED_NAMES["recorded_on"] == "recordedOn"
    assert STORED_NAMES["factor_numerator"] == "factorNumerator"
    assert STORED_NAMES["sha256"] == "sha256"  # not "sha_256": names come from the models


def test_a_video_is_stored_camel_case_and_reads_back_equal(
    draft_data: dict[str, Any], now: datetime
) -> None:
    video, _ = create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=now)
    document = to_document(video)
    assert document["_id"] == "v-1" and document["recordedOn"] == "2026-02-14"
    assert document["renditions"][0]["videoFormat"]["frameRate"] == {
        "factorNumerator": 50,
        "factorDenominator": 1,
    }
    assert not any("_" in key for key in _keys(document) - {"_id"})
    assert from_document(document) == video
    assert "recorded_on" in video.model_dump(mode="json")  # the API's casing
