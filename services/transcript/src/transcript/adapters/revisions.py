"""Transcript revisions in MongoDB: one document per (video, revision), and a head per video.

- ``transcript_heads``: ``{_id: video_id, revision, indexed_revision}``. ``revision`` is the
  last number handed out (``$inc`` with upsert, atomic); ``indexed_revision`` is the newest
  revision whose segments are in the search index (see ``adapters.search_index``).
- ``transcript_revisions``: ``_id`` ``"<video_id>/<revision>"`` (video ids never hold "/"),
  the speakers and segments, the source's SHA-256, and the events of the revision in the
  outbox of the same insert.

A number is handed out before its revision is stored; if storing then fails the number is
skipped (revisions may have gaps, never duplicates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import encode as bson_encode
from portal_shared.events.base import CloudEvent
from portal_shared.outbox import EVENTS, outbox_fields
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from transcript.domain.errors import TranscriptTooLargeError
from transcript.domain.model import Segment, Speaker, Transcript

Document = dict[str, Any]
# FerretDB reports a unique violation from an upsert race as code 1, MongoDB as 11000.
_DUPLICATE_CODES = frozenset({1, 11000})
_ALLOCATE_ATTEMPTS = 3
_WITHOUT_OUTBOX = {EVENTS: 0}
# MongoDB's (and FerretDB's) 16 MiB document limit, less room for the relay's lease fields.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 64 * 1024


@dataclass(frozen=True, slots=True)
class StoredRevision:
    video_id: str
    revision: int
    supersedes_revision: int | None
    language: str
    source_format: str
    source_sha256: str
    submitted_by: str
    submitted_at: datetime
    transcript: Transcript


@dataclass(frozen=True, slots=True)
class RevisionSummary:
    revision: int
    source_sha256: str


def revision_key(video_id: str, revision: int) -> str:
    return f"{video_id}/{revision}"


def to_document(stored: StoredRevision) -> Document:
    transcript = stored.transcript
    return {
        "_id": revision_key(stored.video_id, stored.revision),
        "video_id": stored.video_id,
        "revision": stored.revision,
        "supersedes_revision": stored.supersedes_revision,
        "language": stored.language,
        "source_format": stored.source_format,
        "source_sha256": stored.source_sha256,
        "submitted_by": stored.submitted_by,
        "submitted_at": stored.submitted_at,
        "has_times": transcript.has_times,
        "segment_count": len(transcript.segments),
        "speakers": [speaker.as_dict() for speaker in transcript.speakers],
        "segments": [segment.as_dict() for segment in transcript.segments],
    }


def from_document(doc: Document) -> StoredRevision:
    transcript = Transcript(
        speakers=tuple(Speaker(**speaker) for speaker in doc["speakers"]),
        segments=tuple(Segment.from_dict(segment) for segment in doc["segments"]),
    )
    return StoredRevision(
        video_id=doc["video_id"],
        revision=doc["revision"],
        supersedes_revision=doc.get("supersedes_revision"),
        language=doc["language"],
        source_format=doc["source_format"],
        source_sha256=doc["source_sha256"],
        submitted_by=doc["submitted_by"],
        submitted_at=doc["submitted_at"],
        transcript=transcript,
    )


class RevisionRepository:
    def __init__(
        self, heads: AsyncCollection[Document], revisions: AsyncCollection[Document]
    ) -> None:
        self.heads = heads
        self.revisions = revisions

    async def ensure_indexes(self) -> None:
        await self.revisions.create_index([("video_id", 1), ("revision", -1)])

    async def allocate_revision(self, video_id: str, now: datetime) -> int:
        """The next revision number of the video (1 for its first transcript)."""
        for attempt in range(_ALLOCATE_ATTEMPTS):
            try:
                head = await self.heads.find_one_and_update(
                    {"_id": video_id},
                    {"$inc": {"revision": 1}, "$set": {"updated_at": now}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except OperationFailure as exc:
                # Two first submissions raced to create the head: the loser retries the $inc.
                if exc.code not in _DUPLICATE_CODES or attempt == _ALLOCATE_ATTEMPTS - 1:
                    raise
                continue
            assert head is not None
            return int(head["revision"])
        raise AssertionError("unreachable")

    async def insert(self, stored: StoredRevision, events: Sequence[CloudEvent]) -> None:
        """Store the revision with its events. Raises TranscriptTooLargeError, storing
        nothing, when they would not fit in one document (its revision number is skipped)."""
        document = {**to_document(stored), **outbox_fields(events)}
        size = len(bson_encode(document))
        if size > MAX_DOCUMENT_BYTES:
            raise TranscriptTooLargeError(
                f"Its {len(stored.transcript.segments)} speaker turns and their events take "
                f"{size} bytes, more than one stored revision may hold ({MAX_DOCUMENT_BYTES})."
            )
        await self.revisions.insert_one(document)

    async def get(self, video_id: str, revision: int | None = None) -> StoredRevision | None:
        """A given revision, or the latest stored one when ``revision`` is None."""
        if revision is not None:
            doc = await self.revisions.find_one(
                {"_id": revision_key(video_id, revision)}, _WITHOUT_OUTBOX
            )
        else:
            doc = await self.revisions.find_one(
                {"video_id": video_id}, _WITHOUT_OUTBOX, sort=[("revision", -1)]
            )
        return from_document(doc) if doc is not None else None

    async def latest_summary(self, video_id: str) -> RevisionSummary | None:
        doc = await self.revisions.find_one(
            {"video_id": video_id},
            {"revision": 1, "source_sha256": 1},
            sort=[("revision", -1)],
        )
        return RevisionSummary(doc["revision"], doc["source_sha256"]) if doc else None

    async def revision_numbers(self, video_id: str) -> list[int]:
        cursor = self.revisions.find({"video_id": video_id}, {"revision": 1}).sort("revision", -1)
        return [doc["revision"] async for doc in cursor]
