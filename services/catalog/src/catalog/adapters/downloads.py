"""Download records: the audit trail of authorised downloads, and their DownloadAuthorized.

Records of links issued concurrently are one ordered insert, led by one document carrying
their events (``portal_shared.outbox.InsertsWithEvents``), so there is never a record whose
event is lost, nor an event published for a record that was not written (the relay checks,
for a batch it did not get from the writer). A reissue's event rides in its record. A record
is kept ``RETENTION_DAYS`` (30) after its last link expired and its events were published,
then pruned (``retained``): the user's download list and reissues reach that far back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from portal_shared.events.base import CloudEvent
from portal_shared.outbox import PENDING, InsertsWithEvents, OutboxRelay, with_outbox
from portal_shared.retention import Retained
from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from catalog.domain.downloads import DownloadRecord, record_of

Document = dict[str, Any]


class DownloadRepository:
    def __init__(
        self,
        collection: AsyncCollection[Document],
        relay: Callable[[], OutboxRelay | None] = lambda: None,
    ) -> None:
        self.collection = collection
        # Records of links issued concurrently go out as one insert with one document holding
        # their events (group commit): the relay clears that one, not each record (0.5 ms of
        # the database's CPU per link on FerretDB v1). Each request still waits for its own
        # record's acknowledged write before its 201. ``relay``: the relay of this process,
        # once it runs (None: another process).
        self._inserts = InsertsWithEvents(collection, relay)

    @property
    def retained(self) -> Retained:
        """Pruned by age once its last link expired and its events are published."""
        return Retained(self.collection, "expiresAt", {PENDING: False})

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("userId", 1), ("authorizedAt", DESCENDING)])
        await self.collection.create_index("expiresAt")  # the hourly pruning's range

    async def insert(self, document: Document, events: Sequence[CloudEvent]) -> bool:
        """The record and its events, written (acknowledged) when this returns. With a relay
        in this process their batch is handed over to it (True): it publishes the events
        without reading anything back (``OutboxRelay.hand_off``); otherwise (False) the caller
        nudges the relay."""
        return await self._inserts.insert(document, events)

    async def get(self, download_id: str) -> Document | None:
        return await self.collection.find_one({"_id": download_id})

    async def mark_started(self, download_id: str, now: datetime) -> None:
        # Only the first served request writes; later ones match nothing.
        await self.collection.update_one(
            {"_id": download_id, "startedAt": None}, {"$set": {"startedAt": now}}
        )

    async def take_reissue(
        self,
        download_id: str,
        *,
        user_id: str,
        limit: int,
        expires_at: datetime,
        events: Sequence[CloudEvent],
        require_started: bool = True,
    ) -> bool:
        """Count one fresh link for a (started) download of ``user_id``, if under ``limit``."""
        condition: Document = {
            "_id": download_id,
            "userId": user_id,
            "reissueCount": {"$lt": limit},
        }
        if require_started:
            condition["startedAt"] = {"$ne": None}
        result = await self.collection.update_one(
            condition,
            with_outbox({"$inc": {"reissueCount": 1}, "$set": {"expiresAt": expires_at}}, events),
        )
        return result.matched_count == 1

    async def list_for_user(
        self, user_id: str, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[DownloadRecord]:
        """The user's downloads, newest first; ``after`` is (authorised at, id) of the last
        record of the previous page."""
        query: Document = {"userId": user_id}
        if after is not None:
            at, last_id = after
            query["$or"] = [
                {"authorizedAt": {"$lt": at}},
                {"authorizedAt": at, "_id": {"$lt": last_id}},
            ]
        cursor = (
            self.collection.find(query)
            .sort([("authorizedAt", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [record_of(document) async for document in cursor]
