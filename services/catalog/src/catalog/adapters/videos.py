"""Videos in MongoDB: one document per video (see ``catalog.domain.documents``).

Every write after the insert is a compare-and-set on ``_rev`` (a counter bumped by each
write), so an editor's change and a transcript's speakers applied at the same moment never
overwrite each other: the loser re-reads and applies its change again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from portal_shared.events.base import CloudEvent
from portal_shared.outbox import outbox_fields, with_outbox
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from catalog.adapters.locks import KeyedLocks
from catalog.domain.documents import from_document, to_document
from catalog.domain.errors import SlugTaken
from catalog.domain.search import (
    EVENT_TERMS,
    RECORDED_ON,
    SEARCH_TERMS,
    SPEAKER_KEYS,
    TITLE_KEY,
    Query,
)
from catalog.domain.videos import Video

Document = dict[str, Any]
REV = "_rev"
# How long a download link may be issued from this process's last read of its video. A write
# through this repository (edit, publish, unpublish, speakers) drops every copy at once; a
# write by another replica is seen within this time, the same order as a link request that
# read the video just before the write (a request under load takes longer than this).
LINK_VIDEO_SECONDS = 1.0
_LINK_VIDEOS_KEPT = 1024
__all__ = ["SlugTaken", "VideoRepository", "to_video"]


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A shared read whose waiters were all cancelled still has its outcome looked at."""
    if not future.cancelled():
        future.exception()


class VideoRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self.locks = KeyedLocks()  # read-modify-write of one video, one at a time
        self._for_links: dict[str, tuple[float, tuple[Video, int]]] = {}
        self._writes = 0  # bumped by every write, so a read overtaken by one is not kept
        self._reading: dict[str, asyncio.Future[tuple[Video, int] | None]] = {}

    async def ensure_indexes(self) -> None:
        c = self.collection
        await c.create_index("slug", unique=True)
        for sort_key in (RECORDED_ON, TITLE_KEY):
            await c.create_index([("published", ASCENDING), (sort_key, DESCENDING), ("_id", 1)])
        for array_field in (SEARCH_TERMS, SPEAKER_KEYS, EVENT_TERMS, "languages"):
            await c.create_index(array_field)
        await c.create_index([("updatedAt", DESCENDING), ("_id", DESCENDING)])  # editors' list

    async def get(self, video_id: str) -> tuple[Video, int] | None:
        """The video and its revision, published or not."""
        document = await self.collection.find_one({"_id": video_id})
        return None if document is None else (to_video(document), int(document.get(REV, 0)))

    async def get_by_id_or_slug(self, reference: str) -> tuple[Video, int] | None:
        found = await self.get(reference)
        if found is not None:
            return found
        document = await self.collection.find_one({"slug": reference})
        return None if document is None else (to_video(document), int(document.get(REV, 0)))

    async def get_for_link(self, reference: str) -> tuple[Video, int] | None:
        """``get_by_id_or_slug`` for issuing a download link: from this process's copy when
        it is less than ``LINK_VIDEO_SECONDS`` old (every link of a popular video read it
        again; a link costs one database read fewer)."""
        kept = self._for_links.get(reference)
        if kept is not None and time.monotonic() - kept[0] < LINK_VIDEO_SECONDS:
            return kept[1]
        # One read per video when the copy runs out: the requests that arrive meanwhile (up
        # to every concurrent client, each second) wait for it instead of each reading too.
        reading = self._reading.get(reference)
        if reading is None:
            reading = asyncio.ensure_future(self._read_for_link(reference))
            reading.add_done_callback(_retrieved)
            self._reading[reference] = reading
        return await asyncio.shield(reading)

    async def _read_for_link(self, reference: str) -> tuple[Video, int] | None:
        now, writes = time.monotonic(), self._writes
        try:
            found = await self.get_by_id_or_slug(reference)
        finally:
            if self._reading.get(reference) is asyncio.current_task():
                del self._reading[reference]
        if found is not None and writes == self._writes:
            if len(self._for_links) >= _LINK_VIDEOS_KEPT:
                self._for_links.clear()
            self._for_links[reference] = (now, found)
        return found

    def _written(self) -> None:
        self._writes += 1
        self._for_links.clear()
        self._reading.clear()  # a link asked for after this write does not join an older read

    async def get_published(self, reference: str) -> Video | None:
        found = await self.get_by_id_or_slug(reference)
        return found[0] if found is not None and found[0].published else None

    async def insert(self, video: Video, events: Sequence[CloudEvent] = ()) -> None:
        if await self.collection.find_one({"slug": video.slug}, {"_id": 1}) is not None:
            raise SlugTaken(video.slug)
        self._written()
        try:
            await self.collection.insert_one(
                {**to_document(video), REV: 1, **outbox_fields(events)}
            )
        except DuplicateKeyError as exc:
            raise SlugTaken(video.slug) from exc
        finally:
            self._written()

    async def replace(self, video: Video, rev: int, events: Sequence[CloudEvent] = ()) -> bool:
        """Store ``video`` if it is still at ``rev``; False if someone wrote in between."""
        if await self.collection.find_one(
            {"slug": video.slug, "_id": {"$ne": video.id}}, {"_id": 1}
        ):
            # Checked here as well as by the unique index: FerretDB v1 lets an update create a
            # duplicate that only an insert would have been refused for.
            raise SlugTaken(video.slug)
        fields = to_document(video)
        fields.pop("_id")
        update = with_outbox({"$set": {**fields, REV: rev + 1}}, events)
        self._written()
        try:
            result = await self.collection.update_one({"_id": video.id, REV: rev}, update)
        except DuplicateKeyError as exc:
            raise SlugTaken(video.slug) from exc
        finally:
            self._written()
        return result.matched_count == 1

    async def search(self, query: Query) -> list[Document]:
        cursor = self.collection.find(query.filter).sort(query.sort).limit(query.limit)
        return [document async for document in cursor]

    async def list_all(self, limit: int, after: tuple[str, str] | None = None) -> list[Video]:
        """Every video, the last changed first; ``after`` is the stored ``updatedAt`` and the
        id of the last video of the previous page (keyset: nothing skipped or repeated)."""
        query: Document = {}
        if after is not None:
            changed, last_id = after
            query = {
                "$or": [
                    {"updatedAt": {"$lt": changed}},
                    {"updatedAt": changed, "_id": {"$lt": last_id}},
                ]
            }
        cursor = self.collection.find(query).sort([("updatedAt", -1), ("_id", -1)])
        return [to_video(d) async for d in cursor.limit(limit)]


def to_video(document: Document) -> Video:
    """The domain video of a stored document, without the bookkeeping (``_rev``, outbox)."""
    fields = {k: v for k, v in document.items() if k == "_id" or not k.startswith("_")}
    return from_document(fields)
