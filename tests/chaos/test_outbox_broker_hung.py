"""The outbox's hand-over while the broker takes publishes but confirms none (a hung node, or
one whose memory or disk alarm blocks publishers): what the relay holds in memory is bounded,
and every handed-over event still goes out once the broker answers again.

A writer in the relay's process hands each inserted document over (``OutboxRelay.hand_off``);
the relay publishes them a batch at a time, each publish waiting up to its timeout for the
confirm. Documents handed over meanwhile wait in memory: without a bound, as many as the
writers insert for as long as the broker hangs. The private broker is stopped with SIGSTOP
(its connections stay open, nothing is confirmed) and continued with SIGCONT.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from portal_shared.bus import Bus
from portal_shared.events.base import envelope
from portal_shared.mongo import WriteSerializedDatabase, is_ferretdb
from portal_shared.outbox import PENDING, OutboxRelay
from pymongo import AsyncMongoClient

from tests.integration.shared.events_for_tests import Pinged, collecting_consumer
from tests.support.infra import eventually, unique
from tests.support.private_infra import PrivateInfra

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]

HANDED, BATCH, HELD = 120, 10, 30


async def test_hand_overs_held_while_the_broker_confirms_nothing_are_bounded_and_all_go_out(
    private_broker: PrivateInfra,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(private_broker.mongodb_url)
    name = unique("hung").replace("-", "_")
    db: Any = client[name]
    if await is_ferretdb(client):
        db = WriteSerializedDatabase(db)
    bus = Bus(private_broker.amqp_url, unique("test.events"), unique("svc"), publish_timeout=5)
    await bus.connect()
    consumer, received = await collecting_consumer(bus, db)
    records = db["records"]
    outbox = OutboxRelay(
        bus, [records], owner="hung", poll_seconds=0.2, lease_seconds=3, batch=BATCH,
        max_handed=HELD,
    )  # fmt: skip
    await outbox.start()
    stopped = False
    try:
        private_broker.signal("rabbitmq", signal.SIGSTOP)
        stopped = True
        events = []
        for n in range(HANDED):
            event = envelope(Pinged(n=n), source="/t")
            doc = {"_id": n, **outbox.claimed_fields([event])}
            await records.insert_one(doc)
            outbox.hand_off(records, [doc])
            events.append(event)
        await asyncio.sleep(0.2)  # the relay's turn: its first batch waits for confirms
        assert len(outbox._handed) <= HELD, f"{len(outbox._handed)} documents held in memory"
        private_broker.signal("rabbitmq", signal.SIGCONT)
        stopped = False
        # those not held are published after their lease, by the claims: none is lost
        await eventually(
            lambda: asyncio.sleep(0, {ce.id for ce in received}),
            lambda ids: ids >= {e.id for e in events},
            timeout=60,
            what="every handed-over event published",
        )
        await eventually(
            lambda: records.count_documents({PENDING: True}), lambda n: n == 0, timeout=30
        )
    finally:
        if stopped:
            private_broker.signal("rabbitmq", signal.SIGCONT)
        await outbox.stop()
        await consumer.stop()
        await bus.close()
        await client.drop_database(name)
        await client.close()
