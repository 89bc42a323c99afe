"""The outbox on the real database and broker: nothing lost, no routine double publishing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from portal_shared.clock import utcnow
from portal_shared.events.base import CloudEvent, envelope
from portal_shared.outbox import (
    BATCH_AT,
    EVENTS,
    GUARD_GRACE,
    LEASE,
    OWNER,
    PENDING,
    InsertsWithEvents,
    OutboxRelay,
    outbox_batch,
    outbox_fields,
    with_outbox,
)

from tests.integration.shared.events_for_tests import Pinged, collecting_consumer
from tests.support.infra import MONGODB_URL, eventually

pytestmark = pytest.mark.integration


def relay(bus: Any, collection: Any, owner: str = "relay-a", **kw: Any) -> OutboxRelay:
    return OutboxRelay(bus, [collection], owner=owner, poll_seconds=0.05, **kw)


async def test_state_and_events_written_together_then_published_in_order(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db, prefetch=1)  # queue order
    events = [envelope(Pinged(n=i), source="/t") for i in range(3)]
    await mongo_db.things.insert_one({"_id": "a", "state": 1, **outbox_fields(events[:1])})
    await mongo_db.things.update_one({"_id": "a"}, with_outbox({"$set": {"state": 2}}, events[1:]))
    doc = await mongo_db.things.find_one({"_id": "a"})
    assert doc["state"] == 2 and [e["id"] for e in doc["_outbox"]] == [e.id for e in events]
    await relay(bus, mongo_db.things).run_once()
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 3)
    assert [ce.id for ce in received] == [e.id for e in events]
    doc = await mongo_db.things.find_one({"_id": "a"})
    assert doc["_outbox"] == [] and doc[PENDING] is False and doc["state"] == 2
    await consumer.stop()


async def test_crash_after_write_loses_nothing(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.shared.crash_after_write",
            MONGODB_URL,
            mongo_db.name,
            "42",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.getcwd(),
        check=False,
    )
    assert proc.returncode == -9, proc.stderr  # killed before publishing anything
    event_id = proc.stdout.strip()
    assert received == []
    background = relay(bus, mongo_db.things)  # "the next relay", after the restart
    await background.start()
    await eventually(
        lambda: asyncio.sleep(0, [ce.id for ce in received]),
        lambda ids: event_id in ids,
        what="crashed event published",
    )
    await background.stop()
    await consumer.stop()


async def test_expired_lease_of_a_dead_relay_is_taken_over(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    event = envelope(Pinged(n=1), source="/t")
    await mongo_db.things.insert_one({"_id": 1, **outbox_fields([event])})
    # a relay claimed it and died: its lease is still running
    await mongo_db.things.update_one(
        {"_id": 1}, {"$set": {LEASE: utcnow() + timedelta(seconds=1), OWNER: "dead"}}
    )
    live = relay(bus, mongo_db.things, owner="alive")
    assert await live.run_once() == 0  # respects the live lease
    await eventually(live.run_once, lambda n: n == 1, timeout=10, what="lease expiry")
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 1)
    await consumer.stop()


async def test_two_relays_do_not_double_publish(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    docs = [{"_id": i, **outbox_fields([envelope(Pinged(n=i), source="/t")])} for i in range(150)]
    await mongo_db.things.insert_many(docs)
    a, b = relay(bus, mongo_db.things, "a"), relay(bus, mongo_db.things, "b")
    await asyncio.gather(a.start(), b.start())
    await eventually(
        lambda: asyncio.sleep(0, len(received)), lambda n: n >= 150, what="all published"
    )
    await eventually(lambda: mongo_db.things.count_documents({PENDING: True}), lambda n: n == 0)
    await asyncio.gather(a.stop(), b.stop())
    ids = [ce.id for ce in received]
    assert len(ids) == len(set(ids)) == 150
    await consumer.stop()


async def test_unroutable_event_stays_pending_and_is_retried(make_bus: Any, mongo_db: Any) -> None:
    bus = await make_bus()  # nothing bound yet: the publish comes back
    event = envelope(Pinged(n=5), source="/t")
    await mongo_db.things.insert_one({"_id": 5, **outbox_fields([event])})
    first = relay(bus, mongo_db.things)
    assert await first.run_once() == 0
    doc = await mongo_db.things.find_one({"_id": 5})
    assert doc[PENDING] is True and [e["id"] for e in doc["_outbox"]] == [event.id]
    assert doc["_outbox_failures"] == 1
    consumer, received = await collecting_consumer(bus, mongo_db)  # now a queue is bound
    await eventually(first.run_once, lambda n: n == 1, timeout=10, what="retried publish")
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 1)
    await consumer.stop()


async def test_tombstone_is_removed_once_its_events_are_out(make_bus: Any, mongo_db: Any) -> None:
    from portal_shared.outbox import tombstone

    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    event = envelope(Pinged(n=9), source="/t")
    await mongo_db.things.insert_one({"_id": 9, "secret_data": "x"})
    await mongo_db.things.replace_one({"_id": 9}, tombstone(9, [event]))
    await relay(bus, mongo_db.things).run_once()
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 1)
    assert await mongo_db.things.find_one({"_id": 9}) is None
    await consumer.stop()


async def test_event_added_while_publishing_is_kept_for_the_next_cycle(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    first, second = envelope(Pinged(n=1), source="/t"), envelope(Pinged(n=2), source="/t")
    await mongo_db.things.insert_one({"_id": 1, **outbox_fields([first])})
    publish = bus.publish

    async def publish_and_meanwhile_write(cloudevent: CloudEvent) -> None:
        await publish(cloudevent)
        if cloudevent.id == first.id:  # the application appends while the relay works
            await mongo_db.things.update_one({"_id": 1}, with_outbox({"$set": {"s": 2}}, [second]))

    bus.publish = publish_and_meanwhile_write
    out = relay(bus, mongo_db.things)
    assert await out.run_once() == 1
    doc = await mongo_db.things.find_one({"_id": 1})
    assert [e["id"] for e in doc["_outbox"]] == [second.id] and doc[PENDING] is True
    assert await out.run_once() == 1
    await eventually(
        lambda: asyncio.sleep(0, [ce.id for ce in received]),
        lambda ids: sorted(ids) == sorted([first.id, second.id]),
    )
    doc = await mongo_db.things.find_one({"_id": 1})
    assert doc["_outbox"] == [] and doc[PENDING] is False and doc["s"] == 2
    await consumer.stop()


class CountingFinds:
    """A real collection that counts the relay's candidate reads (``find``)."""

    def __init__(self, collection: Any) -> None:
        self.collection, self.finds = collection, 0

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self.finds += 1
        return self.collection.find(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)


