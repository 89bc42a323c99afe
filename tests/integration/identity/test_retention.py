"""Rate-limit records (one per client or address ever seen) are pruned RETENTION_DAYS after
their last use by identity's own pruning task (run by its relay: identity has no consumer), on
the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from identity.adapters.registrations import RegistrationRepository
from portal_shared.outbox import PENDING
from portal_shared.retention import Pruner

from tests.integration.identity.conftest import PASSWORD, Harness

pytestmark = pytest.mark.integration


async def test_rate_limit_records_are_pruned_after_the_retention_only(identity: Harness) -> None:
    pruner = identity.app.state.runtime.pruner
    assert isinstance(pruner, Pruner), "identity's relay starts the pruning task"
    limits = identity.db["rate_limits"]
    for number, email in enumerate(("early@example.org", "late@example.org")):
        async with identity.client_from(f"10.9.0.{number + 1}") as client:
            body = {"email": email, "password": PASSWORD, "language": "en"}
            assert (await client.post("/v1/registrations", json=body)).status_code == 202
        if number == 0:
            first = {d["_id"] async for d in limits.find()}
            assert first, "a registration takes rate-limit slots"
            identity.clock.advance(days=20)
    last_use = {d["_id"]: d["last_at"] async for d in limits.find()}
    retention = timedelta(days=identity.settings.retention_days)
    cutoff = min(last_use.values()) + retention

    identity.clock.now = cutoff - timedelta(minutes=1)
    await pruner.run_once()
    assert {d["_id"] async for d in limits.find()} == set(last_use)

    identity.clock.now = cutoff + timedelta(minutes=1)
    await pruner.run_once()
    kept = {d["_id"] async for d in limits.find()}
    expected = {key for key, at in last_use.items() if at >= identity.clock.now - retention}
    assert kept == expected
    assert first - kept, "the records used only 20 days earlier are gone"
    assert kept, "those used since are kept"


async def test_settled_attempts_older_than_a_day_are_pruned_and_pending_ones_kept(
    mongo_db: Any,
) -> None:
    """The registration worker's prune of attempts (registrations and resets share it), on the
    real database: one read of the ids, then a delete of each by its ``_id`` holding the whole
    condition again."""
    repository = RegistrationRepository(mongo_db["registrations"])
    now = datetime(2026, 6, 1, tzinfo=UTC)
    old, recent = now - timedelta(days=2), now - timedelta(hours=1)
    await mongo_db["registrations"].insert_many(
        [
            *({"_id": f"old-{i}", "created_at": old, PENDING: False} for i in range(20)),
            {"_id": "old-mail-due", "created_at": old, PENDING: True},  # its email not out yet
            {"_id": "old-no-outbox", "created_at": old},
            {"_id": "recent", "created_at": recent, PENDING: False},
        ]
    )
    assert await repository.delete_older_than(now - timedelta(days=1)) == 21
    kept = {d["_id"] async for d in mongo_db["registrations"].find()}
    assert kept == {"old-mail-due", "recent"}
