"""Password reset attempts in MongoDB: one document per attempt, with its code and its outbox.

The same shape as registration attempts: compare-and-set writes on ``version``; the worker
claims attempts with ``mail_due`` under a lease (``lease_until``), so a worker that dies
mid-way leaves the attempt to be claimed again after the lease and nothing accepted is lost;
the attempt's ``ResetRequested`` rides in its own outbox, written with the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from portal_shared.events.base import CloudEvent
from portal_shared.outbox import EPOCH, PENDING, outbox_fields, with_outbox
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from identity.domain.codes import CodePurpose, CodeState
from identity.domain.reset_attempts import ResetAttempt, ResetStatus

Document = dict[str, Any]
LIVE = [ResetStatus.ACCEPTED.value, ResetStatus.OPEN.value, ResetStatus.SILENT.value]


class ResetAttemptRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("email")
        await self.collection.create_index("mail_due")

    async def insert(self, attempt: ResetAttempt) -> None:
        await self.collection.insert_one({**_to_document(attempt), **outbox_fields(())})

    async def by_id(self, attempt_id: str) -> ResetAttempt | None:
        doc = await self.collection.find_one({"_id": attempt_id})
        return _from_document(doc) if doc else None

    async def save(
        self, attempt: ResetAttempt, expected_version: int, events: Sequence[CloudEvent] = ()
    ) -> bool:
        """Write ``attempt`` if the document is still at ``expected_version``."""
        if attempt.version != expected_version + 1:
            raise ValueError("the saved attempt must carry the next version")
        fields = _to_document(attempt)
        del fields["_id"]
        result = await self.collection.update_one(
            {"_id": attempt.attempt_id, "version": expected_version},
            with_outbox({"$set": fields}, events),
        )
        return result.matched_count == 1

    async def claim_due(self, now: datetime, lease: timedelta) -> ResetAttempt | None:
        """One attempt the worker has to handle, leased to the caller until ``now + lease``."""
        doc = await self.collection.find_one_and_update(
            {"mail_due": True, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": now + lease}},
            sort=[("created_at", 1)],
            return_document=ReturnDocument.AFTER,
        )
        return _from_document(doc) if doc else None

    async def release(self, attempt_id: str) -> None:
        await self.collection.update_one({"_id": attempt_id}, {"$set": {"lease_until": EPOCH}})

    async def others_open(self, email: str, attempt_id: str, now: datetime) -> int:
        """How many other open attempts for ``email`` still hold a usable code."""
        return int(
            await self.collection.count_documents(
                {
                    "_id": {"$ne": attempt_id},
                    "email": email,
                    "status": ResetStatus.OPEN.value,
                    "code.expires_at": {"$gt": now},
                }
            )
        )

    async def supersede_others(self, email: str, attempt_id: str) -> None:
        """Only ``attempt_id`` may still be traded for a reset token (no other code works)."""
        await self.collection.update_many(
            {"_id": {"$ne": attempt_id}, "email": email, "status": ResetStatus.OPEN.value},
            {"$set": {"status": ResetStatus.SUPERSEDED.value}, "$inc": {"version": 1}},
        )

    async def forget(self, email: str) -> None:
        """Account deletion: attempts naming the address go too (once their mail is out)."""
        await self.collection.delete_many({"email": email, PENDING: {"$ne": True}})

    async def delete_older_than(self, before: datetime) -> int:
        result = await self.collection.delete_many(
            {"created_at": {"$lt": before}, PENDING: {"$ne": True}}
        )
        return int(result.deleted_count)


def _to_document(attempt: ResetAttempt) -> Document:
    code = attempt.code
    return {
        "_id": attempt.attempt_id,
        "email": attempt.email,
        "user_id": attempt.user_id,
        "created_at": attempt.created_at,
        "status": attempt.status.value,
        "mail_due": attempt.mail_due,
        "lease_until": EPOCH,
        "version": attempt.version,
        "traceparent": attempt.traceparent,
        "code": {
            "code_hash": code.code_hash,
            "issued_at": code.issued_at,
            "expires_at": code.expires_at,
            "failed_attempts": code.failed_attempts,
            "used": code.used,
            "recent_issues": list(code.recent_issues),
        },
    }


def _from_document(doc: Document) -> ResetAttempt:
    raw = doc.get("code") or {}
    code = CodeState(
        user_id=doc["_id"],
        purpose=CodePurpose.RESET_PASSWORD,
        code_hash=raw.get("code_hash"),
        issued_at=raw.get("issued_at"),
        expires_at=raw.get("expires_at"),
        failed_attempts=int(raw.get("failed_attempts") or 0),
        used=bool(raw.get("used")),
        recent_issues=tuple(raw.get("recent_issues") or ()),
    )
    return ResetAttempt(
        attempt_id=doc["_id"],
        email=doc["email"],
        created_at=doc["created_at"],
        code=code,
        status=ResetStatus(doc["status"]),
        user_id=doc.get("user_id"),
        mail_due=bool(doc.get("mail_due")),
        version=int(doc["version"]),
        traceparent=doc.get("traceparent"),
    )
