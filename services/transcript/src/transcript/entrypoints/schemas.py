"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from portal_shared.pagination import Page
from pydantic import BaseModel, Field

from transcript.adapters.revisions import StoredRevision
from transcript.adapters.search_index import SegmentHit
from transcript.domain.model import Segment
from transcript.domain.model import Speaker as DomainSpeaker

Language = Literal["en", "fr"]


class TextSubmission(BaseModel):
    text: str = Field(description="the transcript: headings, 'Name: text' labels, WebVTT or SRT")
    language: Language = "en"

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "text": "MARK RUTTE [NATO Secretary General]: Good morning.\n\n"
                    "CHRISTIANE AMANPOUR: Thank you.",
                    "language": "en",
                }
            ]
        }
    }


class SpeakerOut(BaseModel):
    id: str
    name: str
    role: str | None
    affiliation: str | None
    is_moderator: bool
    speaks: bool

    @classmethod
    def of(cls, speaker: DomainSpeaker) -> SpeakerOut:
        return cls(**speaker.as_dict())


class ExportSpeakerOut(BaseModel):
    id: str
    name: str
    role: str | None
    affiliation: str | None
    is_moderator: bool


class SubmissionOut(BaseModel):
    video_id: str
    revision: int
    supersedes_revision: int | None
    segment_count: int
    speakers: list[SpeakerOut]


class CueOut(BaseModel):
    start: float
    end: float
    text: str


class SegmentOut(BaseModel):
    index: int
    speaker_id: str
    text: str
    start: float | None
    end: float | None
    cues: list[CueOut] = Field(
        description="the timed source cues this turn merges, each with its own times"
    )
    affiliation: str | None = Field(
        default=None,
        description="the affiliation this turn's label gave when it is not the speaker's own",
    )

    @classmethod
    def of(cls, segment: Segment) -> SegmentOut:
        return cls(**segment.as_dict())


class TranscriptOut(BaseModel):
    video_id: str
    transcript_id: str
    revision: int
    supersedes_revision: int | None
    language: str
    source_format: str
    has_times: bool
    submitted_at: datetime
    speakers: list[SpeakerOut]
    segments: list[SegmentOut]

    @classmethod
    def of(cls, stored: StoredRevision, transcript_id: str) -> TranscriptOut:
        return cls(
            video_id=stored.video_id,
            transcript_id=transcript_id,
            revision=stored.revision,
            supersedes_revision=stored.supersedes_revision,
            language=stored.language,
            source_format=stored.source_format,
            has_times=stored.transcript.has_times,
            submitted_at=stored.submitted_at,
            speakers=[SpeakerOut.of(s) for s in stored.transcript.speakers],
            segments=[SegmentOut.of(s) for s in stored.transcript.segments],
        )


class SpeakerSegmentsOut(BaseModel):
    video_id: str
    revision: int
    speaker: SpeakerOut
    segments: list[SegmentOut]


class RevisionsOut(BaseModel):
    video_id: str
    revisions: list[int] = Field(description="stored revision numbers, newest first")


class SearchHitOut(BaseModel):
    video_id: str
    revision: int
    segment_index: int
    speaker_id: str
    speaker_name: str
    snippet: str
    start: float | None
    end: float | None

    @classmethod
    def of(cls, hit: SegmentHit, snippet: str) -> SearchHitOut:
        return cls(
            video_id=hit.video_id,
            revision=hit.revision,
            segment_index=hit.segment_index,
            speaker_id=hit.speaker_id,
            speaker_name=hit.speaker_name,
            snippet=snippet,
            start=hit.start,
            end=hit.end,
        )


class SearchOut(Page[SearchHitOut]):
    """A page of hits (``items``), with the query and the folded words each hit contains."""

    query: str
    terms: list[str] = Field(description="the folded words every hit contains")


class TranscriptExportOut(BaseModel):
    """``?format=json`` and ``.json``: the document ``transcript parse`` prints."""

    speakers: list[ExportSpeakerOut]
    segments: list[SegmentOut]
