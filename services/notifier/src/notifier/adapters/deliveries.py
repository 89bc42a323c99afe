"""Delivery records in MongoDB: one per event id (``_id``), claimed atomically before sending.

Only single-document operations MongoDB and FerretDB v1 both support: an insert under the
unique ``_id``, and conditional updates. The claims' inserts and the final records (sent,
failed, skipped) of deliveries handled concurrently are group-committed
(``portal_shared.batching.BatchedWrites``): one command per batch instead of one per email,
each caller still waiting for its own write, so the guarantees are those of one write each.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from portal_shared.batching import BatchedWrites
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notifier.domain.delivery import FINAL_STATUSES, DeliveryStatus

Document = dict[str, Any]
S = DeliveryStatus


class ClaimOutcome(enum.Enum):
    ACQUIRED = "acquired"  # ours to send
    FINAL = "final"  # already sent, failed or skipped: do nothing
    BUSY = "busy"  # another sender holds a live lease: try again later


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    record: Document = field(default_factory=dict)

    @property
    def taken_over(self) -> bool:
        """We took over a lease that ran out mid-send: the email may already have gone."""
        return self.record.get("previous_status") == S.SENDING


@dataclass(frozen=True, slots=True)
class NewDelivery:
    event_id: str
    event_type: str
    event_time: datetime
    user_id: str
    kind: str


class DeliveryRepository:
    def __init__(
        self, collection: AsyncCollection[Document], *, owner: str, lease_seconds: float
    ) -> None:
        self.collection = collection
        self.owner = owner
        self.lease = timedelta(seconds=lease_seconds)
        self._writes = BatchedWrites(collection)

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("user_id", 1)])
        await self.collection.create_index([("status", 1), ("updated_at", 1)])

    async def claim(
        self, delivery: NewDelivery, now: datetime, *, ours_unsent: bool = False
    ) -> Claim:
        """Reserve the event's email for us, unless it is done or another sender holds it.

        ``ours_unsent``: this sender's own claim on the event, left ``sending`` by a handling
        of ours that ended before any SMTP attempt and could not give it back (the database
        was away), is taken back at once instead of after its lease."""
        lease = {"status": S.SENDING, "owner": self.owner, "lease_until": now + self.lease}
        record = {
            "_id": delivery.event_id,
            "event_type": delivery.event_type,
            "event_time": delivery.event_time,
            "user_id": delivery.user_id,
            "kind": delivery.kind,
            "attempts": 0,
            "handlings": 1,
            "created_at": now,
            "updated_at": now,
            **lease,
        }
        try:
            await self._writes.insert(record)
            return Claim(ClaimOutcome.ACQUIRED, record)
        except DuplicateKeyError:
            pass
        return await self._claim_existing(delivery, now, lease, ours_unsent)

    async def _claim_existing(
        self, delivery: NewDelivery, now: datetime, lease: Document, ours_unsent: bool
    ) -> Claim:
        # (what the record must still hold, the status it counts as coming from)
        takeable: list[tuple[Document, DeliveryStatus]] = [
            ({"status": S.RETRYING}, S.RETRYING),
            ({"status": S.SENDING, "lease_until": {"$lt": now}}, S.SENDING),
        ]
        if ours_unsent:  # taken back as if given back: nothing went
            takeable.append(({"status": S.SENDING, "owner": self.owner}, S.RETRYING))
        for condition, status in takeable:
            taken = await self.collection.find_one_and_update(
                {"_id": delivery.event_id, **condition},
                {
                    "$set": {**lease, "previous_status": status, "updated_at": now},
                    "$inc": {"handlings": 1},
                },
                return_document=ReturnDocument.AFTER,
            )
            if taken is not None:
                return Claim(ClaimOutcome.ACQUIRED, taken)
        existing = await self.collection.find_one({"_id": delivery.event_id})
        if existing is None:  # cannot happen: records are never deleted
            return Claim(ClaimOutcome.BUSY)
        if existing["status"] in FINAL_STATUSES:
            return Claim(ClaimOutcome.FINAL, existing)
        return Claim(ClaimOutcome.BUSY, existing)

    async def mark_sent(
        self,
        event_id: str,
        *,
        now: datetime,
        attempts: int,
        message_id: str,
        smtp_reply: str,
        recipient: str,
    ) -> None:
        await self._finish(
            event_id,
            S.SENT,
            now,
            attempts,
            {
                "sent_at": now,
                "message_id": message_id,
                "smtp_reply": smtp_reply,
                "recipient": recipient,
            },
        )

    async def mark_final(
        self, event_id: str, status: DeliveryStatus, *, now: datetime, attempts: int, reason: str
    ) -> None:
        """``failed``, ``skipped_expired`` or ``skipped_deleted``, with why."""
        await self._finish(event_id, status, now, attempts, {"last_error": reason})

    async def mark_retrying(
        self, event_id: str, *, now: datetime, attempts: int, reason: str
    ) -> None:
        """Give the claim back after a temporary failure; the bus redelivers the event."""
        await self.collection.update_one(
            {"_id": event_id, "status": S.SENDING, "owner": self.owner},
            {
                "$set": {"status": S.RETRYING, "updated_at": now, "last_error": reason},
                "$inc": {"attempts": attempts},
                "$unset": {"owner": "", "lease_until": ""},
            },
        )

    async def _finish(
        self,
        event_id: str,
        status: DeliveryStatus,
        now: datetime,
        attempts: int,
        fields: Document,
    ) -> None:
        # Keyed on the id alone: if our lease ran out and another sender took over, what we
        # did still happened and the record must say so.
        await self._writes.update(
            {"_id": event_id},
            {
                "$set": {"status": status, "updated_at": now, **fields},
                "$inc": {"attempts": attempts},
                "$unset": {"owner": "", "lease_until": ""},
            },
        )

    async def forget_recipient(self, user_id: str, now: datetime) -> int:
        """Remove the address from every record of a deleted account."""
        result = await self.collection.update_many(
            {"user_id": user_id, "recipient": {"$exists": True}},
            {"$unset": {"recipient": ""}, "$set": {"recipient_forgotten_at": now}},
        )
        return result.modified_count

    async def get(self, event_id: str) -> Document | None:
        return await self.collection.find_one({"_id": event_id})


class DeletedAccounts:
    """Accounts deleted (by user id only), so a late email for one of them is not sent."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("deleted_at")  # the hourly pruning's range

    async def remember(self, user_id: str, deleted_at: datetime) -> None:
        await self.collection.update_one(
            {"_id": user_id}, {"$setOnInsert": {"deleted_at": deleted_at}}, upsert=True
        )

    async def is_deleted(self, user_id: str) -> bool:
        return await self.collection.find_one({"_id": user_id}, {"_id": 1}) is not None
