"""Password reset attempts in MongoDB: one document per attempt, with its code and its outbox.

The same shape as registration attempts: compare-and-set writes on ``version``; the worker
claims attempts with ``mail_due`` under a lease (``lease_until``), so a worker that dies
mid-way leaves the attempt to be claimed again after the lease and nothing accepted is lost;
the attempt's ``ResetRequested`` rides in its own outbox, written with the code.
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
from identity.domain.reset_attempts import ResetAttempt, ResetStatus

LIVE = [ResetStatus.ACCEPTED.value, ResetStatus.OPEN.value, ResetStatus.SILENT.value]


class ResetAttemptRepository(AttemptRepository[ResetAttempt]):
    def to_document(self, attempt: ResetAttempt) -> Document:
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
            "code": code_document(attempt.code),
        }

    def from_document(self, doc: Document) -> ResetAttempt:
        code = code_from_document(doc, CodePurpose.RESET_PASSWORD)
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
