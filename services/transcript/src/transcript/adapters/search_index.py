"""The search index: one document per segment of each video's latest revision.

There is no text index on FerretDB, so each segment document carries ``terms`` (its distinct
accent- and case-folded words, see ``domain.search``) under a multikey index, and a query is
``{"terms": <one of them>, "$and": [{"terms": {"$all": [...]}}]}``: the equality is answered
from the index on both MongoDB and FerretDB (FerretDB v1 pushes no ``$all`` down, so the bare
``$all`` read every segment there), the ``$all`` keeps the segments holding every word.

Indexing revision N of a video: insert its segments (``_id`` ``"<video>/<N>/<index>"``, so
never a conflict), raise the head's ``indexed_revision`` to N with ``$max``, then delete the
video's segments of older revisions. Searches keep only hits of the head's
``indexed_revision``, so a leftover of an interrupted or out-of-order indexing never shows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from transcript.domain.model import Transcript
from transcript.domain.search import SearchPosition, terms_of

Document = dict[str, Any]
_DUPLICATE_CODES = frozenset({1, 11000})


@dataclass(frozen=True, slots=True)
class SegmentHit:
    video_id: str
    revision: int
    segment_index: int
    speaker_id: str
    speaker_name: str
    text: str
    start: float | None
    end: float | None


class SearchIndex:
    def __init__(
        self, heads: AsyncCollection[Document], segments: AsyncCollection[Document]
    ) -> None:
        self.heads = heads
        self.segments = segments

    async def ensure_indexes(self) -> None:
        await self.segments.create_index([("terms", 1)])
        await self.segments.create_index([("video_id", 1), ("revision", 1)])

    async def indexed_revision(self, video_id: str) -> int | None:
        head = await self.heads.find_one({"_id": video_id})
        return head.get("indexed_revision") if head else None

    async def index(self, video_id: str, revision: int, transcript: Transcript) -> None:
        """Make revision ``revision`` the searchable one, unless a newer one already is.
        Idempotent and safe to run twice at once: a revision never changes, so a segment
        someone else inserted already is the same segment."""
        names = {speaker.id: speaker.name for speaker in transcript.speakers}
        docs = [
            {
                "_id": f"{video_id}/{revision}/{segment.index}",
                "video_id": video_id,
                "revision": revision,
                "index": segment.index,
                "speaker_id": segment.speaker_id,
                "speaker_name": names.get(segment.speaker_id, segment.speaker_id),
                "text": segment.text,
                "start": segment.start,
                "end": segment.end,
                "terms": terms_of(segment.text),
            }
            for segment in transcript.segments
        ]
        if docs:
            await self._insert_new(docs)
        head = await self.heads.find_one_and_update(
            {"_id": video_id},
            {"$max": {"indexed_revision": revision}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        current = int(head["indexed_revision"]) if head else revision
        await self.segments.delete_many({"video_id": video_id, "revision": {"$lt": current}})
        if current > revision:  # a newer revision won meanwhile: this one is a leftover
            await self.segments.delete_many({"video_id": video_id, "revision": revision})

    async def _insert_new(self, docs: list[Document]) -> None:
        try:
            await self.segments.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if not errors or any(e.get("code") not in _DUPLICATE_CODES for e in errors):
                raise
            # Not every server goes on after an error in an unordered batch: add what is missing.
            ids = [doc["_id"] for doc in docs]
            present = {
                d["_id"] async for d in self.segments.find({"_id": {"$in": ids}}, {"_id": 1})
            }
            for doc in docs:
                if doc["_id"] not in present:
                    with contextlib.suppress(DuplicateKeyError):
                        await self.segments.insert_one(doc)

    async def search(
        self,
        terms: list[str],
        *,
        limit: int,
        video_id: str | None = None,
        after: SearchPosition | None = None,
    ) -> tuple[list[SegmentHit], bool]:
        """Segments of latest revisions holding every term, by video and position, after
        ``after``; and whether more follow."""
        if not terms:
            return [], False
        hits: list[SegmentHit] = []
        position = after
        while True:
            # leftovers of older revisions are rare; a margin keeps a full page after dropping
            fetch = (limit + 1 - len(hits)) * 2
            docs = await self._page(terms, video_id, position, fetch)
            hits += await self._current(docs)
            if len(hits) > limit or len(docs) < fetch:
                return hits[:limit], len(hits) > limit
            position = SearchPosition(docs[-1]["video_id"], int(docs[-1]["index"]))

    async def _page(
        self, terms: list[str], video_id: str | None, after: SearchPosition | None, fetch: int
    ) -> list[Document]:
        # The longest word is the likeliest to be rare: the fewest segments read through it.
        query: Document = {"terms": max(terms, key=len), "$and": [{"terms": {"$all": terms}}]}
        if video_id is not None:
            query["video_id"] = video_id
        if after is not None:
            query["$or"] = [
                {"video_id": {"$gt": after.video_id}},
                {"video_id": after.video_id, "index": {"$gt": after.segment_index}},
            ]
        cursor = (
            self.segments.find(query, {"terms": 0})
            .sort([("video_id", 1), ("index", 1)])
            .limit(fetch)
        )
        return await cursor.to_list()

    async def _current(self, docs: list[Document]) -> list[SegmentHit]:
        current = await self._indexed_revisions({doc["video_id"] for doc in docs})
        return [
            SegmentHit(
                video_id=doc["video_id"],
                revision=doc["revision"],
                segment_index=doc["index"],
                speaker_id=doc["speaker_id"],
                speaker_name=doc["speaker_name"],
                text=doc["text"],
                start=doc.get("start"),
                end=doc.get("end"),
            )
            for doc in docs
            if current.get(doc["video_id"]) == doc["revision"]
        ]

    async def _indexed_revisions(self, video_ids: set[str]) -> dict[str, int]:
        if not video_ids:
            return {}
        cursor = self.heads.find({"_id": {"$in": sorted(video_ids)}}, {"indexed_revision": 1})
        return {
            doc["_id"]: int(doc["indexed_revision"])
            async for doc in cursor
            if "indexed_revision" in doc
        }
