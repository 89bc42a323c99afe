"""What an operator asks first: is the outbox draining, is anything parked, is the queue
keeping up, does anything consume it. Read by ``<service> ops status`` and, at every scrape,
by ``/metrics`` (the backlog, age, lag, parked and consumer gauges).

The outbox is found without the service's wiring: every collection of the service's database
holding documents with pending events counts, so the command needs only the settings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from portal_shared.bus.connection import Bus
from portal_shared.bus.topology import QueueNames
from portal_shared.metrics import (
    CONSUMER_LAG,
    CONSUMERS,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    PARKED,
)
from portal_shared.outbox import EVENTS, PENDING

# Documents read to find the oldest pending event; past this the backlog is an incident
# anyway and the age shown is a lower bound.
OLDEST_SCAN_LIMIT = 500


@dataclass(frozen=True)
class OutboxStatus:
    backlog_documents: int
    pending_events: int
    oldest_pending_age_seconds: float | None


@dataclass(frozen=True)
class QueueStatus:
    queue: str
    ready: int | None  # None: the queue does not exist (a service that consumes nothing)
    consumers: int | None
    parked: int | None


async def outbox_status(
    collections: Sequence[AsyncCollection[dict[str, Any]]], now: datetime
) -> OutboxStatus:
    backlog = events = 0
    oldest: datetime | None = None
    for collection in collections:
        backlog += await collection.count_documents({PENDING: True})
        cursor = collection.find({PENDING: True}, {EVENTS: 1}).limit(OLDEST_SCAN_LIMIT)
        async for doc in cursor:
            for entry in doc.get(EVENTS) or []:
                events += 1
                created = _event_time(entry)
                if created is not None and (oldest is None or created < oldest):
                    oldest = created
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
    return OutboxStatus(backlog, events, age)


def _event_time(entry: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(entry["body"])["time"])
    except (KeyError, TypeError, ValueError):
        return None


async def outbox_collections(db: AsyncDatabase[dict[str, Any]]) -> list[Any]:
    """Every collection of the database that has ever held an outbox (the relay's index)."""
    found = []
    for name in sorted(await db.list_collection_names()):
        collection = db[name]
        if await collection.find_one({PENDING: {"$exists": True}}, {"_id": 1}) is not None:
            found.append(collection)
    return found


async def queue_status(bus: Bus) -> QueueStatus:
    names = QueueNames(f"{bus.queue_prefix}{bus.service}")
    main = await _declared(bus, names.main)
    parking = await _declared(bus, names.parking)
    return QueueStatus(
        queue=names.main,
        ready=main[0] if main else None,
        consumers=main[1] if main else None,
        parked=parking[0] if parking else None,
    )


async def _declared(bus: Bus, queue: str) -> tuple[int, int] | None:
    """(messages ready, consumers) by a passive declare on a throwaway channel."""
    assert bus.connection is not None
    try:
        async with bus.connection.channel() as channel:
            declared = await channel.declare_queue(queue, passive=True)
            result = declared.declaration_result
            return int(result.message_count or 0), int(result.consumer_count or 0)
    except Exception:  # not found closes the channel: the service has no such queue
        return None


def update_gauges(service: str, outbox: OutboxStatus | None, queue: QueueStatus | None) -> None:
    if outbox is not None:
        OUTBOX_BACKLOG.labels(service).set(outbox.backlog_documents)
        OUTBOX_OLDEST_AGE.labels(service).set(outbox.oldest_pending_age_seconds or 0.0)
    if queue is not None and queue.ready is not None:
        CONSUMER_LAG.labels(service).set(queue.ready)
        CONSUMERS.labels(service).set(queue.consumers or 0)
    if queue is not None and queue.parked is not None:
        PARKED.labels(service).set(queue.parked)


def status_document(service: str, outbox: OutboxStatus, queue: QueueStatus) -> dict[str, Any]:
    return {
        "service": service,
        "outbox": asdict(outbox),
        "queue": asdict(queue),
    }


def render_status(document: dict[str, Any]) -> str:
    """The human view of ``ops status`` (``--json`` prints the document itself)."""
    outbox, queue = document["outbox"], document["queue"]
    age = outbox["oldest_pending_age_seconds"]

    def shown(value: Any) -> str:
        return "-" if value is None else str(value)

    return "\n".join(
        [
            f"service                 {document['service']}",
            f"outbox backlog          {outbox['backlog_documents']} document(s),"
            f" {outbox['pending_events']} event(s)",
            f"oldest pending event    {'-' if age is None else f'{age:.1f} s'}",
            f"queue                   {queue['queue']}",
            f"consumer lag            {shown(queue['ready'])} message(s) ready",
            f"consumers               {shown(queue['consumers'])}",
            f"parked                  {shown(queue['parked'])} message(s)",
        ]
    )
