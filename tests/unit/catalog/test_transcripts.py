from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from catalog.domain.documents import to_document
from catalog.domain.transcripts import TranscriptForAnotherVideo, apply_transcript_published
from catalog.domain.videos import Video, VideoDraft, create_video
from portal_shared.events.transcript import Speaker, TranscriptPublished


def speaker(name: str, *, speaks: bool = True, moderator: bool = False) -> Speaker:
    return Speaker(
        id=name.lower().replace(" ", "-"),
        name=name,
        role=None,
        affiliation=None,
        is_moderator=moderator,
        speaks=speaks,
    )


def published(revision: int, *names: str, video_id: str = "v-1") -> TranscriptPublished:
    return TranscriptPublished(
        transcript_id="t-1",
        video_id=video_id,
        revision=revision,
        supersedes_revision=revision - 1 if revision > 1 else None,
        language="en",
        segment_count=10,
        speakers=[speaker(name) for name in names],
        published_at=datetime(2026, 2, 15, tzinfo=UTC),
    )


@pytest.fixture
def video(draft_data: dict[str, Any], now: datetime) -> Video:
    draft_data["speakers"] = [{"name": "Mark Rutte", "role": "NATO Secretary General"}]
    return create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=now)[0]


def names(video: Video) -> list[str]:
    return [credit.name for credit in video.all_speakers]


def test_transcript_speakers_join_the_editors(video: Video) -> None:
    merged = apply_transcript_published(video, published(1, "MARK RUTTE", "Christiane Amanpour"))
    assert names(merged) == ["Mark Rutte", "Christiane Amanpour"]
    assert merged.transcript_revision == 1
    assert "christiane amanpour" in to_document(merged)["speakerKeys"]


def test_older_or_repeated_revisions_are_ignored(video: Video) -> None:
    newest = apply_transcript_published(video, published(3, "Roberta Metsola"))
    assert apply_transcript_published(newest, published(2, "Roger Wicker")) == newest
    assert apply_transcript_published(newest, published(3, "Roger Wicker")) == newest
    assert names(newest) == ["Mark Rutte", "Roberta Metsola"]


def test_a_newer_revision_replaces_the_transcript_speakers(video: Video) -> None:
    first = apply_transcript_published(video, published(1, "Roger Wicker"))
    second = apply_transcript_published(first, published(2, "Roberta Metsola"))
    assert names(second) == ["Mark Rutte", "Roberta Metsola"]


def test_people_who_do_not_speak_are_left_out(video: Video) -> None:
    event = published(1).model_copy(
        update={"speakers": [speaker("Patron", speaks=False), speaker("Host", moderator=True)]}
    )
    assert names(apply_transcript_published(video, event)) == ["Mark Rutte", "Host"]


def test_event_for_another_video_is_refused(video: Video) -> None:
    with pytest.raises(TranscriptForAnotherVideo):
        apply_transcript_published(video, published(1, "X", video_id="v-2"))
