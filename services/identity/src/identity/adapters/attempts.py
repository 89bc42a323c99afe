"""What registration and password-reset attempts share in MongoDB.

One document per attempt, with its code and its own outbox. Writes are compare-and-set on
``version``, like accounts. The worker claims attempts with ``mail_due`` under a lease
(``lease_until``, with the claim's token in ``lease_owner``), a batch at a time, so
replicas do not both mail one code; a worker that dies mid-way leaves
the attempt to be claimed again after the lease, and nothing accepted is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from portal_shared.events.base import CloudEvent
from portal_shared.outbox import EPOCH, PENDING, outbox_fields, with_outbox
from portal_shared.retention import Retained, prune_before
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from identity.domain.codes import CodePurpose, CodeState

Document = dict[str, Any]


class StoredAttempt(Protocol):
    @property
    def attempt_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...


A = TypeVar("A", bound=StoredAttempt)
CLAIM_BATCH = 50  # attempts leased by one claim of the worker


def _created_at(attempt: StoredAttempt) -> datetime:
    return attempt.created_at


class AttemptRepository(Generic[A]):
    """The storage both kinds of attempt share; a subclass says how one maps to a document."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    def to_document(self, attempt: A) -> Document:
        raise NotImplementedError

    def from_document(self, doc: Document) -> A:
        raise NotImplementedError

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("email")
        await self.collection.create_index("mail_due")
        await self.collection.create_index("created_at")  # the hourly pruning's range

    async def insert(self, attempt: A) -> None:
        await self.collection.insert_one({**self.to_document(attempt), **outbox_fields(())})

    async def by_id(self, attempt_id: str) -> A | None:
        doc = await self.collection.find_one({"_id": attempt_id})
        return self.from_document(doc) if doc else None

    async def save(
        self, attempt: A, expected_version: int, events: Sequence[CloudEvent] = ()
    ) -> bool:
        """Write ``attempt`` if the document is still at ``expected_version``."""
        if attempt.version != expected_version + 1:
            raise ValueError("the saved attempt must carry the next version")
        fields = self.to_document(attempt)
        del fields["_id"]
        result = await self.collection.update_one(
            {"_id": attempt.attempt_id, "version": expected_version},
            with_outbox({"$set": fields}, events),
        )
        return result.matched_count == 1

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[A]:
        """Up to ``limit`` attempts the worker has to handle (oldest first), leased to the
        caller until ``now + lease``: two round trips for one, three for many (not one
        ``findAndModify`` per attempt and one more that finds nothing).

        Each claim carries its own token (``lease_owner``) and the lease is set only where it
        has run out, so replicas racing for the same attempts each get a disjoint share. Every
        query names ``mail_due: True`` (FerretDB v1 pushes only top-level equalities down, not
        ``$in``): it is answered from the ``mail_due`` index and reads only what is due.
        """
        due = {"mail_due": True, "lease_until": {"$lte": now}}
        candidates = (
            await self.collection.find(due, {"_id": 1}).sort("created_at", 1).limit(limit).to_list()
        )
        if not candidates:
            return []
        token = uuid.uuid4().hex
        leased = {"$set": {"lease_until": now + lease, "lease_owner": token}}
        if len(candidates) == 1:
            doc = await self.collection.find_one_and_update(
                {"_id": candidates[0]["_id"], **due}, leased, return_document=ReturnDocument.AFTER
            )
            return [self.from_document(doc)] if doc else []
        ids = {"_id": {"$in": [c["_id"] for c in candidates]}}
        await self.collection.update_many({**ids, **due}, leased)
        docs = await self.collection.find({**ids, "mail_due": True, "lease_owner": token}).to_list()
        return sorted((self.from_document(d) for d in docs), key=_created_at)

    async def each_due(
        self, now: Callable[[], datetime], lease: timedelta, limit: int = CLAIM_BATCH
    ) -> AsyncIterator[A]:
        """Every attempt due, claimed ``limit`` at a time (each claim at ``now()``), for the
        worker to handle one by one. It stops after a claim short of ``limit``: every attempt
        due then was in it; one stored since has woken the worker (its next step), one
        released meanwhile is due again at once (the next wake-up or poll): no claim that
        finds nothing at the end of each step."""
        while True:
            claimed = await self.claim_due(now(), lease, limit)
            for attempt in claimed:
                yield attempt
            if len(claimed) < limit:
                return

    async def release(self, attempt_id: str) -> None:
        await self.collection.update_one({"_id": attempt_id}, {"$set": {"lease_until": EPOCH}})

    async def defer(self, attempt_id: str, until: datetime) -> None:
        """Still due, but not to be claimed before ``until``."""
        await self.collection.update_one({"_id": attempt_id}, {"$set": {"lease_until": until}})

    async def forget(self, email: str) -> None:
        """Account deletion: attempts naming the address go too (once their mail is out)."""
        await self.collection.delete_many({"email": email, PENDING: {"$ne": True}})

    async def delete_older_than(self, before: datetime) -> int:
        """Settled attempts created before ``before``, each deleted by its ``_id`` after one
        read of their ids (``portal_shared.retention``): one ``delete_many`` by age held the
        collection's write gate for its whole read on FerretDB, which pushes no range down,
        so every registration (or reset) waited for the prune of a day's attempts."""
        settled = Retained(self.collection, "created_at", {PENDING: {"$ne": True}})
        return await prune_before(settled, before)


def code_document(code: CodeState) -> Document:
    return {
        "code_hash": code.code_hash,
        "issued_at": code.issued_at,
        "expires_at": code.expires_at,
        "failed_attempts": code.failed_attempts,
        "used": code.used,
        "recent_issues": list(code.recent_issues),
    }


def code_from_document(doc: Document, purpose: CodePurpose) -> CodeState:
    raw = doc.get("code") or {}
    return CodeState(
        user_id=doc["_id"],
        purpose=purpose,
        code_hash=raw.get("code_hash"),
        issued_at=raw.get("issued_at"),
        expires_at=raw.get("expires_at"),
        failed_attempts=int(raw.get("failed_attempts") or 0),
        used=bool(raw.get("used")),
        recent_issues=tuple(raw.get("recent_issues") or ()),
    )
