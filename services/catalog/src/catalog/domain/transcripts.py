"""Speakers and text from the transcript service: the latest transcript revision names who
speaks, and its segments (TranscriptSegmentPublished, one per segment) are kept per revision so
the video page shows the transcript by speaker.

TranscriptPublished may arrive twice or out of order. Only a revision newer than the one
already applied changes the video; an older or equal one is ignored, so applying the
events in any order, any number of times, ends with the newest revision's speakers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal_shared.events.transcript import (
    Speaker,
    TranscriptPublished,
    TranscriptSegmentPublished,
)

from catalog.domain.speakers import SpeakerCredit
from catalog.domain.videos import Video


class TranscriptForAnotherVideo(ValueError):
    """The event names a different video than the one it was applied to."""


def apply_transcript_published(video: Video, event: TranscriptPublished) -> Video:
    """The video with the event's speakers, or the same video if the revision is not newer."""
    if event.video_id != video.id:
        raise TranscriptForAnotherVideo(f"{event.video_id} is not {video.id}")
    if video.transcript_revision is not None and event.revision <= video.transcript_revision:
        return video
    speakers = [
        _credit(speaker) for speaker in event.speakers if speaker.speaks or speaker.is_moderator
    ]
    values = video.model_dump()
    values["transcript_revision"] = event.revision
    values["transcript_speakers"] = [speaker.model_dump() for speaker in speakers]
    return Video.model_validate(values)


def _credit(speaker: Speaker) -> SpeakerCredit:
    return SpeakerCredit(
        name=speaker.name,
        role=speaker.role,
        affiliation=speaker.affiliation,
        is_moderator=speaker.is_moderator,
    )


@dataclass(frozen=True)
class Turn:
    """Consecutive segments of one speaker, as the video page shows them."""

    speaker: str
    paragraphs: list[str]


def segment_document(video_id: str, event: TranscriptSegmentPublished) -> dict[str, Any]:
    """One segment as the catalog keeps it: keyed by video, revision and place, so a
    redelivered event writes the same document again."""
    return {
        "_id": f"{video_id}:{event.revision}:{event.sequence:06d}",
        "videoId": video_id,
        "revision": event.revision,
        "sequence": event.sequence,
        "speakerName": event.speaker_name,
        "text": event.text,
    }


def turns_of(segments: list[dict[str, Any]]) -> list[Turn]:
    """Segments in order, grouped into turns: a new turn whenever the speaker changes."""
    turns: list[Turn] = []
    for segment in sorted(segments, key=lambda s: int(s["sequence"])):
        name = str(segment["speakerName"])
        if turns and turns[-1].speaker == name:
            turns[-1].paragraphs.append(str(segment["text"]))
        else:
            turns.append(Turn(name, [str(segment["text"])]))
    return turns
