"""The transactional outbox without transactions: events ride inside the changed document.

A state change and the events it causes are one single-document write: the events are pushed
onto the document's ``_outbox`` array in the same ``insert_one``/``update_one`` that changes the
state (``with_outbox`` / ``outbox_fields``). MongoDB makes a single-document write atomic, so
either both happen or neither. The relay then:

1. claims a batch of documents with pending events by setting a lease (``_outbox_lease``)
   and a claim token where the lease has run out, so replicas of a service do not publish the
   same events at once;
2. publishes each document's events in order, each waiting for the broker's confirm
   (documents of a batch concurrently);
3. ``$pullAll``s the confirmed ones and drops the lease; a document whose outbox is empty is no
   longer pending, and a tombstone (a deleted aggregate kept only to carry its last events) is
   removed.

A crash between 2 and 3 republishes on the next claim (after the lease runs out): consumers
absorb the duplicate with their inbox. Events of one document are published in order; there is
no order across documents.

Documents inserted in batches may carry their events in one document per batch instead
(``outbox_batch``): one document fewer to clear per event (download links: the per-record
clear was 0.5 ms of the database's 1.6 ms per link on FerretDB v1, one rewrite of the record
and all its indexes each). The batch document is inserted in the same ordered ``insert``
before its records, so no record is ever acknowledged without its event; each entry names its
record (``ref``), and a relay publishing a batch it claimed (not one handed over by the writer,
which knows its records were written) first checks each record exists: an entry whose record
is missing is held for ``GUARD_GRACE`` (the insert may still be under way) and then dropped,
since that record's insert failed and its caller was answered with the error. The batch
document is a tombstone: removed once every entry is out.

A writer in the relay's own process may skip step 1: it inserts the document already leased to
this relay (``claimed_fields``) and, once the insert is acknowledged, hands it over
(``hand_off``); the relay publishes it from memory and clears it (step 3) without reading it.
On FerretDB v1 each claim reads every pending document of the collection (the lease condition
is not pushed down), so under a burst of inserts a backlog made every claim slower than the
last (download links: 1,460 of 2,000 events still pending after the burst). Should the process
stop before the relay got to it, the lease runs out and any relay claims it as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from portal_shared.batching import GroupCommit, concern_failure
from portal_shared.bus.connection import Bus, PublishFailed
from portal_shared.clock import Clock, utcnow
from portal_shared.events.base import CloudEvent, parse_cloudevent
from portal_shared.logging import get_logger
from portal_shared.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_RELAY_LAG

log = get_logger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PENDING = "_outbox_pending"
LEASE = "_outbox_lease"
OWNER = "_outbox_owner"
EVENTS = "_outbox"
TOMBSTONE = "_outbox_tombstone"
FAILURES = "_outbox_failures"
BATCH_AT = "_outbox_batch_at"  # when an outbox_batch document was made
REF = "ref"  # an outbox_batch entry's record (its _id, in the same collection)
# How long a batch entry whose record is not (yet) found is held before it is dropped: far
# beyond any insert (the driver's and the server's timeouts end one within seconds).
GUARD_GRACE = timedelta(minutes=5)
GUARD_RETRY = timedelta(seconds=5)  # a batch with held entries is claimed again after this
HANDOFF_POLL_SECONDS = 5.0  # the timer's claims while documents are handed over
# Handed-over documents held in memory at most: while the broker confirms nothing (hung, or
# blocking publishers on an alarm) the relay waits in a publish and writers keep handing over.
MAX_HANDED = 10_000
STOP_SECONDS = 15.0  # how long ``OutboxRelay.stop`` waits for the cycle before cancelling it


@dataclass(frozen=True)
class Guard:
    """What a relay does with a claimed ``outbox_batch`` document's entries (by event id)
    whose record is missing: hold them (claimed again later) or drop them."""

    held: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _entry(cloudevent: CloudEvent, ref: Any = None) -> dict[str, Any]:
    entry = {"id": cloudevent.id, "type": cloudevent.type, "body": cloudevent.to_json().decode()}
    if ref is not None:
        entry[REF] = ref
    return entry


def outbox_fields(events: Sequence[CloudEvent]) -> dict[str, Any]:
    """Fields to put in a document being inserted together with its events."""
    return {EVENTS: [_entry(e) for e in events], PENDING: bool(events), LEASE: EPOCH}


def with_outbox(update: dict[str, Any], events: Sequence[CloudEvent]) -> dict[str, Any]:
    """Add ``events`` to an update document, to be applied atomically with it."""
    if not events:
        return update
    merged = {op: dict(fields) for op, fields in update.items()}
    merged.setdefault("$push", {})[EVENTS] = {"$each": [_entry(e) for e in events]}
    merged.setdefault("$set", {})[PENDING] = True
    return merged


def tombstone(doc_id: Any, events: Sequence[CloudEvent]) -> dict[str, Any]:
    """A replacement document that keeps nothing of a deleted aggregate but its last events."""
    return {"_id": doc_id, TOMBSTONE: True, **outbox_fields(events)}


def outbox_batch(
    events_by_ref: Sequence[tuple[Any, Sequence[CloudEvent]]],
    *,
    now: datetime,
    lease_until: datetime = EPOCH,
    owner: str | None = None,
) -> dict[str, Any]:
    """The one document carrying the events of a batch of records (``(record _id, events)``
    each): insert it first, in the same ordered ``insert`` as the records, which themselves
    carry ``outbox_fields([])``. A tombstone: the relay removes it once all is out."""
    entries = [_entry(e, ref) for ref, events in events_by_ref for e in events]
    return {
        "_id": f"outbox-batch:{uuid.uuid4()}",
        TOMBSTONE: True,
        EVENTS: entries,
        PENDING: bool(entries),
        LEASE: lease_until,
        OWNER: owner,
        BATCH_AT: now,
    }


class OutboxRelay:
    """Publishes the pending events of some collections; one per process and service."""

    def __init__(
        self,
        bus: Bus,
        collections: Sequence[AsyncCollection[dict[str, Any]]],
        *,
        owner: str,
        poll_seconds: float = 0.2,
        lease_seconds: float = 30.0,
        batch: int = 50,
        clock: Clock = utcnow,
        max_handed: int = MAX_HANDED,
        stop_seconds: float = STOP_SECONDS,
    ) -> None:
        self.bus = bus
        self.collections = list(collections)
        self.owner = owner
        self.poll = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.clock = clock
        self.stop_seconds = stop_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.last_cycle_ok = True
        self._full_batch = False  # the last cycle left documents due (it claimed a full batch)
        # Collections named by nudges since the last cycle; None: every one (a nudge that
        # names none, and the first cycle).
        self._named: set[str] | None = None
        self._read_all_at = float("-inf")  # loop time of the last cycle over every collection
        self._handed: list[tuple[AsyncCollection[dict[str, Any]], dict[str, Any]]] = []
        self.max_handed = max_handed
        self._handoff_owner = self._new_handoff_owner()
        self._last_handoff = -float("inf")
        self._settling: asyncio.Task[None] | None = None  # clearing the last handed-over batch

    async def ensure_indexes(self) -> None:
        for collection in self.collections:
            await collection.create_index([(PENDING, 1), (LEASE, 1)])

    def nudge(self, collection: str | None = None) -> None:
        """Wake the relay now (a write just added events) instead of at the next poll; a
        nudge naming the ``collection`` written makes that cycle read only the collections
        named (the others are still read at least every ``poll_seconds``)."""
        if collection is None or self._named is None:
            self._named = None
        else:
            self._named.add(collection)
        self._wake.set()

    def _new_handoff_owner(self) -> str:
        return f"{self.owner}/handoff-{uuid.uuid4().hex[:12]}"

    def claimed_fields(self, events: Sequence[CloudEvent]) -> dict[str, Any]:
        """``outbox_fields`` of a document to insert already leased to this relay: hand it
        over with ``hand_off`` once the insert is acknowledged (never before: the relay clears
        the outbox of a document that must exist)."""
        fields = outbox_fields(events)
        if events:
            fields[LEASE] = self.clock() + self.lease
            fields[OWNER] = self._handoff_owner
        return fields

    def claimed_batch(
        self, events_by_ref: Sequence[tuple[Any, Sequence[CloudEvent]]]
    ) -> dict[str, Any]:
        """An ``outbox_batch`` leased to this relay: hand it over with ``hand_off`` once the
        insert of it and of every one of its records is acknowledged (else let it be: the
        lease runs out and a claim publishes what was written)."""
        now = self.clock()
        return outbox_batch(
            events_by_ref, now=now, lease_until=now + self.lease, owner=self._handoff_owner
        )

    def hand_off(
        self, collection: AsyncCollection[dict[str, Any]], documents: Sequence[dict[str, Any]]
    ) -> None:
        """Publish these inserted documents (with ``claimed_fields``) without claiming them:
        no nudge, so the cycle this wakes reads no collection. Beyond ``max_handed`` held
        (the broker confirms nothing), a document is not held: it stays leased, and the claims
        publish it once the lease has run out, as if this process had stopped."""
        room = max(0, self.max_handed - len(self._handed))
        self._handed.extend([(collection, doc) for doc in documents if doc.get(EVENTS)][:room])
        self._last_handoff = time.monotonic()
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.owner}")

    async def stop(self) -> None:
        """Let the cycle end (what was handed over goes out), at most ``stop_seconds``; then
        it is cancelled: what it had not cleared stays leased and is claimed after the lease.
        Either way the caller goes on with its own shutdown (closing the bus and the client)."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=self.stop_seconds)
        except TimeoutError:  # a hung broker: a publish waits for its own timeout
            log.warning("outbox_relay_stop_timeout", seconds=self.stop_seconds)
        except asyncio.CancelledError:
            if not self._task.cancelled():
                raise  # our caller was cancelled, not the relay

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            named, self._named = self._named, set()
            if named is not None and loop.time() - self._read_all_at >= self._poll_interval():
                named = None  # nudges keep coming: the poll's read of every collection too
            if named is None:
                self._read_all_at = loop.time()
            try:
                published = await self._publish_handed_off()
                published += await self.run_once(named)  # named empty: reads nothing
                self.last_cycle_ok = True
            except Exception as exc:  # database or broker away: keep trying, lose nothing
                self.last_cycle_ok = False
                self._named = None  # the next cycle reads every collection again
                published = 0
                log.warning("outbox_cycle_failed", error=repr(exc))
            if published and self._full_batch:
                self._named = None  # a collection had more than a batch due: the rest now
                continue
            if published and self._handed:
                continue  # more was handed over meanwhile
            # Otherwise every due document was claimed; one written since has nudged (the
            # event is set, so the wait returns at once) or the next poll finds it. Running
            # again after every publish cost one empty read of each collection per cycle
            # (3 of a registration's 11 commands in identity).
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval())
            except TimeoutError:
                self._named = None  # the poll: every collection
        with contextlib.suppress(Exception):  # stopping: what was handed over goes out now
            while self._handed and await self._publish_handed_off():
                pass
        if self._settling is not None:
            with contextlib.suppress(Exception):
                await self._settling

    def _poll_interval(self) -> float:
        """Seconds between reads of every collection: ``poll``, or at least
        ``HANDOFF_POLL_SECONDS`` while documents are handed over (some wait, or one came
        within the last second). On FerretDB v1 a claim reads every pending document of the
        collection, handed-over ones included (the lease condition is not pushed down): at
        1,500 pending, 85 ms of FerretDB's CPU per claim, five times a second, which let a
        burst's backlog grow faster than the relay cleared it (once a second still cost
        0.16 ms of FerretDB CPU per download link during a burst, and 0.4 ms per link in
        the burst's wake). Only documents nobody handed over or nudged about wait for it: a
        lease run out (a relay that stopped, 30 s by default), a publish to retry."""
        settling = self._settling is not None and not self._settling.done()
        if self._handed or settling or time.monotonic() - self._last_handoff < 1.0:
            return max(self.poll, HANDOFF_POLL_SECONDS)
        return self.poll

    async def _publish_handed_off(self) -> int:
        """Publish and clear up to ``batch`` handed-over documents per collection. One whose
        lease ran out is left to the claims (a relay may have claimed it meanwhile)."""
        handed, self._handed = self._handed[: self.batch], self._handed[self.batch :]
        # Documents inserted from now on carry another owner, so the clear of this batch
        # (one update per owner) reads the pending documents of this window only.
        self._handoff_owner = self._new_handoff_owner()
        now = self.clock()
        by_collection: dict[str, tuple[AsyncCollection[dict[str, Any]], list[Any]]] = {}
        for collection, doc in handed:
            if doc.get(LEASE, EPOCH) > now:
                by_collection.setdefault(collection.name, (collection, []))[1].append(doc)
        total = 0
        for collection, docs in by_collection.values():
            outcomes = await asyncio.gather(*(self._publish_events(doc) for doc in docs))
            # Cleared while the next batch is published (the previous clear first). Should
            # a clear fail, its documents stay leased and the claims publish them again
            # after the lease.
            previous, self._settling = self._settling, None
            if previous is not None:
                await previous
            self._settling = asyncio.create_task(
                self._settle_handed_off(collection, docs, outcomes)
            )
            total += sum(len(confirmed) for confirmed, _failure in outcomes)
        return total

    async def run_once(self, only: set[str] | None = None) -> int:
        """Publish what is pending now: up to ``batch`` documents per collection (of those
        named in ``only``, if given)."""
        total = 0
        self._full_batch = False
        for collection in self.collections:
            if only is not None and collection.name not in only:
                continue
            total += await self._relay_batch(collection)
            if self._stopping:
                break
        return total

    async def _relay_batch(self, collection: AsyncCollection[dict[str, Any]]) -> int:
        docs = await self._claim(collection)
        if not docs:
            return 0
        self._full_batch = self._full_batch or len(docs) >= self.batch
        guards = await asyncio.gather(*(self._guard(collection, doc) for doc in docs))
        outcomes = await asyncio.gather(
            *(self._publish_events(doc, guard) for doc, guard in zip(docs, guards, strict=True))
        )
        retry = {
            doc["_id"]: self.clock() + GUARD_RETRY
            for doc, guard in zip(docs, guards, strict=True)
            if guard.held
        }
        await self._settle(collection, docs, outcomes, retry)
        return sum(
            sum(1 for entry in confirmed if entry["id"] not in guard.dropped)
            for (confirmed, _failure), guard in zip(outcomes, guards, strict=True)
        )

    async def _guard(
        self, collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]
    ) -> Guard:
        """For an ``outbox_batch`` document: the entries whose record is not found, to hold
        (the batch is younger than ``GUARD_GRACE``) or to drop (older). One read by ``_id``
        per record (FerretDB v1 pushes ``$in`` down into no index): claims of batches are the
        recovery path, after a process stopped before its relay published them."""
        refs = [entry[REF] for entry in doc.get(EVENTS) or [] if REF in entry]
        if not refs:
            return Guard()
        found = await asyncio.gather(
            *(collection.find_one({"_id": ref}, {"_id": 1}) for ref in dict.fromkeys(refs))
        )
        present = {record["_id"] for record in found if record is not None}
        missing = [e for e in doc[EVENTS] if REF in e and e[REF] not in present]
        if not missing:
            return Guard()
        made = doc.get(BATCH_AT)
        if isinstance(made, datetime) and made.tzinfo is None:
            made = made.replace(tzinfo=UTC)  # PyMongo's default: naive UTC
        if made is not None and self.clock() - made < GUARD_GRACE:
            return Guard(held=[e["id"] for e in missing])
        log.warning(
            "outbox_batch_entries_dropped",
            reason="record_not_written",
            dropped=len(missing),
            event_ids=[e["id"] for e in missing],
        )
        return Guard(dropped=[e["id"] for e in missing])

    async def _claim(self, collection: AsyncCollection[dict[str, Any]]) -> list[dict[str, Any]]:
        """Lease up to ``batch`` pending documents in three round trips, whatever the batch.

        Every query names ``PENDING: True`` (a claimed document stays pending until its
        outbox is cleared): FerretDB v1 pushes only top-level equalities down, not ``$in``,
        so without it a query would read the whole collection instead of the pending index.

        Replicas racing for the same documents each get a disjoint share: the lease is set
        only where it has run out, and each claim carries its own token.
        """
        now = self.clock()
        due = {PENDING: True, LEASE: {"$lt": now}}
        candidates = await collection.find(due, {"_id": 1}).limit(self.batch).to_list()
        if not candidates:
            return []
        claim = f"{self.owner}/{uuid.uuid4().hex[:12]}"
        lease = {"$set": {LEASE: now + self.lease, OWNER: claim}}
        if len(candidates) == 1:  # the usual case at low load: one round trip fewer
            doc = await collection.find_one_and_update(
                {"_id": candidates[0]["_id"], **due}, lease, return_document=ReturnDocument.AFTER
            )
            return [doc] if doc is not None and doc.get(OWNER) == claim else []
        ids = {"_id": {"$in": [c["_id"] for c in candidates]}}
        await collection.update_many({**ids, **due}, lease)
        return await collection.find({**ids, PENDING: True, OWNER: claim}).to_list()

    async def _publish_events(
        self, doc: dict[str, Any], guard: Guard | None = None
    ) -> tuple[list[dict[str, Any]], PublishFailed | None]:
        """Publish one document's events in order; stop at the first failure. An entry the
        ``guard`` drops counts as settled without being published; one it holds is skipped."""
        confirmed: list[dict[str, Any]] = []
        for entry in doc.get(EVENTS) or []:
            if guard is not None and entry["id"] in guard.held:
                continue
            if guard is not None and entry["id"] in guard.dropped:
                confirmed.append(entry)
                continue
            cloudevent = parse_cloudevent(entry["body"])
            try:
                await self.bus.publish(cloudevent)
            except PublishFailed as exc:
                return confirmed, exc
            confirmed.append(entry)
            OUTBOX_RELAY_LAG.labels(self.bus.service).observe(
                max(0.0, (self.clock() - cloudevent.time).total_seconds())
            )
        return confirmed, None

    async def _settle(
        self,
        collection: AsyncCollection[dict[str, Any]],
        docs: list[dict[str, Any]],
        outcomes: list[tuple[list[dict[str, Any]], PublishFailed | None]],
        retry: dict[Any, datetime] | None = None,
    ) -> None:
        """Clear what was published (a document in ``retry`` is claimable again from then).
        The common case (every event of the document out, none added since the claim) is one
        ``update_many`` per event count: an outbox still of the claimed size holds exactly the
        published events, since only relays remove entries."""
        claim = docs[0][OWNER]
        by_count: dict[int, list[Any]] = {}
        tombstones = False
        for doc, (confirmed, failure) in zip(docs, outcomes, strict=True):
            if failure is None:
                by_count.setdefault(len(confirmed), []).append(doc["_id"])
                tombstones = tombstones or bool(doc.get(TOMBSTONE))
        cleared = 0
        for count, ids in by_count.items():
            unchanged = {"_id": {"$in": ids}, PENDING: True, OWNER: claim, EVENTS: {"$size": count}}
            if tombstones:
                cleared += (
                    await collection.delete_many({**unchanged, TOMBSTONE: True})
                ).deleted_count
            cleared += (
                await collection.update_many(
                    unchanged,
                    {"$set": {EVENTS: [], PENDING: False, LEASE: EPOCH, FAILURES: 0, OWNER: None}},
                )
            ).matched_count
        if cleared == len(docs):
            return
        # the rest (a failure, or events added meanwhile) one by one: those still holding
        # this claim's token
        ids = [doc["_id"] for doc in docs]
        held = {
            d["_id"]
            for d in await collection.find(
                {"_id": {"$in": ids}, PENDING: True, OWNER: claim}, {"_id": 1}
            ).to_list()
        }
        updates = []
        for doc, (confirmed, failure) in zip(docs, outcomes, strict=True):
            if doc["_id"] not in held:
                continue
            update = self._release(doc, failure, (retry or {}).get(doc["_id"]))
            if confirmed:  # exact entries: FerretDB v1 has no $pull by condition
                update["$pullAll"] = {EVENTS: confirmed}
            updates.append(UpdateOne({"_id": doc["_id"], OWNER: claim}, update))
        if updates:
            await collection.bulk_write(updates, ordered=False)

    async def _settle_handed_off(
        self,
        collection: AsyncCollection[dict[str, Any]],
        docs: list[dict[str, Any]],
        outcomes: list[tuple[list[dict[str, Any]], PublishFailed | None]],
    ) -> None:
        """``_settle`` for handed-over documents: one ``update_many`` per owner (the documents
        inserted between two batches share one) and event count, naming the owner, which
        FerretDB v1 pushes down with ``_outbox_pending``: it reads that window's documents,
        not every pending one (0.73 against 1.15 ms of database CPU per document for one
        by-``_id`` statement each, 50 documents beside 500 pending)."""
        clear = {"$set": {EVENTS: [], PENDING: False, LEASE: EPOCH, FAILURES: 0, OWNER: None}}
        groups: dict[tuple[str, int, bool], list[Any]] = {}
        for doc, (confirmed, failure) in zip(docs, outcomes, strict=True):
            if failure is None:
                key = (doc[OWNER], len(confirmed), bool(doc.get(TOMBSTONE)))
                groups.setdefault(key, []).append(doc["_id"])
        done = 0
        for (owner, count, dead), ids in groups.items():
            unchanged = {"_id": {"$in": ids}, PENDING: True, OWNER: owner, EVENTS: {"$size": count}}
            if dead:
                done += (await collection.delete_many(unchanged)).deleted_count
            else:
                done += (await collection.update_many(unchanged, clear)).matched_count
        if done == len(docs):
            return
        # A failure, or events added since the insert: drop what went out and the lease, each
        # document still leased to this relay (a cleared one no longer is).
        released = []
        for doc, (confirmed, failure) in zip(docs, outcomes, strict=True):
            update = self._release(doc, failure)
            if confirmed:
                update["$pullAll"] = {EVENTS: confirmed}
            held = {"_id": doc["_id"], PENDING: True, OWNER: doc[OWNER]}
            released.append(UpdateOne(held, update))
        await collection.bulk_write(released, ordered=False)

    def _release(
        self, doc: dict[str, Any], failure: PublishFailed | None, retry_at: datetime | None = None
    ) -> dict[str, Any]:
        if failure is None:
            return {"$set": {LEASE: retry_at or EPOCH, FAILURES: 0}}
        failures = int(doc.get(FAILURES) or 0) + 1
        backoff = min(60.0, 0.5 * 2 ** min(failures, 8)) * random.uniform(0.8, 1.2)
        OUTBOX_PUBLISH_FAILURES.labels(self.bus.service, failure.reason).inc()
        log.warning(
            "outbox_publish_failed",
            reason=failure.reason,
            error=str(failure),
            retry_in_seconds=round(backoff, 2),
            document_failures=failures,
        )
        return {"$set": {LEASE: self.clock() + timedelta(seconds=backoff), FAILURES: failures}}


