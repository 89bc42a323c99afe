"""The notifier's per-event records (delivery records once final, remembered deleted accounts)
are pruned RETENTION_DAYS after they settle by the pruning task its consumer starts, on the
real database; a record still in flight is kept however old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from portal_shared.retention import Pruner

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