async def test_a_nudge_publishes_what_is_due_in_one_cycle_without_reading_again(
    make_bus: Any, mongo_db: Any
) -> None:
    """One cycle claims everything due when it is under a batch: no second cycle (one empty
    read of every collection) after a publish. The poll is far off, so only the nudge runs."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    collections = [CountingFinds(mongo_db[f"outbox_{n}"]) for n in range(3)]
    outbox = OutboxRelay(bus, collections, owner="relay-n", poll_seconds=60, batch=10)  # type: ignore[arg-type]
    await outbox.start()
    # The first cycle at start-up reads each (empty) collection once, the last one last.
    await eventually(lambda: asyncio.sleep(0, collections[2].finds), lambda n: n >= 1)
    before = [c.finds for c in collections]
    events = [envelope(Pinged(n=i), source="/t") for i in range(3)]
    await collections[1].insert_one({"_id": "a", **outbox_fields(events)})
    outbox.nudge()
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 3)
    await eventually(
        lambda: collections[1].find_one({"_id": "a"}), lambda doc: doc[PENDING] is False
    )
    await asyncio.sleep(0.2)  # a second cycle, if there were one, would run now
    assert [c.finds - b for c, b in zip(collections, before, strict=True)] == [1, 1, 1]
    await outbox.stop()
    await consumer.stop()


async def test_a_nudge_naming_its_collection_reads_only_that_one(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    collections = [CountingFinds(mongo_db[f"named_{n}"]) for n in range(3)]
    outbox = OutboxRelay(bus, collections, owner="relay-m", poll_seconds=60, batch=10)  # type: ignore[arg-type]
    await outbox.start()
    await eventually(lambda: asyncio.sleep(0, collections[2].finds), lambda n: n >= 1)
    before = [c.finds for c in collections]
    await collections[1].insert_one(
        {"_id": "a", **outbox_fields([envelope(Pinged(n=1), source="/t")])}
    )
    outbox.nudge(collections[1].name)
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 1)
    await eventually(
        lambda: collections[1].find_one({"_id": "a"}), lambda doc: doc[PENDING] is False
    )
    assert [c.finds - b for c, b in zip(collections, before, strict=True)] == [0, 1, 0]
    await outbox.stop()
    await consumer.stop()


async def test_the_poll_reads_every_collection_while_named_nudges_keep_coming(
    make_bus: Any, mongo_db: Any
) -> None:
    """Nudges naming one collection, faster than the poll: a document due in another one
    (another replica's, or one whose publish failed) is still published at the poll."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    busy, quiet = mongo_db.named_busy, CountingFinds(mongo_db.named_quiet)
    outbox = OutboxRelay(bus, [busy, quiet], owner="relay-q", poll_seconds=0.3, batch=10)  # type: ignore[list-item]
    await outbox.start()
    stop = asyncio.Event()

    async def nudging() -> None:
        while not stop.is_set():
            outbox.nudge(busy.name)
            await asyncio.sleep(0.01)

    nudger = asyncio.create_task(nudging())
    try:
        # the start-up cycle over both is behind us
        await eventually(lambda: asyncio.sleep(0, quiet.finds), lambda n: n >= 1)
        await quiet.insert_one({"_id": "q", **outbox_fields([envelope(Pinged(n=2), source="/t")])})
        await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 1, timeout=5)
    finally:
        stop.set()
        await nudger
        await outbox.stop()
        await consumer.stop()


