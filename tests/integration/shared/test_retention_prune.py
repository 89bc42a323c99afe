"""Pruning on the real database: only settled records older than the retention go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from portal_shared.clock import ManualClock
from portal_shared.retention import Pruner, Retained

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


async def test_only_settled_records_past_the_retention_are_pruned(mongo_db: Any) -> None:
    inbox, deliveries = mongo_db["inbox"], mongo_db["deliveries"]
    await inbox.insert_many(
        [
            {"_id": "old-done", "status": "done", "processed_at": NOW - 31 * DAY},
            {"_id": "recent-done", "status": "done", "processed_at": NOW - 29 * DAY},
            # in flight for a month (a bug or an outage): never removed by age
            {"_id": "old-processing", "status": "processing", "received_at": NOW - 40 * DAY},
        ]
    )
    await deliveries.insert_many(
        [
            {"_id": "old-sent", "status": "sent", "updated_at": NOW - 31 * DAY},
            {"_id": "old-retrying", "status": "retrying", "updated_at": NOW - 31 * DAY},
            {"_id": "recent-failed", "status": "failed", "updated_at": NOW - DAY},
        ]
    )
    pruner = Pruner(
        [
            Retained(inbox, "processed_at", {"status": "done"}),
            Retained(deliveries, "updated_at", {"status": {"$in": ["failed", "sent"]}}),
        ],
        timedelta(days=30),
        clock=ManualClock(NOW),
    )
    assert await pruner.run_once() == 2
    assert {d["_id"] async for d in inbox.find()} == {"recent-done", "old-processing"}
    assert {d["_id"] async for d in deliveries.find()} == {"old-retrying", "recent-failed"}


class _ReusedWhileListed:
    """The collection, except that right after the prune's cursor lists ``reused`` another
    writer takes that record up again (it is in flight once more) before its delete."""

    def __init__(self, collection: Any, reused: str) -> None:
        self.collection, self.reused = collection, reused
        self.name = collection.name

    def find(self, *args: Any, **kwargs: Any) -> Any:
        collection, reused = self.collection, self.reused

        async def listed() -> Any:
            async for document in collection.find(*args, **kwargs):
                if document["_id"] == reused:
                    await collection.update_one({"_id": reused}, {"$set": {"status": "processing"}})
                yield document

        return listed()

    async def delete_one(self, *args: Any, **kwargs: Any) -> Any:
        return await self.collection.delete_one(*args, **kwargs)


async def test_a_record_taken_up_again_between_the_listing_and_its_delete_stays(
    mongo_db: Any,
) -> None:
    """The prune lists ids first and deletes each later: the delete holds the whole condition
    again, so a record no longer settled by then is kept, and every other one still goes
    (over several rounds of deletes)."""
    inbox = mongo_db["inbox"]
    await inbox.insert_many(
        [{"_id": f"e{i:03}", "status": "done", "processed_at": NOW - 31 * DAY} for i in range(30)]
    )
    pruner = Pruner(
        [Retained(_ReusedWhileListed(inbox, "e017"), "processed_at", {"status": "done"})],
        timedelta(days=30),
        clock=ManualClock(NOW),
    )
    assert await pruner.run_once() == 29
    assert [d["_id"] async for d in inbox.find()] == ["e017"]
