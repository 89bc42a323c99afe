"""Single-document writes are atomic for the services, on MongoDB and on FerretDB v1 alike."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from portal_shared.mongo import WriteSerializedDatabase, is_ferretdb
from portal_shared.outbox import outbox_fields, with_outbox

pytestmark = pytest.mark.integration


async def test_concurrent_updates_of_one_document_are_all_kept(
    mongo_client: Any, mongo_db: Any
) -> None:
    db = WriteSerializedDatabase(mongo_db) if await is_ferretdb(mongo_client) else mongo_db
    await db.counters.insert_one({"_id": "c", "a": 0, "b": 0})

    async def bump(field: str) -> None:
        for _ in range(20):
            await db.counters.update_one({"_id": "c"}, {"$inc": {field: 1}})

    await asyncio.gather(*(bump("a" if i % 2 else "b") for i in range(10)))
    assert await db.counters.find_one({"_id": "c"}) == {"_id": "c", "a": 100, "b": 100}


async def test_state_change_racing_the_relay_settle_is_not_lost(
    mongo_client: Any, mongo_db: Any
) -> None:
    """An application write and a relay write to one document, interleaved many times."""
    from portal_shared.events.base import envelope

    from tests.integration.shared.events_for_tests import Pinged

    db = WriteSerializedDatabase(mongo_db) if await is_ferretdb(mongo_client) else mongo_db
    await db.things.insert_one({"_id": 1, "state": 0, **outbox_fields([])})

    async def application() -> None:
        for i in range(1, 31):
            await db.things.update_one(
                {"_id": 1},
                with_outbox({"$set": {"state": i}}, [envelope(Pinged(n=i), source="/t")]),
            )

    async def relay_like() -> None:
        for _ in range(30):
            await db.things.update_one({"_id": 1}, {"$set": {"_outbox_lease": None}})

    await asyncio.gather(application(), relay_like())
    doc = await db.things.find_one({"_id": 1})
    assert doc["state"] == 30 and len(doc["_outbox"]) == 30


async def test_writes_of_many_documents_and_collection_wide_ones_interleaved_are_all_kept(
    mongo_client: Any, mongo_db: Any
) -> None:
    """Per-document serialisation: writers of different documents overlap, writers of one
    document and collection-wide writes (``update_many``) still lose nothing."""
    db = WriteSerializedDatabase(mongo_db) if await is_ferretdb(mongo_client) else mongo_db
    await db.windows.insert_many([{"_id": f"w{i}", "n": 0, "all": 0} for i in range(4)])

    async def bump(doc_id: str) -> None:
        for _ in range(15):
            await db.windows.find_one_and_update({"_id": doc_id}, {"$inc": {"n": 1}})

    async def bump_all() -> None:
        for _ in range(10):
            await db.windows.update_many({"n": {"$gte": 0}}, {"$inc": {"all": 1}})

    await asyncio.gather(*(bump(f"w{i % 4}") for i in range(8)), bump_all())
    docs = await db.windows.find({}).sort("_id", 1).to_list()
    assert docs == [{"_id": f"w{i}", "n": 30, "all": 10} for i in range(4)]
