"""The event use cases (``service_layer.events``) with in-memory fakes: transcript speakers on
a video (newer revisions only, retried when the video is unknown or keeps changing) and the
transcript segments kept per video."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from catalog.domain.errors import ConcurrentChange, VideoNotKnownYet
from catalog.domain.videos import VideoDraft, create_video
from catalog.service_layer.events import MAX_ATTEMPTS, CatalogEvents
from portal_shared.events.base import CloudEvent
from portal_shared.events.transcript import (
    Speaker,
    TranscriptPublished,
    TranscriptSegmentPublished,
)

from tests.unit.catalog.fakes import FakeVideos

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ENVELOPE: CloudEvent = None  # type: ignore[assignment]  # the use cases do not read it


class FakeSegments:
    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}

    async def store(self, document: dict[str, Any]) -> None:
        self.documents[document["_id"]] = document


def published(revision: int, *names: str, video: str = "msc-panel") -> TranscriptPublished:
    speakers = [
        Speaker(id=n, name=n, role=None, affiliation=None, is_moderator=False, speaks=True)
        for n in names
    ]
    return TranscriptPublished(
        transcript_id="t-1",
        video_id=video,
        revision=revision,
        supersedes_revision=None,
        language="en",
        segment_count=1,
        speakers=speakers,
        published_at=START,
    )


@pytest.fixture
def videos(draft_data: dict[str, Any]) -> FakeVideos:
    video, _ = create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=START)
    return FakeVideos(stored={"v-1": (video, 1)})


@pytest.fixture
def events(videos: FakeVideos) -> tuple[CatalogEvents, FakeSegments]:
    segments = FakeSegments()
    return CatalogEvents(None, videos, segments), segments  # type: ignore[arg-type]


async def test_a_newer_revision_names_the_speakers_an_older_one_changes_nothing(
    events: tuple[CatalogEvents, FakeSegments], videos: FakeVideos
) -> None:
    handle = events[0].on_transcript_published
    await handle(published(2, "Jens Stoltenberg"), ENVELOPE)  # by slug
    video, rev = videos.stored["v-1"]
    assert video.transcript_revision == 2 and rev == 2
    assert [c.name for c in video.transcript_speakers] == ["Jens Stoltenberg"]
    await handle(published(1, "Someone Older", video="v-1"), ENVELOPE)
    await handle(published(2, "Jens Stoltenberg"), ENVELOPE)  # a redelivery
    assert videos.stored["v-1"] == (video, 2)


async def test_an_unknown_video_is_retried_later(
    events: tuple[CatalogEvents, FakeSegments],
) -> None:
    handlers, segments = events
    with pytest.raises(VideoNotKnownYet):
        await handlers.on_transcript_published(published(1, "A", video="nope"), ENVELOPE)
    segment = TranscriptSegmentPublished(
        transcript_id="t-1",
        video_id="nope",
        revision=1,
        supersedes_revision=None,
        sequence=0,
        total=1,
        speaker_id="a",
        speaker_name="A",
        text="Hello.",
        start=None,
        end=None,
        cues=[],
    )
    with pytest.raises(VideoNotKnownYet):
        await handlers.on_transcript_segment(segment, ENVELOPE)
    assert segments.documents == {}
    stored = segment.model_copy(update={"video_id": "msc-panel"})
    await handlers.on_transcript_segment(stored, ENVELOPE)
    [document] = segments.documents.values()
    assert (document["videoId"], document["speakerName"]) == ("v-1", "A")


async def test_a_video_that_keeps_changing_is_retried_later(
    events: tuple[CatalogEvents, FakeSegments], videos: FakeVideos
) -> None:
    videos.lose_races = MAX_ATTEMPTS
    with pytest.raises(ConcurrentChange):
        await events[0].on_transcript_published(published(1, "A"), ENVELOPE)
    assert videos.stored["v-1"][1] == 1
