"""Events of the transcript service.

A transcript revision is published as ``total`` TranscriptSegmentPublished events (``sequence``
0..total-1, so a subscriber can reassemble and detect gaps) and one TranscriptPublished with
the speaker list. ``supersedes_revision`` names the revision a new one replaces.

A segment merges consecutive source cues of one speaker; ``cues`` keeps each with its own
times (empty for an untimed source), so a subscriber can rebuild subtitles with the source's
exact timings. Unnamed questioners are one speaker per outlet (``question--<outlet>``).
``affiliation`` is the one the segment's label gave when it is not the speaker's own (a person
labelled with two affiliations in one transcript keeps both), else None.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from portal_shared.events.base import Event


class _TranscriptEvent(Event):
    producer: ClassVar[str] = "transcript"


class Speaker(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    role: str | None
    affiliation: str | None
    is_moderator: bool
    speaks: bool


class SegmentCue(BaseModel):
    """One timed source cue of a segment: seconds from the start of the video."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: float
    end: float
    text: str


class TranscriptSegmentPublished(_TranscriptEvent):
    transcript_id: str
    video_id: str
    revision: int
    supersedes_revision: int | None
    sequence: int
    total: int
    speaker_id: str
    speaker_name: str
    text: str
    start: float | None
    end: float | None
    cues: list[SegmentCue]
    affiliation: str | None = None


class TranscriptPublished(_TranscriptEvent):
    transcript_id: str
    video_id: str
    revision: int
    supersedes_revision: int | None
    language: str
    segment_count: int
    speakers: list[Speaker]
    published_at: datetime


ALL = (TranscriptSegmentPublished, TranscriptPublished)
