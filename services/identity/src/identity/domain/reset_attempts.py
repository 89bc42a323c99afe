"""Password reset attempts: each ``POST /v1/password-resets`` is its own attempt, as a value.

An attempt is stored for every request, whatever the address holds, before the answer leaves;
the caller holds it by an opaque reset id (only its SHA-256, the ``attempt_id``, is stored,
like registration ids and refresh tokens). The registration worker then gives every attempt a
code: for a verified account the code is mailed and the attempt is ``open``; for any other
address (none, pending, deleted) the code is never mailed and the attempt is ``silent``. Both
are checked by the same rules (``check_code_uniformly``), so a sequence of wrong guesses meets
the same answers for every address, and the code expires at the same moment.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from identity.domain.codes import CodePurpose, CodeState


class ResetStatus(StrEnum):
    ACCEPTED = "accepted"  # stored by the route; the worker has not looked at the address yet
    OPEN = "open"  # its code went to a verified account: it may be traded for a reset token
    SILENT = "silent"  # no verified account: a code exists but is never mailed
    USED = "used"  # its code was traded for a reset token
    SUPERSEDED = "superseded"  # a newer attempt (or a used one) for the address replaced it


@dataclass(frozen=True)
class ResetAttempt:
    attempt_id: str
    email: str
    created_at: datetime
    code: CodeState
    status: ResetStatus = ResetStatus.ACCEPTED
    user_id: str | None = None  # the verified account the code was mailed to (open, used)
    mail_due: bool = True  # the worker still has to issue (and maybe mail) the code
    version: int = 1
    traceparent: str | None = None  # the request's trace: the worker's step continues it

    @property
    def can_succeed(self) -> bool:
        return self.status is ResetStatus.OPEN


def new_reset_id() -> tuple[str, str]:
    """A fresh opaque reset id and the attempt id (its hash) it is stored under."""
    reset_id = secrets.token_urlsafe(32)
    return reset_id, reset_attempt_id_of(reset_id)


def reset_attempt_id_of(reset_id: str) -> str:
    return hashlib.sha256(f"reset:{reset_id}".encode("utf-8", "surrogatepass")).hexdigest()


def new_reset_attempt(
    attempt_id: str, email: str, now: datetime, traceparent: str | None = None
) -> ResetAttempt:
    return ResetAttempt(
        attempt_id=attempt_id,
        email=email,
        created_at=now,
        code=CodeState(attempt_id, CodePurpose.RESET_PASSWORD),
        traceparent=traceparent,
    )
