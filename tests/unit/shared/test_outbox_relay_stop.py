"""The outbox relay's stop: bounded, and the caller's shutdown goes on after it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from portal_shared.events import envelope
from portal_shared.events.identity import UserVerified
from portal_shared.outbox import OutboxRelay


class _HungBus:
    """A broker that confirms nothing: each publish waits (a SIGSTOPped node, an alarm)."""

    service = "test"

    def __init__(self) -> None:
        self.publishing = asyncio.Event()

    async def publish(self, _cloudevent: Any) -> None:
        self.publishing.set()
        await asyncio.Event().wait()


class _Collection:
    name = "records"


async def test_stop_with_a_hung_publish_ends_the_relay_and_returns() -> None:
    bus = _HungBus()
    relay = OutboxRelay(cast(Any, bus), [], owner="test", stop_seconds=0.2)
    event = UserVerified(
        user_id="u1", account_version=2, verified_at=datetime.now(UTC), roles=["user"]
    )
    doc = {"_id": "d1", **relay.claimed_fields([envelope(event, source="/identity")])}
    await relay.start()
    relay.hand_off(cast(Any, _Collection()), [doc])
    await asyncio.wait_for(bus.publishing.wait(), 5)
    # Before: stop() raised TimeoutError, and the caller's remaining shutdown steps (closing
    # the bus and the database client) were skipped.
    await asyncio.wait_for(relay.stop(), 5)
    assert relay._task is not None and relay._task.done()
    assert doc["_outbox_lease"] > datetime.now(UTC) + timedelta(seconds=20)  # left to claims