async def test_more_than_a_batch_due_is_published_without_waiting_for_the_poll(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    outbox = OutboxRelay(bus, [mongo_db.backlog], owner="relay-b", poll_seconds=600, batch=2)
    await outbox.start()
    for i in range(7):
        await mongo_db.backlog.insert_one(
            {"_id": i, **outbox_fields([envelope(Pinged(n=i), source="/t")])}
        )
    outbox.nudge()
    # Four batches of at most two: only the full ones run again at once, so without that the
    # rest would wait for the poll ten minutes away.
    await eventually(lambda: asyncio.sleep(0, len(received)), lambda n: n == 7)
    await outbox.stop()
    await consumer.stop()


async def test_a_handed_over_document_is_published_and_cleared_without_being_read(
    make_bus: Any, mongo_db: Any
) -> None:
    """A writer in the relay's process inserts the document leased to the relay and hands it
    over: its events go out in order and its outbox is cleared, with no claim (no read)."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db, prefetch=1)  # queue order
    things = CountingFinds(mongo_db.handed)
    outbox = OutboxRelay(bus, [things], owner="relay-h", poll_seconds=60)  # type: ignore[list-item]
    await outbox.start()
    await eventually(lambda: asyncio.sleep(0, things.finds), lambda n: n >= 1)  # start-up claim
    before = things.finds
    events = [envelope(Pinged(n=i), source="/t") for i in range(2)]
    doc = {"_id": "h", "state": 1, **outbox.claimed_fields(events)}
    assert (
        doc[PENDING] is True and doc[OWNER].startswith("relay-h/handoff") and doc[LEASE] > utcnow()
    )
    await mongo_db.handed.insert_one(doc)
    outbox.hand_off(things, [doc])  # type: ignore[arg-type]
    await eventually(
        lambda: asyncio.sleep(0, [ce.id for ce in received]), lambda ids: len(ids) == 2
    )
    assert [ce.id for ce in received] == [e.id for e in events]
    stored = await eventually(
        lambda: mongo_db.handed.find_one({"_id": "h"}), lambda d: d[PENDING] is False
    )
    assert stored["_outbox"] == [] and stored[OWNER] is None and stored["state"] == 1
    assert things.finds == before
    await outbox.stop()
    await consumer.stop()


async def test_a_document_never_handed_over_is_claimed_once_its_lease_runs_out(
    make_bus: Any, mongo_db: Any
) -> None:
    """The writer's process stopped between the insert and the hand-over: the document is
    leased to a relay that will never publish it, so another relay claims it after the lease
    (at least once, as after any relay's crash)."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    gone = relay(bus, mongo_db.things, owner="gone", lease_seconds=3)
    event = envelope(Pinged(n=3), source="/t")
    await mongo_db.things.insert_one({"_id": 3, **gone.claimed_fields([event])})
    live = relay(bus, mongo_db.things, owner="alive")
    assert await live.run_once() == 0  # the lease is still running
    await eventually(live.run_once, lambda n: n == 1, timeout=15, what="lease expiry")
    await eventually(
        lambda: asyncio.sleep(0, [ce.id for ce in received]), lambda ids: ids == [event.id]
    )
    await consumer.stop()


async def test_a_handed_over_event_the_broker_returns_is_retried_by_the_claims(
    make_bus: Any, mongo_db: Any
) -> None:
    bus = await make_bus()  # nothing bound yet: the publish comes back
    outbox = relay(bus, mongo_db.things, owner="relay-r")
    await outbox.start()
    event = envelope(Pinged(n=7), source="/t")
    doc = {"_id": 7, **outbox.claimed_fields([event])}
    await mongo_db.things.insert_one(doc)
    outbox.hand_off(mongo_db.things, [doc])
    stored = await eventually(
        lambda: mongo_db.things.find_one({"_id": 7}), lambda d: d.get("_outbox_failures") == 1
    )
    assert stored[PENDING] is True and [e["id"] for e in stored["_outbox"]] == [event.id]
    consumer, received = await collecting_consumer(bus, mongo_db)  # now a queue is bound
    await eventually(
        lambda: asyncio.sleep(0, [ce.id for ce in received]),
        lambda ids: event.id in ids,
        timeout=15,
        what="retried publish",
    )
    await eventually(lambda: mongo_db.things.find_one({"_id": 7}), lambda d: d[PENDING] is False)
    await outbox.stop()
    await consumer.stop()


class CountingWrites:
    """A real collection that counts the commands written to it, by method."""

    def __init__(self, collection: Any) -> None:
        self.collection, self.calls = collection, []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.collection, name)
        if name in {"insert_one", "insert_many", "update_one", "update_many", "delete_many"}:
            self.calls.append(name)
        return attribute


async def test_inserts_with_events_are_published_and_settled_by_one_delete_per_batch(
    make_bus: Any, mongo_db: Any
) -> None:
    """Concurrent inserts of a writer in the relay's process: each batch is one ordered insert
    led by the document carrying its events, handed over; every event goes out once and the
    relay settles the batch by deleting that one document, writing none of the records."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    records = CountingWrites(mongo_db.records)
    outbox = OutboxRelay(bus, [records], owner="relay-b", poll_seconds=60)  # type: ignore[list-item]
    await outbox.start()
    inserts = InsertsWithEvents(records, lambda: outbox)  # type: ignore[arg-type]
    events = {f"r{i}": envelope(Pinged(n=i), source="/t", subject=f"r{i}") for i in range(20)}
    handed = await asyncio.gather(
        *(
            inserts.insert({"_id": ref, "n": i}, [event])
            for i, (ref, event) in enumerate(events.items())
        )
    )
    assert all(handed)
    stored = await mongo_db.records.find({"_id": {"$in": list(events)}}).to_list()
    assert len(stored) == 20 and all(r[PENDING] is False and r[EVENTS] == [] for r in stored)
    await eventually(
        lambda: asyncio.sleep(0, sorted(ce.id for ce in received)),
        lambda ids: ids == sorted(e.id for e in events.values()),
        what="every event once",
    )
    left = await eventually(
        lambda: mongo_db.records.count_documents({"_id": {"$regex": "^outbox-batch:"}}),
        lambda n: n == 0,
        what="batch documents deleted",
    )
    assert left == 0
    batches = records.calls.count("insert_many")
    assert 1 <= batches < 20, records.calls
    assert "update_many" not in records.calls and "update_one" not in records.calls
    assert records.calls.count("delete_many") == batches
    await outbox.stop()
    await consumer.stop()


async def test_a_batch_nobody_handed_over_is_published_for_the_records_written_only(
    make_bus: Any, mongo_db: Any
) -> None:
    """The writer's process did not hand its batches over (its relay runs elsewhere, or it
    stopped). A claim publishes the events of the records that exist; an entry whose record
    was never written (its insert failed, its caller was told) is dropped once the batch is
    older than the grace, and the batch document goes."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    inserts = InsertsWithEvents(mongo_db.records, lambda: None)
    written = [envelope(Pinged(n=i), source="/t") for i in range(3)]
    assert not any(
        await asyncio.gather(
            *(inserts.insert({"_id": f"w{i}"}, [e]) for i, e in enumerate(written))
        )
    )
    never = envelope(Pinged(n=99), source="/t")
    orphan = outbox_batch(
        [("never-written", [never])], now=utcnow() - GUARD_GRACE - timedelta(seconds=1)
    )
    await mongo_db.records.insert_one(orphan)
    live = relay(bus, mongo_db.records, owner="claims")
    assert await live.run_once() == 3
    await eventually(
        lambda: asyncio.sleep(0, sorted(ce.id for ce in received)),
        lambda ids: ids == sorted(e.id for e in written),
        what="the written records' events",
    )
    assert await mongo_db.records.count_documents({"_id": {"$regex": "^outbox-batch:"}}) == 0
    assert await live.run_once() == 0
    assert never.id not in [ce.id for ce in received]
    await consumer.stop()


