"""The event pipeline against raw aio-pika, measured in the same run.

Baseline: N persistent messages published with confirms to a quorum queue and consumed with
manual acks by plain aio-pika. Pipeline: the same N events through our stack: written to
MongoDB with their outbox entry, published by the relay, consumed with inbox de-duplication and
acked. Reports both rates and the ratio (pipeline / baseline).

    .venv/bin/python -m tests.bench.bench_event_pipeline [N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import aio_pika
from portal_shared.bus import Bus, Consumer, HandlerRegistry
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.inbox import Inbox
from portal_shared.outbox import OutboxRelay, outbox_fields
from pymongo import AsyncMongoClient

from tests.integration.shared.events_for_tests import Pinged
from tests.support.infra import AMQP_URL, MONGODB_URL, unique


async def raw_aio_pika(n: int) -> float:
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=32)
    queue = await channel.declare_queue(
        unique("bench.raw"), durable=True, arguments={"x-queue-type": "quorum"}
    )
    done = asyncio.Event()
    count = 0

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal count
        await message.ack()
        count += 1
        if count == n:
            done.set()

    await queue.consume(on_message)
    started = time.perf_counter()
    for i in range(n):
        await channel.default_exchange.publish(
            aio_pika.Message(body=b'{"n": %d}' % i, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=queue.name,
        )
    await done.wait()
    elapsed = time.perf_counter() - started
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    return n / elapsed


async def pipeline(n: int) -> float:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    db = client[unique("bench").replace("-", "_")]
    exchange = unique("bench.events")
    bus = Bus(AMQP_URL, exchange, unique("bench"), archive_max_age=None)
    await bus.connect()
    done = asyncio.Event()
    seen = 0
    registry = HandlerRegistry()

    async def handle(event: Pinged, _ce: CloudEvent) -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            done.set()

    registry.add(Pinged, handle)
    consumer = Consumer(
        bus,
        registry,
        Inbox(db.inbox, owner="bench"),
        prefetch=32,
        retry_delays_ms=[1000],
        max_attempts=3,
    )
    await consumer.start()
    relay = OutboxRelay(bus, [db.things], owner="bench", poll_seconds=0.05)
    await relay.start()
    started = time.perf_counter()
    for i in range(n):
        await db.things.insert_one(
            {"_id": i, **outbox_fields([envelope(Pinged(n=i), source="/bench")])}
        )
        relay.nudge()
    await done.wait()
    elapsed = time.perf_counter() - started
    await relay.stop()
    await consumer.stop()
    async with bus.connection.channel() as channel:  # type: ignore[union-attr]
        for suffix in ("events", "parking", "retry.1000ms"):
            await channel.queue_delete(f"{bus.service}.{suffix}")
        await channel.exchange_delete(exchange)
    await bus.close()
    await client.drop_database(db.name)
    await client.close()
    return n / elapsed


async def main(n: int) -> None:
    baseline = await raw_aio_pika(n)
    ours = await pipeline(n)
    print(
        f"event pipeline: raw aio-pika {baseline:.0f} msg/s; outbox->relay->bus->inbox "
        f"{ours:.0f} events/s; ratio {ours / baseline:.2f} (n={n})"
    )


if __name__ == "__main__":
    from portal_shared.logging import configure_logging

    configure_logging("bench", "warning")  # one line per handled event would swamp the result
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