Insertion = tuple[dict[str, Any], Sequence[CloudEvent]]


class InsertsWithEvents:
    """Group-committed inserts of new documents with their events, the events of a batch in
    one ``outbox_batch`` document: one ordered ``insert`` of that document and then the
    batch's documents (each with ``outbox_fields([])``), so that the relay clears one
    document per batch instead of one per document. ``insert`` returns once its document is
    written (acknowledged): True if the relay of this process (``relay()``) was handed the
    batch, False if the caller should nudge the relay (it runs elsewhere, or part of the
    batch failed: the claims publish what was written once the lease has run out). Each
    caller gets its own outcome, as ``insert_one`` would raise it (``DuplicateKeyError`` for
    its document); a document after a failed one in the same batch is not written and its
    caller gets ``OperationFailure``."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        relay: Callable[[], OutboxRelay | None],
        *,
        clock: Clock = utcnow,
        max_batch: int = 100,
    ) -> None:
        self.collection = collection
        self._relay = relay
        self._clock = clock
        self._group: GroupCommit[Insertion, bool] = GroupCommit(self._run, max_batch=max_batch)

    async def insert(self, document: dict[str, Any], events: Sequence[CloudEvent]) -> bool:
        return await self._group.submit((document, events))

    async def _run(self, items: list[Insertion]) -> list[bool | BaseException]:
        relay = self._relay()
        pairs = [(document["_id"], events) for document, events in items]
        documents = [{**document, **outbox_fields([])} for document, _ in items]
        batch = (
            relay.claimed_batch(pairs)
            if relay is not None
            else outbox_batch(pairs, now=self._clock())
        )
        carried = bool(batch[EVENTS])
        try:
            await self.collection.insert_many(
                [batch, *documents] if carried else documents, ordered=True
            )
        except BulkWriteError as exc:
            return _ordered_outcomes(exc, len(documents), offset=1 if carried else 0)
        if relay is None or not carried:
            return [False] * len(documents)
        relay.hand_off(self.collection, [batch])
        return [True] * len(documents)


def _ordered_outcomes(error: BulkWriteError, size: int, *, offset: int) -> list[Any]:
    """Each document's outcome of an ordered insert that stopped at its first error (the
    batch document at index 0 when ``offset`` is 1): the ones before it written (False: not
    handed over), that one failed with its error, the rest not written."""
    concern = concern_failure(error)
    if concern is not None:  # nothing is acknowledged as asked
        return [concern] * size
    first = (error.details.get("writeErrors") or [{"index": 0}])[0]
    at = int(first.get("index", 0)) - offset  # the failed document's index among ours
    kind = DuplicateKeyError if first.get("code") == 11000 else OperationFailure
    own = kind(first.get("errmsg", ""), first.get("code"), first)
    skipped = OperationFailure("not written: a document before it in its batch failed")
    if at < 0:  # the batch document itself: nothing was written
        return [OperationFailure(first.get("errmsg", ""), first.get("code"), first)] * size
    return [False] * at + [own] + [skipped] * (size - at - 1)