async def test_a_young_batch_entry_whose_record_is_not_there_yet_is_held_then_published(
    make_bus: Any, mongo_db: Any
) -> None:
    """A claim that meets a batch whose record insert may still be under way (the batch is
    younger than the grace) publishes the entries whose records exist, keeps the other, and
    claims the batch again a few seconds later: by then the record is there."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    now = utcnow()
    clock = {"now": now}
    live = relay(bus, mongo_db.records, owner="claims", clock=lambda: clock["now"])
    here, late = envelope(Pinged(n=1), source="/t"), envelope(Pinged(n=2), source="/t")
    await mongo_db.records.insert_one({"_id": "here", **outbox_fields([])})
    batch = outbox_batch([("here", [here]), ("late", [late])], now=now)
    await mongo_db.records.insert_one(batch)
    assert await live.run_once() == 1
    kept = await mongo_db.records.find_one({"_id": batch["_id"]})
    assert [e["id"] for e in kept[EVENTS]] == [late.id] and kept[PENDING] is True
    assert kept[LEASE] > now and kept[BATCH_AT] is not None
    assert await live.run_once() == 0  # claimed again only after the retry delay
    await mongo_db.records.insert_one({"_id": "late", **outbox_fields([])})
    clock["now"] = now + timedelta(seconds=6)
    assert await live.run_once() == 1
    await eventually(
        lambda: asyncio.sleep(0, sorted(ce.id for ce in received)),
        lambda ids: ids == sorted([here.id, late.id]),
        what="both events",
    )
    assert await mongo_db.records.find_one({"_id": batch["_id"]}) is None
    await consumer.stop()


async def test_a_batch_handed_to_a_relay_that_stopped_is_claimed_once_its_lease_runs_out(
    make_bus: Any, mongo_db: Any
) -> None:
    """The writer handed its batch to its relay, which stopped before publishing it (the
    process ended): another relay claims the batch after the lease and publishes its events,
    the records being there."""
    bus = await make_bus()
    consumer, received = await collecting_consumer(bus, mongo_db)
    gone = relay(bus, mongo_db.records, owner="gone", lease_seconds=2)  # never started
    inserts = InsertsWithEvents(mongo_db.records, lambda: gone)
    events = [envelope(Pinged(n=i), source="/t") for i in range(3)]
    assert all(
        await asyncio.gather(*(inserts.insert({"_id": f"g{i}"}, [e]) for i, e in enumerate(events)))
    )
    live = relay(bus, mongo_db.records, owner="alive")
    assert await live.run_once() == 0  # still leased to the relay that stopped
    published = [0]

    async def claim() -> int:
        published[0] += await live.run_once()
        return published[0]

    await eventually(claim, lambda n: n == 3, timeout=15, what="lease expiry")
    await eventually(
        lambda: asyncio.sleep(0, sorted(ce.id for ce in received)),
        lambda ids: ids == sorted(e.id for e in events),
    )
    assert await mongo_db.records.count_documents({"_id": {"$regex": "^outbox-batch:"}}) == 0
    await consumer.stop()
