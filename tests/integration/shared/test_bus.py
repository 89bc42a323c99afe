"""The backbone on the real broker and database: confirms, inbox, retries, parking lot."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import pytest
from portal_shared.bus import Consumer, HandlerRegistry, PublishFailed
from portal_shared.bus.topology import declare_service_queues, main_queue_is_legacy
from portal_shared.events.base import CloudEvent, envelope, parse_cloudevent
from portal_shared.inbox import Claim, Inbox
from portal_shared.metrics import EVENTS_CONSUMED
from prometheus_client import generate_latest

from tests.integration.shared.events_for_tests import Pinged
from tests.support.infra import eventually

pytestmark = pytest.mark.integration


def ping(n: int, poison: bool = False) -> CloudEvent:
    return envelope(Pinged(n=n, poison=poison), source="/tests", subject=str(n))


def consumer_for(bus: Any, registry: HandlerRegistry, db: Any, **overrides: Any) -> Consumer:
    options: dict[str, Any] = {
        "prefetch": 10,
        "retry_delays_ms": [50, 100],
        "max_attempts": 3,
        "shutdown_grace_seconds": 5,
    }
    options.update(overrides)
    return Consumer(bus, registry, Inbox(db["inbox"], owner="test"), **options)


async def drain(channel: aio_pika.abc.AbstractChannel, queue: str) -> list[Any]:
    q = await channel.declare_queue(queue, passive=True)
    out = []
    while (message := await q.get(fail=False, no_ack=True)) is not None:
        out.append(message)
    return out


async def test_round_trip_with_confirms(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    seen: list[tuple[int, str]] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        seen.append((event.n, ce.id))

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    sent = [ping(i) for i in range(20)]
    for ce in sent:
        await bus.publish(ce)  # returns only once the broker confirmed
    await eventually(lambda: asyncio.sleep(0, len(seen)), lambda n: n == 20, what="20 handled")
    assert sorted(seen) == sorted((ce.data["n"], ce.id) for ce in sent)
    assert await consumer.broker_consumer_count() == 1
    await consumer.stop()


async def test_unroutable_publish_is_an_error(make_bus: Any) -> None:
    bus = await make_bus()  # no queue bound to anything on this exchange
    with pytest.raises(PublishFailed) as failure:
        await bus.publish(ping(1))
    assert failure.value.reason == "unroutable"


async def test_archive_stream_keeps_every_domain_event_routable(make_bus: Any) -> None:
    bus = await make_bus(archive="1h")
    await bus.publish(ping(1))  # no subscriber, but the archive takes it
    with pytest.raises(PublishFailed):
        await bus.publish(ping(2).model_copy(update={"type": "not-a-portal-type"}))


async def test_duplicate_delivery_has_one_effect(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        await mongo_db.effects.update_one({"_id": event.n}, {"$inc": {"count": 1}}, upsert=True)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    ce = ping(7)
    for _ in range(3):
        await bus.publish(ce)  # the same event id three times
    await eventually(
        lambda: mongo_db.inbox.count_documents({"_id": ce.id, "status": "done"}),
        what="event processed",
    )
    await eventually(
        lambda: _message_count(bus, consumer.names.main), lambda n: n == 0, what="queue empty"
    )
    assert (await mongo_db.effects.find_one({"_id": 7}))["count"] == 1
    assert await mongo_db.inbox.count_documents({}) == 1
    await consumer.stop()


async def _message_count(bus: Any, name: str) -> int:
    async with bus.connection.channel() as channel:
        q = await channel.declare_queue(name, passive=True)
        return int(q.declaration_result.message_count or 0)


async def test_poison_message_is_retried_then_parked_while_others_flow(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()
    attempts: dict[int, int] = {}
    handled: list[int] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        attempts[event.n] = attempts.get(event.n, 0) + 1
        if event.poison:
            raise RuntimeError(f"cannot digest {event.n}")
        handled.append(event.n)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db, max_attempts=3)
    await consumer.start()
    await bus.publish(ping(0, poison=True))
    for i in range(1, 11):
        await bus.publish(ping(i))
    await eventually(
        lambda: asyncio.sleep(0, len(handled)), lambda n: n == 10, what="healthy messages handled"
    )
    async with bus.connection.channel() as channel:
        parked = await eventually(
            lambda: drain(channel, consumer.names.parking), what="poison parked"
        )
    assert attempts[0] == 3
    assert len(parked) == 1
    headers = parked[0].headers
    assert "cannot digest 0" in headers["x-portal-parked-reason"]
    assert headers["x-portal-attempts"] == 3
    assert headers["x-portal-exception"] == "RuntimeError"
    assert parse_cloudevent(parked[0].body).data["n"] == 0
    assert not await mongo_db.inbox.find_one({"_id": parse_cloudevent(parked[0].body).id})
    await consumer.stop()


async def test_malformed_message_is_parked_at_once(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    registry = HandlerRegistry()
    calls: list[Any] = []

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        calls.append(event)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    hostile = f"hostile-{uuid.uuid4().hex}"  # an AMQP type a publisher chose: never a label
    bad = aio_pika.Message(body=b'{"specversion": "1.0", "type": "x"}', type=hostile)
    await bus.exchange.publish(bad, routing_key=Pinged.event_type())
    wrong_data = ping(1).model_copy(update={"data": {"n": "not a number"}})
    await bus.exchange.publish(
        aio_pika.Message(body=wrong_data.to_json(), type=hostile), routing_key=Pinged.event_type()
    )
    async with bus.connection.channel() as channel:
        parked = await eventually(
            lambda: drain(channel, consumer.names.parking),
            lambda m: len(m) >= 1,
            what="malformed parked",
        )
        parked += await eventually(
            lambda: drain(channel, consumer.names.parking),
            lambda m: len(m) >= 1 or len(parked) == 2,
            what="second parked",
        )
    reasons = sorted(m.headers["x-portal-parked-reason"] for m in parked)
    assert len(reasons) == 2
    assert all(r.startswith("malformed:") for r in reasons)
    assert any("n:" in r for r in reasons)
    assert calls == []
    malformed = EVENTS_CONSUMED.labels(bus.service, "unknown", "malformed")._value.get()
    assert malformed >= 2  # counted as unknown, the only label an unregistered type gets
    assert hostile not in generate_latest().decode()
    await consumer.stop()


async def test_an_unknown_field_from_a_newer_producer_is_handled_not_parked(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()
    registry = HandlerRegistry()
    seen: list[Pinged] = []

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        seen.append(event)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    newer = ping(5).model_copy(update={"data": {"n": 5, "added_later": {"any": "shape"}}})
    await bus.publish(newer)
    await eventually(lambda: asyncio.sleep(0, len(seen)), lambda n: n == 1, what="handled")
    assert seen == [Pinged(n=5)]
    async with bus.connection.channel() as channel:
        assert await drain(channel, consumer.names.parking) == []
    await consumer.stop()


async def test_graceful_stop_finishes_in_flight_work(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    registry = HandlerRegistry()
    started = asyncio.Event()
    finished: list[int] = []

    async def slow(event: Pinged, ce: CloudEvent) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(event.n)

    registry.add(Pinged, slow)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    await bus.publish(ping(1))
    await asyncio.wait_for(started.wait(), 10)
    await consumer.stop()
    assert finished == [1]
    assert await mongo_db.inbox.count_documents({"status": "done"}) == 1
    assert await _message_count(bus, consumer.names.main) == 0


async def test_consumer_killed_before_ack_gets_it_again_and_effect_happens_once(
    make_bus: Any, mongo_db: Any, exchange_name: str
) -> None:
    import subprocess
    import sys

    from tests.support.infra import AMQP_URL, MONGODB_URL

    bus = await make_bus()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.shared.die_before_ack",
            AMQP_URL,
            exchange_name,
            bus.service,
            MONGODB_URL,
            mongo_db.name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        while (line := proc.stdout.readline()) and line.strip() != "ready":
            pass
        ce = ping(3)
        await bus.publish(ce)
        returncode = await asyncio.to_thread(proc.wait, 30)
    finally:
        proc.kill()
    assert returncode == -9
    assert (await mongo_db.effects.find_one({"_id": 3}))["count"] == 1
    # the broker gives the unacked message to the next consumer of the queue
    registry = HandlerRegistry()
    calls: list[str] = []

    async def handle(event: Pinged, c: CloudEvent) -> None:
        calls.append(c.id)
        await mongo_db.effects.update_one({"_id": event.n}, {"$inc": {"count": 1}}, upsert=True)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    duplicates = EVENTS_CONSUMED.labels(bus.service, Pinged.event_type(), "duplicate")
    await eventually(
        lambda: asyncio.sleep(0, duplicates._value.get()),
        lambda n: n == 1,
        what="redelivered message recognised",
    )
    assert await _message_count(bus, consumer.names.main) == 0
    assert calls == []  # the inbox knew it was done
    assert (await mongo_db.effects.find_one({"_id": 3}))["count"] == 1
    await consumer.stop()


async def test_a_stale_claim_of_our_own_is_resumed_without_waiting_for_its_lease(
    make_bus: Any, mongo_db: Any
) -> None:
    """The claim's insert happened but its answer was lost (a timeout): the redelivery must
    not wait out the lease, since nothing in this process is working on the event."""
    from datetime import timedelta

    from portal_shared.clock import utcnow

    bus = await make_bus()
    handled: list[str] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        handled.append(ce.id)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)  # inbox owner "test"
    ce = ping(11)
    await mongo_db.inbox.insert_one(
        {
            "_id": ce.id,
            "type": ce.type,
            "status": "processing",
            "owner": "test",
            "lease_until": utcnow() + timedelta(hours=1),
        }
    )
    await consumer.start()
    await bus.publish(ce)
    await eventually(
        lambda: asyncio.sleep(0, handled),
        lambda h: h == [ce.id],
        timeout=10,
        what="stale own claim resumed",
    )
    assert (await mongo_db.inbox.find_one({"_id": ce.id}))["status"] == "done"
    await consumer.stop()


async def test_duplicates_delivered_during_a_slow_handler_have_one_effect(
    make_bus: Any, mongo_db: Any
) -> None:
    """Three deliveries of one event at once (prefetch 10) while the first is still being
    handled: the handler runs once, and every delivery is settled."""
    bus = await make_bus()
    calls: list[str] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        calls.append(ce.id)
        await asyncio.sleep(0.3)
        await mongo_db.effects.update_one({"_id": event.n}, {"$inc": {"count": 1}}, upsert=True)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    await consumer.start()
    ce = ping(21)
    for _ in range(3):
        await bus.publish(ce)
    duplicates = EVENTS_CONSUMED.labels(bus.service, ce.type, "duplicate")
    before = duplicates._value.get()
    await eventually(
        lambda: asyncio.sleep(0, duplicates._value.get() - before),
        lambda n: n == 2,
        timeout=15,
        what="both duplicates acked as duplicates",
    )
    assert calls == [ce.id]
    assert (await mongo_db.effects.find_one({"_id": 21}))["count"] == 1
    await consumer.stop()


async def test_a_claim_of_ours_settled_meanwhile_is_not_handled_again(
    make_bus: Any, mongo_db: Any
) -> None:
    """The inbox read said "processing, ours" but the handling finished before the takeover:
    the takeover finds nothing to take, so the handler must not run a second time."""
    bus = await make_bus()
    calls: list[str] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        calls.append(ce.id)

    class StaleReadInbox(Inbox):
        stale_reads = 1

        async def claim(self, event_id: str, event_type: str, _retry: bool = True) -> Claim:
            claim = await super().claim(event_id, event_type, _retry)
            if claim is Claim.ALREADY_DONE and self.stale_reads:
                self.stale_reads -= 1
                return Claim.BUSY_HERE  # as read just before the other handling completed
            return claim

    registry.add(Pinged, handle)
    ce = ping(22)
    await mongo_db.inbox.insert_one({"_id": ce.id, "type": ce.type, "status": "done"})
    inbox = StaleReadInbox(mongo_db["inbox"], owner="test")
    consumer = Consumer(
        bus, registry, inbox, prefetch=10, retry_delays_ms=[50, 100], max_attempts=3
    )
    await consumer.start()
    duplicates = EVENTS_CONSUMED.labels(bus.service, ce.type, "duplicate")
    before = duplicates._value.get()
    await bus.publish(ce)
    await eventually(
        lambda: asyncio.sleep(0, duplicates._value.get() - before),
        lambda n: n == 1,
        timeout=10,
        what="redelivery acked as a duplicate",
    )
    assert inbox.stale_reads == 0 and calls == []
    await consumer.stop()


async def test_operators_list_and_replay_the_parking_lot(make_bus: Any, mongo_db: Any) -> None:
    from portal_shared.bus.parking import list_parked, replay_parked

    bus = await make_bus()
    broken = True
    handled: list[int] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        if broken:
            raise RuntimeError("downstream is down")
        handled.append(event.n)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db, max_attempts=1)
    await consumer.start()
    sent = [ping(i) for i in range(3)]
    for ce in sent:
        await bus.publish(ce)
    parked = await eventually(lambda: list_parked(bus), lambda p: len(p) == 3, what="3 parked")
    assert {p.message_id for p in parked} == {ce.id for ce in sent}
    assert all("downstream is down" in p.reason and p.attempts == 1 for p in parked)
    assert len(await list_parked(bus)) == 3  # listing puts them back

    broken = False  # the fix is deployed
    progress: list[tuple[int, int, int]] = []
    assert (
        await replay_parked(bus, message_id=sent[1].id, progress=lambda *p: progress.append(p)) == 1
    )
    # every parked message examined is reported: (replayed so far, examined, total)
    assert progress[-1] == (1, 3, 3) and [p[1] for p in progress] == [1, 2, 3]
    await eventually(lambda: asyncio.sleep(0, handled), lambda h: h == [1], what="one replayed")
    progress.clear()
    assert await replay_parked(bus, progress=lambda *p: progress.append(p)) == 2
    assert progress == [(1, 1, 2), (2, 2, 2)]
    await eventually(lambda: asyncio.sleep(0, sorted(handled)), lambda h: h == [0, 1, 2])
    assert await list_parked(bus) == []
    await consumer.stop()


async def test_a_main_queue_declared_before_at_least_once_dead_lettering_still_consumes(
    make_bus: Any, mongo_db: Any
) -> None:
    """A queue of an earlier version (no ``x-dead-letter-strategy``) cannot be redeclared with
    today's arguments; the consumer declares it as it is, says so, and consumes."""
    bus = await make_bus()
    seen: list[int] = []
    registry = HandlerRegistry()

    async def handle(event: Pinged, ce: CloudEvent) -> None:
        seen.append(event.n)

    registry.add(Pinged, handle)
    consumer = consumer_for(bus, registry, mongo_db)
    async with bus.connection.channel() as channel:
        await declare_service_queues(
            channel, bus.exchange, consumer.names, [], [50, 100], legacy_main=True
        )
    assert await main_queue_is_legacy(bus.url, consumer.names)
    await consumer.start()
    await bus.publish(ping(7))
    await eventually(lambda: asyncio.sleep(0, seen), lambda s: s == [7], what="handled")
    await consumer.stop()


async def test_a_new_main_queue_dead_letters_at_least_once(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    consumer = consumer_for(bus, HandlerRegistry(), mongo_db)
    await consumer.start()
    assert not await main_queue_is_legacy(bus.url, consumer.names)
    await consumer.stop()
