"""Fixtures on the real infrastructure: RabbitMQ, the MongoDB wire server, the SMTP server.

Each test gets its own database and its own exchange/queue names, removed afterwards, so tests
do not see each other's data and can run against a shared real MongoDB or RabbitMQ too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from portal_shared.bus import Bus
from portal_shared.mongo import WriteSerializedDatabase, is_ferretdb
from pymongo import AsyncMongoClient

from tests.support.infra import AMQP_URL, MONGODB_URL, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def mongo_client() -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGODB_URL, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    await client.admin.command("ping")
    yield client
    await client.close()


@pytest.fixture
async def mongo_db(mongo_client: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[Any]:
    """A fresh database, with writes serialised on FerretDB v1 as the services' runtime does
    (see portal_shared.mongo)."""
    name = unique("test").replace("-", "_")
    db = mongo_client[name]
    yield WriteSerializedDatabase(db) if await is_ferretdb(mongo_client) else db
    await mongo_client.drop_database(name)


@pytest.fixture
async def amqp() -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    yield connection
    await connection.close()


@pytest.fixture
async def exchange_name(amqp: aio_pika.abc.AbstractRobustConnection) -> AsyncIterator[str]:
    name = unique("test.events")
    yield name
    async with amqp.channel() as channel:
        await channel.exchange_delete(name)


@pytest.fixture
async def make_bus(
    amqp: aio_pika.abc.AbstractRobustConnection, exchange_name: str
) -> AsyncIterator[Callable[..., Awaitable[Bus]]]:
    """Connected buses on this test's exchange; their queues are deleted afterwards."""
    buses: list[Bus] = []

    async def make(service: str | None = None, archive: str | None = None) -> Bus:
        bus = Bus(AMQP_URL, exchange_name, service or unique("svc"), archive_max_age=archive)
        await bus.connect()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()
    async with amqp.channel() as channel:
        for bus in buses:
            for suffix in ("events", "parking", "delay.50ms", "delay.100ms", "delay.200ms"):
                await channel.queue_delete(f"{bus.service}.{suffix}")
            await channel.exchange_delete(f"{bus.service}.retry")
        await channel.queue_delete(f"{exchange_name}.archive")
