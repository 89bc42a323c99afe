"""The event pipeline against raw aio-pika doing the least database work the guarantee needs,
measured in the same run, at a small and at a large volume of stored records.

Baseline: N persistent messages, each first inserted into MongoDB at the producer, published
with confirms to a quorum queue, consumed with manual acks, each inserted into MongoDB at the
consumer before its ack (one insert per message on each side). Pipeline: the same N events
through our stack: written with their outbox entry, published by the relay, consumed with
inbox de-duplication, handled and acked. Also the database commands per event of the whole
pipeline (producer, relay, consumer), counted with PyMongo's command monitoring.
Volumes: the outbox collection and the inbox hold 10^3, then 10^5 settled records, each
volume compacted (FerretDB: VACUUM ANALYZE) and left to settle before it is measured.

    .venv/bin/python -m tests.bench.bench_event_pipeline
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aio_pika
from portal_shared.bus import Bus, Consumer, HandlerRegistry
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.inbox import Inbox
from portal_shared.mongo import WriteSerializedDatabase, is_ferretdb
from portal_shared.outbox import EPOCH, OutboxRelay, outbox_fields
from pymongo import AsyncMongoClient

from tests.bench import _driver as d
from tests.integration.shared.events_for_tests import Pinged

VOLUMES = (1_000, 100_000)


async def raw_aio_pika(n: int, database: str) -> float:
    client = d.mongo()
    produced, consumed = client[database].produced, client[database].consumed
    connection = await aio_pika.connect_robust(d.AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=32)
    queue = await channel.declare_queue(
        f"bench.raw.{d.tag()}", durable=True, arguments={"x-queue-type": "quorum"}
    )
    done = asyncio.Event()
    count = 0
    progress = d.Progress("raw aio-pika messages", n)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal count
        await consumed.insert_one({"_id": message.message_id})
        await message.ack()
        count += 1
        progress.advance()
        if count == n:
            done.set()

    await queue.consume(on_message)
    started = time.perf_counter()
    for i in range(n):
        await produced.insert_one({"_id": i, "body": b'{"n": %d}' % i})
        await channel.default_exchange.publish(
            aio_pika.Message(
                body=b'{"n": %d}' % i,
                message_id=str(i),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=queue.name,
        )
    await done.wait()
    elapsed = time.perf_counter() - started
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()
    await client.close()
    return n / elapsed


def settled_thing(i: int) -> dict[str, Any]:
    return {"_id": f"seed-{i}", "_outbox": [], "_outbox_pending": False, "_outbox_lease": EPOCH}


def done_entry(i: int) -> dict[str, Any]:
    return {"_id": f"seed-{i:08d}", "type": "portal.test.Pinged.v1", "status": "done"}


class Pipeline:
    def __init__(self, counter: d.CommandCounter) -> None:
        self.counter = counter
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            d.MONGODB_URL, tz_aware=True, event_listeners=[counter]
        )
        self.name = d.tag()
        self.db = self.client[f"bench_pipeline_{self.name}"]
        self.exchange = f"bench.events.{self.name}"
        self.bus = Bus(d.AMQP_URL, self.exchange, f"bench-{self.name}", archive_max_age=None)
        self.seen = 0
        self.target = 0
        self.done = asyncio.Event()
        self.progress: d.Progress | None = None

    async def start(self) -> None:
        if await is_ferretdb(self.client):  # as every service opens its database there
            self.db = WriteSerializedDatabase(self.db)  # type: ignore[assignment]
        await self.bus.connect()
        registry = HandlerRegistry()
        registry.add(Pinged, self.handle)
        inbox = Inbox(self.db.inbox, owner="bench")
        await inbox.ensure_indexes()
        self.consumer = Consumer(
            self.bus, registry, inbox, prefetch=32, retry_delays_ms=[1000], max_attempts=3
        )
        await self.consumer.start()
        self.relay = OutboxRelay(self.bus, [self.db.things], owner="bench", poll_seconds=0.2)
        await self.relay.ensure_indexes()
        await self.relay.start()

    async def handle(self, _event: Pinged, _ce: CloudEvent) -> None:
        self.seen += 1
        if self.progress:
            self.progress.advance()
        if self.seen == self.target:
            self.done.set()

    async def run(self, label: str, n: int) -> tuple[float, float]:
        """Events per second and database commands per event."""
        self.seen, self.target = 0, n
        self.done.clear()
        self.progress = d.Progress(f"pipeline events ({label})", n)
        self.counter.reset()
        started = time.perf_counter()
        for i in range(n):
            await self.db.things.insert_one(
                {"_id": f"{label}-{i}", **outbox_fields([envelope(Pinged(n=i), source="/bench")])}
            )
            self.relay.nudge()
        await self.done.wait()
        elapsed = time.perf_counter() - started
        return n / elapsed, self.counter.total / n

    async def close(self) -> None:
        await self.relay.stop()
        await self.consumer.stop()
        await self.bus.close()
        await d.remove(databases=[self.db.name], services=[self.bus.service])
        async with await aio_pika.connect_robust(d.AMQP_URL) as connection:
            channel = await connection.channel()
            await channel.queue_delete(f"{self.bus.service}.delay.1000ms")
            await channel.exchange_delete(self.exchange)
        await self.client.close()


async def main() -> None:
    table = d.Table()
    n = d.count(1000, least=20)
    raw_db = f"bench_raw_{d.tag()}"
    try:
        baseline = await raw_aio_pika(n, raw_db)
    finally:
        await d.remove(databases=[raw_db])
    counter = d.CommandCounter()
    pipeline = Pipeline(counter)
    await pipeline.start()
    costs: dict[str, float] = {}
    seeded = 0
    try:
        for label, size in zip(("small", "large"), VOLUMES, strict=True):
            size = d.volume(size)
            await d.seed(pipeline.db.things, settled_thing, seeded, size)
            await d.seed(pipeline.db.inbox, done_entry, seeded, size)
            # both volumes alike: measured on data the database has settled, as it would
            # have after holding it a while, not in the wake of the bulk insert
            await d.settle([pipeline.db.things, pipeline.db.inbox])
            seeded = size
            rate, commands = await pipeline.run(label, n)
            costs[label] = 1000 / rate
            table.add(
                d.rate_result(f"event_pipeline@{label}", rate, baseline, "events_per_s", n),
                d.Result(
                    f"event_pipeline.db_commands_per_event@{label}",
                    commands,
                    3.0,
                    3.0 / commands,
                    "commands",
                    n,
                ),
            )
            print(f"   commands: {dict(sorted(counter.by_name.items()))}", flush=True)
        table.add(
            d.volume_result("event_pipeline", costs["large"], costs["small"], "ms_per_event", n)
        )
    finally:
        await pipeline.close()


if __name__ == "__main__":
    from portal_shared.logging import configure_logging

    configure_logging("bench", "warning")  # one line per handled event would swamp the table
    asyncio.run(main())
