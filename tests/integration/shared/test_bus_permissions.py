"""Least privilege on the real broker: the users the local set-up creates (infra.sh bus-users)
may publish only their own routing keys and touch only their own queues; no user may write to
the default exchange (which reaches any queue by name): retries, parked messages and replays go
through the service's own retry exchange."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused
from portal_shared.bus import Bus, Consumer, HandlerRegistry, PublishFailed
from portal_shared.bus.parking import list_parked, replay_parked
from portal_shared.bus.topology import QueueNames, declare_service_queues
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.events.catalog import VideoUnpublished
from portal_shared.events.identity import UserDeleted
from portal_shared.inbox import Inbox

from tests.integration.shared.events_for_tests import Pinged
from tests.support.bus_users import create_bus_users, delete_bus_users
from tests.support.infra import AMQP_URL, eventually, unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def users(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    run = unique("perm")
    out = tmp_path_factory.mktemp("bus-users")
    urls = create_bus_users(run, out)
    yield {"run": run, "urls": urls, "exchange": f"{run}.events"}
    delete_bus_users(run, out)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for name in ("identity", "catalog", "subscriber"):  # what these tests declared
            for suffix in ("events", "parking", "delay.50ms", "mine"):
                await channel.queue_delete(f"{run}.{name}.{suffix}")
            await channel.exchange_delete(f"{run}.{name}.retry")
        await channel.queue_delete(f"{run}.events.archive")
        await channel.exchange_delete(f"{run}.events")


def _bus(users: dict[str, Any], service: str) -> Bus:
    return Bus(users["urls"][service], users["exchange"], service, queue_prefix=f"{users['run']}.")


def test_the_set_up_makes_one_user_per_service_and_a_subscriber(users: dict[str, Any]) -> None:
    assert set(users["urls"]) == {"identity", "notifier", "catalog", "transcript", "subscriber"}
    for service, url in users["urls"].items():
        parts = urllib.parse.urlsplit(url)
        assert parts.username == f"{users['run']}-{service}" and parts.password


async def test_identity_publishes_its_own_events_but_the_broker_refuses_a_catalog_key(
    users: dict[str, Any],
) -> None:
    bus = _bus(users, "identity")
    await bus.connect()  # declares the exchange and its archive stream: allowed
    try:
        now = datetime.now(UTC)
        await bus.publish(
            envelope(
                UserDeleted(user_id="u1", account_version=3, deleted_at=now), source="/identity"
            )
        )
        forged = envelope(VideoUnpublished(video_id="v1", unpublished_at=now), source="/catalog")
        with pytest.raises((PublishFailed, ChannelAccessRefused)) as refused:
            await bus.publish(forged)
        assert "ACCESS_REFUSED" in repr(refused.value) or "403" in repr(refused.value)
    finally:
        await bus.close()


async def test_a_service_touches_only_its_own_queues(users: dict[str, Any]) -> None:
    bus = _bus(users, "catalog")
    await bus.connect()
    try:
        assert bus.connection is not None
        channel = await bus.connection.channel()
        await declare_service_queues(
            channel,
            bus.exchange,
            QueueNames(f"{users['run']}.catalog"),
            [UserDeleted.event_type()],
            [50],
        )
        other = await bus.connection.channel()
        with pytest.raises(ChannelAccessRefused):
            await other.declare_queue(f"{users['run']}.identity.events", durable=True)
    finally:
        await bus.close()


async def test_the_subscriber_reads_its_own_queue_and_can_publish_nothing(
    users: dict[str, Any],
) -> None:
    connection = await aio_pika.connect(users["urls"]["subscriber"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        mine = await channel.declare_queue(f"{users['run']}.subscriber.mine", durable=True)
        await mine.bind(users["exchange"], routing_key="portal.identity.#")
        exchange = await channel.get_exchange(users["exchange"], ensure=False)
        with pytest.raises(ChannelAccessRefused):
            await exchange.publish(
                aio_pika.Message(b"{}"), routing_key="portal.identity.UserDeleted.v1"
            )
    catalogs = f"{users['run']}.catalog.mine"
    admin = await aio_pika.connect(AMQP_URL)
    async with admin:
        await (await admin.channel()).declare_queue(catalogs, durable=True, auto_delete=False)
    connection = await aio_pika.connect(users["urls"]["subscriber"])
    async with connection:
        queue = await (await connection.channel()).get_queue(catalogs, ensure=False)
        with pytest.raises(ChannelAccessRefused):
            await queue.get(fail=False)  # another's queue: not for reading


async def test_no_service_user_may_publish_through_the_default_exchange(
    users: dict[str, Any],
) -> None:
    """The default exchange routes by queue name to ANY queue: identity's user is refused
    putting a message into a catalog queue through it."""
    catalogs = f"{users['run']}.catalog.mine"
    admin = await aio_pika.connect(AMQP_URL)
    async with admin:
        await (await admin.channel()).declare_queue(catalogs, durable=True, auto_delete=False)
    for service in ("identity", "notifier", "catalog", "transcript"):
        connection = await aio_pika.connect(users["urls"][service])
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            with pytest.raises(ChannelAccessRefused):
                await channel.default_exchange.publish(
                    aio_pika.Message(b'{"forged": true}'), routing_key=catalogs, timeout=10
                )
    admin = await aio_pika.connect(AMQP_URL)
    async with admin:
        queue = await (await admin.channel()).declare_queue(catalogs, passive=True)
        assert queue.declaration_result.message_count == 0


async def test_retries_parking_and_replay_work_with_the_services_own_user(
    users: dict[str, Any], mongo_db: Any
) -> None:
    """Through the service's own retry exchange: a failing event is retried through its delay
    queue, parked, and replayed by `parked replay`, all as catalog's user."""
    bus = _bus(users, "catalog")
    await bus.connect()
    producer = Bus(AMQP_URL, users["exchange"], "testbus")  # the test's admin: any routing key
    await producer.connect()
    broken = True
    attempts: list[int] = []
    handled: list[int] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        attempts.append(event.n)
        if broken:
            raise RuntimeError("downstream is down")
        handled.append(event.n)

    registry.add(Pinged, handle)
    consumer = Consumer(
        bus,
        registry,
        Inbox(mongo_db["inbox"], owner="test"),
        prefetch=10,
        retry_delays_ms=[50],
        max_attempts=2,
        shutdown_grace_seconds=5,
    )
    try:
        await consumer.start()
        sent = envelope(Pinged(n=7), source="/tests")
        await producer.publish(sent)
        parked = await eventually(
            lambda: list_parked(bus), lambda p: len(p) == 1, what="retried, then parked"
        )
        assert parked[0].message_id == sent.id and parked[0].attempts == 2
        assert "downstream is down" in parked[0].reason
        assert attempts == [7, 7]  # the first try and one retry through catalog.delay.50ms

        broken = False  # the fix is deployed
        assert await replay_parked(bus) == 1
        await eventually(lambda: asyncio.sleep(0, handled), lambda h: h == [7], what="replayed")
        assert await list_parked(bus) == []
    finally:
        await consumer.stop()
        await producer.close()
        await bus.close()
