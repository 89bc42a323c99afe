"""Rate-limit records (one per client or address ever seen) are pruned RETENTION_DAYS after
their last use by identity's own pruning task (run by its relay: identity has no consumer), on
the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
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
