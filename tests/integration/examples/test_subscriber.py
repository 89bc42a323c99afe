"""examples/subscriber end to end on the real broker, as the read-only subscriber user, with
events published by the services' own users: its queue, schema validation, idempotence, acks."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import aio_pika
import pytest
from portal_shared.bus import Bus
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.events.catalog import VideoPublished
from portal_shared.events.identity import UserDeleted, UserVerified

from tests.support.bus_users import REPO, create_bus_users, delete_bus_users
from tests.support.infra import AMQP_URL, eventually, unique

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def example() -> ModuleType:
    path = REPO / "examples" / "subscriber" / "subscriber.py"
    spec = importlib.util.spec_from_file_location("example_subscriber", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def platform_bus(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    run = unique("sub")
    urls = create_bus_users(run, tmp_path)
    buses = {
        name: Bus(urls[name], f"{run}.events", name, queue_prefix=f"{run}.")
        for name in ("identity", "catalog")
    }
    for bus in buses.values():
        await bus.connect()
    yield {"run": run, "urls": urls, "buses": buses, "db": str(tmp_path / "subscriber.db")}
    for bus in buses.values():
        await bus.close()
    delete_bus_users(run, tmp_path)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = f"{run}.subscriber.reports"
        for name in (queue, f"{queue}.rejected", f"{run}.events.archive"):
            await channel.queue_delete(name)
        await channel.exchange_delete(f"{queue}.dlx")
        await channel.exchange_delete(f"{run}.events")


def verified(user_id: str, version: int = 2) -> CloudEvent:
    event = UserVerified(user_id=user_id, account_version=version, verified_at=NOW, roles=["user"])
    return envelope(event, source="/identity", subject=user_id)


def deleted(user_id: str, version: int = 1) -> CloudEvent:
    event = UserDeleted(user_id=user_id, account_version=version, deleted_at=NOW)
    return envelope(event, source="/identity", subject=user_id)


async def _queue_depth(url: str, name: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def test_the_example_subscriber_validates_deduplicates_and_acks(
    platform_bus: dict[str, Any],
) -> None:
    module = example()
    run, identity, catalog = platform_bus["run"], *platform_bus["buses"].values()
    queue = f"{run}.subscriber.reports"

    def subscriber() -> Any:
        return module.Subscriber(
            platform_bus["urls"]["subscriber"],
            exchange=f"{run}.events",
            queue=queue,
            bindings=[
                "portal.identity.UserVerified.v1",
                "portal.identity.UserDeleted.v1",
                "portal.catalog.VideoPublished.v1",
            ],
            store=module.Store(platform_bus["db"]),
        )

    first = subscriber()
    await first.start()
    alice = verified("alice")
    await identity.publish(alice)
    await identity.publish(alice)  # a duplicate delivery: the same id
    newer = verified("bob").model_copy(update={"data": {**verified("bob").data, "mfa": True}})
    await identity.publish(newer)  # a field added within v1: still valid
    await identity.publish(
        envelope(
            UserDeleted(user_id="carol", account_version=1, deleted_at=NOW), source="/identity"
        )
    )
    video = VideoPublished(
        video_id="v1",
        slug="summit",
        title="Summit",
        recorded_on=None,
        languages=["en"],
        published_at=NOW,
    )
    await catalog.publish(envelope(video, source="/catalog"))
    broken = verified("dave").model_copy(update={"data": {"user_id": "dave"}})
    await identity.publish(broken)  # fails its schema
    not_an_event = aio_pika.Message(b"not json", content_type="application/cloudevents+json")
    await identity.exchange.publish(not_an_event, routing_key="portal.identity.UserVerified.v1")

    await eventually(
        lambda: asyncio.sleep(0, (first.processed, first.duplicates, first.rejected)),
        lambda counts: counts == (4, 1, 2),
        what="4 processed, 1 duplicate, 2 rejected",
    )
    store = first.store
    assert (store.count("processed"), store.count("users"), store.count("videos")) == (4, 2, 1)
    url = platform_bus["urls"]["subscriber"]
    await eventually(lambda: _queue_depth(url, queue), lambda n: n == 0, what="all acked")
    assert await _queue_depth(url, f"{queue}.rejected") == 2

    # Deleting an account removes what the subscriber holds about it.
    await identity.publish(
        envelope(
            UserDeleted(user_id="alice", account_version=3, deleted_at=NOW), source="/identity"
        )
    )
    await eventually(lambda: asyncio.sleep(0, store.count("users")), lambda n: n == 1)
    await first.stop()

    # After a restart the durable queue is still bound and the same event has no second effect.
    second = subscriber()
    await second.start()
    await identity.publish(alice)
    await eventually(
        lambda: asyncio.sleep(0, second.duplicates), lambda n: n == 1, what="replay ignored"
    )
    assert second.store.count("users") == 1 and second.processed == 0
    await second.stop()
