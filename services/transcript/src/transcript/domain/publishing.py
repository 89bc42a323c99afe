"""What a new transcript revision announces: one event per segment, then a summary.

Segment events come first, numbered 0..total-1, and TranscriptPublished last: the relay
publishes one document's events in order, so a subscriber that sees the summary has been sent
every segment before it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from portal_shared.events.base import Event
from portal_shared.events.transcript import (
    SegmentCue,
    TranscriptPublished,
    TranscriptSegmentPublished,
)
from portal_shared.events.transcript import (
    Speaker as EventSpeaker,
)

from transcript.domain.model import Transcript

_TRANSCRIPT_NAMESPACE = uuid.uuid5(
    uuid.NAMESPACE_URL, "https://multimedia.portal.example/transcripts"
)


def transcript_id_for(video_id: str) -> str:
    """The transcript of a video keeps one id across revisions (a name-based UUID)."""
    return str(uuid.uuid5(_TRANSCRIPT_NAMESPACE, video_id))


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    video_id: str
    revision: int
    supersedes_revision: int | None
    language: str
    published_at: datetime

    @property
    def transcript_id(self) -> str:
        return transcript_id_for(self.video_id)


def revision_events(transcript: Transcript, info: RevisionInfo) -> list[Event]:
    """Every segment as TranscriptSegmentPublished, then TranscriptPublished."""
    names = {speaker.id: speaker.name for speaker in transcript.speakers}
    total = len(transcript.segments)
    events: list[Event] = [
        TranscriptSegmentPublished(
            transcript_id=info.transcript_id,
            video_id=info.video_id,
            revision=info.revision,
            supersedes_revision=info.supersedes_revision,
            sequence=segment.index,
            total=total,
            speaker_id=segment.speaker_id,
            speaker_name=names.get(segment.speaker_id, segment.speaker_id),
            text=segment.text,
            start=segment.start,
            end=segment.end,
            cues=[SegmentCue(start=c.start, end=c.end, text=c.text) for c in segment.cues],
            affiliation=segment.affiliation,
        )
        for segment in transcript.segments
    ]
    events.append(
        TranscriptPublished(
            transcript_id=info.transcript_id,
            video_id=info.video_id,
            revision=info.revision,
            supersedes_revision=info.supersedes_revision,
            language=info.language,
            segment_count=total,
            speakers=[EventSpeaker(**speaker.as_dict()) for speaker in transcript.speakers],
            published_at=info.published_at,
        )
    )
    return events
