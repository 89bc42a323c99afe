from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from catalog.domain.videos import (
    Video,
    VideoDraft,
    VideoPatch,
    apply_patch,
    create_video,
    publish,
    to_detail,
    to_summary,
    unpublish,
)
from pydantic import ValidationError


def error_types(exc: ValidationError) -> set[str]:
    return {error["type"] for error in exc.errors()}


def make_video(draft: dict[str, Any], now: datetime) -> Video:
    video, _ = create_video(VideoDraft.model_validate(draft), video_id="v-1", now=now)
    return video


def test_draft_normalises_codes_and_accepts_seconds(draft_data: dict[str, Any]) -> None:
    draft = VideoDraft.model_validate(draft_data)
    assert draft.languages == ["en", "fr"]
    assert draft.location is not None and draft.location.country_code == "DE"
    assert draft.duration == timedelta(seconds=1902)
    assert draft.credit_line == "NATO"
    assert "editorial use" in draft.usage_terms


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("slug", "MSC Panel", "slug_pattern"),
        ("slug", "msc--panel", "slug_pattern"),
        ("slug", "-msc", "slug_pattern"),
        ("languages", ["english"], "language_code"),
        ("languages", ["xx"], "language_code"),
        ("duration", 0, "duration_positive"),
        ("duration", "-PT5S", "duration_positive"),
        ("duration", "P8D", "duration_too_long"),
        ("title", "", "string_too_short"),
        ("thumbnail_url", "javascript:alert(1)", "thumbnail_url"),
        ("location", {"locality": "Atlantis", "country_code": "QQ"}, "country_code"),
    ],
)
def test_draft_validation_errors(
    draft_data: dict[str, Any], field: str, value: object, error: str
) -> None:
    draft_data[field] = value
    with pytest.raises(ValidationError) as caught:
        VideoDraft.model_validate(draft_data)
    assert error in error_types(caught.value)


def test_publishing_needs_a_rendition(draft_data: dict[str, Any]) -> None:
    draft_data |= {"renditions": [], "published": True}
    with pytest.raises(ValidationError) as caught:
        VideoDraft.model_validate(draft_data)
    assert "publish_without_rendition" in error_types(caught.value)
    draft_data["published"] = False
    assert VideoDraft.model_validate(draft_data).renditions == []


@pytest.mark.parametrize("attribute", ["id", "label"])
def test_rendition_ids_and_labels_are_unique(draft_data: dict[str, Any], attribute: str) -> None:
    second = dict(draft_data["renditions"][0])
    second["id" if attribute == "label" else "label"] = "other"
    draft_data["renditions"].append(second)
    with pytest.raises(ValidationError) as caught:
        VideoDraft.model_validate(draft_data)
    assert f"duplicate_rendition_{attribute}" in error_types(caught.value)


def test_tags_are_deduplicated_case_insensitively(draft_data: dict[str, Any]) -> None:
    draft_data["tags"] = ["Ukraine", "ukraine", "NATO"]
    assert VideoDraft.model_validate(draft_data).tags == ["Ukraine", "NATO"]


def test_create_unpublished_then_publish_emits_one_event(
    draft_data: dict[str, Any], now: datetime
) -> None:
    video, event = create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=now)
    assert event is None and not video.published and video.created_at == now
    later = now + timedelta(hours=1)
    published, event = publish(video, now=later)
    assert published.published and published.published_at == later
    assert event is not None and event.video_id == "v-1" and event.slug == "msc-panel"
    assert publish(published, now=later) == (published, None)


def test_create_published_returns_its_event(draft_data: dict[str, Any], now: datetime) -> None:
    draft_data["published"] = True
    video, event = create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=now)
    assert video.published and event is not None and event.published_at == now


def test_unpublish(draft_data: dict[str, Any], now: datetime) -> None:
    draft_data["published"] = True
    video = make_video(draft_data, now)
    hidden, event = unpublish(video, now=now)
    assert not hidden.published and hidden.published_at is None
    assert event is not None and event.video_id == video.id
    assert unpublish(hidden, now=now) == (hidden, None)


def test_patch_changes_only_given_fields_and_revalidates(
    draft_data: dict[str, Any], now: datetime
) -> None:
    draft_data["published"] = True
    video = make_video(draft_data, now)
    later = now + timedelta(days=1)
    changed = apply_patch(video, VideoPatch(title="New title"), now=later)
    assert changed.title == "New title" and changed.slug == video.slug
    assert changed.updated_at == later and changed.created_at == now
    with pytest.raises(ValidationError) as caught:
        apply_patch(video, VideoPatch(renditions=[]), now=later)
    assert "publish_without_rendition" in error_types(caught.value)
    with pytest.raises(ValidationError) as caught:
        apply_patch(video, VideoPatch.model_validate({"slug": "Bad Slug"}), now=later)
    assert "slug_pattern" in error_types(caught.value)


def test_public_views_hide_storage_keys(draft_data: dict[str, Any], now: datetime) -> None:
    video = make_video(draft_data, now)
    detail = to_detail(video).model_dump(mode="json")
    assert "storage_key" not in str(detail)
    assert detail["renditions"][0]["video_format"]["frame_rate"]["factor_numerator"] == 50
    summary = to_summary(video).model_dump(mode="json")
    assert "renditions" not in summary and summary["recorded_on"] == "2026-02-14"
    assert summary["duration"] == "PT31M42S"
