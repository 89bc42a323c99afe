"""The consumer's inbox: processed event ids under a unique index, so a redelivered or
duplicated event has no second effect.

An event id is *claimed* (inserted as ``processing`` with a lease) before its handler runs and
marked ``done`` after. A second delivery finds ``done`` and is acked without effect; one that
arrives while another replica holds a live lease is put back for later; an expired lease
(the claimer died) is taken over. Handlers are written so that the small window between their
own write and ``done`` is harmless when replayed (conditional updates keyed by the event).

Claims and completions of events handled concurrently go to the database together (one
``insert`` and one ``update`` command per batch, see ``portal_shared.batching``): each caller
still waits for its own write to be acknowledged before it runs the handler or acks the
message, so the guarantee is that of one write per event.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_shared.batching import BatchedWrites
from portal_shared.clock import Clock, utcnow


class Claim(enum.Enum):
    ACQUIRED = "acquired"
    ALREADY_DONE = "already_done"
    BUSY = "busy"
    BUSY_HERE = "busy_here"  # claimed under this consumer's own name


class Inbox:
    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        owner: str,
        lease_seconds: float = 60.0,
        clock: Clock = utcnow,
    ) -> None:
        self.collection = collection
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self._writes = BatchedWrites(collection)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", 1), ("processed_at", 1)])

    async def claim(self, event_id: str, event_type: str, _retry: bool = True) -> Claim:
        now = self.clock()
        try:
            await self._writes.insert(
                {
                    "_id": event_id,
                    "type": event_type,
                    "status": "processing",
                    "owner": self.owner,
                    "lease_until": now + self.lease,
                    "received_at": now,
                }
            )
            return Claim.ACQUIRED
        except DuplicateKeyError:
            pass
        taken = await self.collection.find_one_and_update(
            {"_id": event_id, "status": "processing", "lease_until": {"$lt": now}},
            {"$set": {"owner": self.owner, "lease_until": now + self.lease}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is not None:
            return Claim.ACQUIRED
        existing = await self.collection.find_one({"_id": event_id}, {"status": 1, "owner": 1})
        if existing is None:  # released between our insert and read: try once more
            return await self.claim(event_id, event_type, _retry=False) if _retry else Claim.BUSY
        if existing["status"] == "done":
            return Claim.ALREADY_DONE
        return Claim.BUSY_HERE if existing.get("owner") == self.owner else Claim.BUSY

    async def take_over(self, event_id: str) -> bool:
        """Renew a claim of ours that nothing in this process is working on any more (its
        insert timed out on our side but happened, or its release failed). False when it is
        no longer such a claim (done or released meanwhile): then nothing may run."""
        result = await self.collection.update_one(
            {"_id": event_id, "status": "processing", "owner": self.owner},
            {"$set": {"lease_until": self.clock() + self.lease}},
        )
        return result.matched_count == 1

    async def complete(self, event_id: str) -> None:
        await self._writes.update(
            {"_id": event_id},
            {
                "$set": {"status": "done", "processed_at": self.clock()},
                "$unset": {"lease_until": "", "owner": ""},
            },
        )

    async def release(self, event_id: str) -> None:
        await self.collection.delete_one(
            {"_id": event_id, "status": "processing", "owner": self.owner}
        )

    async def is_done(self, event_id: str) -> bool:
        return await self.collection.count_documents({"_id": event_id, "status": "done"}) > 0
