"""The editors' use cases (``service_layer.editing``) with in-memory fakes: what is stored,
which events ride along, which domain errors come out. Milliseconds, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from catalog.domain.errors import ConcurrentChange, InvalidVideo, SlugTaken, VideoNotFound
from catalog.domain.videos import VideoDraft, VideoPatch
from catalog.service_layer.editing import MAX_ATTEMPTS, Editing
from portal_shared.clock import ManualClock
from portal_shared.events.catalog import VideoPublished, VideoUnpublished
from structlog.testing import capture_logs

from tests.unit.catalog.fakes import FakeVideos, Nudges

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def videos() -> FakeVideos:
    return FakeVideos()


@pytest.fixture
def nudges() -> Nudges:
    return Nudges()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def editing(videos: FakeVideos, clock: ManualClock, nudges: Nudges) -> Editing:
    return Editing(videos, clock, nudges)  # type: ignore[arg-type]  # a fake repository


async def test_create_stores_a_draft_without_events(
    editing: Editing, videos: FakeVideos, nudges: Nudges, draft_data: dict[str, Any]
) -> None:
    with capture_logs() as logs:
        video = await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-1")
    assert videos.stored[video.id] == (video, 1)
    assert video.published is False and video.created_at == START
    assert videos.events == [] and nudges.count == 0
    [line] = [line for line in logs if line.get("action") == "video_created"]
    assert (line["outcome"], line["user_id"], line["video_id"]) == ("success", "ed-1", video.id)


async def test_create_published_carries_video_published_in_the_same_write(
    editing: Editing, videos: FakeVideos, nudges: Nudges, draft_data: dict[str, Any]
) -> None:
    draft = VideoDraft.model_validate({**draft_data, "published": True})
    video = await editing.create(draft, editor_id="ed-1")
    assert video.published and video.published_at == START
    [event] = videos.events
    assert event.type == VideoPublished.event_type() and event.subject == video.id
    assert event.data["slug"] == "msc-panel" and nudges.count == 1


async def test_a_taken_slug_is_the_domain_error(
    editing: Editing, videos: FakeVideos, draft_data: dict[str, Any]
) -> None:
    await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-1")
    with pytest.raises(SlugTaken) as caught:
        await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-2")
    assert caught.value.slug == "msc-panel" and len(videos.stored) == 1


async def test_update_changes_only_the_fields_sent(
    editing: Editing, videos: FakeVideos, clock: ManualClock, draft_data: dict[str, Any]
) -> None:
    video = await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-1")
    later = clock.advance(hours=1)
    patch = VideoPatch.model_validate({"title": "New title", "event": None})
    changed = await editing.update(video.id, patch, editor_id="ed-1")
    assert (changed.title, changed.event, changed.slug) == ("New title", None, video.slug)
    assert changed.updated_at == later and changed.created_at == START
    assert videos.stored[video.id] == (changed, 2)


async def test_a_change_breaking_a_rule_is_invalid_video_and_stores_nothing(
    editing: Editing, videos: FakeVideos, draft_data: dict[str, Any]
) -> None:
    video = await editing.create(
        VideoDraft.model_validate({**draft_data, "published": True}), editor_id="ed-1"
    )
    with pytest.raises(InvalidVideo) as caught:
        await editing.update(video.id, VideoPatch(renditions=[]), editor_id="ed-1")
    assert [error["type"] for error in caught.value.errors] == ["publish_without_rendition"]
    assert all("input" not in error for error in caught.value.errors)  # never echoed back
    assert videos.stored[video.id] == (video, 1)


async def test_publish_and_unpublish_emit_once(
    editing: Editing, videos: FakeVideos, nudges: Nudges, draft_data: dict[str, Any]
) -> None:
    video = await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-1")
    published = await editing.publish(video.id, editor_id="ed-1")
    again = await editing.publish(video.id, editor_id="ed-1")  # idempotent: nothing written
    assert published.published and again == published and videos.stored[video.id][1] == 2
    hidden = await editing.unpublish(video.id, editor_id="ed-1")
    assert not hidden.published and hidden.published_at is None
    assert [e.type for e in videos.events] == [
        VideoPublished.event_type(),
        VideoUnpublished.event_type(),
    ]
    assert nudges.count == 2


async def test_a_lost_race_is_retried_then_reported(
    editing: Editing, videos: FakeVideos, draft_data: dict[str, Any]
) -> None:
    video = await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-1")
    videos.lose_races = MAX_ATTEMPTS - 1
    changed = await editing.update(video.id, VideoPatch(title="Won at last"), editor_id="ed-1")
    assert videos.stored[video.id] == (changed, 2)
    videos.lose_races = MAX_ATTEMPTS
    with pytest.raises(ConcurrentChange):
        await editing.update(video.id, VideoPatch(title="Never"), editor_id="ed-1")
    assert videos.stored[video.id][0].title == "Won at last"


async def test_unknown_videos_are_video_not_found(editing: Editing) -> None:
    for attempt in (
        editing.get("nope"),
        editing.update("nope", VideoPatch(title="x"), editor_id="ed-1"),
        editing.publish("nope", editor_id="ed-1"),
        editing.unpublish("nope", editor_id="ed-1"),
    ):
        with pytest.raises(VideoNotFound) as caught:
            await attempt
        assert caught.value.reference == "nope" and not caught.value.published_only


async def test_get_finds_a_video_by_slug(editing: Editing, draft_data: dict[str, Any]) -> None:
    video = await editing.create(VideoDraft.model_validate(draft_data), editor_id="ed-1")
    assert await editing.get("msc-panel") == video
