"""Reading transcripts: a revision, a speaker's segments, the revision list, exports, search.

Each use case raises domain errors only (``TranscriptNotFound``, ``RevisionNotFound``,
``SpeakerNotFound``, ``UntimedTranscriptError``, ``QueryEmpty``; a foreign cursor is
``BadCursor``); the routes turn results into responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from transcript.adapters.revisions import StoredRevision
from transcript.adapters.search_index import SegmentHit
from transcript.domain import export
from transcript.domain.errors import (
    QueryEmpty,
    RevisionNotFound,
    SpeakerNotFound,
    TranscriptNotFound,
)
from transcript.domain.model import Segment, Speaker
from transcript.domain.search import (
    SearchPosition,
    decode_search_cursor,
    encode_search_cursor,
    query_terms,
)
from transcript.service_layer.ports import Index, Revisions

ExportFormat = Literal["vtt", "srt", "json", "txt"]


@dataclass(frozen=True)
class SpeakerSegments:
    stored: StoredRevision
    speaker: Speaker
    segments: list[Segment]


@dataclass(frozen=True)
class SearchResult:
    terms: list[str]
    hits: list[SegmentHit]
    next_cursor: str | None


class Reading:
    def __init__(self, revisions: Revisions, index: Index, max_hits: int) -> None:
        self.revisions = revisions
        self.index = index
        self.max_hits = max_hits

    async def revision(self, video_id: str, revision: int | None = None) -> StoredRevision:
        """The latest revision, or the one asked for."""
        stored = await self.revisions.get(video_id, revision)
        if stored is None:
            raise TranscriptNotFound() if revision is None else RevisionNotFound(revision)
        return stored

    async def speaker_segments(
        self, video_id: str, speaker_id: str, revision: int | None = None
    ) -> SpeakerSegments:
        stored = await self.revision(video_id, revision)
        try:
            speaker = stored.transcript.speaker(speaker_id)
        except KeyError:
            raise SpeakerNotFound(speaker_id) from None
        segments = [s for s in stored.transcript.segments if s.speaker_id == speaker_id]
        return SpeakerSegments(stored, speaker, segments)

    async def revision_numbers(self, video_id: str) -> list[int]:
        """The stored revision numbers, newest first."""
        numbers = await self.revisions.revision_numbers(video_id)
        if not numbers:
            raise TranscriptNotFound()
        return numbers

    async def export(
        self, video_id: str, export_format: ExportFormat, revision: int | None = None
    ) -> tuple[StoredRevision, str]:
        """The revision and its export; ``UntimedTranscriptError`` for a subtitle format of
        a transcript without times."""
        stored = await self.revision(video_id, revision)
        return stored, render(stored, export_format)

    async def search(
        self, query: str, *, limit: int, video_id: str | None = None, cursor: str | None = None
    ) -> SearchResult:
        terms = query_terms(query)
        if not terms:
            raise QueryEmpty()
        after = decode_search_cursor(cursor) if cursor is not None else None
        hits, more = await self.index.search(
            terms, limit=min(limit, self.max_hits), video_id=video_id, after=after
        )
        last = SearchPosition(hits[-1].video_id, hits[-1].segment_index) if more else None
        return SearchResult(terms, hits, encode_search_cursor(last) if last else None)


def render(stored: StoredRevision, export_format: ExportFormat) -> str:
    transcript = stored.transcript
    if export_format == "vtt":
        return export.to_webvtt(transcript)
    if export_format == "srt":
        return export.to_srt(transcript)
    if export_format == "json":
        return export.to_json(transcript)
    return export.to_plain_text(transcript, "headings")
