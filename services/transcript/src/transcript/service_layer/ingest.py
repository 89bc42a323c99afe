"""Submitting a transcript: parse, store as a new revision with its events, index for search.

The revision and its events are one insert (the outbox); the search index is updated right
after, and again by the consumer on TranscriptPublished if this process died in between
(``handlers.py``), so search catches up without a second source of truth.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from portal_shared.clock import Clock
from portal_shared.logging import get_logger
from portal_shared.producing import new_event

from transcript.adapters.revisions import StoredRevision
from transcript.domain.errors import EmptyTranscriptError, TranscriptTooLargeError
from transcript.domain.model import Speaker, Transcript
from transcript.domain.parser import SourceFormat, decode, detect_format, parse
from transcript.domain.publishing import RevisionInfo, revision_events
from transcript.service_layer.ports import Index, Revisions

log = get_logger(__name__)

SOURCE = "/transcript"
# Parsing a few MB takes tens of milliseconds: off the event loop above this size.
_THREAD_ABOVE_BYTES = 64_000
# Every turn becomes an event in the revision's document: this bounds the work and keeps the
# document under MongoDB's 16 MB (a real panel or press conference has tens to hundreds).
MAX_SEGMENTS = 5000


@dataclass(frozen=True, slots=True)
class Submission:
    video_id: str
    content: bytes | str
    language: str
    submitted_by: str


@dataclass(frozen=True, slots=True)
class Submitted:
    video_id: str
    revision: int
    supersedes_revision: int | None
    segment_count: int
    speakers: tuple[Speaker, ...]
    created: bool  # False when skipped because the latest revision has the same source


def _read(content: bytes | str) -> tuple[str, SourceFormat, Transcript]:
    text = decode(content) if isinstance(content, bytes) else content.removeprefix("\ufeff")
    transcript = parse(text)
    if not transcript.segments:
        raise EmptyTranscriptError("no speaker turns found in the transcript")
    if len(transcript.segments) > MAX_SEGMENTS:
        raise TranscriptTooLargeError(
            f"It has {len(transcript.segments)} speaker turns; a transcript may have at most "
            f"{MAX_SEGMENTS}."
        )
    return text, detect_format(text), transcript


class Ingestion:
    def __init__(
        self,
        revisions: Revisions,
        index: Index,
        clock: Clock,
        nudge: Callable[[], None],
    ) -> None:
        self.revisions = revisions
        self.index = index
        self.clock = clock
        self.nudge = nudge

    async def submit(self, submission: Submission, *, skip_unchanged: bool = False) -> Submitted:
        """Store a new revision and its events. Raises TranscriptParseError (and its
        subclasses UnreadableTranscriptError, EmptyTranscriptError) or
        TranscriptTooLargeError before storing anything."""
        text, source_format, transcript = await _parse(submission.content)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if skip_unchanged:
            latest = await self.revisions.latest_summary(submission.video_id)
            if latest is not None and latest.source_sha256 == digest:
                stored = await self.revisions.get(submission.video_id, latest.revision)
                assert stored is not None
                return _result(stored, created=False)
        now = self.clock()
        revision = await self.revisions.allocate_revision(submission.video_id, now)
        stored = StoredRevision(
            video_id=submission.video_id,
            revision=revision,
            supersedes_revision=revision - 1 if revision > 1 else None,
            language=submission.language,
            source_format=source_format,
            source_sha256=digest,
            submitted_by=submission.submitted_by,
            submitted_at=now,
            transcript=transcript,
        )
        info = RevisionInfo(
            submission.video_id, revision, stored.supersedes_revision, submission.language, now
        )
        events = [
            new_event(event, source=SOURCE, subject=submission.video_id, time=now)
            for event in revision_events(transcript, info)
        ]
        await self.revisions.insert(stored, events)
        self.nudge()
        log.info(
            "transcript_revision_stored",
            video_id=submission.video_id,
            revision=revision,
            segments=len(transcript.segments),
            source_format=source_format,
        )
        await self.index.index(submission.video_id, revision, transcript)
        return _result(stored, created=True)


async def _parse(content: bytes | str) -> tuple[str, SourceFormat, Transcript]:
    if len(content) > _THREAD_ABOVE_BYTES:
        return await asyncio.to_thread(_read, content)
    return _read(content)


def _result(stored: StoredRevision, *, created: bool) -> Submitted:
    return Submitted(
        video_id=stored.video_id,
        revision=stored.revision,
        supersedes_revision=stored.supersedes_revision,
        segment_count=len(stored.transcript.segments),
        speakers=stored.transcript.speakers,
        created=created,
    )
