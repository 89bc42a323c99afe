"""Registration attempts: each ``POST /v1/registrations`` is its own attempt, as a value.

An attempt holds what one person chose (password hash, language, newsletter) and its own
verification code. Only the code mailed for an attempt activates it, and activating it creates
the account with that attempt's password: a second registration of the same address never
changes the first one (no takeover of a pending registration), and whoever proves control of
the address chooses the password (no pre-hijacking). When one attempt activates the account,
the others die.

The caller holds the attempt by an opaque registration id; only its SHA-256 is stored (the
attempt's ``attempt_id``), like refresh tokens.

Every attempt is checked the same way whatever its address holds, so the answers to wrong
codes tell nothing: an attempt for an address that already has an account gets a code that is
never mailed and can never activate; a wrong try always counts (also before the code exists,
and after it was used); the per-address lock counts the address's failures over all attempts.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from identity.domain.accounts import Language
from identity.domain.codes import (
    CodeCheck,
    CodePurpose,
    CodeSettings,
    CodeState,
    check_code_uniformly,
)


class AttemptStatus(StrEnum):
    ACCEPTED = "accepted"  # stored by the route; the worker has not looked at the address yet
    OPEN = "open"  # its code went to the address: it may activate the account
    SILENT = "silent"  # the address has an account: a code exists but is never mailed
    VERIFIED = "verified"  # this attempt activated the account
    SUPERSEDED = "superseded"  # another attempt activated the account first


ACTIVATABLE = frozenset({AttemptStatus.ACCEPTED, AttemptStatus.OPEN})


@dataclass(frozen=True)
class Attempt:
    attempt_id: str
    user_id: str  # the id the account gets if this attempt creates it
    email: str
    password_hash: str
    language: Language
    newsletter: bool
    created_at: datetime
    code: CodeState
    status: AttemptStatus = AttemptStatus.ACCEPTED
    mail_due: bool = True  # the worker still has to issue (and maybe mail) a code
    version: int = 1
    traceparent: str | None = None  # the request's trace: the worker's step continues it


def new_registration_id() -> tuple[str, str]:
    """A fresh opaque registration id and the attempt id (its hash) it is stored under."""
    registration_id = secrets.token_urlsafe(32)
    return registration_id, attempt_id_of(registration_id)


def attempt_id_of(registration_id: str) -> str:
    return hashlib.sha256(registration_id.encode("utf-8", "surrogatepass")).hexdigest()


def new_attempt(
    *,
    attempt_id: str,
    user_id: str,
    email: str,
    password_hash: str,
    language: Language,
    newsletter: bool,
    now: datetime,
    traceparent: str | None = None,
) -> Attempt:
    return Attempt(
        traceparent=traceparent,
        attempt_id=attempt_id,
        user_id=user_id,
        email=email,
        password_hash=password_hash,
        language=language,
        newsletter=newsletter,
        created_at=now,
        code=CodeState(attempt_id, CodePurpose.VERIFY_EMAIL),
    )


def check_attempt_code(
    attempt: Attempt,
    address_failures: tuple[datetime, ...],
    submitted: str,
    now: datetime,
    key: bytes,
    settings: CodeSettings,
) -> CodeCheck:
    """The answer to ``submitted`` for this attempt; the same rules for every attempt.

    ``address_failures`` are the address's recent wrong tries over all its attempts (the
    per-address lock); the returned state's ``recent_failures`` include a new one if this try
    was wrong.
    """
    return check_code_uniformly(
        attempt.code,
        address_failures,
        submitted,
        now,
        key,
        settings,
        can_succeed=attempt.status in ACTIVATABLE,
    )
