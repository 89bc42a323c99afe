"""Registration attempts in MongoDB: one document per attempt, with its code and its outbox.

Writes are compare-and-set on ``version``, like accounts. The registration worker claims
attempts with ``mail_due`` under a lease (``lease_until``), so replicas do not both mail one
code; a worker that dies mid-way leaves the attempt to be claimed again after the lease.
An attempt's email events ride in its own outbox.
"""

from __future__ import annotations

from datetime import datetime

from portal_shared.outbox import EPOCH

from identity.adapters.attempts import (
    AttemptRepository,
    Document,
    code_document,
    code_from_document,
)
from identity.domain.codes import CodePurpose
from identity.domain.registrations import Attempt, AttemptStatus

LIVE = [AttemptStatus.ACCEPTED.value, AttemptStatus.OPEN.value, AttemptStatus.SILENT.value]


class RegistrationRepository(AttemptRepository[Attempt]):
    def to_document(self, attempt: Attempt) -> Document:
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
            "code": code_document(attempt.code),
        }

    def from_document(self, doc: Document) -> Attempt:
        code = code_from_document(doc, CodePurpose.VERIFY_EMAIL)
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

    async def newest_open(self, email: str) -> Attempt | None:
        """The latest attempt for ``email`` that may still activate an account."""
        cursor = (
            self.collection.find({"email": email, "status": {"$in": LIVE[:2]}})
            .sort("created_at", -1)
            .limit(1)
        )
        async for doc in cursor:
            return self.from_document(doc)
        return None

    async def other_live(self, email: str, attempt_id: str, now: datetime) -> bool:
        """Whether another attempt for ``email`` still holds a usable code or waits for one.
        One document is enough to say so (a ``find`` with ``limit 1``, not a count: FerretDB
        answers ``count_documents`` with an aggregation over every match)."""
        doc = await self.collection.find_one(
            {
                "_id": {"$ne": attempt_id},
                "email": email,
                "status": {"$in": LIVE[:2]},
                "$or": [{"code.expires_at": None}, {"code.expires_at": {"$gt": now}}],
            },
            projection={"_id": 1},
        )
        return doc is not None

    async def supersede_others(self, email: str, attempt_id: str) -> None:
        """The address is verified by ``attempt_id``: no other attempt can activate it now."""
        await self.collection.update_many(
            {"_id": {"$ne": attempt_id}, "email": email, "status": {"$in": LIVE}},
            {
                "$set": {"status": AttemptStatus.SUPERSEDED.value, "mail_due": False},
                "$inc": {"version": 1},
            },
        )
