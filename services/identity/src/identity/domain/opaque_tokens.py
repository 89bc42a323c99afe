"""Opaque tokens: refresh tokens (rotated, in families) and password-reset tokens.

Both are 256-bit random strings given to the client once and stored only as their SHA-256
(an unkeyed hash suffices: the tokens have full entropy, unlike six-digit codes). The I/O
layer looks a presented token up by ``hash_token(presented)`` and passes what it found (or
None) to the decision functions here.

Refresh: every use rotates (the presented token is marked rotated, a new one is issued in the
same family). Presenting an already-rotated token means it was copied: the whole family is
revoked, the thief's and the user's sessions alike. The I/O layer must mark the old token
rotated with a compare-and-set ("where rotated_at is null"); losing that race is a reuse too.
A family also dies when the account's token version moves on (password reset, sign-out
everywhere), without touching the stored families.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from identity.domain.errors import ResetTokenRejected

TOKEN_BYTES = 32
RESET_TOKEN_TTL = timedelta(minutes=10)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_opaque_token() -> tuple[str, str]:
    """(plaintext for the client, hash to store)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


@dataclass(frozen=True)
class RefreshSettings:
    token_ttl: timedelta = timedelta(days=30)  # unused this long: signed out
    family_ttl: timedelta = timedelta(days=90)  # absolute: sign in again after this


@dataclass(frozen=True)
class RefreshFamily:
    family_id: str
    user_id: str
    token_version: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    family_id: str
    user_id: str
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None


class RefreshRejection(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REUSED = "reused"


@dataclass(frozen=True)
class RefreshIssued:
    """Store ``family`` (new) or ``rotated`` (the old token, now marked), and ``token``."""

    family: RefreshFamily
    token: RefreshToken
    plaintext: str
    rotated: RefreshToken | None = None


@dataclass(frozen=True)
class RefreshRefused:
    """Refuse the request; when ``revoked_family`` is set, store it (the family is dead)."""

    reason: RefreshRejection
    revoked_family: RefreshFamily | None = None


def start_refresh_family(
    user_id: str, token_version: int, now: datetime, settings: RefreshSettings
) -> RefreshIssued:
    """A new family with its first token, at sign-in."""
    family = RefreshFamily(
        family_id=uuid.uuid4().hex,
        user_id=user_id,
        token_version=token_version,
        created_at=now,
        expires_at=now + settings.family_ttl,
    )
    token, plaintext = _next_token(family, now, settings)
    return RefreshIssued(family, token, plaintext)


def redeem_refresh_token(
    token: RefreshToken | None,
    family: RefreshFamily | None,
    current_token_version: int,
    now: datetime,
    settings: RefreshSettings,
) -> RefreshIssued | RefreshRefused:
    """Rotate a presented refresh token, or refuse it (revoking its family on reuse)."""
    if token is None or family is None or family.family_id != token.family_id:
        return RefreshRefused(RefreshRejection.UNKNOWN)
    if family.revoked_at is not None:
        return RefreshRefused(RefreshRejection.REVOKED)
    if token.rotated_at is not None:
        return RefreshRefused(RefreshRejection.REUSED, replace(family, revoked_at=now))
    if family.token_version != current_token_version:
        return RefreshRefused(RefreshRejection.REVOKED, replace(family, revoked_at=now))
    if now >= token.expires_at or now >= family.expires_at:
        return RefreshRefused(RefreshRejection.EXPIRED)
    new_token, plaintext = _next_token(family, now, settings)
    return RefreshIssued(family, new_token, plaintext, rotated=replace(token, rotated_at=now))


def revoke_family(family: RefreshFamily, now: datetime) -> RefreshFamily:
    """Sign-out of one session."""
    return family if family.revoked_at else replace(family, revoked_at=now)


def _next_token(
    family: RefreshFamily, now: datetime, settings: RefreshSettings
) -> tuple[RefreshToken, str]:
    plaintext, token_hash = new_opaque_token()
    token = RefreshToken(
        token_hash=token_hash,
        family_id=family.family_id,
        user_id=family.user_id,
        issued_at=now,
        expires_at=min(now + settings.token_ttl, family.expires_at),
    )
    return token, plaintext


@dataclass(frozen=True)
class ResetToken:
    """Proof that a correct reset code was entered; lets the holder set a new password once."""

    token_hash: str
    user_id: str
    token_version: int
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


def issue_reset_token(
    user_id: str, token_version: int, now: datetime, ttl: timedelta = RESET_TOKEN_TTL
) -> tuple[str, ResetToken]:
    """(plaintext for the client, record to store) after a correct reset code."""
    plaintext, token_hash = new_opaque_token()
    record = ResetToken(token_hash, user_id, token_version, now, now + ttl)
    return plaintext, record


def redeem_reset_token(
    record: ResetToken | None, presented: str, current_token_version: int, now: datetime
) -> ResetToken:
    """The record marked used, to store with a compare-and-set on ``used_at`` being null.

    Raises ``ResetTokenRejected`` (one answer for unknown, expired, used, or made stale by a
    password change since it was issued).
    """
    if record is None or not hmac.compare_digest(record.token_hash, hash_token(presented)):
        raise ResetTokenRejected()
    if record.used_at is not None or now >= record.expires_at:
        raise ResetTokenRejected()
    if record.token_version != current_token_version:
        raise ResetTokenRejected()
    return replace(record, used_at=now)
