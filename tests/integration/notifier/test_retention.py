"""The notifier's per-event records (delivery records once final, remembered deleted accounts)
are pruned RETENTION_DAYS after they settle by the pruning task its consumer starts, on the
real database; a record still in flight is kept however old."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notifier.adapters.deliveries import ClaimOutcome, DeliveryRepository, NewDelivery
from portal_shared.retention import Pruner, Retained, prune

from tests.integration.notifier.helpers import (
    SealingKeys,
    notifier_app,
    notifier_settings,
    user_deleted,
    user_registered,
)
from tests.support.infra import eventually, unique
from tests.support.service import running, runtime_of

pytestmark = pytest.mark.integration

OLD_RECORDS = 1500  # enough that pruning them takes many round trips


async def test_settled_records_are_pruned_after_the_retention_only(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any
) -> None:
    app = notifier_app(notifier_settings(service_name(), exchange_name, keys))
    publisher = await make_bus(unique("identity"))
    user_id, gone_id = unique("usr"), unique("usr")
    registered = user_registered(keys, user_id=user_id, email=f"{user_id}@example.org")
    async with running(app):
        runtime = runtime_of(app)
        db = runtime.db
        await publisher.publish(registered)
        await publisher.publish(user_deleted(gone_id))
        await eventually(
            lambda: db["deliveries"].find_one({"_id": registered.id}),
            lambda r: r is not None and r["status"] == "sent",
            what="email sent",
        )
        await eventually(
            lambda: db["deleted_accounts"].find_one({"_id": gone_id}),
            lambda r: r is not None,
            what="deletion remembered",
        )
        # in flight for a year (an outage, a bug): never pruned by age
        await db["deliveries"].insert_one(
            {
                "_id": "in-flight",
                "status": "sending",
                "updated_at": datetime(2025, 1, 1, tzinfo=UTC),
            }
        )
        pruner = runtime.pruner
        assert isinstance(pruner, Pruner), "the notifier's consumer starts the pruning task"
        retention = timedelta(days=runtime.settings.retention_days)
        now = datetime.now(UTC)

        pruner.clock = lambda: now + retention - timedelta(hours=1)
        await pruner.run_once()
        assert await db["deliveries"].find_one({"_id": registered.id}) is not None
        assert await db["deleted_accounts"].find_one({"_id": gone_id}) is not None

        pruner.clock = lambda: now + retention + timedelta(hours=1)
        await pruner.run_once()
        assert await db["deliveries"].find_one({"_id": registered.id}) is None
        assert await db["deleted_accounts"].find_one({"_id": gone_id}) is None
        assert await db["deliveries"].find_one({"_id": "in-flight"}) is not None
        assert await db["inbox"].count_documents({"status": "done"}) == 0


async def test_deliveries_are_recorded_while_a_large_prune_runs(mongo_db: Any) -> None:
    """A prune of many records must not hold the collection's writers until it ends: a claim
    and its ``sent`` record go through while the prune still runs. (One ``delete_many`` by age
    took FerretDB's exclusive write gate for its whole scan: this delivery waited for all of it.)"""
    deliveries = DeliveryRepository(mongo_db["deliveries"], owner="test/1", lease_seconds=60)
    await deliveries.ensure_indexes()
    old = datetime.now(UTC) - timedelta(days=400)
    await deliveries.collection.insert_many(
        [{"_id": f"old-{i}", "status": "sent", "updated_at": old} for i in range(OLD_RECORDS)]
    )
    retained = Retained(deliveries.collection, "updated_at", {"status": {"$in": ["sent"]}})
    pruning = asyncio.create_task(prune(retained, datetime.now(UTC), timedelta(days=30)))
    await asyncio.sleep(0)  # the prune sends its first command

    event_id, now = unique("evt"), datetime.now(UTC)
    new = NewDelivery(event_id, "portal.identity.UserRegistered.v1", now, unique("usr"), "code")
    claim = await deliveries.claim(new, now)
    assert claim.outcome is ClaimOutcome.ACQUIRED
    await deliveries.mark_sent(
        event_id, now=now, attempts=1, message_id="<m@test>", smtp_reply="250", recipient="a@b"
    )
    assert not pruning.done(), "the delivery waited for the whole prune"
    assert await pruning == OLD_RECORDS
    assert await deliveries.collection.count_documents({}) == 1
    record = await deliveries.get(event_id)
    assert record is not None and record["status"] == "sent"
