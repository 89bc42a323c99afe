"""Registration attempts in MongoDB: one document per attempt, with its code and its outbox.

Writes are compare-and-set on ``version``, like accounts. The registration worker claims
attempts with ``mail_due`` under a lease (``lease_until``), so replicas do not both mail one
code; a worker that dies mid-way leaves the attempt to be claimed again after the lease.
An attempt's email events ride in its own outbox.
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
from identity.domain.registrations import Attempt, AttemptStatus

Document = dict[str, Any]
LIVE = [AttemptStatus.ACCEPTED.value, AttemptStatus.OPEN.value, AttemptStatus.SILENT.value]


class RegistrationRepository:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("email")
        await self.collection.create_index("mail_due")

    async def insert(self, attempt: Attempt) -> None:
        await self.collection.insert_one({**_to_document(attempt), **outbox_fields(())})

    async def by_id(self, attempt_id: str) -> Attempt | None:
        doc = await self.collection.find_one({"_id": attempt_id})
        return _from_document(doc) if doc else None

    async def save(
        self, attempt: Attempt, expected_version: int, events: Sequence[CloudEvent] = ()
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

    async def claim_due(self, now: datetime, lease: timedelta) -> Attempt | None:
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

    async def newest_open(self, email: str) -> Attempt | None:
        """The latest attempt for ``email`` that may still activate an account."""
        cursor = (
            self.collection.find({"email": email, "status": {"$in": LIVE[:2]}})
            .sort("created_at", -1)
            .limit(1)
        )
        async for doc in cursor:
            return _from_document(doc)
        return None

    async def others_live(self, email: str, attempt_id: str, now: datetime) -> int:
        """How many other attempts for ``email`` still hold a usable code or wait for one."""
        return int(
            await self.collection.count_documents(
                {
                    "_id": {"$ne": attempt_id},
                    "email": email,
                    "status": {"$in": LIVE[:2]},
                    "$or": [{"code.expires_at": None}, {"code.expires_at": {"$gt": now}}],
                }
            )
        )

    async def supersede_others(self, email: str, attempt_id: str) -> None:
        """The address is verified by ``attempt_id``: no other attempt can activate it now."""
        await self.collection.update_many(
            {"_id": {"$ne": attempt_id}, "email": email, "status": {"$in": LIVE}},
            {
                "$set": {"status": AttemptStatus.SUPERSEDED.value, "mail_due": False},
                "$inc": {"version": 1},
            },
        )

    async def forget(self, email: str) -> None:
        """Account deletion: attempts naming the address go too (once their mail is out)."""
        await self.collection.delete_many({"email": email, PENDING: {"$ne": True}})

    async def delete_older_than(self, before: datetime) -> int:
        result = await self.collection.delete_many(
            {"created_at": {"$lt": before}, PENDING: {"$ne": True}}
        )
        return int(result.deleted_count)


def _to_document(attempt: Attempt) -> Document:
    code = attempt.code
    return {
        "_id": attempt.attempt_id,
        "user_id": attempt.user_id,
        "email": attempt.email,
        "password_hash": attempt.password_hash,
        "language": attempt.language,
        "newsletter": attempt.newsletter,
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


def _from_document(doc: Document) -> Attempt:
    raw = doc.get("code") or {}
    code = CodeState(
        user_id=doc["_id"],
        purpose=CodePurpose.VERIFY_EMAIL,
        code_hash=raw.get("code_hash"),
        issued_at=raw.get("issued_at"),
        expires_at=raw.get("expires_at"),
        failed_attempts=int(raw.get("failed_attempts") or 0),
        used=bool(raw.get("used")),
        recent_issues=tuple(raw.get("recent_issues") or ()),
    )
    return Attempt(
        attempt_id=doc["_id"],
        user_id=doc["user_id"],
        email=doc["email"],
        password_hash=doc["password_hash"],
        language=doc["language"],
        newsletter=bool(doc["newsletter"]),
        created_at=doc["created_at"],
        code=code,
        status=AttemptStatus(doc["status"]),
        mail_due=bool(doc.get("mail_due")),
        version=int(doc["version"]),
        traceparent=doc.get("traceparent"),
    )
