"""A consumer process that applies the effect, records it in the inbox, and is killed by
SIGKILL at the moment it would ack: the broker still holds the message as unacked."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aio_pika
from portal_shared.bus import Bus, Consumer, HandlerRegistry
from portal_shared.inbox import Inbox
from pymongo import AsyncMongoClient

from tests.integration.shared.events_for_tests import Pinged


async def _die(*_args: object, **_kwargs: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main(amqp_url: str, exchange: str, service: str, mongo_url: str, db: str) -> None:
    aio_pika.IncomingMessage.ack = _die  # type: ignore[method-assign]
    database = AsyncMongoClient(mongo_url, tz_aware=True)[db]
    bus = Bus(amqp_url, exchange, service, archive_max_age=None)
    await bus.connect()
    registry = HandlerRegistry()

    async def handle(event: Pinged, _ce: object) -> None:
        await database.effects.update_one({"_id": event.n}, {"$inc": {"count": 1}}, upsert=True)

    registry.add(Pinged, handle)
    consumer = Consumer(
        bus,
        registry,
        Inbox(database.inbox, owner="doomed"),
        prefetch=1,
        retry_delays_ms=[50],
        max_attempts=3,
    )
    await consumer.start()
    print("ready", flush=True)
    await asyncio.sleep(60)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
